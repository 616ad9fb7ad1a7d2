//! SIMT GPU model: plans each GEMM like cuBLAS/CUTLASS ([`plan`]), simulates the warps of one SM
//! for enough main-loop iterations to reach steady state ([`sim`]), and extrapolates to the
//! whole K loop, every wave and the tail wave. Vector (elementwise/reduction) ops run as
//! memory-bound CUDA-core kernels.
//!
//! Time of a GEMM kernel (seconds):
//! `launch_overhead + kernel_fixed + Σ_waves wave_cycles / (f_clk · kernel_efficiency)
//! (+ split-K fix-up)`, where `f_clk` is the clock the SMs hold under the power limit for this
//! op ([`crate::energy::power_limited_clock_hz`]: the op's dynamic power from the energy table at
//! `tensor_mhz` against `power.tdp_w`, P_dyn ∝ f³, floored at `clock.min_mhz`),
//! `kernel_efficiency` the fitted remainder (config `[kernel]`), and each
//! wave's cycles come from the warp simulation (prologue fill + k_iters × steady period +
//! epilogue). The memory system enters the simulation as the SM's share of the L2 and HBM
//! bandwidth and the L2/HBM latencies; how many bytes come from HBM follows from tile reuse among
//! the CTAs resident at the same time (rasterized wave footprint) and from operands that fit in
//! L2 (see [`Traffic`]).
//!
//! AMD CDNA (`arch = "cdna3"`/`"cdna4"`) runs through the same model with its own vocabulary:
//! a CU is an SM (`sm.count`), its 4 SIMDs are the sub-partitions, a wavefront of
//! `sm.warp_size` = 64 threads is a warp, the LDS is shared memory, the matrix cores' MFMA rate
//! per CU per clock is `tensor_core.*_fma_per_clk_per_sm`, and the kernel family is MFMA
//! ([`plan::MmaKind::Mfma`]). The memory levels are named `hbm`, `infinity_cache`, `l2` and
//! `lds`; the Infinity Cache (`memory.infinity_cache_bytes`) is the chip-wide last-level cache
//! whose capacity decides how much operand reuse reaches HBM, and it serves the L2 misses at its
//! own bandwidth (see [`GpuMachine::traffic`]).
//!
//! fp4 (NVFP4, MXFP4): operands move at their storage size including block scales
//! ([`plan::operand_bytes`]). On fp4 tensor cores (`tensor_core.fp4_fma_per_clk_per_sm` > 0,
//! Blackwell) the kernel has the fp4 geometry (BK = 256, MMA k = 64). Without them the GEMM
//! runs at the fallback precision ([`MachineInfo::math_dtype`]: fp8 on Hopper, bf16 on Ampere)
//! with that precision's tiles, rate and clock, while stages stay in fp4 (mixed-input kernels
//! upcast between shared memory and the MMA; the conversion instructions are not simulated).

pub mod config;
mod cost;
pub mod plan;
pub mod sim;

use cost::{rasterized_footprint, smem_read_and_reg_bytes, CycleSums, PlanSim};

use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::attention::{self, AttentionFacts};
use crate::machine::{finish_profile, profile_for, Counters, Machine, MachineKind, OpProfile};
use crate::machine::{MachineInfo, MemoryLevel, VectorRoofline};
use crate::workload::{AttentionOp, DType, Gemm, Op, VectorOp};
use config::{Arch, Fp32Math, SimtConfig};
use plan::{KernelPlan, MmaKind};

/// The clock range of one power-governed GEMM: its unit's nominal clock (Hz), the kernel
/// efficiency it runs at (the kernel runs as the simulated one at clock × `eff`) and the DVFS
/// floor (Hz).
#[derive(Clone, Copy)]
struct ClockSpan {
    f_nom: f64,
    eff: f64,
    floor: f64,
}

/// How the plan search ranks plans of a power-limited GEMM searched at SM clock `f` (effective
/// clock `f · eff`): by the time each would take at the clock its own power allows, since a
/// plan that moves fewer bytes through L2 and shared memory spends less energy per op and
/// holds a higher clock under the same limit.
#[derive(Clone, Copy)]
struct PowerRank {
    f: f64,
    f_nom: f64,
    floor: f64,
    eff: f64,
    math: DType,
    limit_w: f64,
}

impl PowerRank {
    /// A plan's `cycles` at the effective clock over the clock ratio its power allows
    /// ([`Self::clock_ratio`]): its time at that clock, in cycles of `f · eff`. Only a
    /// ranking: the governor settles the chosen plan's clock exactly.
    fn score(&self, m: &GpuMachine, g: &Gemm, cycles: f64, t: &Traffic) -> f64 {
        cycles / self.clock_ratio(m, g, cycles, t)
    }

    /// [`Self::score`] of a costed plan, whose exposed memory cycles are known: at the clock
    /// ratio x its power allows, the compute, fill and tail cycles scale by 1 / x while the
    /// exposed memory time stays (HBM/L2 time does not follow the SM clock), so the time is
    /// `(cycles − memory_cycles) / x + memory_cycles`, in cycles of `f · eff`. Without this a
    /// memory-stalled plan, which draws less power because it is slow, looked as fast as a
    /// compute-bound one at the higher clock its power allows (a b200 fp4 GEMM chose a plan
    /// 9 % slower with twice the HBM bandwidth).
    fn score_costed(&self, m: &GpuMachine, g: &Gemm, c: &CostedPlan) -> f64 {
        let x = self.clock_ratio(m, g, c.cycles, &c.traffic);
        scaled_cycles(c, x)
    }

    /// The ratio of the clock a plan's power allows to `f`: the kernel's power at `f` (its
    /// counters over its time, `cycles` at the effective clock, [`crate::energy::energy_at_clock`])
    /// split into the baseline plus the memory power (HBM, NoC, links; held at its rate at `f`)
    /// and the core power, and the clock of the cube law
    /// ([`crate::energy::power_limited_clock_hz`], compute-bound time ∝ 1 / clock) within the
    /// DVFS range.
    fn clock_ratio(&self, m: &GpuMachine, g: &Gemm, cycles: f64, t: &Traffic) -> f64 {
        let time_s = cycles / (self.f * self.eff);
        if time_s <= 0.0 {
            return self.f_nom / self.f;
        }
        let table = &m.cfg.energy;
        let e = crate::energy::energy_at_clock(
            table,
            &gemm_counters(g, t),
            self.math,
            time_s,
            self.f / self.f_nom,
        );
        let w = |pj: f64| pj * 1e-12 / time_s;
        // The core power at `f`, taken to the nominal clock by the same cube law.
        let up = self.f_nom / self.f;
        let hz = crate::energy::power_limited_clock_hz(
            self.f_nom,
            self.floor,
            table.baseline_w() + w(e.memory_pj()),
            w(e.core_pj()) * up * up * up,
            Some(self.limit_w),
        );
        hz / self.f
    }
}

/// Cycles (of the clock `c` was costed at) of costed plan `c` run at `x` times that clock:
/// compute, fill/drain and tail scale by 1 / x, the exposed memory cycles (HBM/L2 time, which
/// does not follow the SM clock) stay.
fn scaled_cycles(c: &CostedPlan, x: f64) -> f64 {
    let memory = c.memory_cycles.min(c.cycles);
    (c.cycles - memory) / x + memory
}

/// The GEMM power governor ([`GpuMachine::governed_gemm_clock`]) stops when its bracket is
/// narrower than this fraction of the nominal clock (the feasible end is kept, so the op's power
/// never exceeds the TDP and falls short of it by a few parts in 10^6).
const GOVERNOR_CLOCK_TOLERANCE: f64 = 1e-6;
/// The governor's first bracketing step away from its starting clock, as a fraction of the
/// nominal clock.
const GOVERNOR_FIRST_STEP: f64 = 0.005;
/// Most re-costings of the governor's root search (it converges long before).
const GOVERNOR_MAX_STEPS: usize = 40;
/// Kernel families the GEMM plan search simulates after ranking every candidate by its
/// analytic estimate ([`GpuMachine::plan_gemm`]).
const PLANS_SIMULATED: usize = 4;

