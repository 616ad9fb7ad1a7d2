//! The one-paragraph verdict of a comparison: who is faster and by how much, why (the dominant
//! stall of each machine, memory- vs compute-bound ops by the machine's ridge point), energy and
//! price-performance, and where the result reverses.

use super::Comparison;
use crate::machine::{OpProfile, TimeBreakdown};
use crate::run::RunReport;
use crate::units::fmt_time;
use std::fmt::Write as _;

/// Time-weighted dominant stall reason of a machine's run, with its share of time.
fn dominant_stall(ops: &[OpProfile]) -> (String, f64) {
    let mut t = TimeBreakdown::default();
    for p in ops {
        t.add(&p.time_breakdown_s.times(p.repeat.0));
    }
    let total = t.total_s().max(1e-30);
    let (part, v) = t.largest_loss();
    let reason = match part {
        "fill_drain" => "pipeline fill/drain",
        "memory_stall" => "exposed memory traffic",
        "tail" => "tail waves / tile quantization / load imbalance",
        "overhead" => "dispatch / launch overhead",
        "clock_throttle" => "clock throttling under the power limit",
        "kernel_efficiency" => "kernel efficiency (fitted, not simulated)",
        other => other,
    };
    (reason.to_string(), v / total)
}

/// Arithmetic intensity (FLOP per HBM byte actually moved) below which an op is counted as
/// memory-bound for the verdict: the machine's ridge point peak/bandwidth.
fn is_memory_bound(p: &OpProfile, run: &RunReport) -> bool {
    let peak = run.machine.peak_flops();
    let bw = run.machine.info.hbm_bandwidth_bytes_per_s();
    let bytes = p.counters.hbm_bytes();
    if peak <= 0.0 || bw <= 0.0 || bytes <= 0.0 {
        return p.main_stall == "memory_stall";
    }
    p.flops / bytes < peak / bw
}

/// The one-paragraph verdict the numbers support.
pub fn verdict(c: &Comparison) -> String {
    let (a, b) = (&c.a, &c.b);
    let ta = a.run.total.time_s;
    let tb = b.run.total.time_s;
    let mut s = String::new();
    let (win, lose, r) = if ta <= tb {
        (&a.label, &b.label, tb / ta.max(1e-30))
    } else {
        (&b.label, &a.label, ta / tb.max(1e-30))
    };
    let _ = write!(
        s,
        "On {}, {win} finishes {} {r:.2}x faster than {lose} ({} vs {}). ",
        c.workloads.join(" + "),
        match c.scope.as_str() {
            "per layer" => "one layer",
            "whole model" => "the whole model",
            _ => "the workload",
        },
        fmt_time(ta.min(tb)),
        fmt_time(ta.max(tb))
    );
    // Where each wins: split ops by memory-bound vs compute-bound (on machine A's roofline).
    let (mut a_mem, mut b_mem, mut a_cmp, mut b_cmp) = (0.0, 0.0, 0.0, 0.0);
    for (x, y) in a.run.ops.iter().zip(&b.run.ops) {
        let (tx, ty) = (x.time_s * x.repeat.0 as f64, y.time_s * y.repeat.0 as f64);
        if is_memory_bound(x, &a.run) {
            a_mem += tx;
            b_mem += ty;
        } else {
            a_cmp += tx;
            b_cmp += ty;
        }
    }
    let faster = |x: f64, y: f64| {
        if x <= y {
            (&a.label, y / x)
        } else {
            (&b.label, x / y)
        }
    };
    match (a_cmp > 0.0 && b_cmp > 0.0, a_mem > 0.0 && b_mem > 0.0) {
        (true, true) => {
            let (w, rr) = faster(a_cmp, b_cmp);
            let (w2, rr2) = faster(a_mem, b_mem);
            let _ = write!(
                s,
                "On the compute-bound ops {w} is {rr:.2}x faster; on the memory-bound ops {w2} is {rr2:.2}x faster. "
            );
        }
        (true, false) => {
            let (w, rr) = faster(a_cmp, b_cmp);
            let _ = write!(
                s,
                "All ops are compute-bound; {w} is {rr:.2}x faster on them. "
            );
        }
        (false, true) => {
            let (w, rr) = faster(a_mem, b_mem);
            let _ = write!(s, "All ops are memory-bound (below {}'s ridge point); {w} is {rr:.2}x faster on them. ", a.label);
        }
        (false, false) => {}
    }
    let (sa, fa) = dominant_stall(&a.run.ops);
    let (sb, fb) = dominant_stall(&b.run.ops);
    let _ = write!(
        s,
        "Utilization is {:.1}% on {} and {:.1}% on {}; the largest loss is {} on {} ({:.0}% of its time) and {} on {} ({:.0}%). ",
        a.run.total.utilization * 100.0,
        a.label,
        b.run.total.utilization * 100.0,
        b.label,
        sa,
        a.label,
        fa * 100.0,
        sb,
        b.label,
        fb * 100.0
    );
    let ea = a.run.total.pj_per_flop;
    let eb = b.run.total.pj_per_flop;
    if ea > 0.0 && eb > 0.0 {
        let (w, rr) = if ea <= eb {
            (&a.label, eb / ea)
        } else {
            (&b.label, ea / eb)
        };
        let _ = write!(
            s,
            "Energy: {ea:.3} vs {eb:.3} pJ/FLOP, so {w} uses {rr:.2}x less energy per FLOP. "
        );
    }
    if let (Some(ca), Some(cb)) = (&a.cost, &b.cost) {
        let (w, rr) = if ca.usd_per_run <= cb.usd_per_run {
            (&a.label, cb.usd_per_run / ca.usd_per_run.max(1e-30))
        } else {
            (&b.label, ca.usd_per_run / cb.usd_per_run.max(1e-30))
        };
        let _ = write!(
            s,
            "At the configured chip-hour prices, {w} is {rr:.2}x cheaper per run. "
        );
    }
    s.push_str(&caveats(c));
    s.trim_end().to_string()
}

/// The verdict's caveats: each machine's validation status (its `[validation]`: rows, dtypes,
/// evaluation MAPE), a machine without measured rows flagged as unchecked, and a fitted kernel
/// efficiency named as what it is.
pub fn caveats(c: &Comparison) -> String {
    let mut s = String::from("Caveats: ");
    for side in [&c.a, &c.b] {
        let v = &side.run.machine.info.validation;
        if v.unvalidated() {
            let _ = write!(s, "UNVALIDATED: {} has {}. ", side.label, v.summary());
        } else {
            let _ = write!(s, "{} is {}. ", side.label, v.summary());
        }
    }
    s
}
