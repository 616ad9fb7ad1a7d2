//! `archsim validate`: run every reference set under `tests/data` and summarize, per set, how
//! close the models come (rows, exact matches, mean and max error).
//!
//! Each set lives in its own file and returns [`ValidationTable`]s; [`run_all`] runs them in a
//! fixed order (SCALE-Sim first).

pub mod energy;
pub mod gpu;
pub mod pod;
pub mod scalesim;
pub mod serving;
pub mod tpu;

use crate::error::Result;
use crate::report::table::column_width;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// One summary line of a validation table: a group of rows (e.g. a metric, or a regime).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SummaryRow {
    /// What the line summarizes, e.g. "total_cycles" or "compute-bound (>= 1 GFLOP)".
    pub group: String,
    pub rows: usize,
    /// Rows where simulated == reference exactly (or within 1e-9 relative for fractions).
    pub exact: usize,
    /// Mean absolute percentage error over the rows.
    pub mean_err_pct: f64,
    /// Largest absolute percentage error over the rows.
    pub max_err_pct: f64,
    /// Mean signed percentage error, (simulated − reference) / reference × 100: positive when
    /// the model gives larger values (slower, for times; higher, for MFU or throughput).
    pub mean_signed_err_pct: f64,
    /// Free-form note (e.g. "calibration rows", "evaluation rows").
    pub note: String,
}

impl SummaryRow {
    /// Summarize pairs of (reference, simulated) values.
    pub fn from_pairs(group: &str, pairs: &[(f64, f64)], note: &str) -> SummaryRow {
        let mut s = SummaryRow {
            group: group.to_string(),
            rows: pairs.len(),
            note: note.to_string(),
            ..Default::default()
        };
        let (mut sum, mut signed) = (0.0, 0.0);
        for &(r, x) in pairs {
            let e = if r == x {
                0.0
            } else if r == 0.0 {
                100.0 * (x - r).signum()
            } else {
                (x - r) / r * 100.0
            };
            let err = e.abs();
            if err <= 1e-7 {
                s.exact += 1;
            }
            sum += err;
            signed += e;
            s.max_err_pct = s.max_err_pct.max(err);
        }
        if !pairs.is_empty() {
            s.mean_err_pct = sum / pairs.len() as f64;
            s.mean_signed_err_pct = signed / pairs.len() as f64;
        }
        s
    }
}

/// A reference set's results.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValidationTable {
    pub title: String,
    /// Where the reference data comes from.
    pub source: String,
    pub summary: Vec<SummaryRow>,
}

impl ValidationTable {
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "== {} ==", self.title);
        if !self.source.is_empty() {
            let _ = writeln!(s, "   reference: {}", self.source);
        }
        let w = column_width(self.summary.iter().map(|r| r.group.len()), 5, usize::MAX);
        let _ = writeln!(
            s,
            "   {:<w$} {:>6} {:>7} {:>10} {:>10} {:>9}  note",
            "group", "rows", "exact", "mean err", "max err", "bias"
        );
        for r in &self.summary {
            let _ = writeln!(
                s,
                "   {:<w$} {:>6} {:>7} {:>9.3}% {:>9.3}% {:>+8.2}%  {}",
                r.group,
                r.rows,
                r.exact,
                r.mean_err_pct,
                r.max_err_pct,
                r.mean_signed_err_pct,
                r.note
            );
        }
        s
    }
}

/// Run every set found under `data_dir` (normally `tests/data`), in order.
pub fn run_all(data_dir: &Path) -> Result<Vec<ValidationTable>> {
    Ok(run_all_with_gpu_rows(data_dir)?.0)
}

/// [`run_all`] and the evaluated GPU GEMM rows behind its GPU tables (for
/// [`gpu::rows_csv`]), each row simulated once.
pub fn run_all_with_gpu_rows(
    data_dir: &Path,
) -> Result<(Vec<ValidationTable>, Vec<gpu::RowResult>)> {
    let mut out = Vec::new();
    out.extend(scalesim::run(data_dir)?);
    out.extend(tpu::run(data_dir)?);
    let (gpu_tables, gpu_rows) = gpu::run_with_rows(data_dir)?;
    out.extend(gpu_tables);
    out.extend(energy::run(data_dir)?);
    out.extend(pod::run(data_dir)?);
    out.extend(serving::run(data_dir)?);
    Ok((out, gpu_rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn summary_counts_exact_and_errors() {
        let s = SummaryRow::from_pairs("x", &[(100.0, 100.0), (100.0, 110.0)], "");
        assert_eq!(s.exact, 1);
        assert!((s.mean_err_pct - 5.0).abs() < 1e-9);
        assert!((s.max_err_pct - 10.0).abs() < 1e-9);
        // One row 10 % high, one exact: bias +5 %; a low row counts negative.
        assert!((s.mean_signed_err_pct - 5.0).abs() < 1e-9);
        let low = SummaryRow::from_pairs("x", &[(100.0, 80.0), (100.0, 90.0)], "");
        assert!((low.mean_signed_err_pct + 15.0).abs() < 1e-9);
        assert!((low.mean_err_pct - 15.0).abs() < 1e-9);
    }
}
