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

/// One CSV column: its name, the JSON type its cells parse as, what it holds, and how to
/// render it for an op and for the totals. The column lists below are the one source of the
/// CSV files and of their reference pages (`archsim schema ops-csv|compare-csv`).
#[derive(Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// JSON Schema type of a cell: `string`, `integer` or `number`.
    pub ty: &'static str,
    /// Meaning and unit.
    pub doc: &'static str,
    pub op: fn(&OpProfile) -> String,
    /// The `TOTAL` row's cell; `None`: blank (a total means nothing there).
    pub total: Option<fn(&Total) -> String>,
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
    ($name:literal, $ty:literal, $doc:literal, $op:expr) => {
        Column {
            name: $name,
            ty: $ty,
            doc: $doc,
            op: $op,
            total: None,
        }
    };
    ($name:literal, $ty:literal, $doc:literal, $op:expr, $total:expr) => {
        Column {
            name: $name,
            ty: $ty,
            doc: $doc,
            op: $op,
            total: Some($total),
        }
    };
}

/// A column whose op and totals cells are the same field (`$($path).+` of the profile and of
/// the totals) printed in full.
macro_rules! field_col {
    ($name:literal, $ty:literal, $doc:literal, $($path:ident).+) => {
        col!($name, $ty, $doc, |p| p.$($path).+.to_string(), |t| t.$($path).+.to_string())
    };
}

/// The shape columns every per-op CSV starts with.
const SHAPE: [Column; 7] = [
    col!(
        "name",
        "string",
        "op name (`TOTAL` on the totals row of `run --format csv`)",
        |p| p.name.clone(),
        |_| "TOTAL".into()
    ),
    col!("op", "string", "gemm, or the vector op kind", |p| p
        .op
        .clone()),
    col!("m", "integer", "GEMM M (elements of a vector op)", |p| p
        .m
        .to_string()),
    col!("n", "integer", "GEMM N", |p| p.n.to_string()),
    col!("k", "integer", "GEMM K", |p| p.k.to_string()),
    col!("batch", "integer", "GEMM batch count", |p| p
        .batch
        .to_string()),
    col!("dtype", "string", "operand dtype", |p| p.dtype.to_string()),
];

const TIME_S: Column = col!(
    "time_s",
    "number",
    "device time, s",
    |p| e(p.time_s),
    |t| e(t.time_s)
);
const TFLOPS: Column = col!(
    "tflops",
    "number",
    "achieved TFLOP/s",
    |p| format!("{:.4}", p.tflops),
    |t| format!("{:.4}", t.tflops)
);
const UTILIZATION: Column = col!(
    "utilization",
    "number",
    "fraction of the dtype's peak, 0..1",
    |p| format!("{:.6}", p.utilization),
    |t| format!("{:.6}", t.utilization)
);
const MAPPING_EFFICIENCY: Column = col!(
    "mapping_efficiency",
    "number",
    "fraction of PEs/lanes with useful work, 0..1",
    |p| format!("{:.6}", p.mapping_efficiency)
);
const MAIN_STALL: Column = col!(
    "main_stall",
    "string",
    "largest non-compute share of time",
    |p| p.main_stall.clone(),
    |t| t.main_stall.clone()
);

/// Achieved HBM bandwidth of the op as a fraction of the chip's peak.
const HBM_BW_FRACTION: Column = col!(
    "hbm_bw_fraction",
    "number",
    "achieved HBM bandwidth / peak HBM bandwidth, 0..1",
    |p| format!("{:.6}", p.hbm_bw_fraction)
);

/// How many times the run executes the op (a model's repeated layers are simulated once).
const REPEAT: Column = col!(
    "repeat",
    "integer",
    "times the run executes the op (a model's repeated layers are simulated once)",
    |p| p.repeat.0.to_string()
);

/// Columns of `archsim run --format csv` (after [`SHAPE`]).
const RUN_REST: [Column; 17] = [
    field_col!("macs", "integer", "multiply-accumulates", macs),
    field_col!("cycles", "integer", "cycles at the machine clock", cycles),
    field_col!(
        "compute_cycles",
        "integer",
        "cycles of useful compute",
        compute_cycles
    ),
    field_col!(
        "stall_cycles",
        "integer",
        "cycles not computing",
        stall_cycles
    ),
    TIME_S,
    TFLOPS,
    UTILIZATION,
    MAPPING_EFFICIENCY,
    MAIN_STALL,
    col!(
        "energy_pj",
        "number",
        "energy, pJ",
        |p| format!("{:.6e}", p.energy_pj),
        |t| format!("{:.6e}", t.energy_pj)
    ),
    col!(
        "pj_per_mac",
        "number",
        "energy per MAC, pJ",
        |p| format!("{:.6}", p.pj_per_mac),
        |t| format!("{:.6}", t.pj_per_mac)
    ),
    field_col!(
        "hbm_read_bytes",
        "number",
        "HBM/DRAM bytes read",
        counters.hbm_read_bytes
    ),
    field_col!(
        "hbm_write_bytes",
        "number",
        "HBM/DRAM bytes written",
        counters.hbm_write_bytes
    ),
    field_col!(
        "sram_read_bytes",
        "number",
        "on-chip SRAM bytes read",
        counters.sram_read_bytes
    ),
    field_col!(
        "sram_write_bytes",
        "number",
        "on-chip SRAM bytes written",
        counters.sram_write_bytes
    ),
    HBM_BW_FRACTION,
    REPEAT,
];

