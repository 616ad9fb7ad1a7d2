//! The main job: one workload on two machines, side by side.
//!
//! [`compare`] runs both machines over the same lowered ops, pairs the results op by op, derives
//! ratios, price-performance and tokens/s, and writes the one-paragraph [`Comparison::verdict`]
//! that the numbers support. [`render_table`] renders it as text; the job
//! ([`crate::jobs::compare`]) writes report.json, ops.csv, trace.json and the plots.

use crate::config::CostSection;
use crate::error::{Error, Location, Result};
use crate::machine::{OpProfile, TimeBreakdown};
use crate::registry::LoadedConfig;
use crate::report::csv::{compare_columns, write_ops_csv, Column};
use crate::report::table::column_width;
use crate::run::{simulate_ops, RunReport};
use crate::units::{fmt_energy, fmt_time, fmt_usd};
use crate::workload::{Op, Workload};
use serde::Serialize;
use std::fmt::Write as _;

/// Price-performance of one machine over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostSummary {
    pub usd_per_chip_hour: f64,
    pub price_source: String,
    /// USD to run the whole workload once on one chip.
    pub usd_per_run: f64,
    /// USD per PFLOP of useful work (10^15 FLOP) at the achieved rate.
    pub usd_per_pflop: f64,
}

/// Tokens/s of one phase (ops whose names start with a prefix) on one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TokenRate {
    pub workload: String,
    pub phase: String,
    pub tokens: u64,
    pub time_s: f64,
    pub tokens_per_s: f64,
    /// USD per million tokens on one chip, when the machine has a `[cost]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million_tokens: Option<f64>,
}

/// One machine's side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineRun {
    /// Config name, e.g. "tpu_v5".
    pub label: String,
    pub run: RunReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostSummary>,
    pub tokens: Vec<TokenRate>,
    /// Average power over the run (total energy / total time), W.
    pub avg_power_w: f64,
    /// The machine's TDP from its config, W (0 if unknown).
    pub tdp_w: f64,
    /// Energy at TDP for the simulated time, pJ: the chip-level upper bound to check against.
    pub tdp_energy_pj: f64,
}

/// One op on both machines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpComparison {
    pub name: String,
    /// time on A / time on B (> 1: B is faster).
    pub time_ratio_a_over_b: f64,
    /// energy on A / energy on B.
    pub energy_ratio_a_over_b: f64,
    pub faster: String,
}

/// A full two-machine comparison (the `report.json` document of the main job).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub workloads: Vec<String>,
    pub a: MachineRun,
    pub b: MachineRun,
    pub ops: Vec<OpComparison>,
    pub verdict: String,
}

/// Lower workloads to ops, prefixing op names with the workload name when there are several.
pub fn workload_ops(workloads: &[Workload]) -> Vec<Op> {
    let mut ops = Vec::new();
    for w in workloads {
        for mut op in w.ops() {
            if workloads.len() > 1 {
                let n = format!("{}/{}", w.name, op.name());
                match &mut op {
                    Op::Gemm(g) => g.name = n,
                    Op::Vector(v) => v.name = n,
                }
            }
            ops.push(op);
        }
    }
    ops
}

fn cost_summary(cost: Option<&CostSection>, run: &RunReport) -> Option<CostSummary> {
    let c = cost?;
    let usd_per_s = c.usd_per_chip_hour / 3600.0;
    let usd_per_run = usd_per_s * run.total.time_s;
    Some(CostSummary {
        usd_per_chip_hour: c.usd_per_chip_hour,
        price_source: c.source.clone(),
        usd_per_run,
        usd_per_pflop: if run.total.flops > 0.0 {
            usd_per_run / (run.total.flops / 1e15)
        } else {
            0.0
        },
    })
}

fn token_rates(
    workloads: &[Workload],
    run: &RunReport,
    cost: Option<&CostSection>,
) -> Vec<TokenRate> {
    let mut out = Vec::new();
    for w in workloads {
        for (phase, &tokens) in &w.tokens {
            let prefix_multi = format!("{}/{}", w.name, phase);
            let time_s: f64 = run
                .ops
                .iter()
                .filter(|p| {
                    let n = p.name.as_str();
                    if workloads.len() > 1 {
                        n.starts_with(&prefix_multi)
                    } else {
                        n.starts_with(phase.as_str())
                    }
                })
                .map(|p| p.time_s)
                .sum();
            if time_s <= 0.0 {
                continue;
            }
            let tps = tokens as f64 / time_s;
            out.push(TokenRate {
                workload: w.name.clone(),
                phase: phase.clone(),
                tokens,
                time_s,
                tokens_per_s: tps,
                usd_per_million_tokens: cost.map(|c| c.usd_per_chip_hour / 3600.0 / tps * 1e6),
            });
        }
    }
    out
}

fn machine_run(
    label: &str,
    cfg: &LoadedConfig,
    workloads: &[Workload],
    run: RunReport,
) -> MachineRun {
    let tdp_w = run.machine.info.tdp_w.unwrap_or(0.0);
    let avg_power_w = if run.total.time_s > 0.0 {
        run.total.energy_pj * 1e-12 / run.total.time_s
    } else {
        0.0
    };
    MachineRun {
        label: label.to_string(),
        cost: cost_summary(cfg.cost(), &run),
        tokens: token_rates(workloads, &run, cfg.cost()),
        avg_power_w,
        tdp_w,
        tdp_energy_pj: tdp_w * run.total.time_s * 1e12,
        run,
    }
}

