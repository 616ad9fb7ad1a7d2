//! Human-readable table: one line per op and a total line.
use super::Exporter;
use crate::error::Result;
use crate::fsio::OutputFile;
use crate::run::RunReport;
use crate::units::{fmt_energy, fmt_time};
use std::fmt::Write as _;

pub struct TableExporter;

/// Width of a text column: the longest entry, at least `min` (also when empty), at most `max`.
pub fn column_width(lengths: impl Iterator<Item = usize>, min: usize, max: usize) -> usize {
    lengths.max().unwrap_or(min).clamp(min, max)
}

/// Render the table as text.
pub fn render(run: &RunReport) -> String {
    let mut s = String::new();
    let info = &run.machine.info;
    let name = info.name.as_str();
    let kind = info.kind.as_str();
    let mode = info.mode.as_deref().unwrap_or("");
    let _ = writeln!(
        s,
        "machine: {name} ({kind}{}{mode})",
        if mode.is_empty() { "" } else { ", " }
    );
    let w = column_width(run.ops.iter().map(|p| p.name.len()), 4, 32);
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
    // Each distinct op note (e.g. an fp4 fallback) once, after the table, with the ops it
    // concerns; nothing when no op has one.
    let mut notes: Vec<(&str, &str, usize)> = Vec::new();
    for p in &run.ops {
        if let Some(text) = p.note.as_deref() {
            match notes.iter_mut().find(|(t, _, _)| *t == text) {
                Some(n) => n.2 += 1,
                None => notes.push((text, &p.name, 1)),
            }
        }
    }
    for (text, first, count) in notes {
        if count == 1 {
            let _ = writeln!(s, "note [{first}]: {text}");
        } else {
            let _ = writeln!(s, "note [{count} ops, first {first}]: {text}");
        }
    }
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
