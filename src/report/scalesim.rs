//! SCALE-Sim 3.0.0 report files (COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
//! DETAILED_ACCESS_REPORT.csv), byte for byte in SCALE-Sim's format
//! (`simulator.generate_reports`; MODEL.md §5):
//! * headers exactly as SCALE-Sim writes them (fields after the first with a leading space, a
//!   trailing comma);
//! * rows `LayerID, v1, v2, …,` with `LayerID` counting ops from 0, values joined by `", "` and a
//!   trailing comma;
//! * values printed as Python's `str()` prints them: integers for counts and Total Cycles,
//!   Python float repr for utilizations and bandwidths (`25.0`, `5.194805194805195`), and floats
//!   for the trace start/stop cycles (`-525.0`), which SCALE-Sim reads out of float trace
//!   matrices.
//!
//! `Avg * SRAM BW` = accesses / Total Cycles; `Avg * DRAM BW` = accesses / (stop − start + 1)
//! (`single_layer_sim.calc_report_data`).

use super::Exporter;
use crate::error::{Error, Result};
use crate::fsio::OutputFile;
use crate::machine::{OpProfile, ScaleSimReport};
use crate::run::RunReport;

pub struct ScaleSimExporter;

/// `COMPUTE_REPORT.csv` header (`simulator.generate_reports`).
pub const COMPUTE_HEADER: &str = "LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n";
/// `BANDWIDTH_REPORT.csv` header (no sparsity).
pub const BANDWIDTH_HEADER: &str = "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
/// `DETAILED_ACCESS_REPORT.csv` header.
pub const DETAIL_HEADER: &str = "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";

/// A float as Python's `repr`/`str` prints it: shortest round-trip digits, `.0` on integral
/// values, exponent form below 1e-4 and from 1e16 (`1e-05`, `1.5e+16`), `inf`, `nan`.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust `{:e}` gives shortest digits as `1.5e-5`; Python writes `1.5e-05`.
        let s = format!("{x:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = exp.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", e.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// A cycle number read out of a float trace matrix (`-525.0`).
fn cyc(x: i64) -> String {
    py_float(x as f64)
}

fn row(lid: usize, vals: &[String]) -> String {
    format!("{lid}, {},\n", vals.join(", "))
}

/// The three report rows of one layer.
pub fn layer_rows(lid: usize, r: &ScaleSimReport) -> (String, String, String) {
    let compute = row(
        lid,
        &[
            r.total_cycles_incl_prefetch.to_string(),
            r.total_cycles.to_string(),
            r.stall_cycles.to_string(),
            py_float(r.overall_util_pct),
            py_float(r.mapping_efficiency_pct),
            py_float(r.compute_util_pct),
        ],
    );
    let tc = r.total_cycles as f64;
    let a = r.access_cycles;
    let dram_bw = |n: u64, (start, stop): (i64, i64)| n as f64 / ((stop - start) as f64 + 1.0);
    let bandwidth = row(
        lid,
        &[
            py_float(r.sram_ifmap_reads as f64 / tc),
            py_float(r.sram_filter_reads as f64 / tc),
            py_float(r.sram_ofmap_writes as f64 / tc),
            py_float(dram_bw(r.dram_ifmap_reads, a[3])),
            py_float(dram_bw(r.dram_filter_reads, a[4])),
            py_float(dram_bw(r.dram_ofmap_writes, a[5])),
        ],
    );
    let counts = [
        r.sram_ifmap_reads,
        r.sram_filter_reads,
        r.sram_ofmap_writes,
        r.dram_ifmap_reads,
        r.dram_filter_reads,
        r.dram_ofmap_writes,
    ];
    let mut d = Vec::with_capacity(18);
    for (i, n) in counts.iter().enumerate() {
        d.push(cyc(a[i].0));
        d.push(cyc(a[i].1));
        d.push(n.to_string());
    }
    (compute, bandwidth, row(lid, &d))
}

/// The files of the scalesim format, in SCALE-Sim's order.
pub const FILE_NAMES: [&str; 3] = [
    "COMPUTE_REPORT.csv",
    "BANDWIDTH_REPORT.csv",
    "DETAILED_ACCESS_REPORT.csv",
];

/// The three report rows of op `lid` (counting from 0); an op not simulated in SCALE-Sim mode is
/// a `format` setting error (exit 2).
pub fn op_rows(lid: usize, op: &OpProfile) -> Result<(String, String, String)> {
    let Some(r) = &op.scalesim else {
        return Err(Error::setting(
            "format",
            format!(
                "scalesim format needs SCALE-Sim mode (a .cfg config); op `{}` was \
                 simulated by another model. Use --format table|json|csv, or run with a \
                 SCALE-Sim .cfg",
                op.name
            ),
        ));
    };
    Ok(layer_rows(lid, r))
}

impl Exporter for ScaleSimExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        let mut compute = String::from(COMPUTE_HEADER);
        let mut bandwidth = String::from(BANDWIDTH_HEADER);
        let mut detail = String::from(DETAIL_HEADER);
        for (lid, op) in run.ops.iter().enumerate() {
            let (c, b, d) = op_rows(lid, op)?;
            compute.push_str(&c);
            bandwidth.push_str(&b);
            detail.push_str(&d);
        }
        Ok([compute, bandwidth, detail]
            .into_iter()
            .zip(FILE_NAMES)
            .map(|(text, name)| OutputFile {
                name: name.into(),
                bytes: text.into_bytes(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(25.0), "25.0");
        assert_eq!(py_float(5.194805194805195), "5.194805194805195");
        assert_eq!(py_float(-525.0), "-525.0");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1.5e-5), "1.5e-05");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(0.0001), "0.0001");
    }

    /// The first reference row (calc_32x32_os, g16) rendered as SCALE-Sim writes it.
    #[test]
    fn g16_rows() {
        let r = ScaleSimReport {
            total_cycles_incl_prefetch: 609,
            total_cycles: 77,
            stall_cycles: 0,
            overall_util_pct: 5.194805194805195,
            mapping_efficiency_pct: 25.0,
            compute_util_pct: 5.128205128205128,
            sram_ifmap_reads: 256,
            sram_filter_reads: 256,
            sram_ofmap_writes: 320,
            dram_ifmap_reads: 256,
            dram_filter_reads: 256,
            dram_ofmap_writes: 256,
            access_cycles: [(1, 31), (1, 31), (31, 61), (-525, -1), (-525, -1), (77, 84)],
        };
        let (c, b, d) = layer_rows(0, &r);
        assert_eq!(
            c,
            "0, 609, 77, 0, 5.194805194805195, 25.0, 5.128205128205128,\n"
        );
        assert_eq!(
            b,
            "0, 3.324675324675325, 3.324675324675325, 4.1558441558441555, 0.4876190476190476, 0.4876190476190476, 32.0,\n"
        );
        assert!(
            d.starts_with("0, 1.0, 31.0, 256, 1.0, 31.0, 256, 31.0, 61.0, 320, -525.0, -1.0, 256,")
        );
        assert!(d.ends_with("77.0, 84.0, 256,\n"));
    }

    #[test]
    fn non_scalesim_ops_are_a_flag_error() {
        let run = RunReport::of_profiles(
            "t",
            crate::machine::MachineKind::Systolic,
            vec![OpProfile::default()],
        );
        let e = ScaleSimExporter.export(&run).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--format"), "{e}");
    }
}
