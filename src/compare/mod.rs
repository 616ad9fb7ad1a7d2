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

pub use table::{render_report, render_table};
pub use verdict::verdict;

use crate::error::{Error, Location, Result};
use crate::machine::{Machine, Repeat};
use crate::registry::LoadedConfig;
use crate::report::csv::{compare_columns, write_ops_csv, Column, COMPARE_LEAD};
use crate::run::model::simulate_model;
use crate::run::{simulate_ops, total_of, RunReport};
use crate::workload::model::lower::RunSpec;
use crate::workload::model::ModelCard;
use crate::workload::{Op, Workload};
use serde::Serialize;

/// Price-performance of one machine over the run, from its config's `[cost]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CostSummary {
    /// Price of one chip for one hour (`cost.usd_per_chip_hour`, a documented assumption).
    pub usd_per_chip_hour: f64,
    /// Where the price comes from (`cost.source`).
    pub price_source: String,
    /// USD to run the whole workload once on one chip.
    pub usd_per_run: f64,
    /// USD per PFLOP of useful work (10^15 FLOP) at the achieved rate.
    pub usd_per_pflop: f64,
}

/// Tokens/s of one phase (ops whose names start with a prefix) on one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TokenRate {
    /// The workload (kernels file or model) the phase belongs to.
    pub workload: String,
    /// The phase, e.g. `prefill` or `decode`: its ops are those whose names start with it.
    pub phase: String,
    /// Tokens the phase produces or processes (the workload's `[tokens]` entry).
    pub tokens: u64,
    /// Time of the phase's ops (repeats counted).
    pub time_s: f64,
    /// tokens / time_s on one chip.
    pub tokens_per_s: f64,
    /// USD per million tokens on one chip, when the machine has a `[cost]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million_tokens: Option<f64>,
}

/// One machine's side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MachineRun {
    /// Config name, e.g. "tpu_v5".
    pub label: String,
    /// The machine's run: the `archsim run --format json` report of the section's ops
    /// (docs/reference/report-json.md).
    pub run: RunReport,
    /// Price-performance; absent when the config has no `[cost]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostSummary>,
    /// Tokens/s per phase (LLM workloads; empty otherwise).
    pub tokens: Vec<TokenRate>,
    /// Average power over the run (total energy / total time), W.
    pub avg_power_w: f64,
    /// The machine's TDP from its config, W (0 if unknown).
    pub tdp_w: f64,
    /// Energy at TDP for the simulated time, pJ: the chip-level upper bound to check against.
    pub tdp_energy_pj: f64,
}

/// One op on both machines.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OpComparison {
    /// Op name (as in both runs' `ops`).
    pub name: String,
    /// time on A / time on B (> 1: B is faster).
    pub time_ratio_a_over_b: f64,
    /// energy on A / energy on B.
    pub energy_ratio_a_over_b: f64,
    /// Label of the machine that runs the op in less time (A on a tie).
    pub faster: String,
}

/// One two-machine comparison: one workload, or one phase of one model.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// What is compared: the workload name(s), or `MODEL PHASE`.
    pub workloads: Vec<String>,
    /// `workload` (a kernels file), `whole model` (every layer, the model fits one chip of
    /// each machine) or `per layer` (one decoder layer: the model does not fit one chip).
    pub scope: String,
    /// Why a model is shown per layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_note: Option<String>,
    /// The first machine (the config's own).
    pub a: MachineRun,
    /// The second machine (`[compare] with` or `--vs`).
    pub b: MachineRun,
    /// Every op on both machines, in run order.
    pub ops: Vec<OpComparison>,
    /// One paragraph the numbers support: who is faster and why, energy, price, caveats
    /// (both machines' validation status).
    pub verdict: String,
}

/// The main job's and `compare`'s result (`report.json`): the two machines and one
/// [`Comparison`] per workload and per model phase, each with its own totals and verdict —
/// never one sum over unrelated workloads.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Config name of the first machine (each section's `a`).
    pub a_label: String,
    /// Config name of the second machine (each section's `b`).
    pub b_label: String,
    /// One comparison per workload and per model phase, in order: kernels files first, then
    /// each model's prefill and decode.
    pub sections: Vec<Comparison>,
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

/// Progress of a comparison: the machine run about to start (index of `machines` runs: two
/// per workload or model phase), with its label and the number of ops. The CLI draws a bar
/// from it; the library draws nothing.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub machine_index: usize,
    pub machines: usize,
    pub label: &'a str,
    pub ops: usize,
}

/// A model phase the main job compares.
#[derive(Debug, Clone)]
pub struct ModelCase {
    pub card: ModelCard,
    pub spec: RunSpec,
}