use sim::{SmParams, SmResult, SmWork};

/// Indices into `cands` of the best-estimated plan of each of the first `n` kernel families in
/// `ranked` (`(estimate, index)` pairs, best first). A family is a plan but for its
/// shared-memory stage count: stage variants share their estimate to within a few per cent
/// (it models the main loop, not the pipeline depth), so ranking plans alone lets the variants
/// of one tile fill the simulated set and a faster tile is never simulated (an A100
/// 1×1217×33 ×15 GEMM chose a 64×256 tile at 5.37 µs over a 64×64 one at 5.11 µs).
fn distinct_families(cands: &[KernelPlan], ranked: &[(f64, usize)], n: usize) -> Vec<usize> {
    type Family = ([u32; 3], [u32; 2], u32, u32, u32, [u32; 2], bool);
    let family = |p: &KernelPlan| -> Family {
        (
            p.cta_tile,
            p.warp_tile,
            p.mma_warps,
            p.helper_warps,
            p.split_k,
            p.cluster,
            p.stream_k,
        )
    };
    let mut seen: Vec<Family> = Vec::with_capacity(n);
    let mut picked = Vec::with_capacity(n);
    for &(_, i) in ranked {
        if picked.len() == n {
            break;
        }
        let f = family(&cands[i]);
        if !seen.contains(&f) {
            seen.push(f);
            picked.push(i);
        }
    }
    picked
}

/// A GPU built from a [`SimtConfig`].
pub struct GpuMachine {
    info: MachineInfo,
    cfg: SimtConfig,
    name: String,
}

/// Bytes moved by a GEMM plan at each level (whole launch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// L2 → SM bytes of the main loop (after TMA multicast inside clusters).
    pub l2_to_sm_bytes: f64,
    /// Shared-memory bytes written (stage fills) and read (fragments / MMA operands).
    pub smem_write_bytes: f64,
    pub smem_read_bytes: f64,
    pub hbm_read_bytes: f64,
    pub hbm_write_bytes: f64,
    /// L2 writes: C plus split-K partials.
    pub l2_write_bytes: f64,
    /// Fraction of L2 → SM bytes that miss to HBM.
    pub hbm_fraction: f64,
    /// Fraction of L2 → SM bytes that miss the L2 and are served by the Infinity Cache (0 on
    /// chips without one).
    pub l2_miss_fraction: f64,
    /// Register-file bytes (MMA fragments and accumulator read/write).
    pub reg_bytes: f64,
}

/// Result of costing one plan.
#[derive(Debug, Clone)]
struct CostedPlan {
    plan: KernelPlan,
    traffic: Traffic,
    /// Kernel cycles at the effective clock (power-limited clock × kernel efficiency), without
    /// the fixed per-kernel cost.
    cycles: f64,
    compute_cycles: f64,
    memory_cycles: f64,
    fill_drain_cycles: f64,
    tail_cycles: f64,
    sim: SmResult,
    sim_iters: usize,
}

impl GpuMachine {
    pub fn new(cfg: SimtConfig, name: &str) -> Self {
        let mut m = GpuMachine {
            cfg,
            name: name.to_string(),
            info: MachineInfo::new(name, MachineKind::Simt),
        };
        m.info = m.build_info();
        m
    }

    /// Dense peak at the vendor's quoted clock: tensor cores (`tensor_mhz`), or for fp32 on CUDA
    /// cores the FP32 peak at `boost_mhz`. 0 for a dtype the architecture cannot run.
    fn dense_peak_flops(&self, dtype: DType) -> f64 {
        let sms = self.cfg.sm.count as f64;
        if self.uses_tensor_cores(dtype) {
            self.cfg.tensor_fma_per_clk_per_sm(dtype) as f64
                * sms
                * 2.0
                * self.cfg.clock.tensor_mhz
                * 1e6
        } else {
            self.cfg.sm.fp32_lanes as f64 * sms * 2.0 * self.cfg.clock.boost_mhz * 1e6
        }
    }

    pub fn config(&self) -> &SimtConfig {
        &self.cfg
    }

    /// A copy with a changed config (used by calibration: kernel efficiencies, fixed costs).
    pub fn with_config(&self, change: impl FnOnce(&mut SimtConfig)) -> GpuMachine {
        let mut cfg = self.cfg.clone();
        change(&mut cfg);
        GpuMachine::new(cfg, &self.name)
    }

    /// A copy running fp32 GEMMs with the given math (CUDA cores or TF32 tensor cores).
    pub fn with_fp32_math(&self, math: Fp32Math) -> GpuMachine {
        let mut cfg = self.cfg.clone();
        cfg.tensor_core.fp32_math = math;
        GpuMachine::new(cfg, &self.name)
    }

    /// The facts of the GPU: memory levels HBM, L2 and shared memory (per SM × SMs); the CUDA-core FP32 peak at the
    /// boost clock as the vector peak.
    fn build_info(&self) -> MachineInfo {
        let c = &self.cfg;
        let mut info = MachineInfo::new(&self.name, MachineKind::Simt);
        // Cycles count at the nominal tensor clock (the one the peak is quoted at).
        info.clock_hz = self.cfg.clock.tensor_mhz * 1e6;
        info.peak_flops = MachineInfo::peaks(|d| self.dense_peak_flops(d));
        info.vector_peak_flops =
            c.sm.count as f64 * c.sm.fp32_lanes as f64 * 2.0 * c.clock.boost_mhz * 1e6;
        let mut memory = vec![MemoryLevel::new(
            "hbm",
            Some(c.memory.hbm_bytes),
            Some(c.memory.hbm_bandwidth_gbps * 1e9),
        )];
        if c.memory.infinity_cache_bytes > 0 {
            memory.push(MemoryLevel::new(
                "infinity_cache",
                Some(c.memory.infinity_cache_bytes),
                Some(c.memory.infinity_cache_bandwidth_gbps * 1e9),
            ));
        }
        memory.push(MemoryLevel::new(
            "l2",
            Some(c.memory.l2_bytes),
            Some(c.memory.l2_bandwidth_gbps * 1e9),
        ));
        memory.push(MemoryLevel::new(
            if c.arch.is_cdna() { "lds" } else { "smem" },
            Some((c.sm.smem_bytes as u64).saturating_mul(c.sm.count as u64)),
            None,
        ));
        info.memory = memory;
        info.tdp_w = Some(c.power.tdp_w);
        info.validation = c.validation.clone();
        info.usd_per_chip_hour = c.cost.as_ref().map(|c| c.usd_per_chip_hour);
        let ic = c.memory.infinity_cache_bytes > 0;
        info.details = crate::machine::details_of(&SimtParams {
            model: c.name.clone(),
            arch: c.arch.as_str().to_string(),
            sms: c.sm.count,
            sub_partitions_per_sm: c.sm.sub_partitions,
            tensor_mhz: c.clock.tensor_mhz,
            boost_mhz: c.clock.boost_mhz,
            kernel_efficiency: c.kernel.kernel_efficiency,
            peak_bf16_tflops: self.dense_peak_flops(DType::Bf16) / 1e12,
            peak_fp8_tflops: self.dense_peak_flops(DType::Fp8) / 1e12,
            peak_fp32_tflops: self.dense_peak_flops(DType::Fp32) / 1e12,
            fp32_math: c.tensor_core.fp32_math.as_str().to_string(),
            l2_bytes: c.memory.l2_bytes,
            l2_bandwidth_gbps: c.memory.l2_bandwidth_gbps,
            smem_bytes_per_sm: c.sm.smem_bytes,
            // Keys only chips that have them report (the NVIDIA configs' objects unchanged).
            description: (!c.description.is_empty()).then(|| c.description.clone()),
            warp_size: (c.sm.warp_size != 32).then_some(c.sm.warp_size),
            infinity_cache_bytes: ic.then_some(c.memory.infinity_cache_bytes),
            infinity_cache_bandwidth_gbps: ic.then_some(c.memory.infinity_cache_bandwidth_gbps),
        });
        info
    }