/// Progress of a comparison: the machine about to be simulated (index 0 or 1 of 2), with its
/// label and the number of ops. The CLI draws a bar from it; the library draws nothing.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub machine_index: usize,
    pub machines: usize,
    pub label: &'a str,
    pub ops: usize,
}

/// Run both machines over the workloads; `progress` is told before each machine starts and
/// once more (with `machine_index == machines`) when both are done.
pub fn compare(
    a_cfg: &LoadedConfig,
    b_cfg: &LoadedConfig,
    workloads: &[Workload],
    progress: &mut dyn FnMut(Progress),
) -> Result<Comparison> {
    let ops = workload_ops(workloads);
    if ops.is_empty() {
        return Err(Error::input(
            Location::file(
                workloads
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            "the workload has no ops",
        ));
    }
    let a_m = a_cfg.build(None)?;
    let b_m = b_cfg.build(None)?;
    let mut tell = |i: usize, label: &str| {
        progress(Progress {
            machine_index: i,
            machines: 2,
            label,
            ops: ops.len(),
        })
    };
    tell(0, &a_cfg.name);
    let ra = simulate_ops(a_m.as_ref(), &ops)?;
    tell(1, &b_cfg.name);
    let rb = simulate_ops(b_m.as_ref(), &ops)?;
    tell(2, "");
    let a = machine_run(&a_cfg.name, a_cfg, workloads, ra);
    let b = machine_run(&b_cfg.name, b_cfg, workloads, rb);
    let pairs: Vec<OpComparison> = a
        .run
        .ops
        .iter()
        .zip(&b.run.ops)
        .map(|(x, y)| OpComparison {
            name: x.name.clone(),
            time_ratio_a_over_b: ratio(x.time_s, y.time_s),
            energy_ratio_a_over_b: ratio(x.energy_pj, y.energy_pj),
            faster: if x.time_s <= y.time_s {
                a.label.clone()
            } else {
                b.label.clone()
            },
        })
        .collect();
    let mut c = Comparison {
        workloads: workloads.iter().map(|w| w.name.clone()).collect(),
        a,
        b,
        ops: pairs,
        verdict: String::new(),
    };
    c.verdict = verdict(&c);
    Ok(c)
}

fn ratio(x: f64, y: f64) -> f64 {
    if y > 0.0 {
        x / y
    } else {
        f64::INFINITY
    }
}

/// Time-weighted dominant stall reason of a machine's run, with its share of time.
fn dominant_stall(ops: &[OpProfile]) -> (String, f64) {
    let mut t = TimeBreakdown::default();
    for p in ops {
        t.add(&p.time_breakdown_s);
    }
    let total = t.total_s().max(1e-30);
    let (part, v) = t.largest_loss();
    let reason = match part {
        "fill_drain" => "pipeline fill/drain",
        "memory_stall" => "exposed memory traffic",
        "tail" => "tail waves / tile quantization / load imbalance",
        "overhead" => "dispatch / launch overhead",
        "clock_throttle" => "clock throttling under the power cap",
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
        return p.main_stall == "memory";
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
        "On {}, {win} finishes the workload {r:.2}x faster than {lose} ({} vs {}). ",
        c.workloads.join(" + "),
        fmt_time(ta.min(tb)),
        fmt_time(ta.max(tb))
    );
    // Where each wins: split ops by memory-bound vs compute-bound (on machine A's roofline).
    let (mut a_mem, mut b_mem, mut a_cmp, mut b_cmp) = (0.0, 0.0, 0.0, 0.0);
    for (x, y) in a.run.ops.iter().zip(&b.run.ops) {
        if is_memory_bound(x, &a.run) {
            a_mem += x.time_s;
            b_mem += y.time_s;
        } else {
            a_cmp += x.time_s;
            b_cmp += y.time_s;
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
            "At the configured chip-hour prices, {w} is {rr:.2}x cheaper per run."
        );
    }
    s.trim_end().to_string()
}

/// Side-by-side table per op and in total, then the verdict.
pub fn render_table(c: &Comparison) -> String {
    let (a, b) = (&c.a, &c.b);
    let mut s = String::new();
    let w = column_width(a.run.ops.iter().map(|p| p.name.len()), 4, 36);
    let _ = writeln!(
        s,
        "archsim: {} vs {} on {}",
        a.label,
        b.label,
        c.workloads.join(", ")
    );
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
        let mut n = x.name.clone();
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
    for (x, y) in a.tokens.iter().zip(&b.tokens) {
        row(
            &mut s,
            &format!("{} tok/s", x.phase),
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
        "tail_quantization" => "tail",
        "fill_drain" => "fill/drain",
        "clock_throttle" => "clock",
        other => other,
    }
}

/// CSV with both machines per op (`ops.csv` of the main job): a `machine` column, then
/// [`crate::report::csv::compare_columns`].
pub fn ops_csv(c: &Comparison) -> Result<Vec<u8>> {
    let columns: Vec<&Column> = compare_columns().collect();
    let rows = [&c.a, &c.b]
        .into_iter()
        .flat_map(|m| m.run.ops.iter().map(move |p| (vec![m.label.clone()], p)));
    write_ops_csv(&["machine"], &columns, rows, None)
}
