//! Energy model: a pure function of an op's [`Counters`], its time, and an [`EnergyTable`].
//!
//! `energy = Σ counter × per-action energy + (static_w + active_w) × time` (the
//! Accelergy/Timeloop decomposition: Wu, Emer, Sze, ICCAD 2019, plus a busy-chip baseline).
//! Per-action defaults come from Horowitz, ISSCC 2014 (45 nm) scaled to the chip's node; see
//! `tests/data/energy.csv` and the README.
//!
//! Two terms are not per-action energies of a datapath:
//! * `static_w`: what the idle chip draws (leakage, idle clocks, board);
//! * `active_w`: what a *busy* chip draws above idle whatever the op does: clock trees at full
//!   speed, instruction fetch/decode/scheduling, memory controllers and PHYs trained and running.
//!   Its physical origin on GPUs is the per-instruction overhead (~30 pJ of fetch, decode and
//!   operand delivery per instruction, Dally, MICRO-52 keynote 2019 \[DALLY\] in
//!   `docs/SPECS.md` §3), which Horowitz's isolated-unit energies do not contain.
//!
//! Both are charged for the op's whole time in [`EnergyBreakdown::static_pj`] (so
//! `static_pj` = idle + active baseline); `mac_scale` multiplies the cited MAC energies. The GPU
//! values of `static_w`, `active_w` and `mac_scale` are calibrated on measured board power
//! (`src/jobs/validate/energy.rs`).

use crate::units::{add_fields, scale_fields};
use crate::workload::DType;
use serde::{Deserialize, Serialize};

/// Activity counters of one op: the inputs of the energy model. Bytes are bytes (not words).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counters {
    /// Multiply-accumulates executed on the matrix units (useful MACs, not padded ones).
    pub macs: u128,
    /// Floating-point operations on the vector unit / CUDA cores (non-GEMM work).
    pub vector_flops: f64,
    /// Register / PE-local traffic: operand hops between PEs, accumulator and register-file
    /// reads and writes.
    pub reg_bytes: f64,
    /// On-chip SRAM (TPU VMEM/CMEM, GPU shared memory/L1) bytes read.
    pub sram_read_bytes: f64,
    /// On-chip SRAM bytes written.
    pub sram_write_bytes: f64,
    /// GPU L2 bytes read (0 on machines without an L2 level).
    pub l2_read_bytes: f64,
    /// GPU L2 bytes written.
    pub l2_write_bytes: f64,
    /// HBM/DRAM bytes read.
    pub hbm_read_bytes: f64,
    /// HBM/DRAM bytes written.
    pub hbm_write_bytes: f64,
    /// On-chip interconnect / NoC bytes (between cores or SMs and memory partitions).
    pub interconnect_bytes: f64,
    /// Chip-to-chip link bytes sent (ICI, NVLink, InfiniBand): 0 for a single-chip op; filled
    /// by the system layer for collectives. Omitted from reports while 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub link_bytes: f64,
}

impl Counters {
    pub fn hbm_bytes(&self) -> f64 {
        self.hbm_read_bytes + self.hbm_write_bytes
    }
    /// The counters of `r` executions.
    pub fn times(&self, r: u64) -> Counters {
        let mut c = self.clone();
        c.macs = c.macs.saturating_mul(r as u128);
        let k = r as f64;
        scale_fields!(c, k; vector_flops, reg_bytes, sram_read_bytes, sram_write_bytes,
            l2_read_bytes, l2_write_bytes, hbm_read_bytes, hbm_write_bytes, interconnect_bytes,
            link_bytes);
        c
    }
    pub fn add(&mut self, o: &Counters) {
        add_fields!(self, o; macs, vector_flops, reg_bytes, sram_read_bytes, sram_write_bytes,
            l2_read_bytes, l2_write_bytes, hbm_read_bytes, hbm_write_bytes, interconnect_bytes,
            link_bytes);
    }
}

