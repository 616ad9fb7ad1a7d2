//! archsim: a cycle-approximate simulator that runs one ML workload on a TPU-style systolic
//! array and on a SIMT GPU and shows where the time and the energy go.
//!
//! The flow (see DESIGN.md): workload front-end ([`workload`]) → lowering to [`workload::Op`]s →
//! a [`machine::Machine`] (systolic: [`systolic`], GPU: [`simt`]) that plans and simulates each op
//! into an [`machine::OpProfile`] → energy ([`energy`]) → reports ([`report`]) and plots.
//! Everything the CLI does is callable from here.

pub mod cli;
pub mod compare;
pub mod config;
pub mod energy;
pub mod error;
pub mod machine;
pub mod plot;
pub mod report;
pub mod simt;
pub mod sweep;
pub mod systolic;
pub mod validate;
pub mod workload;

pub use config::{LoadedConfig, SimMode};
pub use error::{Error, Result};
pub use machine::{Counters, Machine, OpProfile, TimeBreakdown};
pub use workload::{DType, Gemm, Op, Workload};

use energy::EnergyBreakdown;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Totals over all ops of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Total {
    pub ops: usize,
    pub macs: u128,
    pub flops: f64,
    pub cycles: u64,
    pub compute_cycles: u64,
    pub stall_cycles: u64,
    /// Sum of the ops' device times (ops run one after another).
    pub time_s: f64,
    pub tflops: f64,
    /// FLOP-weighted utilization = total flops / (time × peak of each op's dtype).
    pub utilization: f64,
    pub energy_pj: f64,
    pub pj_per_mac: f64,
    pub pj_per_flop: f64,
    /// TFLOP/s per W = flops / energy (J) / 1e12.
    pub tflops_per_w: f64,
    pub time_breakdown_s: TimeBreakdown,
    pub main_stall: String,
    pub counters: Counters,
    pub energy: EnergyBreakdown,
}

/// The result of running a list of ops on one machine: the JSON document of DESIGN.md §3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub machine: serde_json::Value,
    pub ops: Vec<OpProfile>,
    pub total: Total,
}

/// Simulate ops on a machine, in parallel (rayon) with results in input order, so the output is
/// identical whatever the thread count. Energy is applied from the machine's table.
pub fn simulate_ops(machine: &dyn Machine, ops: &[Op]) -> Result<RunReport> {
    let profiles: Vec<Result<OpProfile>> = ops
        .par_iter()
        .map(|op| {
            if let Op::Gemm(g) = op {
                g.check_size()?;
            }
            let mut p = machine.simulate(op)?;
            if p.cycles == u64::MAX {
                return Err(Error::input(
                    error::Location::file("<workload>").key(p.name.clone()),
                    format!(
                        "op `{}` would take more than 2^64 cycles on {}; split it or use a larger machine",
                        p.name,
                        machine.name()
                    ),
                ));
            }
            energy::apply(machine.energy_table(), &mut p);
            Ok(p)
        })
        .collect();
    let profiles = profiles.into_iter().collect::<Result<Vec<_>>>()?;
    let total = total_of(machine, ops, &profiles);
    Ok(RunReport {
        machine: machine::describe_with_standard_keys(machine, main_dtype(ops)),
        ops: profiles,
        total,
    })
}

/// The dtype carrying the most FLOPs in a list of ops (bf16 if none).
pub fn main_dtype(ops: &[Op]) -> DType {
    let mut best = (DType::Bf16, -1.0);
    for d in DType::ALL {
        let f: f64 = ops
            .iter()
            .filter(|o| o.dtype() == d)
            .map(|o| o.flops())
            .sum();
        if f > best.1 {
            best = (d, f);
        }
    }
    best.0
}

/// Sum profiles into a [`Total`].
pub fn total_of(machine: &dyn Machine, ops: &[Op], profiles: &[OpProfile]) -> Total {
    let mut t = Total {
        ops: profiles.len(),
        ..Default::default()
    };
    let mut peak_time = 0.0; // Σ time × peak: denominator of FLOP-weighted utilization
    for (op, p) in ops.iter().zip(profiles) {
        t.macs += p.macs;
        t.flops += p.flops;
        t.cycles += p.cycles;
        t.compute_cycles += p.compute_cycles;
        t.stall_cycles += p.stall_cycles;
        t.time_s += p.time_s;
        t.energy_pj += p.energy_pj;
        t.time_breakdown_s.add(&p.time_breakdown_s);
        t.counters.add(&p.counters);
        if let Some(e) = &p.energy {
            t.energy.add(e);
        }
        peak_time += p.time_s * machine.peak_flops(op.dtype());
    }
    if t.time_s > 0.0 {
        t.tflops = t.flops / t.time_s / 1e12;
    }
    if peak_time > 0.0 {
        t.utilization = (t.flops / peak_time).clamp(0.0, 1.0);
    }
    if t.macs > 0 {
        t.pj_per_mac = t.energy_pj / t.macs as f64;
    }
    if t.flops > 0.0 {
        t.pj_per_flop = t.energy_pj / t.flops;
    }
    if t.energy_pj > 0.0 {
        t.tflops_per_w = t.flops / (t.energy_pj * 1e-12) / 1e12;
    }
    t.main_stall = t.time_breakdown_s.main_stall().to_string();
    t
}

/// The main job (`archsim --config CONFIG`): run the config's default workloads (`[workload]
/// kernels`) on the machine and on its comparison machine (`[compare] with`), print the
/// side-by-side table and verdict, and write report.json, ops.csv, trace.json and plots to
/// `out_dir`.
pub fn main_job(config_spec: &str, out_dir: &std::path::Path, quiet: bool) -> Result<()> {
    compare_job(config_spec, None, &[], out_dir, quiet)
}

/// `archsim compare`: like [`main_job`], with the comparison machine (`vs`) and the workloads
/// overriding the config's `[compare] with` and `[workload] kernels` when given.
pub fn compare_job(
    config_spec: &str,
    vs: Option<&str>,
    workloads: &[String],
    out_dir: &std::path::Path,
    quiet: bool,
) -> Result<()> {
    let cfg = config::load(config_spec)?;
    let kernels = if workloads.is_empty() {
        cfg.default_workloads()
    } else {
        workloads.to_vec()
    };
    if kernels.is_empty() {
        return Err(Error::input(
            error::Location::file(cfg.source.clone()).key("workload.kernels"),
            "the config names no default workload; add [workload] kernels = [...] or give `archsim compare --workload`",
        ));
    }
    let Some(other) = vs.or(cfg.compare_with()) else {
        return Err(Error::input(
            error::Location::file(cfg.source.clone()).key("compare.with"),
            "the config names no comparison machine; add [compare] with = \"h100\" or give `archsim compare --vs`",
        ));
    };
    let other = config::load(other)?;
    run_comparison(&cfg, &other, &kernels, out_dir, quiet)
}

/// Compare two loaded configs on named workloads; print the table and write the outputs.
pub fn run_comparison(
    a: &LoadedConfig,
    b: &LoadedConfig,
    workloads: &[String],
    out_dir: &std::path::Path,
    quiet: bool,
) -> Result<()> {
    let ws = workloads
        .iter()
        .map(|k| workload::load(k, None))
        .collect::<Result<Vec<_>>>()?;
    let c = compare::compare(a, b, &ws, !quiet)?;
    print!("{}", compare::render_table(&c));
    let files = compare::write_outputs(&c, out_dir)?;
    if !quiet {
        for f in files {
            eprintln!("wrote {}", f.display());
        }
    }
    Ok(())
}
