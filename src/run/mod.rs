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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Total {
    /// Ops executed (repeats counted).
    pub ops: usize,
    /// Useful multiply-accumulates (1 MAC = 2 FLOPs).
    pub macs: u128,
    /// FLOPs: 2 per MAC plus vector FLOPs.
    pub flops: f64,
    /// Sum of the ops' cycles at the machine clock (compute + stall).
    pub cycles: u64,
    /// Cycles the matrix/vector units do useful work.
    pub compute_cycles: u64,
    /// Cycles lost to fill/drain, exposed memory, tails and overhead.
    pub stall_cycles: u64,
    /// Sum of the ops' device times (ops run one after another).
    pub time_s: f64,
    /// Achieved rate = flops / time_s / 1e12, in TFLOP/s (10^12 FLOP/s).
    pub tflops: f64,
    /// FLOP-weighted utilization = total flops / (time × peak each op's dtype runs at: its fp4
    /// fallback's on a machine without fp4 units).
    pub utilization: f64,
    /// Energy of the run.
    pub energy_pj: f64,
    /// energy_pj / macs, in pJ per MAC.
    pub pj_per_mac: f64,
    /// energy_pj / flops, in pJ per FLOP.
    pub pj_per_flop: f64,
    /// TFLOP/s per W = flops / energy (J) / 1e12.
    pub tflops_per_w: f64,
    /// Where the time went, summed over the ops.
    pub time_breakdown_s: TimeBreakdown,
    /// Largest non-compute share of the total time: fill_drain, memory, tail_quantization, overhead, clock_throttle or none (under 1 %).
    pub main_stall: String,
    /// Activity counters summed over the ops.
    pub counters: Counters,
    /// Energy by component summed over the ops.
    pub energy: EnergyBreakdown,
}

/// The result of running a list of ops on one machine: the JSON document of `docs/ARCHITECTURE.md` (contracts).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunReport {
    /// The machine the run simulated, with its peaks.
    pub machine: MachineReport,
    /// One entry per simulated op, in input order (a model's repeated layers once, with `repeat`).
    pub ops: Vec<OpProfile>,
    /// Totals over all ops (each counted `repeat` times).
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

/// The energy of a simulated op: [`energy::energy_at_clock`] at the clock it ran at
/// (`OpProfile::clock_fraction`; the nominal clock where no governor set one).
pub fn energy_of(table: &EnergyTable, p: &OpProfile) -> energy::EnergyBreakdown {
    energy::energy_at_clock(
        table,
        &p.counters,
        p.math_dtype,
        p.time_s,
        p.clock_fraction.unwrap_or(1.0),
    )
}

/// Fill `energy`, `energy_pj` and `pj_per_mac` of a profile from its counters, time and clock
/// ([`energy::energy_at_clock`]: counters × per-action energies, the core's switching energies
/// scaled to the clock the power governor chose, + baseline power × time).
pub fn apply_energy(table: &EnergyTable, p: &mut OpProfile) {
    let e = energy_of(table, p);
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
    let mut acc = TotalAcc::default();
    for p in profiles {
        acc.add(machine, p)?;
    }
    Ok(acc.finish())
}

/// A [`Total`] built one profile at a time, in order ([`total_of`] is this over a slice), so a
/// streamed run ([`stream`]) sums exactly as a collected one does.
#[derive(Debug, Clone, Default)]
pub struct TotalAcc {
    t: Total,
    /// Σ time × peak: the denominator of FLOP-weighted utilization.
    peak_time: f64,
}

impl TotalAcc {
    /// Add one profile, counted [`OpProfile::repeat`] times; an input error when a cycle sum
    /// passes 2^64.
    pub fn add(&mut self, machine: &dyn Machine, p: &OpProfile) -> Result<()> {
        let t = &mut self.t;
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
        self.peak_time += p.time_s * rf * machine.info().effective_peak_flops(p.dtype);
        Ok(())
    }

    /// The total: rates, utilization and per-MAC/per-FLOP energies from the sums.
    pub fn finish(self) -> Total {
        let (mut t, peak_time) = (self.t, self.peak_time);
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
}

/// FLOPs per dtype summed op by op, in order: [`main_dtype`] of a stream of ops without keeping
/// them.
#[derive(Debug, Clone, Default)]
pub struct DTypeFlops(Vec<(DType, f64)>);

impl DTypeFlops {
    /// Count one op's FLOPs under its dtype.
    pub fn add(&mut self, op: &Op) {
        let d = op.dtype();
        match self.0.iter_mut().find(|(x, _)| *x == d) {
            Some((_, f)) => *f += op.flops(),
            None => self.0.push((d, 0.0 + op.flops())),
        }
    }

    /// The dtype carrying the most FLOPs (ties: the first of [`DType::ALL`]; bf16 if none), as
    /// [`main_dtype`] picks it.
    pub fn main(&self) -> DType {
        let mut best = (DType::Bf16, -1.0);
        for d in DType::ALL {
            let f = self
                .0
                .iter()
                .find(|(x, _)| *x == d)
                .map_or(0.0, |(_, f)| *f);
            if f > best.1 {
                best = (d, f);
            }
        }
        best.0
    }
}

/// Ops simulated per parallel batch of a streamed run ([`stream`]): enough to keep every core
/// busy, few enough that a batch of profiles stays a few MB.
pub const STREAM_BATCH_OPS: usize = 4096;

/// A streamed run: ops are [`push`](Streamer::push)ed one at a time, simulated
/// [`STREAM_BATCH_OPS`] at a time in parallel (results in input order, so the output does not
/// depend on the thread count), each batch of profiles handed to `sink` in order and summed into
/// the total; nothing but one batch is kept, so memory stays bounded at any workload length.
/// The profiles and the total equal those of [`simulate_ops`] over the same ops.
pub struct Streamer<'a> {
    machine: &'a dyn Machine,
    batch: Vec<Op>,
    acc: TotalAcc,
    sink: &'a mut dyn FnMut(&[OpProfile]) -> Result<()>,
}

/// Start a streamed run on `machine` whose profiles go to `sink` ([`Streamer`]).
pub fn stream<'a>(
    machine: &'a dyn Machine,
    sink: &'a mut dyn FnMut(&[OpProfile]) -> Result<()>,
) -> Streamer<'a> {
    Streamer {
        machine,
        batch: Vec::with_capacity(STREAM_BATCH_OPS),
        acc: TotalAcc::default(),
        sink,
    }
}

impl Streamer<'_> {
    /// Queue one op; a full batch is simulated and handed on.
    pub fn push(&mut self, op: Op) -> Result<()> {
        self.batch.push(op);
        if self.batch.len() >= STREAM_BATCH_OPS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let machine = self.machine;
        let profiles: Vec<Result<OpProfile>> = self
            .batch
            .par_iter()
            .map(|op| simulate_op(machine, op))
            .collect();
        self.batch.clear();
        let profiles = profiles.into_iter().collect::<Result<Vec<_>>>()?;
        for p in &profiles {
            self.acc.add(machine, p)?;
        }
        (self.sink)(&profiles)
    }

    /// Simulate what is queued and return the total.
    pub fn finish(mut self) -> Result<Total> {
        self.flush()?;
        Ok(self.acc.finish())
    }
}