/// Per-action energies (pJ) and static power (W) of one machine. Every field has a documented
/// default so a config may give only what it knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnergyTable {
    /// pJ per fp32 MAC (multiply + add).
    pub mac_fp32_pj: f64,
    /// pJ per bf16 MAC (bf16 multiply, f32 accumulate).
    pub mac_bf16_pj: f64,
    /// pJ per fp16 MAC.
    pub mac_fp16_pj: f64,
    /// pJ per fp8 MAC.
    pub mac_fp8_pj: f64,
    /// pJ per fp4 MAC (NVFP4 and MXFP4, block scales applied in the unit). Optional: absent,
    /// it is half of `mac_fp8_pj` ([`EnergyTable::mac_fp4_pj`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_fp4_pj: Option<f64>,
    /// pJ per int8 MAC (int32 accumulate).
    pub mac_int8_pj: f64,
    /// pJ per vector-unit / CUDA-core FLOP.
    pub vector_flop_pj: f64,
    /// pJ per byte of register / PE-local traffic.
    pub reg_pj_per_byte: f64,
    /// pJ per byte read from or written to on-chip SRAM (VMEM / shared memory).
    pub sram_pj_per_byte: f64,
    /// pJ per byte of L2 traffic.
    pub l2_pj_per_byte: f64,
    /// pJ per byte of HBM traffic (device + I/O).
    pub hbm_pj_per_byte: f64,
    /// pJ per byte on the on-chip interconnect.
    pub interconnect_pj_per_byte: f64,
    /// pJ per byte sent over a chip-to-chip link (SerDes + wire). Default 0: no cited default
    /// yet; the system layer's link levels set it (it only multiplies `link_bytes`).
    pub link_pj_per_byte: f64,
    /// Static (idle) power in W: what the chip draws when it runs nothing (leakage, idle
    /// clocks, board). Charged for the op's whole time.
    pub static_w: f64,
    /// Active baseline power in W (default 0): drawn above `static_w` whenever the chip runs any
    /// op, independent of what the op computes or moves: clock trees, instruction fetch/issue
    /// and scheduling, memory controllers and PHYs at speed (the ~30 pJ per GPU instruction of
    /// Dally, MICRO-52). Charged for the op's whole time, reported in `static_pj`.
    pub active_w: f64,
    /// Multiplier on the cited `mac_*_pj` energies (default 1). Horowitz's numbers are an
    /// isolated multiplier and adder; a real matrix unit also stages, aligns and accumulates
    /// operands and runs at its own voltage. Fitted on measured power for the GPUs; 1 elsewhere.
    pub mac_scale: f64,
    /// The clock, as a fraction of the nominal (tensor/MXU) clock, at which the per-action
    /// energies and `active_w` above hold (default 1): where they were fitted on measured
    /// power. The H100 fit ran at the 700 W limit with the SM clock at 1,395 MHz
    /// (tests/data/gpu_power_h100.csv, bf16 8192³) = 0.762 of 1,830 MHz. The power-limited
    /// clock ([`power_split_w`]) scales the core-rail energies to the nominal clock by
    /// `(1 / fraction)²` (energy per switch ∝ V², V ∝ f), and reported energies are scaled to
    /// the clock each op ran at ([`energy_at_clock`]).
    #[serde(default = "one")]
    pub reference_clock_fraction: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for EnergyTable {
    /// Defaults for a 7 nm-class chip: Horowitz ISSCC 2014 45 nm values scaled by ≈0.4 for logic
    /// (fp32 MAC 3.7+0.9 pJ → ~1.8 pJ; bf16 ~0.6 pJ; int8 0.2+0.1 → ~0.12 pJ), SRAM 64-bit
    /// read of a large array 20–100 pJ at 45 nm → ~0.8 pJ/byte, HBM2/3 ~3.9 pJ/bit ≈ 31 pJ/byte
    /// (O'Connor et al., MICRO 2017).
    fn default() -> Self {
        EnergyTable {
            mac_fp32_pj: 1.8,
            mac_bf16_pj: 0.6,
            mac_fp16_pj: 0.6,
            mac_fp8_pj: 0.3,
            mac_fp4_pj: None,
            mac_int8_pj: 0.12,
            vector_flop_pj: 1.0,
            reg_pj_per_byte: 0.05,
            sram_pj_per_byte: 0.8,
            l2_pj_per_byte: 2.5,
            hbm_pj_per_byte: 31.0,
            interconnect_pj_per_byte: 1.0,
            link_pj_per_byte: 0.0,
            static_w: 50.0,
            active_w: 0.0,
            mac_scale: 1.0,
            reference_clock_fraction: 1.0,
        }
    }
}

