//! Per-op CSV: the one writer behind `archsim run --format csv` (`ops.csv`: one row per op and
//! a `TOTAL` row) and the main job's `ops.csv` (both machines, one row per op and machine). Each
//! format has a documented column set ([`RUN_COLUMNS`], [`COMPARE_COLUMNS`]); units are in the
//! column names, fractions are 0..1.
use super::Exporter;
use crate::error::{Error, Result};
use crate::fsio::OutputFile;
use crate::machine::OpProfile;
use crate::run::{RunReport, Total};

pub struct CsvExporter;

/// One CSV column: its name, what it holds, and how to render it for an op and for the totals.
#[derive(Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// Meaning and unit.
    pub doc: &'static str,
    pub op: fn(&OpProfile) -> String,
    /// The `TOTAL` row's cell (empty where a total means nothing).
    pub total: fn(&Total) -> String,
}

fn blank(_: &Total) -> String {
    String::new()
}

/// `{:e}` of a float: full precision, exponent form.
fn e(x: f64) -> String {
    format!("{x:e}")
}

/// pJ per FLOP of an op (0 without FLOPs).
fn op_pj_per_flop(p: &OpProfile) -> f64 {
    if p.flops > 0.0 {
        p.energy_pj / p.flops
    } else {
        0.0
    }
}

macro_rules! col {
    ($name:literal, $doc:literal, $op:expr) => {
        Column {
            name: $name,
            doc: $doc,
            op: $op,
            total: blank,
        }
    };
    ($name:literal, $doc:literal, $op:expr, $total:expr) => {
        Column {
            name: $name,
            doc: $doc,
            op: $op,
            total: $total,
        }
    };
}

/// A column whose op and totals cells are the same field (`$($path).+` of the profile and of
/// the totals) printed in full.
macro_rules! field_col {
    ($name:literal, $doc:literal, $($path:ident).+) => {
        col!($name, $doc, |p| p.$($path).+.to_string(), |t| t.$($path).+.to_string())
    };
}

/// The shape columns every per-op CSV starts with.
const SHAPE: [Column; 7] = [
    col!(
        "name",
        "op name (TOTAL on the totals row)",
        |p| p.name.clone(),
        |_| "TOTAL".into()
    ),
    col!("op", "gemm, or the vector op kind", |p| p.op.clone()),
    col!("m", "GEMM M (elements of a vector op)", |p| p.m.to_string()),
    col!("n", "GEMM N", |p| p.n.to_string()),
    col!("k", "GEMM K", |p| p.k.to_string()),
    col!("batch", "GEMM batch count", |p| p.batch.to_string()),
    col!("dtype", "operand dtype", |p| p.dtype.to_string()),
];

const TIME_S: Column = col!("time_s", "device time, s", |p| e(p.time_s), |t| e(t.time_s));
const TFLOPS: Column = col!(
    "tflops",
    "achieved TFLOP/s",
    |p| format!("{:.4}", p.tflops),
    |t| format!("{:.4}", t.tflops)
);
const UTILIZATION: Column = col!(
    "utilization",
    "fraction of the dtype's peak, 0..1",
    |p| format!("{:.6}", p.utilization),
    |t| format!("{:.6}", t.utilization)
);
const MAPPING_EFFICIENCY: Column = col!(
    "mapping_efficiency",
    "fraction of PEs/lanes with useful work, 0..1",
    |p| format!("{:.6}", p.mapping_efficiency)
);
const MAIN_STALL: Column = col!(
    "main_stall",
    "largest non-compute share of time",
    |p| p.main_stall.clone(),
    |t| t.main_stall.clone()
);

/// Achieved HBM bandwidth of the op as a fraction of the chip's peak.
const HBM_BW_FRACTION: Column = col!(
    "hbm_bw_fraction",
    "achieved HBM bandwidth / peak HBM bandwidth, 0..1",
    |p| format!("{:.6}", p.hbm_bw_fraction)
);

/// How many times the run executes the op (a model's repeated layers are simulated once).
const REPEAT: Column = col!(
    "repeat",
    "times the run executes the op (a model's repeated layers are simulated once)",
    |p| p.repeat.0.to_string()
);

