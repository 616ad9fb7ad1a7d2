//! One workload on two machines, side by side (data only).
//!
//! [`compare`] runs both machines over the same lowered ops through the engine, pairs the
//! results op by op, derives ratios, price-performance and tokens/s ([`economics`]), and writes
//! the one-paragraph [`Comparison::verdict`] that the numbers support ([`verdict`]).
//! [`render_table`] renders it as text; the job ([`crate::jobs::compare`]) writes report.json,
//! ops.csv, trace.json and the plots.

mod economics;
mod table;
mod verdict;

pub use table::render_table;
pub use verdict::verdict;

use crate::error::{Error, Location, Result};
use crate::registry::LoadedConfig;
use crate::report::csv::{compare_columns, write_ops_csv, Column};
use crate::run::{simulate_ops, RunReport};
use crate::workload::{Op, Workload};
use serde::Serialize;

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
                op.set_name(n);
            }
            ops.push(op);
        }
    }
    ops
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
    let a = economics::machine_run(&a_cfg.name, a_cfg, workloads, ra);
    let b = economics::machine_run(&b_cfg.name, b_cfg, workloads, rb);
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

/// CSV with both machines per op (`ops.csv` of the main job): a `machine` column, then
/// [`crate::report::csv::compare_columns`].
pub fn ops_csv(c: &Comparison) -> Result<Vec<u8>> {
    let columns: Vec<&Column> = compare_columns().collect();
    let rows = [&c.a, &c.b]
        .into_iter()
        .flat_map(|m| m.run.ops.iter().map(move |p| (vec![m.label.clone()], p)));
    write_ops_csv(&["machine"], &columns, rows, None)
}