impl EnergyTable {
    /// Energy of one MAC of `dtype` (the precision the math ran at, `OpProfile::math_dtype`):
    /// the cited value × `mac_scale`.
    pub fn mac_pj(&self, dtype: DType) -> f64 {
        self.mac_scale
            * match dtype {
                DType::Fp32 => self.mac_fp32_pj,
                DType::Bf16 => self.mac_bf16_pj,
                DType::Fp16 => self.mac_fp16_pj,
                DType::Fp8 => self.mac_fp8_pj,
                DType::Int8 => self.mac_int8_pj,
                DType::Fp4 | DType::Mxfp4 => self.mac_fp4_pj(),
            }
    }

    /// pJ per fp4 MAC: `mac_fp4_pj` if the config gives it, else half of `mac_fp8_pj`.
    /// ASSUMPTION (no cited fp4 MAC energy): a multiplier's energy scales roughly with the
    /// product of its operand widths, and the shipped tables already take fp8 as half of bf16;
    /// the same halving is applied once more (the shared-scale multiply, once per 16 or 32
    /// elements, is neglected).
    pub fn mac_fp4_pj(&self) -> f64 {
        self.mac_fp4_pj.unwrap_or(0.5 * self.mac_fp8_pj)
    }

    /// Power drawn while the chip runs an op, before per-action energies: idle + active, W.
    pub fn baseline_w(&self) -> f64 {
        self.static_w + self.active_w
    }

    /// Check every value is finite and ≥ 0; returns the offending key.
    pub fn validate(&self) -> Result<(), (&'static str, f64)> {
        let v = [
            ("mac_fp32_pj", self.mac_fp32_pj),
            ("mac_bf16_pj", self.mac_bf16_pj),
            ("mac_fp16_pj", self.mac_fp16_pj),
            ("mac_fp8_pj", self.mac_fp8_pj),
            ("mac_fp4_pj", self.mac_fp4_pj()),
            ("mac_int8_pj", self.mac_int8_pj),
            ("vector_flop_pj", self.vector_flop_pj),
            ("reg_pj_per_byte", self.reg_pj_per_byte),
            ("sram_pj_per_byte", self.sram_pj_per_byte),
            ("l2_pj_per_byte", self.l2_pj_per_byte),
            ("hbm_pj_per_byte", self.hbm_pj_per_byte),
            ("interconnect_pj_per_byte", self.interconnect_pj_per_byte),
            ("link_pj_per_byte", self.link_pj_per_byte),
            ("static_w", self.static_w),
            ("active_w", self.active_w),
            ("mac_scale", self.mac_scale),
        ];
        for (k, x) in v {
            if !x.is_finite() || x < 0.0 {
                return Err((k, x));
            }
        }
        let r = self.reference_clock_fraction;
        if !r.is_finite() || r <= 0.0 || r > 1.0 {
            return Err(("reference_clock_fraction", r));
        }
        Ok(())
    }
}

/// Energy of one op split by where it is spent, in pJ. The parts sum to `total_pj`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnergyBreakdown {
    /// Matrix-unit MAC energy.
    pub compute_pj: f64,
    /// Vector-unit / CUDA-core FLOP energy.
    pub vector_pj: f64,
    /// Register / PE-local traffic energy.
    pub reg_pj: f64,
    /// On-chip SRAM traffic energy.
    pub sram_pj: f64,
    /// L2 traffic energy.
    pub l2_pj: f64,
    /// HBM/DRAM traffic energy.
    pub hbm_pj: f64,
    /// On-chip interconnect traffic energy.
    pub interconnect_pj: f64,
    /// Chip-to-chip link energy (omitted from reports while 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub link_pj: f64,
    /// Baseline energy: (`static_w` + `active_w`) × time, i.e. idle power plus the active
    /// baseline of a busy chip (see [`EnergyTable::active_w`]).
    pub static_pj: f64,
    /// Sum of the components.
    pub total_pj: f64,
}