/// Columns of `archsim run --format csv` (after [`SHAPE`]).
const RUN_REST: [Column; 17] = [
    field_col!("macs", "multiply-accumulates", macs),
    field_col!("cycles", "cycles at the machine clock", cycles),
    field_col!("compute_cycles", "cycles of useful compute", compute_cycles),
    field_col!("stall_cycles", "cycles not computing", stall_cycles),
    TIME_S,
    TFLOPS,
    UTILIZATION,
    MAPPING_EFFICIENCY,
    MAIN_STALL,
    col!(
        "energy_pj",
        "energy, pJ",
        |p| format!("{:.6e}", p.energy_pj),
        |t| format!("{:.6e}", t.energy_pj)
    ),
    col!(
        "pj_per_mac",
        "energy per MAC, pJ",
        |p| format!("{:.6}", p.pj_per_mac),
        |t| format!("{:.6}", t.pj_per_mac)
    ),
    field_col!(
        "hbm_read_bytes",
        "HBM/DRAM bytes read",
        counters.hbm_read_bytes
    ),
    field_col!(
        "hbm_write_bytes",
        "HBM/DRAM bytes written",
        counters.hbm_write_bytes
    ),
    field_col!(
        "sram_read_bytes",
        "on-chip SRAM bytes read",
        counters.sram_read_bytes
    ),
    field_col!(
        "sram_write_bytes",
        "on-chip SRAM bytes written",
        counters.sram_write_bytes
    ),
    HBM_BW_FRACTION,
    REPEAT,
];

/// Columns of the main job's `ops.csv` (after a leading `machine` column and [`SHAPE`]).
const COMPARE_REST: [Column; 18] = [
    col!("flops", "FLOPs (2 per MAC)", |p| e(p.flops)),
    TIME_S,
    TFLOPS,
    UTILIZATION,
    MAPPING_EFFICIENCY,
    MAIN_STALL,
    col!("energy_pj", "energy, pJ", |p| e(p.energy_pj)),
    col!("pj_per_flop", "energy per FLOP, pJ", |p| format!(
        "{:.6}",
        op_pj_per_flop(p)
    )),
    col!("hbm_bytes", "HBM/DRAM bytes read + written", |p| e(p
        .counters
        .hbm_bytes())),
    col!("compute_s", "time computing, s", |p| e(p
        .time_breakdown_s
        .compute_s)),
    col!("fill_drain_s", "exposed pipeline fill/drain, s", |p| e(p
        .time_breakdown_s
        .fill_drain_s)),
    col!("memory_stall_s", "exposed memory time, s", |p| e(p
        .time_breakdown_s
        .memory_stall_s)),
    col!(
        "tail_s",
        "tail waves / tile quantization / imbalance, s",
        |p| e(p.time_breakdown_s.tail_s)
    ),
    col!(
        "overhead_s",
        "fixed per-op dispatch/launch/kernel cost, s",
        |p| e(p.time_breakdown_s.overhead_s)
    ),
    col!(
        "clock_throttle_s",
        "time lost below the quoted clock (power-limited clock), s",
        |p| e(p.time_breakdown_s.clock_throttle_s)
    ),
    col!(
        "kernel_efficiency_s",
        "time lost to the fitted kernel efficiency, s",
        |p| e(p.time_breakdown_s.kernel_efficiency_s)
    ),
    HBM_BW_FRACTION,
    REPEAT,
];

/// The column set of a per-op CSV format.
pub fn run_columns() -> impl Iterator<Item = &'static Column> {
    SHAPE.iter().chain(RUN_REST.iter())
}

/// The column set of the main job's `ops.csv` (after its leading `machine` column).
pub fn compare_columns() -> impl Iterator<Item = &'static Column> {
    SHAPE.iter().chain(COMPARE_REST.iter())
}

/// Column names of `archsim run --format csv`.
pub fn header() -> Vec<&'static str> {
    run_columns().map(|c| c.name).collect()
}

/// Write a per-op CSV: `lead` names the leading columns whose values each row brings, then
/// `columns`; rows of ops, then an optional totals row.
pub fn write_ops_csv<'a>(
    lead: &[&str],
    columns: &[&Column],
    rows: impl IntoIterator<Item = (Vec<String>, &'a OpProfile)>,
    total: Option<&Total>,
) -> Result<Vec<u8>> {
    let err = |e: csv::Error| Error::internal(format!("CSV writing failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = lead
        .iter()
        .copied()
        .chain(columns.iter().map(|c| c.name))
        .collect();
    w.write_record(&header).map_err(err)?;
    for (mut lead_values, p) in rows {
        lead_values.extend(columns.iter().map(|c| (c.op)(p)));
        w.write_record(&lead_values).map_err(err)?;
    }
    if let Some(t) = total {
        let mut row = vec![String::new(); lead.len()];
        row.extend(columns.iter().map(|c| (c.total)(t)));
        w.write_record(&row).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::internal(format!("CSV writing failed: {e}")))
}

impl Exporter for CsvExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        let columns: Vec<&Column> = run_columns().collect();
        let bytes = write_ops_csv(
            &[],
            &columns,
            run.ops.iter().map(|p| (Vec::new(), p)),
            Some(&run.total),
        )?;
        Ok(vec![OutputFile {
            name: "ops.csv".into(),
            bytes,
        }])
    }
}