/// Columns of the main job's `ops.csv` (after a leading `machine` column and [`SHAPE`]).
const COMPARE_REST: [Column; 18] = [
    col!("flops", "number", "FLOPs (2 per MAC)", |p| e(p.flops)),
    TIME_S,
    TFLOPS,
    UTILIZATION,
    MAPPING_EFFICIENCY,
    MAIN_STALL,
    col!("energy_pj", "number", "energy, pJ", |p| e(p.energy_pj)),
    col!("pj_per_flop", "number", "energy per FLOP, pJ", |p| format!(
        "{:.6}",
        op_pj_per_flop(p)
    )),
    col!(
        "hbm_bytes",
        "number",
        "HBM/DRAM bytes read + written",
        |p| e(p.counters.hbm_bytes())
    ),
    col!("compute_s", "number", "time computing, s", |p| e(p
        .time_breakdown_s
        .compute_s)),
    col!(
        "fill_drain_s",
        "number",
        "exposed pipeline fill/drain, s",
        |p| e(p.time_breakdown_s.fill_drain_s)
    ),
    col!("memory_stall_s", "number", "exposed memory time, s", |p| e(
        p.time_breakdown_s.memory_stall_s
    )),
    col!(
        "tail_s",
        "number",
        "tail waves / tile quantization / imbalance, s",
        |p| e(p.time_breakdown_s.tail_s)
    ),
    col!(
        "overhead_s",
        "number",
        "fixed per-op dispatch/launch/kernel cost, s",
        |p| e(p.time_breakdown_s.overhead_s)
    ),
    col!(
        "clock_throttle_s",
        "number",
        "time lost below the quoted clock (power-limited clock), s",
        |p| e(p.time_breakdown_s.clock_throttle_s)
    ),
    col!(
        "kernel_efficiency_s",
        "number",
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

/// The column set of the main job's `ops.csv` (after its leading columns, [`COMPARE_LEAD`]).
pub fn compare_columns() -> impl Iterator<Item = &'static Column> {
    SHAPE.iter().chain(COMPARE_REST.iter())
}

/// The leading columns of the main job's `ops.csv`, whose values each row brings: (name,
/// meaning). Both are strings.
pub const COMPARE_LEAD: [(&str, &str); 2] = [
    (
        "machine",
        "config name of the machine the row ran on (report.json's `a_label` or `b_label`)",
    ),
    (
        "section",
        "the row's section: its workload name(s) joined by \" + \", or `MODEL PHASE` \
         (report.json's `sections[].workloads`)",
    ),
];

/// The op rows of `archsim run --format csv` for ops read back from a report (the Python
/// bindings' `ops_frame`): the same columns and cells, without the `TOTAL` row.
pub fn run_ops_csv(ops: &[OpProfile]) -> Result<Vec<u8>> {
    let columns: Vec<&Column> = run_columns().collect();
    write_ops_csv(&[], &columns, ops.iter().map(|p| (Vec::new(), p)), None)
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
        row.extend(
            columns
                .iter()
                .map(|c| c.total.map_or(String::new(), |f| f(t))),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use crate::workload::Op;

    /// Ops read back from a run's JSON give the op rows of the run's CSV, byte for byte (what
    /// the Python bindings' `ops_frame` relies on).
    #[test]
    fn ops_read_back_from_json_give_the_csv_op_rows() {
        let m = registry::load("h100").unwrap().build(None).unwrap();
        let ops: Vec<Op> = ["4096,4096,4096", "1,8192,1024,4"]
            .iter()
            .enumerate()
            .map(|(i, g)| {
                Op::Gemm(
                    crate::workload::parse_gemm_spec(g, i, crate::workload::DType::Bf16).unwrap(),
                )
            })
            .collect();
        let run = crate::run::simulate_ops(m.as_ref(), &ops).unwrap();
        let json = serde_json::to_value(&run).unwrap();
        let back: Vec<OpProfile> = serde_json::from_value(json["ops"].clone()).unwrap();
        let whole = String::from_utf8(CsvExporter.export(&run).unwrap()[0].bytes.clone()).unwrap();
        let rows = String::from_utf8(run_ops_csv(&back).unwrap()).unwrap();
        let mut lines: Vec<&str> = whole.lines().collect();
        assert!(lines.pop().unwrap().starts_with("TOTAL,"));
        assert_eq!(rows.lines().collect::<Vec<_>>(), lines);
    }

    /// Every column has a known type and a meaning; the two column lists share no name twice.
    #[test]
    fn columns_are_typed_and_documented() {
        for cols in [
            run_columns().collect::<Vec<_>>(),
            compare_columns().collect::<Vec<_>>(),
        ] {
            let mut names: Vec<&str> = cols.iter().map(|c| c.name).collect();
            for c in &cols {
                assert!(
                    ["string", "integer", "number"].contains(&c.ty),
                    "{}",
                    c.name
                );
                assert!(!c.doc.is_empty(), "{}", c.name);
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), cols.len());
        }
    }
}