impl EnergyBreakdown {
    /// The energy of `r` executions.
    pub fn times(&self, r: u64) -> EnergyBreakdown {
        let mut e = self.clone();
        let k = r as f64;
        scale_fields!(e, k; compute_pj, vector_pj, reg_pj, sram_pj, l2_pj, hbm_pj,
            interconnect_pj, link_pj, static_pj, total_pj);
        e
    }
    pub fn add(&mut self, o: &EnergyBreakdown) {
        add_fields!(self, o; compute_pj, vector_pj, reg_pj, sram_pj, l2_pj, hbm_pj,
            interconnect_pj, link_pj, static_pj, total_pj);
    }
    /// The core rail's switching energy (MACs, vector FLOPs, registers, SRAM, L2): the part
    /// that scales with the core clock's voltage in [`power_split_w`].
    pub fn core_pj(&self) -> f64 {
        self.compute_pj + self.vector_pj + self.reg_pj + self.sram_pj + self.l2_pj
    }
    /// The memory and link energy (HBM, on-chip interconnect, chip-to-chip links): set by the
    /// bytes moved, not the core clock.
    pub fn memory_pj(&self) -> f64 {
        self.hbm_pj + self.interconnect_pj + self.link_pj
    }
}

/// Serde helper: omit a zero field (fields added for the system layer keep single-chip reports
/// as they were).
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Energy from counters: dynamic (counters × per-action energy) + baseline
/// ((static_w + active_w) × s), with the per-action energies as the table gives them (at its
/// `reference_clock_fraction`). `dtype` is the precision the MACs ran at
/// (`OpProfile::math_dtype`: an fp4 op upcast to fp8 pays fp8 MACs).
pub fn energy(table: &EnergyTable, c: &Counters, dtype: DType, time_s: f64) -> EnergyBreakdown {
    energy_at_clock(table, c, dtype, time_s, table.reference_clock_fraction)
}

/// The scale of the core-rail switching energies (MACs, vector FLOPs, registers, SRAM, L2) at a
/// core clock of `clock_fraction` of the nominal one, relative to the table's values (which
/// hold at `reference_clock_fraction`): `(clock_fraction / reference_clock_fraction)²`.
/// Switching energy per operation is `C·V²` and DVFS scales the supply voltage in proportion to
/// the clock across its range (V ∝ f; Weste & Harris, *CMOS VLSI Design*, 4th ed., §5.2), the
/// same law the power governor ([`power_governed_clock_hz`]) assumes. HBM, link and baseline
/// energies are on their own rails and do not scale.
pub fn core_energy_scale(table: &EnergyTable, clock_fraction: f64) -> f64 {
    let v = clock_fraction / table.reference_clock_fraction;
    v * v
}

/// [`energy`] of an op run at a core clock of `clock_fraction` of its unit's nominal clock: the
/// core-rail switching energies scaled by [`core_energy_scale`]. This is the energy the power
/// governor assumed when it chose the clock, so an op whose clock the governor lowered
/// reports an average power at or under the limit.
pub fn energy_at_clock(
    table: &EnergyTable,
    c: &Counters,
    dtype: DType,
    time_s: f64,
    clock_fraction: f64,
) -> EnergyBreakdown {
    let k = core_energy_scale(table, clock_fraction);
    let mut e = EnergyBreakdown {
        compute_pj: c.macs as f64 * table.mac_pj(dtype) * k,
        vector_pj: c.vector_flops * table.vector_flop_pj * k,
        reg_pj: c.reg_bytes * table.reg_pj_per_byte * k,
        sram_pj: (c.sram_read_bytes + c.sram_write_bytes) * table.sram_pj_per_byte * k,
        l2_pj: (c.l2_read_bytes + c.l2_write_bytes) * table.l2_pj_per_byte * k,
        hbm_pj: (c.hbm_read_bytes + c.hbm_write_bytes) * table.hbm_pj_per_byte,
        interconnect_pj: c.interconnect_bytes * table.interconnect_pj_per_byte,
        link_pj: c.link_bytes * table.link_pj_per_byte,
        static_pj: table.baseline_w() * time_s * 1e12,
        total_pj: 0.0,
    };
    e.total_pj = e.compute_pj
        + e.vector_pj
        + e.reg_pj
        + e.sram_pj
        + e.l2_pj
        + e.hbm_pj
        + e.interconnect_pj
        + e.link_pj
        + e.static_pj;
    e
}

