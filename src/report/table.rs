//! Human-readable table: one line per op and a total line.
use super::{Exporter, OutputFile};
use crate::error::Result;
use crate::RunReport;
use std::fmt::Write as _;

pub struct TableExporter;

/// Format seconds with an SI prefix (s, ms, µs, ns).
pub fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.3} us", s * 1e6)
    } else {
        format!("{:.1} ns", s * 1e9)
    }
}

/// Format an energy in pJ with an SI prefix (pJ, nJ, µJ, mJ, J).
pub fn fmt_energy(pj: f64) -> String {
    let j = pj * 1e-12;
    if j >= 1.0 {
        format!("{j:.3} J")
    } else if j >= 1e-3 {
        format!("{:.3} mJ", j * 1e3)
    } else if j >= 1e-6 {
        format!("{:.3} uJ", j * 1e6)
    } else if j >= 1e-9 {
        format!("{:.3} nJ", j * 1e9)
    } else {
        format!("{pj:.1} pJ")
    }
}

/// Render the table as text.
pub fn render(run: &RunReport) -> String {
    let mut s = String::new();
    let name = run.machine["name"].as_str().unwrap_or("?");
    let kind = run.machine["kind"].as_str().unwrap_or("?");
    let mode = run.machine["mode"].as_str().unwrap_or("");
    let _ = writeln!(
        s,
        "machine: {name} ({kind}{}{mode})",
        if mode.is_empty() { "" } else { ", " }
    );
    let w = run
        .ops
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 32);
    let _ = writeln!(
        s,
        "{:<w$} {:>21} {:>5} {:>12} {:>12} {:>11} {:>9} {:>6} {:>6} {:>11} {:>10} {:>17}",
        "op",
        "M x N x K (xbatch)",
        "dtype",
        "cycles",
        "stall_cyc",
        "time",
        "TFLOP/s",
        "util",
        "map",
        "energy",
        "pJ/MAC",
        "main stall"
    );
    for p in &run.ops {
        let shape = if p.batch > 1 {
            format!("{}x{}x{} x{}", p.m, p.n, p.k, p.batch)
        } else {
            format!("{}x{}x{}", p.m, p.n, p.k)
        };
        let mut n = p.name.clone();
        if n.len() > w {
            n.truncate(w);
        }
        let _ = writeln!(
            s,
            "{:<w$} {:>21} {:>5} {:>12} {:>12} {:>11} {:>9.2} {:>5.1}% {:>5.1}% {:>11} {:>10.3} {:>17}",
            n,
            shape,
            p.dtype,
            p.cycles,
            p.stall_cycles,
            fmt_time(p.time_s),
            p.tflops,
            p.utilization * 100.0,
            p.mapping_efficiency * 100.0,
            fmt_energy(p.energy_pj),
            p.pj_per_mac,
            p.main_stall
        );
    }
    let t = &run.total;
    let _ = writeln!(
        s,
        "{:<w$} {:>21} {:>5} {:>12} {:>12} {:>11} {:>9.2} {:>5.1}% {:>6} {:>11} {:>10.3} {:>17}",
        "TOTAL",
        format!("{} ops", t.ops),
        "",
        t.cycles,
        t.stall_cycles,
        fmt_time(t.time_s),
        t.tflops,
        t.utilization * 100.0,
        "",
        fmt_energy(t.energy_pj),
        t.pj_per_mac,
        t.main_stall
    );
    s
}

impl Exporter for TableExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        Ok(vec![OutputFile {
            name: "report.txt".into(),
            bytes: render(run).into_bytes(),
        }])
    }
}