/// Run both machines over every workload (each compared on its own) and every model phase;
/// `progress` is told before each machine run and once more (with `machine_index ==
/// machines`) at the end.
pub fn compare_all(
    a_cfg: &LoadedConfig,
    b_cfg: &LoadedConfig,
    workloads: &[Workload],
    models: &[ModelCase],
    progress: &mut dyn FnMut(Progress),
) -> Result<Report> {
    let a_m = a_cfg.build(None)?;
    let b_m = b_cfg.build(None)?;
    let machines = 2 * (workloads.len() + models.len());
    let mut index = 0;
    let mut tell = |label: &str, ops: usize| {
        progress(Progress {
            machine_index: index,
            machines,
            label,
            ops,
        });
        index += 1;
    };
    let mut sections = Vec::new();
    for w in workloads {
        let ops = workload_ops(std::slice::from_ref(w));
        if ops.is_empty() {
            return Err(Error::input(
                Location::file(w.name.clone()),
                "the workload has no ops",
            ));
        }
        tell(&a_cfg.name, ops.len());
        let ra = simulate_ops(a_m.as_ref(), &ops)?;
        tell(&b_cfg.name, ops.len());
        let rb = simulate_ops(b_m.as_ref(), &ops)?;
        sections.push(pair(
            (a_cfg, ra),
            (b_cfg, rb),
            vec![w.name.clone()],
            ("workload", None),
            std::slice::from_ref(w),
        ));
    }
    for m in models {
        tell(&a_cfg.name, 0);
        let ra = simulate_model(a_m.as_ref(), &m.card, &m.spec)?;
        tell(&b_cfg.name, 0);
        let rb = simulate_model(b_m.as_ref(), &m.card, &m.spec)?;
        sections.push(model_section(
            (a_cfg, a_m.as_ref(), ra),
            (b_cfg, b_m.as_ref(), rb),
            m,
        )?);
    }
    progress(Progress {
        machine_index: machines,
        machines,
        label: "",
        ops: 0,
    });
    Ok(Report {
        a_label: a_cfg.name.clone(),
        b_label: b_cfg.name.clone(),
        sections,
    })
}

/// The comparison of one model phase: whole model when it fits one chip of both machines,
/// otherwise one decoder layer (the layer kind that repeats most), labelled `per layer`.
fn model_section(
    (a_cfg, a_m, ra): (&LoadedConfig, &dyn Machine, RunReport),
    (b_cfg, b_m, rb): (&LoadedConfig, &dyn Machine, RunReport),
    m: &ModelCase,
) -> Result<Comparison> {
    let phase = m.spec.phase.as_str();
    let title = format!("{} {phase}", m.card.name);
    let misfits: Vec<String> = [(&a_cfg.name, &ra), (&b_cfg.name, &rb)]
        .iter()
        .filter_map(|(label, r)| {
            let mem = &r.model.as_ref()?.memory;
            (mem.fits == Some(false)).then(|| {
                format!(
                    "needs {:.1} GiB per chip, {label} has {:.1} GiB",
                    mem.needed_bytes as f64 / GIB,
                    mem.capacity_bytes.unwrap_or(0) as f64 / GIB
                )
            })
        })
        .collect();
    let tokens_of = Workload {
        name: title.clone(),
        layers: Vec::new(),
        tokens: [(phase.to_string(), m.spec.tokens())].into_iter().collect(),
    };
    if misfits.is_empty() {
        return Ok(pair(
            (a_cfg, ra),
            (b_cfg, rb),
            vec![title],
            ("whole model", None),
            std::slice::from_ref(&tokens_of),
        ));
    }
    let note = format!(
        "{} does not fit one chip ({}): one of its {} layers is shown; tokens/s are per layer",
        m.card.name,
        misfits.join("; "),
        m.card.layers
    );
    Ok(pair(
        (a_cfg, per_layer(a_m, ra)?),
        (b_cfg, per_layer(b_m, rb)?),
        vec![title],
        ("per layer", Some(note)),
        std::slice::from_ref(&tokens_of),
    ))
}

const GIB: f64 = (1u64 << 30) as f64;

/// One decoder layer of a model run: the ops of the layer kind that repeats most, once each.
fn per_layer(machine: &dyn Machine, mut r: RunReport) -> Result<RunReport> {
    let most = r.ops.iter().map(|p| p.repeat.0).max().unwrap_or(1);
    r.ops.retain(|p| p.repeat.0 == most);
    for p in &mut r.ops {
        p.repeat = Repeat(1);
    }
    r.total = total_of(machine, &r.ops)?;
    Ok(r)
}

/// Pair two machines' runs of the same ops into a [`Comparison`].
fn pair(
    (a_cfg, ra): (&LoadedConfig, RunReport),
    (b_cfg, rb): (&LoadedConfig, RunReport),
    workloads: Vec<String>,
    (scope, scope_note): (&str, Option<String>),
    token_sources: &[Workload],
) -> Comparison {
    let a = economics::machine_run(&a_cfg.name, a_cfg, token_sources, ra);
    let b = economics::machine_run(&b_cfg.name, b_cfg, token_sources, rb);
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
        workloads,
        scope: scope.to_string(),
        scope_note,
        a,
        b,
        ops: pairs,
        verdict: String::new(),
    };
    c.verdict = verdict(&c);
    c
}

/// Run both machines over the workloads as one comparison (their ops in one list); `progress`
/// is told before each machine starts and once more (with `machine_index == machines`) when
/// both are done.
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
    Ok(pair(
        (a_cfg, ra),
        (b_cfg, rb),
        workloads.iter().map(|w| w.name.clone()).collect(),
        ("workload", None),
        workloads,
    ))
}

fn ratio(x: f64, y: f64) -> f64 {
    if y > 0.0 {
        x / y
    } else {
        f64::INFINITY
    }
}

/// CSV with both machines per op (`ops.csv` of the main job): `machine` and `section` (the
/// workload or model phase) columns, then [`crate::report::csv::compare_columns`].
pub fn ops_csv(r: &Report) -> Result<Vec<u8>> {
    let columns: Vec<&Column> = compare_columns().collect();
    let rows = r.sections.iter().flat_map(|c| {
        let section = c.workloads.join(" + ");
        [&c.a, &c.b].into_iter().flat_map(move |m| {
            let section = section.clone();
            m.run
                .ops
                .iter()
                .map(move |p| (vec![m.label.clone(), section.clone()], p))
        })
    });
    let lead: Vec<&str> = COMPARE_LEAD.iter().map(|(name, _)| *name).collect();
    write_ops_csv(&lead, &columns, rows, None)
}
