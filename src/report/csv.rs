//! CSV report: one row per op plus a `TOTAL` row. Units are in the column names.
use super::Exporter;
use crate::error::{Error, Result};
use crate::fsio::OutputFile;
use crate::run::RunReport;

pub struct CsvExporter;

/// Column names of the per-op CSV.
pub const HEADER: [&str; 22] = [
    "name",
    "op",
    "m",
    "n",
    "k",
    "batch",
    "dtype",
    "macs",
    "cycles",
    "compute_cycles",
    "stall_cycles",
    "time_s",
    "tflops",
    "utilization",
    "mapping_efficiency",
    "main_stall",
    "energy_pj",
    "pj_per_mac",
    "hbm_read_bytes",
    "hbm_write_bytes",
    "sram_read_bytes",
    "sram_write_bytes",
];

impl Exporter for CsvExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        let err = |e: csv::Error| Error::internal(format!("CSV writing failed: {e}"));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(HEADER).map_err(err)?;
        for p in &run.ops {
            w.write_record([
                p.name.clone(),
                p.op.clone(),
                p.m.to_string(),
                p.n.to_string(),
                p.k.to_string(),
                p.batch.to_string(),
                p.dtype.to_string(),
                p.macs.to_string(),
                p.cycles.to_string(),
                p.compute_cycles.to_string(),
                p.stall_cycles.to_string(),
                format!("{:e}", p.time_s),
                format!("{:.4}", p.tflops),
                format!("{:.6}", p.utilization),
                format!("{:.6}", p.mapping_efficiency),
                p.main_stall.clone(),
                format!("{:.6e}", p.energy_pj),
                format!("{:.6}", p.pj_per_mac),
                format!("{}", p.counters.hbm_read_bytes),
                format!("{}", p.counters.hbm_write_bytes),
                format!("{}", p.counters.sram_read_bytes),
                format!("{}", p.counters.sram_write_bytes),
            ])
            .map_err(err)?;
        }
        let t = &run.total;
        w.write_record([
            "TOTAL".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            t.macs.to_string(),
            t.cycles.to_string(),
            t.compute_cycles.to_string(),
            t.stall_cycles.to_string(),
            format!("{:e}", t.time_s),
            format!("{:.4}", t.tflops),
            format!("{:.6}", t.utilization),
            String::new(),
            t.main_stall.clone(),
            format!("{:.6e}", t.energy_pj),
            format!("{:.6}", t.pj_per_mac),
            format!("{}", t.counters.hbm_read_bytes),
            format!("{}", t.counters.hbm_write_bytes),
            format!("{}", t.counters.sram_read_bytes),
            format!("{}", t.counters.sram_write_bytes),
        ])
        .map_err(err)?;
        let bytes = w
            .into_inner()
            .map_err(|e| Error::internal(format!("CSV writing failed: {e}")))?;
        Ok(vec![OutputFile {
            name: "ops.csv".into(),
            bytes,
        }])
    }
}