    /// The nominal clock of the unit a GEMM of `math` runs on, Hz: `tensor_mhz` for tensor
    /// cores (the clock the tensor peak is quoted at), `boost_mhz` for SGEMM on CUDA cores.
    fn nominal_gemm_hz(&self, math: DType) -> f64 {
        if self.uses_tensor_cores(math) {
            self.cfg.clock.tensor_mhz * 1e6
        } else {
            self.cfg.clock.boost_mhz * 1e6
        }
    }

    /// Kernel efficiency of GEMMs whose math runs at `math` (`[kernel]`): `kernel_efficiency_8bit`
    /// for fp8 and fp4 MMAs (fp4 has no calibration rows of its own: an assumption),
    /// `kernel_efficiency_int8` for int8 (default: the 8-bit one), `kernel_efficiency_fp32` for
    /// SGEMM on the CUDA cores, else `kernel_efficiency` (16-bit and TF32 tensor cores).
    pub fn kernel_efficiency(&self, math: DType) -> f64 {
        let k = &self.cfg.kernel;
        let base = k.kernel_efficiency;
        match math {
            DType::Fp8 | DType::Fp4 | DType::Mxfp4 => k.kernel_efficiency_8bit.unwrap_or(base),
            DType::Int8 => k
                .kernel_efficiency_int8
                .or(k.kernel_efficiency_8bit)
                .unwrap_or(base),
            DType::Fp32 if !self.uses_tensor_cores(math) => {
                k.kernel_efficiency_fp32.unwrap_or(base)
            }
            _ => base,
        }
    }

    /// The clock (Hz) the SMs hold for a kernel with these counters that runs `kernel_s` at
    /// the nominal clock `nominal_hz`, of which `scaled_s` (compute, fill, tail) stretches as
    /// the clock falls while the exposed memory time does not: `T(f) = max(scaled_s · f_nom /
    /// f, kernel_s)`. The governor of [`crate::energy::power_governed_clock_hz`] with the energy
    /// table's per-op energies ([`crate::energy::power_split_w`] over one second) against
    /// `power.tdp_w`.
    fn power_clock_hz(
        &self,
        c: &Counters,
        math: DType,
        nominal_hz: f64,
        kernel_s: f64,
        scaled_s: f64,
    ) -> f64 {
        let table = &self.cfg.energy;
        let (fixed_w, core_w) = crate::energy::power_split_w(table, c, math, 1.0);
        let baseline = table.baseline_w();
        let time_at = |f: f64| (scaled_s * nominal_hz / f).max(kernel_s);
        crate::energy::power_governed_clock_hz(
            nominal_hz,
            self.cfg.clock.min_mhz * 1e6,
            baseline,
            (fixed_w - baseline).max(0.0),
            core_w,
            &time_at,
            Some(self.cfg.power.tdp_w),
        )
    }

    /// Time (s) of a costed GEMM plan run at clock `clk` with kernel efficiency `eff`, as
    /// [`Self::simulate_gemm`] reports it: the plan's cycles (costed at the effective clock
    /// `clk · eff`) at the effective clock, plus the fixed per-kernel and launch overheads.
    fn plan_time_s(&self, c: &CostedPlan, clk: f64, eff: f64) -> f64 {
        let at_clk = c.compute_cycles + c.memory_cycles + c.fill_drain_cycles + c.tail_cycles;
        let k = &self.cfg.kernel;
        at_clk / clk
            + (at_clk / (clk * eff) - at_clk / clk).max(0.0)
            + (k.kernel_fixed_us + k.launch_overhead_us) * 1e-6
    }

    /// The clock (Hz) the power governor holds for a GEMM whose kernel runs at efficiency `eff`,
    /// and the plan costed at its effective clock (clock × `eff`).
    ///
    /// The kernel efficiency is modelled as an effective clock: a kernel at SM clock `f` runs
    /// as the simulated kernel at `f · eff` (its memory per cycle included), while the core's
    /// switching energy per op follows the real clock `f` (V ∝ f). The op's average power at
    /// clock `f` is evaluated exactly on the simulated kernel: a plan costed at `f · eff` gives
    /// the counters and the time ([`Self::plan_time_s`], overheads included), and the power is
    /// the reported energy ([`crate::energy::energy_at_clock`]: core switching energy ∝
    /// (f / f_nom)², HBM and baseline not) over that time — the law of
    /// [`crate::energy::power_governed_clock_hz`] evaluated on the op's own time. A less
    /// efficient kernel spreads the same energy over a longer time, so it draws less power and
    /// may hold a higher clock (NVML reports higher SM clocks for slower kernels at the same
    /// power cap; tests/data/gpu_power_h100.csv: 1,980 MHz on memory-bound kernels). Plans are
    /// searched and compared at the effective clock, where they run.
    ///
    /// The clock is the nominal one when the plan searched there fits `power.tdp_w`; else the
    /// highest clock that fits for the plan searched at the analytic estimate of
    /// [`Self::power_clock_hz`] ([`Self::governed_clock_for_plan`]), down to the DVFS floor
    /// (`clock.min_mhz`, else [`crate::energy::DEFAULT_MIN_CLOCK_FRACTION`] of nominal). The
    /// feasible end is kept, so an op whose clock the governor lowered reports an average
    /// power at or under the TDP.
    fn governed_gemm_clock(
        &self,
        g: &Gemm,
        math: DType,
        f_nom: f64,
        eff: f64,
    ) -> Result<(f64, CostedPlan)> {
        let limit = self.cfg.power.tdp_w;
        // `c` costed at the effective clock f · eff.
        let power = |c: &CostedPlan, f: f64| {
            let t = self.plan_time_s(c, f, eff);
            let counters = gemm_counters(g, &c.traffic);
            let e = crate::energy::energy_at_clock(&self.cfg.energy, &counters, math, t, f / f_nom);
            e.total_pj * 1e-12 / t
        };
        let (c0, simulated) = self.plan_gemm(g, f_nom * eff, None)?;
        if power(&c0, f_nom) <= limit {
            return Ok((f_nom, c0));
        }
        let eff_nom = f_nom * eff;
        let guess = self.power_clock_hz(
            &gemm_counters(g, &c0.traffic),
            math,
            f_nom,
            c0.cycles / eff_nom,
            (c0.cycles - c0.memory_cycles) / eff_nom,
        );
        let min_hz = self.cfg.clock.min_mhz * 1e6;
        let floor = if min_hz > 0.0 {
            min_hz.min(f_nom)
        } else {
            crate::energy::DEFAULT_MIN_CLOCK_FRACTION * f_nom
        };
        // The root search re-costs one plan at each trial clock (its memory per cycle changes
        // with the clock); a plan search per trial would cost ~20 searches per power-limited
        // GEMM. The plan is the one the search prefers at the analytic estimate of the clock,
        // close to the clock found (a lower clock can prefer another plan: less compute per
        // byte of memory).
        let guess = guess.clamp(floor, f_nom);
        let rank = PowerRank {
            f: guess,
            f_nom,
            floor,
            eff,
            math,
            limit_w: limit,
        };
        let (at_guess, shortlist) = self.plan_gemm(g, guess * eff, Some(&rank))?;
        // A plan costed at the nominal clock, from the nominal search when it simulated it.
        let at_nominal = |p: &KernelPlan| {
            simulated
                .iter()
                .find(|c| c.plan == *p)
                .cloned()
                .unwrap_or_else(|| self.cost_plan(g, p, eff_nom))
        };
        let span = ClockSpan { f_nom, eff, floor };
        let (f1, c1) =
            self.governed_clock_for_plan(g, &at_nominal(&at_guess.plan), span, guess, &power)?;
        // At the clock found, another plan of the shortlist can be faster at the clock it is
        // allowed: fewer cycles at f1, or less energy per op (a higher clock under the same
        // power). Each is costed at f1 and its own governed clock estimated by the law the
        // search ranks with ([`PowerRank::clock_ratio`] at f1), relative to c1's estimate,
        // whose exact clock f1 is known; its compute, fill and tail cycles scale as 1 / clock
        // and its exposed memory time stays ([`scaled_cycles`]). The
        // plan with the lowest estimated time, if below c1's, gets its own root search, and
        // the faster of the two at its own clock runs.
        let at_f1 = PowerRank { f: f1, ..rank };
        let t1 = self.plan_time_s(&c1, f1, eff);
        let x_c1 = at_f1.clock_ratio(self, g, c1.cycles, &c1.traffic);
        let mut rival: Option<(&KernelPlan, f64)> = None;
        for p in shortlist.iter().map(|c| &c.plan).filter(|p| **p != c1.plan) {
            let c = self.cost_plan(g, p, f1 * eff);
            let x = at_f1.clock_ratio(self, g, c.cycles, &c.traffic);
            let f_est = (f1 * x / x_c1).clamp(floor, f_nom);
            let t_est = self.plan_time_s(&c, f1, eff)
                + (scaled_cycles(&c, f_est / f1) - c.cycles) / (f1 * eff);
            if t_est < rival.map_or(t1, |r| r.1) {
                rival = Some((p, t_est));
            }
        }
        let Some((rival, _)) = rival else {
            return Ok((f1, c1));
        };
        let (f2, c2) = self.governed_clock_for_plan(g, &at_nominal(rival), span, f1, &power)?;
        Ok(if self.plan_time_s(&c2, f2, eff) < t1 {
            (f2, c2)
        } else {
            (f1, c1)
        })
    }

