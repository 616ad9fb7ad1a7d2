//! The side-by-side text table of a comparison (what the main job prints).

use super::{Comparison, MachineRun, Report};
use crate::report::table::column_width;
use crate::units::{fmt_energy, fmt_time, fmt_usd};
use std::fmt::Write as _;

/// Every section of a report: its table, totals and verdict, one after another.
pub fn render_report(r: &Report) -> String {
    let mut s = String::new();
    for (i, c) in r.sections.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(s);
            let _ = writeln!(s, "{}", "=".repeat(100));
        }
        s.push_str(&render_table(c));
    }
    s
}

/// The op name as the table shows it: with `[xN]` when the run executes it N times.
fn op_label(p: &crate::machine::OpProfile) -> String {
    if p.repeat.is_one() {
        p.name.clone()
    } else {
        format!("{} [x{}]", p.name, p.repeat.0)
    }
}

/// Side-by-side table per op and in total, then the verdict.
pub fn render_table(c: &Comparison) -> String {
    let (a, b) = (&c.a, &c.b);
    let mut s = String::new();
    let w = column_width(a.run.ops.iter().map(|p| op_label(p).len()), 4, 40);
    let scope = match c.scope.as_str() {
        "workload" => String::new(),
        other => format!(" ({other})"),
    };
    let _ = writeln!(
        s,
        "archsim: {} vs {} on {}{scope}",
        a.label,
        b.label,
        c.workloads.join(", ")
    );
    if let Some(note) = &c.scope_note {
        let _ = writeln!(s, "note: {note}");
    }
    let _ = writeln!(
        s,
        "{:<w$} | {:>10} {:>8} {:>6} {:>10} | {:>10} {:>8} {:>6} {:>10} | {:>7} {:>7}",
        "op",
        format!("{} time", short(&a.label)),
        "TFLOP/s",
        "util",
        "stall",
        format!("{} time", short(&b.label)),
        "TFLOP/s",
        "util",
        "stall",
        "speedup",
        "E ratio"
    );
    for ((x, y), o) in a.run.ops.iter().zip(&b.run.ops).zip(&c.ops) {
        let mut n = op_label(x);
        if n.len() > w {
            n = format!("…{}", &n[n.len() - (w - 1)..]);
        }
        let _ = writeln!(
            s,
            "{:<w$} | {:>10} {:>8.1} {:>5.1}% {:>10} | {:>10} {:>8.1} {:>5.1}% {:>10} | {:>6.2}x {:>6.2}x",
            n,
            fmt_time(x.time_s),
            x.tflops,
            x.utilization * 100.0,
            short_stall(&x.main_stall),
            fmt_time(y.time_s),
            y.tflops,
            y.utilization * 100.0,
            short_stall(&y.main_stall),
            o.time_ratio_a_over_b,
            o.energy_ratio_a_over_b
        );
    }
    let _ = writeln!(s, "{}", "-".repeat(w + 96));
    let _ = writeln!(
        s,
        "speedup = {} time / {} time (> 1: {} faster); E ratio = energy ratio, same order",
        a.label, b.label, b.label
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "{:<24} {:>18} {:>18}", "total", a.label, b.label);
    let row = |s: &mut String, k: &str, x: String, y: String| {
        let _ = writeln!(s, "{k:<24} {x:>18} {y:>18}");
    };
    let tdp = |w: f64| {
        if w > 0.0 {
            format!("{w:.0}")
        } else {
            "n/a".to_string()
        }
    };
    type Cell<'a> = &'a dyn Fn(&MachineRun) -> String;
    let totals: [(&str, Cell); 9] = [
        ("time", &|m| fmt_time(m.run.total.time_s)),
        ("achieved TFLOP/s", &|m| {
            format!("{:.1}", m.run.total.tflops)
        }),
        ("utilization", &|m| {
            format!("{:.1}%", m.run.total.utilization * 100.0)
        }),
        ("main stall", &|m| m.run.total.main_stall.clone()),
        ("energy", &|m| fmt_energy(m.run.total.energy_pj)),
        ("pJ/FLOP", &|m| format!("{:.3}", m.run.total.pj_per_flop)),
        ("TFLOP/s/W", &|m| format!("{:.3}", m.run.total.tflops_per_w)),
        ("avg power (W)", &|m| format!("{:.0}", m.avg_power_w)),
        ("TDP (W)", &|m| tdp(m.tdp_w)),
    ];
    for (k, cell) in totals {
        row(&mut s, k, cell(a), cell(b));
    }
    if let (Some(ca), Some(cb)) = (&a.cost, &b.cost) {
        row(
            &mut s,
            "USD/chip-hour",
            format!("{:.2}", ca.usd_per_chip_hour),
            format!("{:.2}", cb.usd_per_chip_hour),
        );
        row(
            &mut s,
            "USD per PFLOP",
            fmt_usd(ca.usd_per_pflop),
            fmt_usd(cb.usd_per_pflop),
        );
    }
    let per = if c.scope == "per layer" {
        " per layer"
    } else {
        ""
    };
    for (x, y) in a.tokens.iter().zip(&b.tokens) {
        row(
            &mut s,
            &format!("{} tok/s{per}", x.phase),
            format!("{:.1}", x.tokens_per_s),
            format!("{:.1}", y.tokens_per_s),
        );
        if let (Some(ua), Some(ub)) = (x.usd_per_million_tokens, y.usd_per_million_tokens) {
            row(
                &mut s,
                &format!("{} USD/Mtok", x.phase),
                fmt_usd(ua),
                fmt_usd(ub),
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "verdict: {}", c.verdict);
    s
}

fn short(s: &str) -> String {
    s.chars().take(12).collect()
}

fn short_stall(s: &str) -> &str {
    match s {
        "memory_stall" => "memory",
        "fill_drain" => "fill/drain",
        "clock_throttle" => "clock",
        "kernel_efficiency" => "kernel eff",
        other => other,
    }
}
