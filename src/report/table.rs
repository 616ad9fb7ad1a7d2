//! Human-readable table: one line per op and a total line.
//!
//! Written with `format!` widths rather than comfy-table or tabled: the output is plain
//! whitespace-aligned columns (no borders) that tests, the README and users' scripts read
//! column by column, and those crates would change the bytes (borders, padding, wrapping at
//! the terminal width) for no gain in what the table says; the column widths are the one piece
//! of logic ([`column_width`]).
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
    let w = name_width(run.ops.iter().map(|p| label(p).len()));
    let mut s = head(&run.machine.info, w);
    let mut notes = Notes::default();
    for p in &run.ops {
        s.push_str(&op_line(p, w));
        notes.add(p);
    }
    s.push_str(&total_line(&run.total, w));
    s.push_str(&notes.render());
    if let Some(m) = &run.model {
        render_model(&mut s, m);
    }
    s
}

/// The label of an op in the first column: its name, with ` [xR]` when it repeats.
fn label(p: &crate::machine::OpProfile) -> String {
    if p.repeat.is_one() {
        p.name.clone()
    } else {
        format!("{} [x{}]", p.name, p.repeat.0)
    }
}

/// Width of the op column for labels of these lengths (4 to 40 characters).
pub fn name_width(label_lengths: impl Iterator<Item = usize>) -> usize {
    column_width(label_lengths, 4, 40)
}

/// The machine line and the column header, for an op column `w` wide.
pub fn head(info: &crate::machine::MachineInfo, w: usize) -> String {
    let mut s = String::new();
    let name = info.name.as_str();
    let kind = info.kind.as_str();
    let mode = info.mode.as_deref().unwrap_or("");
    let _ = writeln!(
        s,
        "machine: {name} ({kind}{}{mode})",
        if mode.is_empty() { "" } else { ", " }
    );
    // A machine that reports the energy table it charges (SCALE-Sim mode) names it here.
    if let Some(t) = info
        .details
        .get("energy_table")
        .and_then(|t| t.get("name"))
        .and_then(|n| n.as_str())
    {
        let _ = writeln!(s, "energy table: {t}");
    }
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
    s
}

/// The line of one op.
pub fn op_line(p: &crate::machine::OpProfile, w: usize) -> String {
    let shape = if p.batch > 1 {
        format!("{}x{}x{} x{}", p.m, p.n, p.k, p.batch)
    } else {
        format!("{}x{}x{}", p.m, p.n, p.k)
    };
    let mut n = label(p);
    if n.len() > w {
        // Keep the repeat count visible: cut the name, not the suffix.
        let suffix = if p.repeat.is_one() {
            String::new()
        } else {
            format!(" [x{}]", p.repeat.0)
        };
        let mut head = p.name.clone();
        head.truncate(w.saturating_sub(suffix.len()));
        n = head + &suffix;
    }
    format!(
        "{:<w$} {:>21} {:>5} {:>12} {:>12} {:>11} {:>9.2} {:>5.1}% {:>5.1}% {:>11} {:>10.3} {:>17}\n",
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
    )
}

/// The TOTAL line.
pub fn total_line(t: &crate::run::Total, w: usize) -> String {
    format!(
        "{:<w$} {:>21} {:>5} {:>12} {:>12} {:>11} {:>9.2} {:>5.1}% {:>6} {:>11} {:>10.3} {:>17}\n",
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
    )
}

/// Each distinct op note (e.g. an fp4 fallback) once, after the table, with the ops it
/// concerns; nothing when no op has one. Gathered op by op.
#[derive(Debug, Clone, Default)]
pub struct Notes(Vec<(String, String, usize)>);

impl Notes {
    /// Count an op's note, if it has one.
    pub fn add(&mut self, p: &crate::machine::OpProfile) {
        if let Some(text) = p.note.as_deref() {
            match self.0.iter_mut().find(|(t, _, _)| t == text) {
                Some(n) => n.2 += 1,
                None => self.0.push((text.to_string(), p.name.clone(), 1)),
            }
        }
    }

    /// The note lines.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (text, first, count) in &self.0 {
            if *count == 1 {
                let _ = writeln!(s, "note [{first}]: {text}");
            } else {
                let _ = writeln!(s, "note [{count} ops, first {first}]: {text}");
            }
        }
        s
    }
}

/// The whole-model summary under the op table of a `--model` run.
fn render_model(s: &mut String, m: &crate::run::model::ModelReport) {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let _ = writeln!(
        s,
        "\nmodel: {} ({:.2} B params, {:.2} B active, {} layers), {} batch {} {}, {}, {} attention{}",
        m.name,
        m.params as f64 / 1e9,
        m.active_params as f64 / 1e9,
        m.layers,
        m.phase.as_str(),
        m.batch,
        match m.phase {
            crate::workload::model::lower::Phase::Decode => format!("context {}", m.context),
            _ => format!("seq {}", m.seq),
        },
        m.dtype,
        m.attention,
        if m.recompute { ", recompute" } else { "" }
    );
    let _ = writeln!(
        s,
        "  whole model: {} for {} tokens = {:.1} tokens/s, MFU {:.1}% ({:.3e} model FLOPs, {:.3e} executed)",
        fmt_time(m.time_s),
        m.tokens,
        m.tokens_per_s,
        m.mfu * 100.0,
        m.model_flops,
        m.hardware_flops
    );
    let mem = &m.memory;
    let _ = writeln!(
        s,
        "  memory: {:.2} GiB needed (weights {:.2}, KV cache {:.2}, activations {:.2}, gradients {:.2}, optimizer {:.2}) of {}: {}",
        gib(mem.needed_bytes),
        gib(mem.weights_bytes),
        gib(mem.kv_cache_bytes),
        gib(mem.activation_bytes),
        gib(mem.gradient_bytes),
        gib(mem.optimizer_bytes),
        mem.capacity_bytes
            .map_or("unknown capacity".to_string(), |c| format!("{:.2} GiB HBM", gib(c))),
        match mem.fits {
            Some(true) => "fits",
            Some(false) => "DOES NOT FIT on one chip",
            None => "fit unknown",
        }
    );
}

impl Exporter for TableExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        Ok(vec![OutputFile {
            name: "report.txt".into(),
            bytes: render(run).into_bytes(),
        }])
    }
}