    /// The highest clock in `span.floor..=span.f_nom` at which a plan of GEMM `g` (`at_nom`:
    /// costed at the nominal clock × `span.eff`) draws at most the TDP (`power(costed plan, f)`
    /// in W), and the plan costed at that clock × `span.eff`; the floor when even the floor
    /// does not fit. Illinois regula falsi (Dowell & Jarratt 1971, BIT 11:168) from `start`:
    /// the secant through the bracket's ends, halving the weight of an end kept twice in a
    /// row, superlinear where bisection halves; stops within [`GOVERNOR_CLOCK_TOLERANCE`] of
    /// nominal, keeping the feasible end.
    fn governed_clock_for_plan(
        &self,
        g: &Gemm,
        at_nom: &CostedPlan,
        span: ClockSpan,
        start: f64,
        power: &dyn Fn(&CostedPlan, f64) -> f64,
    ) -> Result<(f64, CostedPlan)> {
        let ClockSpan { f_nom, eff, floor } = span;
        let limit = self.cfg.power.tdp_w;
        // The op's power over the limit (W) at clock f: ≤ 0 fits.
        let plan = &at_nom.plan;
        let excess = |f: f64| -> (f64, CostedPlan) {
            let c = self.cost_plan(g, plan, f * eff);
            (power(&c, f) - limit, c)
        };
        let e_nom = power(at_nom, f_nom) - limit;
        if e_nom <= 0.0 {
            return Ok((f_nom, at_nom.clone()));
        }
        let (mut hi, mut e_hi) = (f_nom, e_nom);
        let start = start.clamp(floor, f_nom);
        let (e, c) = excess(start);
        let (mut lo, mut e_lo, mut best);
        // A tight bracket around the start (the analytic estimate, or the clock of the previous
        // plan, is usually within a fraction of a percent): steps of 0.5 % growing ×4 away from
        // it until the sign changes, bounded by the nominal clock (known not to fit) and the
        // floor.
        let mut step = GOVERNOR_FIRST_STEP * f_nom;
        if e <= 0.0 {
            (lo, e_lo, best) = (start, e, c);
            while lo + step < hi {
                let f = lo + step;
                let (e, c) = excess(f);
                if e > 0.0 {
                    (hi, e_hi) = (f, e);
                    break;
                }
                (lo, e_lo, best) = (f, e, c);
                step *= 4.0;
            }
        } else {
            (hi, e_hi) = (start, e);
            loop {
                let f = (hi - step).max(floor);
                let (e, c) = excess(f);
                if e <= 0.0 {
                    (lo, e_lo, best) = (f, e, c);
                    break;
                }
                if f <= floor {
                    return Ok((floor, c));
                }
                (hi, e_hi) = (f, e);
                step *= 4.0;
            }
        }
        let mut kept = 0i8;
        for _ in 0..GOVERNOR_MAX_STEPS {
            if hi - lo <= GOVERNOR_CLOCK_TOLERANCE * f_nom {
                break;
            }
            let mut f = hi - e_hi * (hi - lo) / (e_hi - e_lo);
            if !(f > lo && f < hi) {
                f = 0.5 * (lo + hi);
            }
            let (e, c) = excess(f);
            if e <= 0.0 {
                (lo, e_lo, best) = (f, e, c);
                if kept == 1 {
                    e_hi *= 0.5;
                }
                kept = 1;
            } else {
                (hi, e_hi) = (f, e);
                if kept == -1 {
                    e_lo *= 0.5;
                }
                kept = -1;
            }
        }
        Ok((lo, best))
    }

    /// Clock (Hz) of a GEMM of `g` with math `math` under the power limit (reported in the
    /// plan as `gemm_clock_mhz`; used by validation reports).
    pub fn gemm_clock_hz(&self, g: &Gemm) -> Result<f64> {
        let math = self.math_dtype(g.dtype);
        let f_nom = self.nominal_gemm_hz(math);
        let eff = self.kernel_efficiency(math);
        Ok(self.governed_gemm_clock(g, math, f_nom, eff)?.0)
    }

    /// True when this dtype's GEMMs use tensor cores (false: fp32 on CUDA cores).
    fn uses_tensor_cores(&self, dtype: DType) -> bool {
        !(dtype == DType::Fp32 && self.cfg.tensor_core.fp32_math == Fp32Math::CudaCore)
    }

    /// The precision a GEMM of `dtype` runs its MMAs at ([`MachineInfo::math_dtype`]: fp4 on a
    /// GPU without fp4 tensor cores falls back to fp8 where there are fp8 tensor cores, else
    /// bf16).
    fn math_dtype(&self, dtype: DType) -> DType {
        self.info.math_dtype(dtype)
    }

    /// The plan's `math`: the unit the MMAs run on, and for an fp4 fallback the upcast.
    fn math_name(&self, dtype: DType) -> String {
        let math = self.math_dtype(dtype);
        let unit = match math {
            DType::Fp32 => self.cfg.tensor_core.fp32_math.as_str(),
            DType::Bf16 => "bf16 tensor core",
            DType::Fp16 => "fp16 tensor core",
            DType::Fp8 => "fp8 tensor core",
            DType::Int8 => "int8 tensor core",
            DType::Fp4 => "fp4 tensor core (NVFP4 block-scaled)",
            DType::Mxfp4 => "fp4 tensor core (MXFP4 block-scaled)",
        };
        let unit = if self.cfg.arch.is_cdna() && math != DType::Fp32 {
            unit.replace("tensor core", "matrix core (MFMA)")
        } else {
            unit.to_string()
        };
        if math == dtype {
            unit
        } else {
            format!("{unit} ({} operands upcast in the kernel)", dtype.as_str())
        }
    }

