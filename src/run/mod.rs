//! The engine: one op = the machine's model + energy + checks ([`simulate_op`]); many ops in
//! parallel with results in input order ([`simulate_ops`]); totals ([`total_of`]). Everything
//! that simulates (the `run` command, comparisons, sweeps, validation) goes through here.

pub mod model;

use crate::energy::{self, EnergyBreakdown, EnergyTable};
use crate::error::{Error, Location, Result};
use crate::machine::{Counters, Machine, MachineReport, OpProfile, TimeBreakdown};
use crate::workload::{DType, Op};
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
    /// FLOP-weighted utilization = total flops / (time × peak each op's dtype runs at: its fp4
    /// fallback's on a machine without fp4 units).
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

/// The result of running a list of ops on one machine: the JSON document of `docs/ARCHITECTURE.md` (contracts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub machine: MachineReport,
    pub ops: Vec<OpProfile>,
    pub total: Total,
    /// The whole-model view of a `--model` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<model::ModelReport>,
}

impl RunReport {
    /// A report of given profiles on a machine known only by name and kind, with empty totals
    /// (for exporters' tests).
    #[cfg(test)]
    pub(crate) fn of_profiles(
        name: &str,
        kind: crate::machine::MachineKind,
        ops: Vec<OpProfile>,
    ) -> RunReport {
        RunReport {
            machine: MachineReport::unknown(name, kind),
            ops,
            total: Total::default(),
            model: None,
        }
    }
}

/// Simulate one op: the size check, the machine's model, the overflow check, then energy from
/// the machine's table. Every path that simulates ops (runs, comparisons, sweeps, validation)
/// goes through here.
pub fn simulate_op(machine: &dyn Machine, op: &Op) -> Result<OpProfile> {
    if let Op::Gemm(g) = op {
        g.check_size()?;
    }
    let mut p = machine.simulate(op)?;
    if p.cycles == u64::MAX {
        return Err(Error::input(
            Location::file("<workload>").key(p.name.clone()),
            format!(
                "op `{}` would take more than 2^64 cycles on {}; split it or use a larger machine",
                p.name,
                machine.name()
            ),
        ));
    }
    p.hbm_bw_fraction = crate::machine::hbm_bw_fraction(&p, machine.hbm_bandwidth_bytes_per_s());
    apply_energy(machine.energy_table(), &mut p);
    Ok(p)
}

/// Fill `energy`, `energy_pj` and `pj_per_mac` of a profile from its counters and time
/// ([`energy::energy`]: counters × per-action energies + baseline power × time).
pub fn apply_energy(table: &EnergyTable, p: &mut OpProfile) {
    let e = energy::energy(table, &p.counters, p.math_dtype, p.time_s);
    p.energy_pj = e.total_pj;
    p.pj_per_mac = if p.macs > 0 {
        e.total_pj / p.macs as f64
    } else {
        0.0
    };
    p.energy = Some(e);
}

/// Simulate ops one after another on the calling thread (the unit of work of a sweep point,
/// where points, not ops, run in parallel), summed into a [`Total`].
pub fn simulate_sequential(machine: &dyn Machine, ops: &[Op]) -> Result<(Vec<OpProfile>, Total)> {
    let profiles = ops
        .iter()
        .map(|op| simulate_op(machine, op))
        .collect::<Result<Vec<_>>>()?;
    let total = total_of(machine, &profiles)?;
    Ok((profiles, total))
}

/// Simulate ops on a machine, in parallel (rayon) with results in input order, so the output is
/// identical whatever the thread count. Energy is applied from the machine's table.
pub fn simulate_ops(machine: &dyn Machine, ops: &[Op]) -> Result<RunReport> {
    let profiles: Vec<Result<OpProfile>> =
        ops.par_iter().map(|op| simulate_op(machine, op)).collect();
    let profiles = profiles.into_iter().collect::<Result<Vec<_>>>()?;
    let total = total_of(machine, &profiles)?;
    Ok(RunReport {
        machine: MachineReport {
            info: machine.info().clone(),
            main_dtype: main_dtype(ops),
        },
        ops: profiles,
        total,
        model: None,
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

/// Sum profiles into a [`Total`], each counted [`OpProfile::repeat`] times (`ops` counts
/// executions). Cycle sums are exact: a run whose ops add up to more than
/// 2^64 cycles is an input error (split the workload), never a wrapped count. MACs are u128
/// (each op is at most 2^96, [`crate::workload::MAX_MACS`]).
pub fn total_of(machine: &dyn Machine, profiles: &[OpProfile]) -> Result<Total> {
    let mut t = Total {
        ops: 0,
        ..Default::default()
    };
    let mut peak_time = 0.0; // Σ time × peak: denominator of FLOP-weighted utilization
    for p in profiles {
        let r = p.repeat.0;
        let too_long = || {
            Error::input(
                Location::file("<workload>").key(p.name.clone()),
                format!(
                    "the ops up to `{}` add up to more than 2^64 cycles on {}; split the workload",
                    p.name,
                    machine.name()
                ),
            )
        };
        let times = |c: u64| c.checked_mul(r).ok_or_else(too_long);
        let rf = r as f64;
        t.ops = t.ops.saturating_add(r as usize);
        t.macs = t.macs.saturating_add(p.macs.saturating_mul(r as u128));
        t.flops += p.flops * rf;
        t.cycles = t
            .cycles
            .checked_add(times(p.cycles)?)
            .ok_or_else(too_long)?;
        t.compute_cycles = t
            .compute_cycles
            .checked_add(times(p.compute_cycles)?)
            .ok_or_else(too_long)?;
        t.stall_cycles = t
            .stall_cycles
            .checked_add(times(p.stall_cycles)?)
            .ok_or_else(too_long)?;
        t.time_s += p.time_s * rf;
        t.energy_pj += p.energy_pj * rf;
        t.time_breakdown_s.add(&p.time_breakdown_s.times(r));
        t.counters.add(&p.counters.times(r));
        if let Some(e) = &p.energy {
            t.energy.add(&e.times(r));
        }
        peak_time += p.time_s * rf * machine.info().effective_peak_flops(p.dtype);
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
    Ok(t)
}