/// Power (W) an op draws at the nominal clock, split for the DVFS law of
/// [`power_limited_clock_hz`] into
/// * `fixed_w`: what does not scale with the core clock: `static_w`, the active baseline
///   `active_w` (memory controllers, PHYs and uncore on their own supply rails) and the HBM
///   and on-chip interconnect/link energy per second (their rate is set by the memory, not the
///   core clock; taken at the nominal-clock rate, an upper bound for compute-bound ops);
/// * `core_w`: the core-rail switching energy per second (MACs, vector FLOPs, registers, SRAM,
///   L2), scaled from the table's reference clock to the nominal one by
///   `(1 / reference_clock_fraction)²` (switching energy `C·V²` with V ∝ f over the DVFS range;
///   Weste & Harris, *CMOS VLSI Design*, 4th ed., §5.2).
///
/// `nominal_time_s` is the op's time at the nominal clock; (0, 0) when it is 0.
pub fn power_split_w(
    table: &EnergyTable,
    c: &Counters,
    dtype: DType,
    nominal_time_s: f64,
) -> (f64, f64) {
    if nominal_time_s <= 0.0 {
        return (0.0, 0.0);
    }
    let e = energy(table, c, dtype, nominal_time_s);
    let per_s = |pj: f64| pj * 1e-12 / nominal_time_s;
    let fixed_w = table.baseline_w() + per_s(e.memory_pj());
    let v2 = 1.0 / (table.reference_clock_fraction * table.reference_clock_fraction);
    let core_w = per_s(e.core_pj()) * v2;
    (fixed_w, core_w)
}