    /// FMA per clock per sub-partition of the pipe that runs this dtype's GEMM.
    fn fma_per_clk_per_sp(&self, dtype: DType) -> f64 {
        let sp = self.cfg.sm.sub_partitions as f64;
        if self.uses_tensor_cores(dtype) {
            self.cfg.tensor_fma_per_clk_per_sm(dtype) as f64 / sp
        } else {
            self.cfg.sm.fp32_lanes as f64 / sp
        }
    }

    fn unsupported(&self, dtype: DType) -> Error {
        Error::input(
            Location::file(format!("<machine {}>", self.name)).key("dtype"),
            format!(
                "dtype {dtype} has no tensor-core path on {} ({}: tensor_core.{}_fma_per_clk_per_sm = 0); use one of: {}",
                self.cfg.name,
                self.cfg.arch.as_str(),
                if dtype == DType::Fp32 { "tf32" } else { dtype.as_str() },
                DType::ALL
                    .iter()
                    .filter(|d| !self.uses_tensor_cores(**d)
                        || self.cfg.tensor_fma_per_clk_per_sm(**d) > 0)
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }

    /// Bytes at each level for a plan; see the module doc.
    ///
    /// HBM reads: the CTAs resident at one time cover a rasterized r×c block of output tiles
    /// (CUTLASS/cuBLAS swizzled rasterization keeps it near square); that block reads
    /// `(r·BM + c·BN)·K` operand elements from HBM once and shares them through L2. If a whole
    /// operand fits in half the L2 it is read from HBM once for the whole launch. Never less
    /// than each operand once.
    ///
    /// With an Infinity Cache (AMD) the cache that decides the HBM bytes is the Infinity Cache
    /// (its capacity replaces the L2's in the rules above); the bytes that miss the L2 — the
    /// same rules with the L2's capacity — are served by the Infinity Cache
    /// ([`Traffic::l2_miss_fraction`]). The per-XCD L2s are modelled as one L2 of their total
    /// capacity, and Infinity Cache accesses are not charged energy of their own.
    pub fn traffic(&self, g: &Gemm, p: &KernelPlan) -> Traffic {
        let elem_bytes = plan::operand_bytes(g.dtype);
        let out_elem_bytes = plan::output_bytes(g.dtype) as f64;
        let [bm, bn, bk] = p.cta_tile;
        let (bm, bn, bk) = (bm as f64, bn as f64, bk as f64);
        let (m, n, k, batch) = (g.m as f64, g.n as f64, g.k as f64, g.batch.max(1) as f64);
        let ctas = p.ctas as f64;
        // Per-CTA loads per k-iteration after cluster multicast: A is shared by the CTAs of a
        // cluster along N, B by those along M.
        let stage = (bm * bk / p.cluster[1] as f64 + bn * bk / p.cluster[0] as f64) * elem_bytes;
        let l2_to_sm = ctas * p.k_iters as f64 * stage;
        let a_bytes = m * k * elem_bytes;
        let b_bytes = k * n * elem_bytes;
        let mem = &self.cfg.memory;
        let has_ic = mem.infinity_cache_bytes > 0;
        // The last-level cache: the Infinity Cache where there is one, else the L2.
        let l2 = if has_ic {
            mem.infinity_cache_bytes.max(mem.l2_bytes) as f64
        } else {
            mem.l2_bytes as f64
        };
        let slots = self.cfg.sm.count as f64 * p.ctas_per_sm as f64;
        let tiles_per_batch = (p.tiles_m * p.tiles_n) as f64;
        let conc_tiles = (slots.min(ctas) / p.split_k as f64).max(1.0);
        // Bytes read past a cache of `cap` bytes, the whole launch.
        let misses = |cap: f64| -> f64 {
            let per_batch = if conc_tiles >= tiles_per_batch {
                a_bytes + b_bytes
            } else {
                let best = rasterized_footprint(p, conc_tiles, bm, bn);
                let waves = tiles_per_batch / conc_tiles;
                let wave_model = waves * best * k * elem_bytes;
                let resident = if b_bytes <= 0.5 * cap || a_bytes <= 0.5 * cap {
                    a_bytes + b_bytes
                } else {
                    f64::INFINITY
                };
                wave_model.min(resident).max(a_bytes + b_bytes)
            };
            let mut read = per_batch * batch;
            if g.shared_b && batch > 1.0 && b_bytes <= 0.5 * cap {
                read -= b_bytes * (batch - 1.0);
            }
            read
        };
        let hbm_read = misses(l2);
        let l2_miss_fraction = if has_ic {
            (misses(mem.l2_bytes as f64) / l2_to_sm.max(1.0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let c_bytes = m * n * out_elem_bytes * batch;
        let partial = if p.split_k > 1 {
            // fp32 partials written by every split and read back by the fix-up.
            m * n * 4.0 * batch * p.split_k as f64
        } else {
            0.0
        };
        let (hbm_partial_w, hbm_partial_r) = if partial > 0.5 * l2 {
            (partial, partial)
        } else {
            (0.0, 0.0)
        };
        let frag_bytes = self.math_dtype(g.dtype).bytes_per_element();
        let (smem_read, reg) = smem_read_and_reg_bytes(p, elem_bytes, frag_bytes);
        Traffic {
            l2_to_sm_bytes: l2_to_sm,
            smem_write_bytes: ctas * p.k_iters as f64 * (bm + bn) * bk * elem_bytes,
            smem_read_bytes: smem_read,
            hbm_read_bytes: hbm_read + hbm_partial_r,
            hbm_write_bytes: c_bytes + hbm_partial_w,
            l2_write_bytes: c_bytes + partial,
            hbm_fraction: (hbm_read / l2_to_sm.max(1.0)).clamp(0.0, 1.0),
            l2_miss_fraction,
            reg_bytes: reg,
        }
    }

    /// SM-level parameters for a wave with `active_sms` SMs busy.
    fn sm_params(&self, g: &Gemm, t: &Traffic, active_sms: f64, clk: f64) -> SmParams {
        let mem = &self.cfg.memory;
        let active = active_sms.max(1.0);
        let l2_share = mem.l2_bandwidth_gbps * 1e9 / clk / active;
        let hbm_share = mem.hbm_bandwidth_gbps * 1e9 * mem.hbm_efficiency / clk / active;
        let h = t.hbm_fraction;
        let mut rate = if h > 0.0 {
            l2_share.min(hbm_share / h)
        } else {
            l2_share
        };
        if t.l2_miss_fraction > 0.0 {
            // L2 misses served by the Infinity Cache at its share of its bandwidth.
            let ic_share = mem.infinity_cache_bandwidth_gbps * 1e9 / clk / active;
            rate = rate.min(ic_share / t.l2_miss_fraction);
        }
        let l2_lat = mem.l2_latency_cycles as f64;
        let hbm_lat = mem.hbm_latency_cycles as f64;
        let math = self.math_dtype(g.dtype);
        SmParams {
            sub_partitions: self.cfg.sm.sub_partitions as usize,
            warp_size: self.cfg.sm.warp_size as usize,
            fma_per_clk_per_sp: self.fma_per_clk_per_sp(math),
            mma_latency: if self.uses_tensor_cores(math) {
                self.cfg.tensor_core.mma_latency_cycles as f64
            } else {
                4.0 // FFMA latency (Accel-Sim FP 4/2, [GPGPU-A100])
            },
            smem_bytes_per_clk: self.cfg.sm.smem_bytes_per_clk as f64,
            smem_latency: mem.smem_latency_cycles as f64,
            mem_bytes_per_clk: rate,
            mem_latency: l2_lat + h.sqrt().min(1.0) * (hbm_lat - l2_lat).max(0.0),
            store_latency: l2_lat,
            barrier_cycles: 20.0,
        }
    }

    /// Quick analytic cycle estimate of a plan, used to pick which plans to simulate.
    fn estimate_cycles(&self, g: &Gemm, p: &KernelPlan, t: &Traffic, clk: f64) -> f64 {
        let sms = self.cfg.sm.count as f64;
        // Stream-K spreads the iterations over every SM, which then share the memory system
        // (as `PlanSim::stream_k` simulates it); data-parallel waves occupy the SMs their CTAs
        // fill.
        let active = if p.stream_k {
            sms
        } else {
            (p.ctas as f64 / p.ctas_per_sm as f64).min(sms)
        };
        let sp = self.sm_params(g, t, active, clk);
        let [bm, bn, bk] = p.cta_tile;
        let tc = (bm * bn * bk) as f64 / (sp.fma_per_clk_per_sp * sp.sub_partitions as f64);
        let stage = t.l2_to_sm_bytes / (p.ctas as f64 * p.k_iters as f64).max(1.0);
        let ctas_per_sm = p.ctas_per_sm as f64;
        let per_iter = (tc * ctas_per_sm).max(stage * ctas_per_sm / sp.mem_bytes_per_clk);
        let fill = sp.mem_latency + stage / sp.mem_bytes_per_clk + tc;
        let epi = (bm * bn) as f64 * plan::output_bytes(g.dtype) as f64 * ctas_per_sm
            / sp.mem_bytes_per_clk
            + sp.store_latency;
        let waves = p.waves as f64;
        let wave = p.k_iters as f64 * per_iter + fill + epi;
        if p.stream_k {
            let iters = p
                .ctas
                .saturating_mul(p.k_iters)
                .div_ceil(self.cfg.sm.count as u64) as f64;
            let tiles = (p.ctas as f64 / sms).ceil() + 1.0;
            return iters * per_iter + fill + epi * tiles + self.stream_k_fixup_cycles(p, clk);
        }
        let tail_frac = {
            let slots = sms * ctas_per_sm;
            let last = p.ctas as f64 - (waves - 1.0) * slots;
            (last / slots).clamp(0.0, 1.0)
        };
        // Partial last wave runs with fewer CTAs per SM when it is under one CTA per SM.
        let last_wave = if tail_frac * ctas_per_sm < 1.0 {
            wave / ctas_per_sm
        } else {
            wave
        };
        let mut total = (waves - 1.0) * wave + last_wave;
        if p.split_k > 1 {
            total += self.splitk_fixup_cycles(g, p, clk);
        }
        total
    }

    /// Cycles of the split-K fix-up: fp32 partials re-read and reduced, C written.
    fn splitk_fixup_cycles(&self, g: &Gemm, p: &KernelPlan, clk: f64) -> f64 {
        let mn = g.m as f64 * g.n as f64 * g.batch.max(1) as f64;
        let bytes = mn * 4.0 * p.split_k as f64 + mn * plan::output_bytes(g.dtype) as f64;
        let bw = self.cfg.memory.l2_bandwidth_gbps * 1e9 / clk;
        bytes / bw + self.cfg.memory.l2_latency_cycles as f64 * 2.0
    }

    /// Exposed cycles of the stream-K fix-up on one SM: the tile's final owner reads one fp32
    /// partial tile back from the workspace and reduces it, through the SM's share of the L2
    /// bandwidth. (The partial stores are asynchronous TMA stores that overlap the SM's next
    /// work unit, so they are not exposed.)
    fn stream_k_fixup_cycles(&self, p: &KernelPlan, clk: f64) -> f64 {
        let share = self.cfg.memory.l2_bandwidth_gbps * 1e9 / clk / self.cfg.sm.count as f64;
        let bytes = p.cta_tile[0] as f64 * p.cta_tile[1] as f64 * 4.0;
        bytes / share + 2.0 * self.cfg.memory.l2_latency_cycles as f64
    }

    /// Simulate one plan: full waves and the tail wave.
    fn cost_plan(&self, g: &Gemm, p: &KernelPlan, clk: f64) -> CostedPlan {
        let traffic = self.traffic(g, p);
        let ps = PlanSim::new(self, g, p, &traffic, clk);
        let mem = &self.cfg.memory;
        let hbm_cycles = (traffic.hbm_read_bytes + traffic.hbm_write_bytes)
            / (mem.hbm_bandwidth_gbps * 1e9)
            * clk;
        if p.stream_k {
            let (mut sums, sim, sim_iters) = ps.stream_k();
            sums.hbm_floor(hbm_cycles);
            return sums.into_costed(p, traffic, sim, sim_iters);
        }
        let full_waves = p.ctas / ps.slots;
        let rem = p.ctas - full_waves * ps.slots;
        let mut sums = CycleSums::default();
        let mut sim_kept = SmResult::default();
        if full_waves > 0 {
            sim_kept = ps.full_waves(full_waves, &mut sums);
        }
        if rem > 0 {
            let r = ps.tail_wave(rem, full_waves, &mut sums);
            if full_waves == 0 {
                sim_kept = r;
            }
        }
        if p.split_k > 1 {
            let f = self.splitk_fixup_cycles(g, p, clk);
            sums.cycles += f;
            sums.fill += f;
        }
        sums.tile_quantization(g, p);
        sums.hbm_floor(hbm_cycles);
        let n_sim = ps.n_sim;
        sums.into_costed(p, traffic, sim_kept, n_sim)
    }

    /// Plan a GEMM (search) at SM clock `clk`: the fastest costed plan, and every plan the
    /// search simulated (costed at `clk`).
    ///
    /// Every candidate is ranked by the analytic estimate ([`Self::estimate_cycles`]) and the
    /// best-estimated plan of each of the first [`PLANS_SIMULATED`] kernel families is
    /// simulated ([`distinct_families`]), as cuBLASLt's heuristic query returns a short list of
    /// distinct algorithms for the caller to time (`cublasLtMatmulAlgoGetHeuristic`).
    ///
    /// With `rank` (a power-limited GEMM) plans are ranked, and the best chosen, by the time
    /// each would take at the clock its own power allows ([`PowerRank::score`]) instead of by
    /// cycles at `clk`.
    fn plan_gemm(
        &self,
        g: &Gemm,
        clk: f64,
        rank: Option<&PowerRank>,
    ) -> Result<(CostedPlan, Vec<CostedPlan>)> {
        let math = self.math_dtype(g.dtype);
        let tensor = self.uses_tensor_cores(math);
        if tensor && self.cfg.tensor_fma_per_clk_per_sm(math) == 0 {
            return Err(self.unsupported(math));
        }
        let cands = plan::candidates(&self.cfg, g, math, tensor);
        if cands.is_empty() {
            // Every tile shape failed the SM's limits: the config's SM resources are too small
            // for any kernel (bad input, not a bug).
            return Err(Error::input(
                Location::file(format!("<machine {}>", self.name)).key("sm"),
                format!(
                    "no kernel plan fits the SM for {}x{}x{} {}: sm.smem_bytes = {}, \
                     sm.registers = {}, sm.max_threads = {}, sm.max_regs_per_thread = {} leave no \
                     room for one CTA; raise them",
                    g.m,
                    g.n,
                    g.k,
                    g.dtype,
                    self.cfg.sm.smem_bytes,
                    self.cfg.sm.registers,
                    self.cfg.sm.max_threads,
                    self.cfg.sm.max_regs_per_thread
                ),
            ));
        }
        // Estimates rank every candidate; simulated plans, whose exposed memory cycles are
        // known, are compared by `score_costed`.
        let score = |cycles: f64, t: &Traffic| match rank {
            Some(r) => r.score(self, g, cycles, t),
            None => cycles,
        };
        let score_costed = |c: &CostedPlan| match rank {
            Some(r) => r.score_costed(self, g, c),
            None => c.cycles,
        };
        let mut est: Vec<(f64, usize)> = cands
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let t = self.traffic(g, p);
                (score(self.estimate_cycles(g, p, &t, clk), &t), i)
            })
            .collect();
        est.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let simulated: Vec<CostedPlan> = distinct_families(&cands, &est, PLANS_SIMULATED)
            .into_iter()
            .map(|i| self.cost_plan(g, &cands[i], clk))
            .collect();
        // The fastest (the first of equals).
        let best = simulated
            .iter()
            .map(|c| (score_costed(c), c))
            .reduce(|b, c| if c.0 < b.0 { c } else { b })
            .map(|(_, c)| c)
            .cloned()
            .ok_or_else(|| Error::internal("plan search produced no plan"))?;
        Ok((best, simulated))
    }

    fn check_gemm(&self, g: &Gemm) -> Result<()> {
        let macs = (g.m as u128)
            .checked_mul(g.n as u128)
            .and_then(|x| x.checked_mul(g.k as u128))
            .and_then(|x| x.checked_mul(g.batch as u128));
        if macs.is_none() {
            return Err(Error::input(
                Location::file(format!("<op {}>", g.name)).key("batch"),
                "M·N·K·batch overflows 128 bits: split the batch",
            ));
        }
        for (key, v) in [("m", g.m), ("n", g.n), ("k", g.k), ("batch", g.batch)] {
            if v == 0 || v > crate::workload::MAX_DIM {
                return Err(Error::input(
                    Location::file(format!("<op {}>", g.name)).key(key),
                    format!(
                        "GEMM dimension {key} = {v} must be in 1..={}",
                        crate::workload::MAX_DIM
                    ),
                ));
            }
        }
        Ok(())
    }

    fn simulate_gemm(&self, op: &Op, g: &Gemm) -> Result<OpProfile> {
        self.check_gemm(g)?;
        let math = self.math_dtype(g.dtype);
        let f_nom = self.nominal_gemm_hz(math);
        let eff = self.kernel_efficiency(math);
        // The clock the power governor settles on and the plan, costed at the effective clock
        // clk · eff where the kernel runs.
        let (clk, c) = self.governed_gemm_clock(g, math, f_nom, eff)?;
        let kcfg = &self.cfg.kernel;
        let mut prof = profile_for(op);
        prof.set_math_dtype(&self.name, math);
        let fixed_s = kcfg.kernel_fixed_us * 1e-6;
        let launch_s = kcfg.launch_overhead_us * 1e-6;
        // The cost's cycles are at the effective clock clk · eff. Compute at the nominal clock;
        // the rest of the compute at the power-limited clock is clock throttling; what the
        // efficiency adds to every part is kernel efficiency; the fixed costs are overhead.
        let run_hz = clk * eff;
        let tb = &mut prof.time_breakdown_s;
        tb.compute_s = c.compute_cycles / f_nom;
        tb.clock_throttle_s = c.compute_cycles / clk - tb.compute_s;
        tb.memory_stall_s = c.memory_cycles / clk;
        tb.fill_drain_s = c.fill_drain_cycles / clk;
        tb.tail_s = c.tail_cycles / clk;
        let at_clk = c.compute_cycles + c.memory_cycles + c.fill_drain_cycles + c.tail_cycles;
        tb.kernel_efficiency_s = (at_clk / run_hz - at_clk / clk).max(0.0);
        tb.overhead_s = fixed_s + launch_s;
        prof.time_s = prof.time_breakdown_s.total_s();
        // Profile cycles count at the machine clock (`clock_hz`, nominal).
        let mclk = self.clock_hz();
        prof.cycles = (prof.time_s * mclk).round() as u64;
        // Throttling and kernel efficiency are slower compute, not stalls.
        let b = &prof.time_breakdown_s;
        prof.compute_cycles =
            ((b.compute_s + b.clock_throttle_s + b.kernel_efficiency_s) * mclk).round() as u64;
        prof.compute_cycles = prof.compute_cycles.min(prof.cycles);
        prof.stall_cycles = prof.cycles.saturating_sub(prof.compute_cycles);
        let padded = c.plan.ctas as f64
            * c.plan.cta_tile[0] as f64
            * c.plan.cta_tile[1] as f64
            * (c.plan.k_iters * c.plan.cta_tile[2] as u64) as f64;
        prof.mapping_efficiency = (g.macs() as f64 / padded.max(1.0)).clamp(0.0, 1.0);
        let t = &c.traffic;
        prof.counters = gemm_counters(g, t);
        let mut plan = c.plan.to_json(&self.math_name(g.dtype));
        if let Some(obj) = plan.as_object_mut() {
            obj.insert(
                "sim".into(),
                serde_json::json!({
                    "iters_simulated": c.sim_iters,
                    "period_cycles": c.sim.period_cycles,
                    "tensor_busy_cycles_per_iter": c.sim.tc_busy_per_iter,
                    "instructions_issued": c.sim.issued,
                    "hbm_fraction_of_l2_reads": t.hbm_fraction,
                    "gemm_clock_mhz": clk / 1e6,
                    "kernel_efficiency": eff,
                }),
            );
        }
        prof.plan = plan;
        prof.clock_fraction = Some(clk / f_nom);
        finish_profile(&mut prof, self.peak_flops(math));
        Ok(prof)
    }

    /// Elementwise / reduction kernel on CUDA cores: streams its bytes from and to HBM
    /// (grid-stride loop, enough CTAs to fill every SM), bounded by the FP32 lanes for the math.
    /// Fused attention ([`crate::machine::attention`]) with this GPU's facts: FlashAttention
    /// tiles of 128 query rows × 128 keys for head dims up to 128 and 64 × 64 above
    /// (FlashAttention-2/3 forward kernels' `kBlockM × kBlockN`), K/V re-reads served by L2
    /// (by the Infinity Cache where there is one),
    /// the softmax bound by the special-function units (one exp per score, `sm.sfu_per_clk`)
    /// or the FP32 lanes (4 more operations per score), overlapped with the tensor cores on
    /// Hopper and later (FlashAttention-3 ping-pong warpgroups) and serial on Ampere
    /// (FlashAttention-2).
    fn simulate_attention(&self, op: &Op, a: &AttentionOp) -> Result<OpProfile> {
        let [qk, av] = attention::tile_gemms(a);
        let qk = self.simulate_gemm(&Op::Gemm(qk.clone()), &qk)?;
        let av = self.simulate_gemm(&Op::Gemm(av.clone()), &av)?;
        // The softmax units at the clock the QK GEMM ran at.
        let clk = qk
            .plan
            .pointer("/sim/gemm_clock_mhz")
            .and_then(|v| v.as_f64())
            .map_or(self.clock_hz(), |m| m * 1e6);
        let sm = &self.cfg.sm;
        let mem = &self.cfg.memory;
        let block = if a.head_dim.max(a.head_dim_v) <= 128 {
            128
        } else {
            64
        };
        let sfu_rate = sm.count as f64 * sm.sfu_per_clk as f64 * clk;
        let lane_rate = sm.count as f64 * sm.fp32_lanes as f64 * clk / 4.0;
        let facts = AttentionFacts {
            block_q: block,
            block_kv: block,
            hbm_bytes_per_s: mem.hbm_bandwidth_gbps * 1e9 * mem.hbm_efficiency,
            cache: Some(if mem.infinity_cache_bytes > 0 {
                (
                    mem.infinity_cache_bytes as f64,
                    mem.infinity_cache_bandwidth_gbps * 1e9,
                )
            } else {
                (mem.l2_bytes as f64, mem.l2_bandwidth_gbps * 1e9)
            }),
            cores: sm.count as u64,
            softmax_elements_per_s: sfu_rate.min(lane_rate),
            // FlashAttention-3's ping-pong warpgroups overlap the softmax with the MMAs on
            // Hopper and Blackwell; Ampere and CDNA kernels (FlashAttention-2 style, CK / Triton
            // on ROCm) run them one after the other.
            softmax_overlaps: matches!(self.cfg.arch, Arch::Hopper | Arch::Blackwell),
            overhead_s: (self.cfg.kernel.launch_overhead_us + self.cfg.kernel.kernel_fixed_us)
                * 1e-6,
            clock_hz: self.clock_hz(),
            peak_flops: self.info().effective_peak_flops(a.dtype),
        };
        Ok(attention::simulate(op, a, &facts, &qk, &av))
    }

    fn simulate_vector(&self, op: &Op, v: &VectorOp) -> Result<OpProfile> {
        if v.elements == 0 {
            return Err(Error::input(
                Location::file(format!("<op {}>", v.name)).key("elements"),
                "a vector op needs at least one element",
            ));
        }
        let mem = &self.cfg.memory;
        let bytes = v.bytes();
        let read = v.read_bytes();
        let write = v.write_bytes();
        let mem_s = bytes / (mem.hbm_bandwidth_gbps * 1e9 * mem.hbm_efficiency);
        let lanes = self.cfg.sm.count as f64 * self.cfg.sm.fp32_lanes as f64;
        let counters = Counters {
            vector_flops: v.flops(),
            reg_bytes: bytes,
            l2_read_bytes: read,
            l2_write_bytes: write,
            hbm_read_bytes: read,
            hbm_write_bytes: write,
            interconnect_bytes: bytes,
            ..Default::default()
        };
        // CUDA cores at the boost clock (the FP32 peak's), power-limited like every op; the
        // latency of the first access is a fill term.
        let f_nom = self.cfg.clock.boost_mhz * 1e6;
        let nominal = VectorRoofline::new(v.flops(), lanes * 2.0 * f_nom, mem_s);
        let clk = self.power_clock_hz(
            &counters,
            v.dtype,
            f_nom,
            nominal.memory_s.max(nominal.compute_s),
            nominal.compute_s,
        );
        let roof = VectorRoofline::new(v.flops(), lanes * 2.0 * clk, mem_s);
        let compute_s = roof.compute_s;
        let latency_s = (mem.hbm_latency_cycles as f64 + mem.l2_latency_cycles as f64) / clk;
        let mut prof = profile_for(op);
        // Compute at the boost clock; the rest at the power-limited clock is throttling.
        let compute_nominal_s = v.flops() / (lanes * 2.0 * f_nom);
        prof.time_breakdown_s.compute_s = compute_nominal_s.min(compute_s);
        prof.time_breakdown_s.clock_throttle_s = compute_s - prof.time_breakdown_s.compute_s;
        prof.time_breakdown_s.memory_stall_s = roof.memory_stall_s;
        prof.time_breakdown_s.fill_drain_s = latency_s;
        prof.time_breakdown_s.overhead_s =
            (self.cfg.kernel.kernel_fixed_us + self.cfg.kernel.launch_overhead_us) * 1e-6;
        prof.time_s = prof.time_breakdown_s.total_s();
        let mclk = self.clock_hz();
        prof.cycles = (prof.time_s * mclk).round() as u64;
        prof.compute_cycles = ((compute_s * mclk).round() as u64).min(prof.cycles);
        prof.stall_cycles = prof.cycles.saturating_sub(prof.compute_cycles);
        prof.mapping_efficiency = 1.0;
        prof.counters = counters;
        prof.plan = serde_json::json!({
            "kernel": "elementwise/reduction, CUDA cores, grid-stride",
            "bound": roof.bound(),
        });
        prof.clock_fraction = Some(clk / f_nom);
        // Vector work is judged against the CUDA-core peak, not the tensor peak.
        finish_profile(&mut prof, lanes * 2.0 * self.cfg.clock.boost_mhz * 1e6);
        Ok(prof)
    }
}

/// Counters of a GEMM plan's traffic: MACs and the bytes at each level.
fn gemm_counters(g: &Gemm, t: &Traffic) -> Counters {
    Counters {
        macs: g.macs(),
        vector_flops: 0.0,
        reg_bytes: t.reg_bytes,
        sram_read_bytes: t.smem_read_bytes,
        sram_write_bytes: t.smem_write_bytes,
        l2_read_bytes: t.l2_to_sm_bytes,
        l2_write_bytes: t.l2_write_bytes,
        hbm_read_bytes: t.hbm_read_bytes,
        hbm_write_bytes: t.hbm_write_bytes,
        interconnect_bytes: t.l2_to_sm_bytes + t.l2_write_bytes,
        ..Default::default()
    }
}

impl Machine for GpuMachine {
    fn info(&self) -> &MachineInfo {
        &self.info
    }
    fn energy_table(&self) -> &EnergyTable {
        &self.cfg.energy
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        match op {
            Op::Gemm(g) => self.simulate_gemm(op, g),
            Op::Vector(v) => self.simulate_vector(op, v),
            Op::Attention(a) => self.simulate_attention(op, a),
        }
    }
}

impl Arch {
    /// Whether the architecture has fp8 tensor cores (Hopper and later).
    pub fn has_fp8(self) -> bool {
        !matches!(self, Arch::Ampere)
    }
}

/// The SIMT model's own keys of a report's `"machine"` object: the config's parameters as the
/// model read them (`docs/reference/config-simt.md`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SimtParams {
    /// The config's human name (`name`), e.g. "NVIDIA H100 SXM5 80GB".
    pub model: String,
    /// Architecture (`arch`): `ampere`, `hopper`, `blackwell`, `cdna3` or `cdna4`.
    pub arch: String,
    /// Enabled SMs (AMD: CUs) on the chip (`sm.count`).
    pub sms: u32,
    /// Warp schedulers per SM (AMD: SIMDs per CU; `sm.sub_partitions`).
    pub sub_partitions_per_sm: u32,
    /// Clock the dense tensor peak is quoted at (`clock.tensor_mhz`); the clock `cycles` count.
    pub tensor_mhz: f64,
    /// Maximum boost clock, at which the FP32 CUDA-core peak is quoted (`clock.boost_mhz`).
    pub boost_mhz: f64,
    /// Fitted fraction of the simulated kernel speed real kernels reach
    /// (`kernel.kernel_efficiency`, bf16/fp16 GEMMs).
    pub kernel_efficiency: f64,
    /// Dense bf16 tensor peak (1 MAC = 2 FLOPs).
    pub peak_bf16_tflops: f64,
    /// Dense fp8 tensor peak (0 without fp8 units).
    pub peak_fp8_tflops: f64,
    /// Dense fp32 peak of the unit fp32 GEMMs run on (`fp32_math`).
    pub peak_fp32_tflops: f64,
    /// What fp32 GEMMs run on: `cuda_core` (SGEMM) or `tf32` tensor cores
    /// (`tensor_core.fp32_math`).
    pub fp32_math: String,
    /// L2 capacity of the whole chip (`memory.l2_bytes`).
    pub l2_bytes: u64,
    /// L2 → SM bandwidth of the whole chip (`memory.l2_bandwidth_gbps`).
    pub l2_bandwidth_gbps: f64,
    /// Largest shared memory one SM gives its resident CTAs, in bytes (`sm.smem_bytes`).
    pub smem_bytes_per_sm: u32,
    /// The config's one-line description; absent when it gives none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Threads per warp where it is not 32 (64 for an AMD CDNA wavefront); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warp_size: Option<u32>,
    /// AMD Infinity Cache capacity (`memory.infinity_cache_bytes`); absent when the chip has
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infinity_cache_bytes: Option<u64>,
    /// Infinity Cache → L2 bandwidth of the whole chip; absent when the chip has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infinity_cache_bandwidth_gbps: Option<f64>,
}