/// The clock (Hz) a chip's power governor settles on for an op whose time at clock `f` is
/// `time_at(f)`: the highest clock in `[floor, nominal]` whose power fits `limit_w`, with the
/// op's power evaluated at the time it takes at that clock (self-consistent):
/// `P(f) = baseline_w + E_fixed / T(f) + E_core(f_nom) · (f / f_nom)² / T(f)` — HBM and link
/// energy per op is fixed, the core's switching energy per op scales with V² ∝ f²
/// (Weste & Harris, *CMOS VLSI Design*, 4th ed., §5.2). For a compute-bound op (`T ∝ 1/f`)
/// the core term is the cube law of [`power_limited_clock_hz`]; for a memory-bound op the time
/// does not shrink with the clock, so the governor keeps the clock that the memory needs.
/// Evaluating the power at the op's own time (not at its nominal-clock time) is what makes the
/// model monotone: more memory bandwidth never makes an op slower (at the slower machine's
/// time the faster one draws the same memory power and no more core power).
/// `P` grows with `f` (T is non-increasing), so the clock is found by bisection (60 steps).
pub fn power_governed_clock_hz(
    nominal_hz: f64,
    min_hz: f64,
    baseline_w: f64,
    fixed_j: f64,
    core_j_at_nominal: f64,
    time_at: &dyn Fn(f64) -> f64,
    limit_w: Option<f64>,
) -> f64 {
    let Some(limit) = limit_w else {
        return nominal_hz;
    };
    let power = |f: f64| {
        let t = time_at(f);
        if t <= 0.0 || !t.is_finite() {
            return 0.0;
        }
        let v = f / nominal_hz;
        baseline_w + fixed_j / t + core_j_at_nominal * v * v / t
    };
    if core_j_at_nominal <= 0.0 || power(nominal_hz) <= limit {
        return nominal_hz;
    }
    let floor = if min_hz > 0.0 {
        min_hz.min(nominal_hz)
    } else {
        DEFAULT_MIN_CLOCK_FRACTION * nominal_hz
    };
    if power(floor) > limit {
        return floor;
    }
    let (mut lo, mut hi) = (floor, nominal_hz);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if power(mid) <= limit {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The clock (Hz) a chip sustains for an op under its power limit: the one physics of both
/// machine families.
///
/// Law: chip power at clock `f` is `P(f) = P_fixed + P_core(f_nom) · (f / f_nom)³`
/// ([`power_split_w`]), the CMOS dynamic power `α·C·V²·f` with the core supply voltage scaled
/// in proportion to the clock across the DVFS range (Weste & Harris, *CMOS VLSI Design*, 4th
/// ed., §5.2: `P_dyn = α C V_DD² f`; DVFS with V ∝ f gives P ∝ f³). The chip runs at the nominal
/// clock when `P(f_nom)` fits the limit, else at the `f` with `P(f) = limit_w`:
/// `f = f_nom · ((limit_w − P_fixed) / P_core(f_nom))^(1/3)`, bounded below by `min_hz` (the
/// lowest DVFS clock) and above by `f_nom`. This is the behaviour NVIDIA documents for its
/// power limit (nvidia-smi `--power-limit`; NVML clock-event reason "SW Power Cap": clocks are
/// reduced to keep board power under the limit); `tests/data/gpu_power_h100.csv` records it
/// (700 W held, SM clock 1,260–1,395 MHz under dense 8192³ GEMMs, 1,980 MHz on memory-bound
/// kernels).
///
/// No limit (`limit_w` = None) or no core power: the nominal clock.
pub fn power_limited_clock_hz(
    nominal_hz: f64,
    min_hz: f64,
    fixed_w: f64,
    core_w_at_nominal: f64,
    limit_w: Option<f64>,
) -> f64 {
    let Some(limit) = limit_w else {
        return nominal_hz;
    };
    if core_w_at_nominal <= 0.0 || fixed_w + core_w_at_nominal <= limit {
        return nominal_hz;
    }
    let headroom = (limit - fixed_w).max(0.0);
    let f = nominal_hz * (headroom / core_w_at_nominal).cbrt();
    // No published floor: the H100's measured ratio of its lowest NVML clock to its nominal
    // one, 345 / 1,830 MHz = 0.19 (tests/data/gpu_power_h100.csv), so the clock never reaches 0.
    let floor = if min_hz > 0.0 {
        min_hz.min(nominal_hz)
    } else {
        DEFAULT_MIN_CLOCK_FRACTION * nominal_hz
    };
    f.clamp(floor, nominal_hz)
}

/// The clock floor of [`power_limited_clock_hz`] as a fraction of the nominal clock where a
/// config gives none: 345 / 1,830 MHz, the H100's lowest and nominal clocks (NVML).
pub const DEFAULT_MIN_CLOCK_FRACTION: f64 = 0.19;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_limited_clock_follows_the_cube_law() {
        // Under the limit: nominal.
        assert_eq!(
            power_limited_clock_hz(2e9, 1e9, 100.0, 500.0, Some(700.0)),
            2e9
        );
        assert_eq!(power_limited_clock_hz(2e9, 1e9, 100.0, 5000.0, None), 2e9);
        // 100 W static + 800 W dynamic at 2 GHz against 200 W: headroom 100 W = 1/8 of the
        // dynamic power, so the clock halves (1/8 = (1/2)^3).
        let f = power_limited_clock_hz(2e9, 0.5e9, 100.0, 800.0, Some(200.0));
        assert!((f - 1e9).abs() < 1.0, "{f}");
        // Bounded by the minimum clock; no headroom at all gives the minimum.
        assert_eq!(
            power_limited_clock_hz(2e9, 1.5e9, 100.0, 800.0, Some(200.0)),
            1.5e9
        );
        assert_eq!(
            power_limited_clock_hz(2e9, 0.3e9, 300.0, 800.0, Some(200.0)),
            0.3e9
        );
        // The power at the returned clock is the limit.
        let (st, dy, lim) = (70.0, 900.0, 700.0);
        let f = power_limited_clock_hz(1.8e9, 0.1e9, st, dy, Some(lim));
        let p = st + dy * (f / 1.8e9).powi(3);
        assert!((p - lim).abs() < 1e-6, "{p}");
    }

    #[test]
    fn power_split_puts_memory_and_baseline_in_fixed_and_scales_core() {
        let t = EnergyTable {
            static_w: 50.0,
            active_w: 100.0,
            reference_clock_fraction: 0.5,
            ..EnergyTable::default()
        };
        let c = Counters {
            macs: 1_000_000_000,
            hbm_read_bytes: 1e9,
            ..Default::default()
        };
        let (fixed, core) = power_split_w(&t, &c, DType::Bf16, 1e-3);
        let e = energy(&t, &c, DType::Bf16, 1e-3);
        assert!((fixed - (150.0 + e.hbm_pj * 1e-9)).abs() < 1e-6, "{fixed}");
        // Core energy per second × (1/0.5)² = 4.
        assert!((core - 4.0 * e.compute_pj * 1e-9).abs() < 1e-6, "{core}");
        assert_eq!(power_split_w(&t, &c, DType::Bf16, 0.0), (0.0, 0.0));
    }

    #[test]
    fn breakdown_sums_and_more_hbm_more_energy() {
        let t = EnergyTable::default();
        let mut c = Counters {
            macs: 1_000_000,
            hbm_read_bytes: 1e6,
            sram_read_bytes: 2e6,
            ..Default::default()
        };
        let a = energy(&t, &c, DType::Bf16, 1e-6);
        let sum = a.compute_pj + a.sram_pj + a.hbm_pj + a.static_pj;
        assert!((sum - a.total_pj).abs() < 1e-6 * a.total_pj);
        c.hbm_read_bytes *= 2.0;
        let b = energy(&t, &c, DType::Bf16, 1e-6);
        assert!(b.total_pj > a.total_pj);
    }

    #[test]
    fn fp4_mac_defaults_to_half_of_fp8() {
        let t = EnergyTable::default();
        assert_eq!(t.mac_pj(DType::Fp4), 0.5 * t.mac_pj(DType::Fp8));
        assert_eq!(t.mac_pj(DType::Mxfp4), t.mac_pj(DType::Fp4));
        let given = EnergyTable {
            mac_fp4_pj: Some(0.07),
            ..t.clone()
        };
        assert_eq!(given.mac_pj(DType::Fp4), 0.07);
        let bad = EnergyTable {
            mac_fp4_pj: Some(f64::NAN),
            ..t
        };
        assert_eq!(bad.validate().unwrap_err().0, "mac_fp4_pj");
    }

    #[test]
    fn active_power_and_mac_scale() {
        let t = EnergyTable::default();
        let c = Counters {
            macs: 1_000_000,
            ..Default::default()
        };
        let base = energy(&t, &c, DType::Bf16, 1e-3);
        let t2 = EnergyTable {
            active_w: 100.0,
            mac_scale: 2.0,
            ..t.clone()
        };
        let e = energy(&t2, &c, DType::Bf16, 1e-3);
        // 100 W for 1 ms = 0.1 J = 1e11 pJ on top of the static part.
        assert!((e.static_pj - base.static_pj - 1e11).abs() < 1.0);
        assert!((e.compute_pj - 2.0 * base.compute_pj).abs() < 1e-6);
        assert!((e.total_pj - (e.compute_pj + e.static_pj)).abs() < 1e-3);
        assert!(EnergyTable {
            active_w: -1.0,
            ..t.clone()
        }
        .validate()
        .is_err());
    }
}
