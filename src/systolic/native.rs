//! Native TPU-faithful systolic model ([`NativeTpuMachine`]): what a TPU TensorCore really does
//! with a GEMM, at the granularity of VMEM tiles and MXU weight tiles.
//!
//! # The machine
//! A chip has `chip.cores` TensorCores; each has `array.mxus` MXUs of `R×C` PEs
//! (`array.rows` × `array.cols`), a VMEM of `sram.vmem_mib`, and shares the chip's HBM
//! (`hbm.bandwidth_gbps`, `hbm.latency_ns`) and, on TPU v4, the CMEM (`sram.cmem_mib`).
//!
//! # Rules (each with its source)
//! 1. **Bytes, not words.** Operands move in their dtype's bytes ([`DType::bytes_per_element`],
//!    block scales included for fp4); partial sums are f32 (4 bytes) in the MXU accumulators and
//!    the VMEM accumulator tile (SPECS §1.2: `bf16[8,128] @ bf16[128,128] -> f32[8,128]`). An
//!    fp4 GEMM on a chip without fp4 units (`array.rate.fp4` absent: every shipped TPU) keeps
//!    its fp4 bytes and streams at the rate of its fallback precision
//!    ([`MachineInfo::math_dtype`]); the profile's `math_dtype` and `note` say so.
//! 2. **Core split.** The mapper splits the GEMM over the cores along M, N or the batch (XLA
//!    megacore partitioning); a core with more work than the average is load imbalance, reported
//!    in `time_breakdown_s.tail_s` and in `plan.core_imbalance`.
//! 3. **VMEM tiles and loop order.** Per core the GEMM is cut into `tm×tk` A tiles, `tk×tn` B
//!    tiles and `tm×tn` output tiles, K innermost (the output tile accumulates in f32 in VMEM, never
//!    in HBM). Loop order `m_outer` (for m, for n, for k) keeps the A row panel resident when
//!    `tk = K`, so A is read from HBM once and B once per m-tile; `n_outer` is the mirror image.
//!    Otherwise every step re-reads its A and B tiles (the Pallas pipelining rule: a block is
//!    re-fetched whenever its block index changes, JAX-MM). The double-buffered footprint
//!    `2·(tm·tk + tk·tn)·bytes + tm·tn·(4 + 2·bytes)` must fit `sram.vmem_mib`. On a chip with
//!    an accumulator memory (`sram.psum_mib`, Trainium's PSUM) the f32 output tile `tm·tn·4`
//!    accumulates there instead: it must fit the PSUM, and the scratchpad (SBUF) holds
//!    `2·(tm·tk + tk·tn)·bytes + 2·tm·tn·bytes` (NKI: matmul results accumulate in PSUM, are
//!    copied to SBUF and stored from there; the copy's vector-engine time is not modelled).
//! 4. **Software-pipelined DMA** (Pallas pipelining, JAX-MM: step i issues the copy-in of
//!    step i+1's input blocks and the copy-out of the output block finished before it, computes
//!    block i, then waits; the write-back of an output block overlaps the *next* block's
//!    compute, never its own). Step i costs `max(compute_i, dma_i)` and only the excess
//!    `dma − compute` is exposed (`memory_stall_s`), with `dma_i` = the loads of step i+1 plus
//!    the output write of the output tile before step i's (none during the first output tile,
//!    no loads during the last step). One step's DMA costs `hbm.latency_ns + bytes /
//!    (bandwidth · hbm.efficiency / active cores)`. The first step's loads (prologue) and the
//!    last output tile's write (epilogue: it starts when the last step's compute ends) are
//!    exposed. The steps are taken in loop order (batch, outer tile, inner tile, k; each loop's
//!    full tiles, then its edge tile), so an edge tile is costed next to its real neighbours: a
//!    1-row last step hides none of the previous tile's write. An output tile's write is spread
//!    evenly over the k-steps of the output tile after it (ASSUMPTION: its double-buffered VMEM
//!    block must be free before the tile after that starts; the even spread is not in the
//!    reference data), and the re-fetch of a resident panel over the steps that share it.
//! 5. **CMEM** (TPU v4): an operand that fits in half the CMEM is read from HBM once; its
//!    re-reads come from CMEM at `sram.cmem_bandwidth_gbps` (JAX-TI: CMEM 128 MiB on v4).
//! 6. **MXU timing (weight stationary, as TPUs do it).** A VMEM block holds
//!    `ceil(tk/R)·ceil(tn/C)` weight tiles ("folds"); the block's T = `tm` A rows stream through
//!    each one at `mac_rate · rate(dtype)` rows per cycle while the f32 partial sums accumulate
//!    across K in the accumulators (SPECS §1.2). The next weight tile is shifted into the
//!    double-buffered weight registers (R cycles, one row per cycle: Jouppi et al. ISCA 2017)
//!    while the current one streams, so a fold costs `max(ceil(T/rate), R/mac_rate)` cycles: it
//!    is weight-load bound only when fewer than R rows stream (`fill_drain_s`). Folds are spread
//!    over the MXUs; when a block has fewer folds than MXUs, the rows are split over replicas.
//!    OS and IS configs use the same rule with (Sr, Sc, T) from [`Dataflow::spatio_temporal`].
//! 7. **Fill/drain once per pipeline.** The array is filled and drained once per op and core,
//!    not per fold: `R` cycles for the first weight load (WS/IS; none for OS) plus `R + C − 2`
//!    cycles of skew fill and drain, and the last fold does not wait for a next weight load.
//!    Exactly: pipeline cycles = `Σ_folds max(T,R) − (max(T_last,R) − T_last) + [R] + R + C − 2`
//!    for a single MXU, which is SCALE-Sim's `folds · per_fold` with all but one fill/drain
//!    overlapped ([`crate::systolic::pe::native_rule_cycles`]). For WS/IS it is exactly the cycle
//!    count of the PE-level grid with double-buffered weights
//!    ([`crate::systolic::pe::simulate_overlapped`]), checked over random shapes in
//!    `tests/tpu_pe_props.rs`.
//! 8. **Mapper.** It searches tile sizes `tm, tn, tk` (powers of two from 128/256, the full
//!    dimension, and the balanced tiles that cut a core's share into the same number of
//!    equal tiles, whole native VMEM tiles: [`candidates_balanced`]), both loop orders and the
//!    core splits, keeps the fastest plan (ties: fewer HBM bytes, then larger tiles) and
//!    reports it in `plan`. On a chip with an accumulator memory (PSUM) it then tries the
//!    PSUM-filling tiles: next to each N (M) tile of the grid, the fewest equal M (N) tiles of
//!    the core share, in whole native tiles, whose f32 output tile fits the PSUM
//!    (`NativeTpuMachine::psum_tile`); they win only when strictly faster, or as fast with fewer
//!    bytes. A tiling whose lower bound (`NativeTpuMachine::core_time_lower_bound`: rule 4's
//!    `Σ max(compute, DMA) ≥ max(Σ compute, Σ DMA)`, at most 8 block evaluations) is above the
//!    best time so far cannot win and skips rule 4's step walk: the same plan, found faster
//!    (`candidates_tried` still counts it).
//! 9. **Vector ops** run on the VPU (`vpu.flops_per_cycle` per core, all cores) and stream their
//!    operands from/to HBM once: `time = max(flops / vpu_rate, latency + bytes / bandwidth)`,
//!    i.e. memory-bound for all elementwise ops at realistic sizes. They are costed as their own
//!    kernels (not fused into the neighbouring GEMM), a conservative choice.
//! 10. **`time_s`** is the device time of the op: from the start of its first DMA to the end of
//!     its last output write, plus `chip.dispatch_overhead_us` (the fixed per-op device cost seen
//!     in profiler traces). It does not include host dispatch (see `validate::tpu`).
//!
//! Time breakdown (the parts sum to `time_s`, taken on the critical core): `compute_s` = useful
//! MACs at the dtype's peak of the whole chip; `tail_s` = padding of partial tiles, MXU and core
//! load imbalance; `fill_drain_s` = rule 7 plus weight-load-bound folds; `memory_stall_s` =
//! rule 4's exposed DMA; `overhead_s` = dispatch. In a memory-bound step (DMA longer than the
//! MXU work) the MXU's padding and weight-load waits are hidden, so the step counts as its
//! useful compute plus memory stall.

use super::config::{Dataflow, SystolicConfig};
use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::attention::{self, AttentionFacts};
use crate::machine::{finish_profile, profile_for, Counters, Machine, MachineKind, OpProfile};
use crate::machine::{MachineInfo, MemoryLevel, VectorRoofline};
use crate::workload::{AttentionOp, DType, Gemm, Op, VectorKind, VectorOp};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Loop order of the VMEM tile loops (K is always innermost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopOrder {
    /// for m { for n { for k } }: the A row panel stays in VMEM when `tk = K`.
    MOuter,
    /// for n { for m { for k } }: the B column panel stays in VMEM when `tk = K`.
    NOuter,
}

/// How the GEMM is split over the TensorCores of a chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreSplit {
    /// All on one core (one-core chips).
    None,
    M,
    N,
    Batch,
}

/// A mapping of one GEMM: VMEM tile sizes, loop order and core split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiling {
    pub tm: u64,
    pub tn: u64,
    pub tk: u64,
    pub order: LoopOrder,
    pub split: CoreSplit,
}

/// The GEMM as the model sees it (shared-weight batches folded into M).
#[derive(Debug, Clone, Copy)]
struct GemmWork {
    m: u64,
    n: u64,
    k: u64,
    batch: u64,
    /// Operand storage bytes per element, block scales included ([`DType::bytes_per_element`]:
    /// 0.5625 for NVFP4). An fp4 GEMM on a chip without fp4 units keeps these bytes and streams
    /// at the rate of its fallback precision (`rate`).
    elem_bytes: f64,
    /// HBM bytes of A relative to the im2col matrix (≤ 1 for convolutions: the ifmap is read,
    /// the im2col expansion happens on chip).
    a_scale: f64,
    /// A rows streamed per cycle per MXU (mac_rate · rate of the precision the math runs at,
    /// [`MachineInfo::math_dtype`]).
    rate: f64,
}

/// One core's share of the work, run by `cores` identical cores.
#[derive(Debug, Clone, Copy)]
struct CoreShare {
    m: u64,
    n: u64,
    batch: u64,
    cores: u64,
}

/// The largest M and N of a split's core shares (the whole GEMM's when there are none): the
/// extent one core's tiles cover.
fn largest_share(shares: &[CoreShare], work: &GemmWork) -> (u64, u64) {
    (
        shares.iter().map(|s| s.m).max().unwrap_or(work.m),
        shares.iter().map(|s| s.n).max().unwrap_or(work.n),
    )
}

/// Cost of one core's share.
#[derive(Debug, Clone, Copy, Default)]
struct CoreCost {
    /// Total time of the core (excluding dispatch overhead), s.
    time_s: f64,
    /// MXU busy time Σ blocks, s (includes padding and weight-load-bound folds).
    busy_s: f64,
    /// Useful MXU time: the blocks' MACs at the full rate of all MXUs of the core, s.
    useful_s: f64,
    /// Padding / MXU-imbalance time of compute-bound steps (hidden under DMA otherwise), s.
    pad_s: f64,
    /// Weight-load wait (folds with fewer than R rows) of compute-bound steps, s.
    weight_load_s: f64,
    /// Fill/drain of the pipeline (rule 7), s.
    pipeline_s: f64,
    /// Exposed DMA, s.
    stall_s: f64,
    hbm_read: f64,
    hbm_write: f64,
    cmem_read: f64,
    vmem_read: f64,
    vmem_write: f64,
    padded_macs: f64,
    steps: f64,
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

/// One loop level of a core's step sequence (rule 4): `count` tiles of `tile`, the last one
/// (the edge tile) of `last` ≤ `tile`.
#[derive(Debug, Clone, Copy)]
struct Level {
    count: u64,
    tile: u64,
    last: u64,
}

impl Level {
    /// A dimension of `d` (≥ 1) cut into tiles of `t` (≥ 1).
    fn new(d: u64, t: u64) -> Level {
        let (d, t) = (d.max(1), t.clamp(1, d.max(1)));
        let count = ceil_div(d, t);
        Level {
            count,
            tile: t,
            last: d - (count - 1) * t,
        }
    }

    /// Size of the tile at `idx`.
    fn size(&self, idx: u64) -> u64 {
        if idx + 1 == self.count {
            self.last
        } else {
            self.tile
        }
    }

    /// Representative indices and how many indices each stands for (`n` = 0 past the last):
    /// the last index (it wraps: the step after it is in the next outer iteration), the one
    /// before it when the last tile is an edge tile (the step after it is smaller), the first
    /// when `prev_matters` (the step before it is in the previous outer iteration), and one
    /// index for the run of full tiles between them. Every index a representative stands for
    /// has the same tile size, neighbours of the same sizes, and wraps alike, so a sum over the
    /// representatives weighted by the counts is the sum over every step, in O(1) per level.
    fn reps(&self, prev_matters: bool) -> [(u64, f64); 4] {
        let n = self.count;
        let mut v = [(0u64, 0.0f64); 4];
        let mut len = 0;
        let mut push = |ix: u64, w: u64| {
            if w > 0 {
                v[len] = (ix, w as f64);
                len += 1;
            }
        };
        // The run of full tiles: [start, end) with `end` the last index whose next step is
        // a full tile of this level.
        let start = u64::from(prev_matters);
        let end = if self.last == self.tile {
            n - 1
        } else {
            n.saturating_sub(2)
        };
        if prev_matters {
            push(0, u64::from(n > 1));
        }
        push(start, end.saturating_sub(start));
        if end + 1 < n && end >= start {
            push(end, 1);
        }
        push(n - 1, 1);
        v
    }
}

/// A core share's tiles, residency and bandwidth shares ([`NativeTpuMachine::core_setup`]).
#[derive(Debug, Clone, Copy)]
struct CoreSetup {
    /// GEMM clock, Hz.
    clock: f64,
    /// The share's M and N and the GEMM's K.
    m: u64,
    n: u64,
    k: u64,
    /// The tiles clipped to the share, and how many of each.
    tm: u64,
    tn: u64,
    tk: u64,
    mt: u64,
    nt: u64,
    kt: u64,
    /// A (B) panel resident in VMEM over the inner loop: loaded once.
    a_res: bool,
    b_res: bool,
    /// Times each operand is streamed.
    reload_a: f64,
    reload_b: f64,
    /// HBM and CMEM bandwidth shares of one core, B/s; HBM latency, s.
    bw: f64,
    lat: f64,
    cmem_bw: f64,
    batch: f64,
    /// Operand bytes of the share (A with its block scales).
    a_total: f64,
    b_total: f64,
    /// Fraction of each operand's bytes that comes from HBM (the rest from CMEM, rule 5).
    a_hbm_frac: f64,
    b_hbm_frac: f64,
}

/// A VMEM block shape's MXU cost (rule 6), cached per core share in `eval_core`.
#[derive(Debug, Clone, Copy, Default)]
struct BlockShape {
    /// (tm, tn, tk) of the block.
    dims: (u64, u64, u64),
    /// MXU cycles of the block and, of those, weight-load wait.
    cycles: f64,
    weight_load: f64,
    /// (Sr, Sc, T) of the block on the PE grid ([`Dataflow::spatio_temporal`]).
    grid: (u64, u64, u64),
}

/// The index of the step after `ix` in a loop nest (`levels` outermost first; the innermost
/// index advances first), or None after the last step.
fn step_after<const L: usize>(levels: &[Level], mut ix: [u64; L]) -> Option<[u64; L]> {
    for d in (0..L).rev() {
        if ix[d] + 1 < levels[d].count {
            ix[d] += 1;
            return Some(ix);
        }
        ix[d] = 0;
    }
    None
}

/// The index of the step before `ix` in a loop nest, or None before the first step.
fn step_before<const L: usize>(levels: &[Level], mut ix: [u64; L]) -> Option<[u64; L]> {
    for d in (0..L).rev() {
        if ix[d] > 0 {
            ix[d] -= 1;
            return Some(ix);
        }
        ix[d] = levels[d].count - 1;
    }
    None
}

/// Tile-size candidates for a dimension of size `d`: powers of two from `lo` to 8192 below `d`,
/// and `d` itself when it is not huge (a full-dimension tile keeps a panel resident).
fn candidates(d: u64, lo: u64) -> Vec<u64> {
    let mut v = Vec::with_capacity(8);
    if d <= 65536 {
        v.push(d);
    }
    let mut t = 8192u64;
    while t >= lo {
        if t < d {
            v.push(t);
        }
        t /= 2;
    }
    if v.is_empty() {
        v.push(d.min(8192));
    }
    v
}

/// Sublane granule of an M tile (rows of A and of the output) of `elem_bytes` operands: the
/// native VMEM tile is (8, 128) for 32-bit data, with sublane tiling ×2 for 16-bit and ×4 for
/// 8-bit (SPECS §1.2, [JAX-TI]); 4-bit operands ×8 (ASSUMPTION: the same packing rule, not
/// in the reference data).
fn m_granule(elem_bytes: f64) -> u64 {
    if elem_bytes >= 4.0 {
        8
    } else if elem_bytes >= 2.0 {
        16
    } else if elem_bytes >= 1.0 {
        32
    } else {
        64
    }
}

/// Lane granule of an N or K tile: the 128 lanes of a native VMEM tile (SPECS §1.2, [JAX-TI]);
/// also the partition count of Trainium's SBUF and tensor engine (SPECS §6.1, [NKI-V2]).
const NK_GRANULE: u64 = 128;

/// [`candidates`] of a dimension `d` plus its *balanced* tiles for a core's share `share` (≤ d):
/// for each power-of-two tile `t < share`, the same number of tiles `j = ceil(share / t)` of
/// equal size, `round_up(ceil(share / j), granule)`. A power-of-two tile leaves an edge tile of
/// `share mod t` (1 row for a 1025-row share in 1024-row tiles) whose steps still re-stream a
/// whole weight tile (WS folds cost `max(T, R)` cycles, rule 6) and re-load whole B/A tiles;
/// the balanced tile does the same steps with no such edge. Tiles are whole native VMEM tiles
/// (`granule`, SPECS §1.2), not powers of two: the full-dimension tile the mapper always tried
/// is not one either (ASSUMPTION: a kernel may pick any such block size; the reference data
/// states no rule beyond the native tile). Descending, no duplicates (the mapper's tie order:
/// larger tiles first).
fn candidates_balanced(d: u64, share: u64, lo: u64, granule: u64) -> Vec<u64> {
    let mut v = candidates(d, lo);
    let share = share.clamp(1, d);
    let mut t = 8192u64;
    while t >= lo {
        if t < share {
            let j = ceil_div(share, t);
            let b = ceil_div(ceil_div(share, j), granule) * granule;
            if b < t {
                v.push(b);
            }
        }
        t /= 2;
    }
    v.sort_unstable_by(|a, b| b.cmp(a));
    v.dedup();
    v
}

/// The native TPU model. See the module docs for every rule.
#[derive(Debug, Clone)]
pub struct NativeTpuMachine {
    /// The clock the peak is quoted at (the config's before any power limit), Hz.
    nominal_clock_hz: f64,
    cfg: SystolicConfig,
    info: MachineInfo,
}

/// What the mapper learned of one tiling.
enum Tried {
    /// It does not fit the scratchpad or the accumulator memory, or its split does not apply.
    DoesNotFit,
    /// A lower bound on its time is above the time it had to beat.
    CannotWin,
    Evaluated(Box<Evaluated>),
}

/// A simulated GEMM with the cost details the profile needs.
struct Evaluated {
    tiling: Tiling,
    /// The tile one core holds, `tiling` clipped to the core's share (what VMEM/PSUM hold and
    /// what the plan reports).
    held: (u64, u64, u64),
    critical: CoreCost,
    total: CoreCost,
    active_cores: u64,
    mean_busy_s: f64,
    footprint: f64,
    a_resident: bool,
    b_resident: bool,
}

impl NativeTpuMachine {
    pub fn new(cfg: SystolicConfig, name: &str) -> Self {
        NativeTpuMachine {
            info: info(&cfg, name, "native"),
            nominal_clock_hz: cfg.clock_hz(),
            cfg,
        }
    }

    /// The GEMM on this chip with the power limit applied (the one physics both machine
    /// families share, [`crate::energy::power_limited_clock_hz`]): simulate at the nominal
    /// clock, take the op's dynamic power from the energy table, and re-simulate at the clock
    /// the limit allows (`chip.tdp_w`; no limit: the nominal result).
    fn simulate_gemm_powered(&self, g: &Gemm) -> Result<OpProfile> {
        let p = self.simulate_gemm(g, None)?;
        let Some(limit) = self.cfg.chip.tdp_w else {
            return Ok(p);
        };
        let (fixed_w, core_w) =
            crate::energy::power_split_w(&self.cfg.energy, &p.counters, p.math_dtype, p.time_s);
        let f = crate::energy::power_limited_clock_hz(
            self.nominal_clock_hz,
            self.cfg.chip.min_clock_mhz * 1e6,
            fixed_w,
            core_w,
            Some(limit),
        );
        if f >= self.nominal_clock_hz {
            return Ok(p);
        }
        let mut cfg = self.cfg.clone();
        cfg.chip.clock_mhz = f / 1e6;
        let slow = NativeTpuMachine {
            info: self.info.clone(),
            nominal_clock_hz: self.nominal_clock_hz,
            cfg,
        };
        let mut p = slow.simulate_gemm(g, None)?;
        p.clock_fraction = Some(f / self.nominal_clock_hz);
        Ok(p)
    }

    pub fn config(&self) -> &SystolicConfig {
        &self.cfg
    }

    fn r(&self) -> u64 {
        self.cfg.array.rows
    }
    fn c(&self) -> u64 {
        self.cfg.array.cols
    }

    /// Cycles to shift one weight tile into an MXU's shadow registers: R rows at one row per
    /// cycle (Jouppi et al. ISCA 2017), scaled by `mac_rate` (a PE that does 2 MACs per cycle is
    /// fed by a datapath twice as wide; equivalently, SPECS §1.3's "4 arrays" reading).
    pub fn weight_load_cycles(&self) -> f64 {
        (self.r() as f64 / self.cfg.array.mac_rate).ceil().max(1.0)
    }

    fn work(&self, g: &Gemm) -> GemmWork {
        let (m, batch) = if g.shared_b {
            (g.m.saturating_mul(g.batch), 1)
        } else {
            (g.m, g.batch)
        };
        let a_scale = match &g.conv {
            Some(cs) => {
                let real = cs.batch as f64 * cs.in_h as f64 * cs.in_w as f64 * cs.in_c as f64;
                let im2col =
                    g.m as f64 * g.k as f64 * if g.shared_b { g.batch as f64 } else { 1.0 };
                if im2col > 0.0 {
                    (real / im2col).min(1.0)
                } else {
                    1.0
                }
            }
            None => 1.0,
        };
        GemmWork {
            m,
            n: g.n,
            k: g.k,
            batch,
            elem_bytes: g.dtype.bytes_per_element(),
            a_scale,
            rate: self.cfg.array.mac_rate * self.cfg.array.rate.get(self.info.math_dtype(g.dtype)),
        }
    }

    /// MXU cycles of one VMEM block (rule 6): (cycles, of which weight-load wait, stream cycles
    /// of its last fold, per-fold cycles of its last fold).
    fn block_cycles(&self, work: &GemmWork, tm: u64, tn: u64, tk: u64) -> (f64, f64, f64, f64) {
        let (r, c) = (self.r(), self.c());
        let (sr, sc, t) = self.cfg.array.dataflow.spatio_temporal(tm, tn, tk);
        let folds = ceil_div(sr, r) * ceil_div(sc, c);
        let mxus = self.cfg.array.mxus;
        let (folds_per_mxu, t_per) = if folds >= mxus {
            (ceil_div(folds, mxus), t)
        } else {
            (1, ceil_div(t, mxus / folds))
        };
        let stream = (t_per as f64 / work.rate).ceil().max(1.0);
        let per = stream.max(self.weight_load_cycles());
        let f = folds_per_mxu as f64;
        (f * per, f * (per - stream), stream, per)
    }

    /// Scratchpad (VMEM/SBUF) bytes of a tiling (rule 3).
    fn footprint(&self, work: &GemmWork, tm: u64, tn: u64, tk: u64) -> f64 {
        let (tm, tn, tk) = (tm as f64, tn as f64, tk as f64);
        let acc = if self.cfg.sram.psum_mib > 0.0 {
            0.0
        } else {
            4.0
        };
        2.0 * (tm * tk + tk * tn) * work.elem_bytes + tm * tn * (acc + 2.0 * work.elem_bytes)
    }

    /// Whether the f32 output tile fits the accumulator memory (always, on chips without one).
    fn fits_psum(&self, tm: u64, tn: u64) -> bool {
        let psum = self.cfg.psum_bytes();
        psum <= 0.0 || tm as f64 * tn as f64 * 4.0 <= psum
    }

    /// The PSUM-filling M (or N) tile for a core share of `share` rows (or columns) next to a
    /// held N (or M) tile of `other`: the fewest equal tiles whose f32 output tile fits the
    /// accumulator memory, `j = ceil(share / cap)` with `cap = floor(PSUM / (4·other))` rounded
    /// down to whole `granule`s (rule 3: `tm·tn·4 ≤ PSUM`), sized like [`candidates_balanced`]:
    /// `round_up(ceil(share / j), granule)`, no larger than `cap` (a whole number of granules).
    /// The grid's tiles can land just above the PSUM (two 528-row tiles next to a 1024-wide N
    /// tile: 2.06 MiB of 2 MiB) and leave only much smaller ones. None on chips without PSUM,
    /// when the whole share fits, or when not one granule fits.
    ///
    /// Only the PSUM, not the scratchpad (VMEM/SBUF), sizes these tiles, so the candidate set
    /// does not depend on the scratchpad and a larger one admits every plan a smaller one does.
    /// Tiles sized to the scratchpad too broke that: over 400 random bf16 GEMMs (shapes drawn
    /// like `tests/model_invariants.rs`'s `dims()`, batch 1), twice the VMEM
    /// was slower in 4–8 per TPU config (up to 7.2 %) with the largest fitting tile, in 1–2 (up
    /// to 0.8 %) with only its balanced version, and it fixed no trn2 case that the PSUM alone
    /// does not. The PSUM size itself is not so covered: with twice the PSUM, 10 of the 400 ran
    /// slower on trn2 (up to 1.6 %). The scratchpad still bounds every tile in
    /// [`Self::evaluate`].
    fn psum_tile(&self, share: u64, other: u64, granule: u64) -> Option<u64> {
        let psum = self.cfg.psum_bytes();
        if psum <= 0.0 {
            return None;
        }
        let cap = (psum / (4.0 * other.max(1) as f64)).min(1e15) as u64 / granule * granule;
        if cap == 0 || cap >= share {
            return None;
        }
        let j = ceil_div(share, cap);
        Some(ceil_div(ceil_div(share, j), granule) * granule)
    }

    /// A lower bound on [`Self::eval_core`]'s `time_s` for the same core share, at the cost of
    /// at most 8 block evaluations instead of the step walk (the mapper prunes with it, so it
    /// must never exceed the walk's time). Rule 4 costs each step `max(compute_i, dma_i)`, and
    /// `Σ max(c_i, d_i) ≥ max(Σ c_i, Σ d_i)`: `Σ c_i` is summed exactly over the (full, edge)
    /// block classes along M, N and K; `Σ d_i` is bounded below by the HBM bytes the walk's
    /// DMA moves (every step's loads but the first step's, every output tile's write but the
    /// last one's) at the core's bandwidth share, without latencies or CMEM time. The
    /// prologue, epilogue and pipeline fill are the walk's own terms.
    fn core_time_lower_bound(
        &self,
        work: &GemmWork,
        share: &CoreShare,
        t: &Tiling,
        active: u64,
    ) -> f64 {
        let s = self.core_setup(work, share, t, active);
        let (lm, ln, lk) = (
            Level::new(s.m, s.tm),
            Level::new(s.n, s.tn),
            Level::new(s.k, s.tk),
        );
        let classes = |l: Level| -> [(u64, f64); 2] {
            if l.last == l.tile {
                [(l.tile, l.count as f64), (0, 0.0)]
            } else {
                [(l.tile, (l.count - 1) as f64), (l.last, 1.0)]
            }
        };
        let mut comp_cycles = 0.0;
        for (mi, cm) in classes(lm) {
            for (ni, cn) in classes(ln) {
                for (ki, ck) in classes(lk) {
                    if cm * cn * ck > 0.0 {
                        comp_cycles += cm * cn * ck * self.block_cycles(work, mi, ni, ki).0;
                    }
                }
            }
        }
        let comp = s.batch * comp_cycles / s.clock;
        // The HBM bytes the walk's DMA moves: the share's (as `eval_core` totals them) less the
        // first step's loads and the last tile's write.
        let eb = work.elem_bytes;
        let hbm_read =
            s.a_total * s.reload_a * s.a_hbm_frac + s.b_total * s.reload_b * s.b_hbm_frac;
        let hbm_write = s.batch * s.m as f64 * s.n as f64 * eb;
        let first_bytes =
            s.tm as f64 * s.tk as f64 * eb * work.a_scale + s.tk as f64 * s.tn as f64 * eb;
        let last_bytes = lm.last as f64 * ln.last as f64 * eb;
        let dma = ((hbm_read - first_bytes).max(0.0) + (hbm_write - last_bytes).max(0.0)) / s.bw;
        let (first, last, pipeline_s) = self.core_edges(work, &s);
        comp.max(dma) + first + last + pipeline_s
    }

    /// What costing a core share needs before its step walk (rules 3–5), shared by
    /// [`Self::eval_core`] and [`Self::core_time_lower_bound`].
    fn core_setup(&self, work: &GemmWork, share: &CoreShare, t: &Tiling, active: u64) -> CoreSetup {
        let cfg = &self.cfg;
        let (m, n, k) = (share.m, share.n, work.k);
        let tm = t.tm.min(m).max(1);
        let tn = t.tn.min(n).max(1);
        let tk = t.tk.min(k).max(1);
        let (mt, nt, kt) = (ceil_div(m, tm), ceil_div(n, tn), ceil_div(k, tk));
        let a_res = t.order == LoopOrder::MOuter && kt == 1;
        let b_res = t.order == LoopOrder::NOuter && kt == 1;
        let reload_a = if a_res { 1.0 } else { nt as f64 };
        let reload_b = if b_res { 1.0 } else { mt as f64 };
        let batch = share.batch as f64;
        let elem_bytes = work.elem_bytes;
        // CMEM (rule 5): fraction of each operand's step bytes that comes from HBM.
        let cmem = cfg.cmem_bytes();
        let a_total = batch * m as f64 * k as f64 * elem_bytes * work.a_scale;
        let b_total = batch * k as f64 * n as f64 * elem_bytes;
        let a_in_cmem = cmem > 0.0 && a_total <= cmem / (2.0 * active as f64);
        let b_in_cmem = cmem > 0.0 && b_total <= cmem / (2.0 * active as f64);
        CoreSetup {
            // The array runs at the (power-limited) clock times the kernel efficiency.
            clock: cfg.gemm_clock_hz(),
            m,
            n,
            k,
            tm,
            tn,
            tk,
            mt,
            nt,
            kt,
            a_res,
            b_res,
            reload_a,
            reload_b,
            bw: cfg.hbm_bytes_per_s() * cfg.hbm.efficiency / active as f64,
            lat: cfg.hbm.latency_ns * 1e-9,
            cmem_bw: cfg.sram.cmem_bandwidth_gbps * 1e9 / active as f64,
            batch,
            a_total,
            b_total,
            a_hbm_frac: if a_in_cmem { 1.0 / reload_a } else { 1.0 },
            b_hbm_frac: if b_in_cmem { 1.0 / reload_b } else { 1.0 },
        }
    }

    /// (prologue, epilogue, pipeline fill) of a core share, s: the first step's A and B tiles;
    /// the last output tile's write, which starts when the last step's compute ends; rule 7's
    /// one fill/drain per pipeline, where the last fold does not wait for a weight load.
    fn core_edges(&self, work: &GemmWork, s: &CoreSetup) -> (f64, f64, f64) {
        let eb = work.elem_bytes;
        let first =
            (s.tm as f64 * s.tk as f64 * eb * work.a_scale + s.tk as f64 * s.tn as f64 * eb) / s.bw
                + s.lat;
        let (ml, nl, kl) = (
            s.m - (s.mt - 1) * s.tm,
            s.n - (s.nt - 1) * s.tn,
            s.k - (s.kt - 1) * s.tk,
        );
        let last = ml as f64 * nl as f64 * eb / s.bw + s.lat;
        let (_, _, stream_last, per_last) = self.block_cycles(work, ml, nl, kl);
        let preload = if self.cfg.array.dataflow == Dataflow::Os {
            0.0
        } else {
            self.weight_load_cycles()
        };
        let pipe_cycles = preload + (self.r() + self.c()) as f64 - 2.0 - (per_last - stream_last);
        (first, last, pipe_cycles.max(0.0) / s.clock)
    }

    /// Cost of one core's share (rules 3–7).
    fn eval_core(&self, work: &GemmWork, share: &CoreShare, t: &Tiling, active: u64) -> CoreCost {
        let cfg = &self.cfg;
        let setup = self.core_setup(work, share, t, active);
        let CoreSetup {
            clock,
            m,
            n,
            k,
            tm,
            tn,
            tk,
            mt,
            nt,
            kt,
            a_res,
            b_res,
            reload_a,
            reload_b,
            bw,
            lat,
            cmem_bw,
            batch,
            a_total,
            b_total,
            a_hbm_frac,
            b_hbm_frac,
        } = setup;
        let elem_bytes = work.elem_bytes;

        // Rule 4: walk the step sequence in loop order (batch, outer tile, inner tile, k), one
        // representative per run of equivalent positions (`Level::reps`), so every step sees
        // its real neighbours: the loads of the step after it and the write of the output tile
        // before its own.
        let (outer, inner) = match t.order {
            LoopOrder::MOuter => (Level::new(m, tm), Level::new(n, tn)),
            LoopOrder::NOuter => (Level::new(n, tn), Level::new(m, tm)),
        };
        let levels = [
            Level::new(share.batch.max(1), 1),
            outer,
            inner,
            Level::new(k, tk),
        ];
        let mn_of = |ix: &[u64; 4]| -> (u64, u64) {
            let (o, i) = (outer.size(ix[1]), inner.size(ix[2]));
            match t.order {
                LoopOrder::MOuter => (o, i),
                LoopOrder::NOuter => (i, o),
            }
        };
        // A step's input bytes: (from HBM, from CMEM), resident panels amortized.
        let loads = |mi: u64, ni: u64, ki: u64| -> (f64, f64) {
            let a_b = mi as f64 * ki as f64 * elem_bytes * work.a_scale
                / if a_res { nt as f64 } else { 1.0 };
            let b_b = ki as f64 * ni as f64 * elem_bytes / if b_res { mt as f64 } else { 1.0 };
            (
                a_b * a_hbm_frac + b_b * b_hbm_frac,
                a_b * (1.0 - a_hbm_frac) + b_b * (1.0 - b_hbm_frac),
            )
        };
        // The previous output tile matters for the batch and tile levels, not for K (every
        // k-step of a tile carries the same write).
        let reps = [
            levels[0].reps(true),
            levels[1].reps(true),
            levels[2].reps(true),
            levels[3].reps(false),
        ];
        // Block cycles per block shape (at most 8 shapes: full or edge along each of M, N, K),
        // computed once.
        let mut shapes = [BlockShape::default(); 8];
        let mut n_shapes = 0;
        let mut cc = CoreCost::default();
        let mut sum_time = 0.0;
        // Representative output tiles (batch, outer, inner) with their weights, then the
        // k-steps of each; what depends only on the output tile is computed once per tile.
        let reps_of = |l: usize| reps[l].iter().filter(|r| r.1 > 0.0);
        for &(b, wb) in reps_of(0) {
            for &(o, wo) in reps_of(1) {
                for &(i, wi) in reps_of(2) {
                    let w_tile = wb * wo * wi;
                    let (mi, ni) = mn_of(&[b, o, i, 0]);
                    // The write of the output tile before this one, spread over this tile's
                    // k-steps (none during the first tile).
                    let prev_write = match step_before(&levels[..3], [b, o, i]) {
                        Some(pt) => {
                            let (mp, np) = mn_of(&[pt[0], pt[1], pt[2], 0]);
                            mp as f64 * np as f64 * elem_bytes / kt as f64
                        }
                        None => 0.0,
                    };
                    for &(kx, wk) in reps_of(3) {
                        let count = w_tile * wk;
                        let ix = [b, o, i, kx];
                        let ki = levels[3].size(kx);
                        let dims = (mi, ni, ki);
                        let shape = match shapes[..n_shapes].iter().find(|e| e.dims == dims) {
                            Some(e) => *e,
                            None => {
                                let (cycles, weight_load, _, _) =
                                    self.block_cycles(work, mi, ni, ki);
                                let grid = cfg.array.dataflow.spatio_temporal(mi, ni, ki);
                                shapes[n_shapes] = BlockShape {
                                    dims,
                                    cycles,
                                    weight_load,
                                    grid,
                                };
                                n_shapes += 1;
                                shapes[n_shapes - 1]
                            }
                        };
                        let (cyc, wl, (sr, sc, st)) = (shape.cycles, shape.weight_load, shape.grid);
                        let comp = cyc / clock;
                        // The next step's loads (none after the last step).
                        let (next_hbm, next_cmem) = match step_after(&levels, ix) {
                            Some(nx) => {
                                let (m_next, n_next) = mn_of(&nx);
                                loads(m_next, n_next, levels[3].size(nx[3]))
                            }
                            None => (0.0, 0.0),
                        };
                        let hbm_b = next_hbm + prev_write;
                        let dma = if hbm_b + next_cmem > 0.0 {
                            hbm_b / bw
                                + lat
                                + if next_cmem > 0.0 {
                                    next_cmem / cmem_bw
                                } else {
                                    0.0
                                }
                        } else {
                            0.0
                        };
                        // Useful MXU time of the block; in a memory-bound step everything else
                        // the MXU does (padding, weight-load waits) is hidden under the DMA.
                        let useful = mi as f64 * ni as f64 * ki as f64
                            / (cfg.array.mxus as f64 * (self.r() * self.c()) as f64 * work.rate)
                            / clock;
                        let useful = useful.min(comp);
                        sum_time += count * comp.max(dma);
                        cc.busy_s += count * comp;
                        cc.useful_s += count * useful;
                        if dma > comp {
                            cc.stall_s += count * (dma - useful);
                        } else {
                            cc.weight_load_s += count * wl / clock;
                            cc.pad_s += count * (comp - useful - wl / clock).max(0.0);
                        }
                        cc.steps += count;
                        cc.padded_macs += count
                            * (ceil_div(sr, self.r()) * self.r()) as f64
                            * (ceil_div(sc, self.c()) * self.c()) as f64
                            * st as f64;
                        // VMEM traffic: A rows read once per column fold, weights once per
                        // block, f32 partial sums written per k-step and read back on later
                        // k-steps.
                        cc.vmem_read += count
                            * (mi as f64 * ki as f64 * elem_bytes * ceil_div(ni, self.c()) as f64
                                + ki as f64 * ni as f64 * elem_bytes);
                        cc.vmem_write += count * mi as f64 * ni as f64 * 4.0;
                        cc.vmem_read +=
                            count * mi as f64 * ni as f64 * 4.0 * (kt as f64 - 1.0) / kt as f64;
                    }
                }
            }
        }
        debug_assert_eq!(
            cc.steps,
            levels.iter().map(|l| l.count as f64).product::<f64>()
        );
        cc.hbm_read = a_total * reload_a * a_hbm_frac + b_total * reload_b * b_hbm_frac;
        cc.cmem_read =
            a_total * reload_a * (1.0 - a_hbm_frac) + b_total * reload_b * (1.0 - b_hbm_frac);
        cc.hbm_write = batch * m as f64 * n as f64 * elem_bytes;
        // DMA into VMEM and output DMA out of VMEM.
        cc.vmem_write += cc.hbm_read + cc.cmem_read;
        cc.vmem_read += cc.hbm_write;
        let (first, last, pipeline_s) = self.core_edges(work, &setup);
        cc.stall_s += first + last;
        cc.pipeline_s = pipeline_s;
        cc.time_s = sum_time + first + last + cc.pipeline_s;
        cc
    }

    /// The per-core shares of a split.
    fn shares(&self, work: &GemmWork, split: CoreSplit) -> Option<Vec<CoreShare>> {
        let cores = self.cfg.chip.cores;
        let split_dim = |d: u64| -> Vec<(u64, u64)> {
            let chunk = ceil_div(d, cores);
            let full = d / chunk;
            let rem = d - full * chunk;
            let mut v = vec![(chunk, full)];
            if rem > 0 {
                v.push((rem, 1));
            }
            v
        };
        let (m, n, b) = (work.m, work.n, work.batch);
        match split {
            CoreSplit::None => Some(vec![CoreShare {
                m,
                n,
                batch: b,
                cores: 1,
            }]),
            _ if cores == 1 => None,
            CoreSplit::M if m >= 2 => Some(
                split_dim(m)
                    .into_iter()
                    .map(|(x, c)| CoreShare {
                        m: x,
                        n,
                        batch: b,
                        cores: c,
                    })
                    .collect(),
            ),
            CoreSplit::N if n >= 2 => Some(
                split_dim(n)
                    .into_iter()
                    .map(|(x, c)| CoreShare {
                        m,
                        n: x,
                        batch: b,
                        cores: c,
                    })
                    .collect(),
            ),
            CoreSplit::Batch if b >= 2 => Some(
                split_dim(b)
                    .into_iter()
                    .map(|(x, c)| CoreShare {
                        m,
                        n,
                        batch: x,
                        cores: c,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Evaluate one tiling; None when it does not fit VMEM or the split does not apply.
    fn evaluate(&self, work: &GemmWork, t: &Tiling) -> Option<Evaluated> {
        match self.evaluate_within(work, t, f64::INFINITY) {
            Tried::Evaluated(ev) => Some(*ev),
            _ => None,
        }
    }

    /// [`Self::evaluate`], skipping the step walk when the tiling cannot beat `beat_s`: when a
    /// core's [`Self::core_time_lower_bound`] is above it.
    fn evaluate_within(&self, work: &GemmWork, t: &Tiling, beat_s: f64) -> Tried {
        let Some(shares) = self.shares(work, t.split) else {
            return Tried::DoesNotFit;
        };
        // The tile a core holds is clipped to its share (as `eval_core` costs it), not to the
        // whole GEMM: an N split over 8 cores with tn = 1024 holds ceil(N/8)-wide tiles.
        let (share_m, share_n) = largest_share(&shares, work);
        let (tm, tn, tk) = (
            t.tm.min(share_m).max(1),
            t.tn.min(share_n).max(1),
            t.tk.min(work.k).max(1),
        );
        let fp = self.footprint(work, tm, tn, tk);
        if fp > self.cfg.vmem_bytes() || !self.fits_psum(tm, tn) {
            return Tried::DoesNotFit;
        }
        let active: u64 = shares.iter().map(|s| s.cores).sum();
        if beat_s.is_finite()
            && shares
                .iter()
                .any(|s| self.core_time_lower_bound(work, s, t, active) * (1.0 - 1e-6) > beat_s)
        {
            return Tried::CannotWin;
        }
        let mut critical = CoreCost::default();
        let mut total = CoreCost::default();
        let mut busy_sum = 0.0;
        for s in &shares {
            let c = self.eval_core(work, s, t, active);
            let w = s.cores as f64;
            if c.time_s > critical.time_s {
                critical = c;
            }
            busy_sum += c.busy_s * w;
            total.hbm_read += c.hbm_read * w;
            total.hbm_write += c.hbm_write * w;
            total.cmem_read += c.cmem_read * w;
            total.vmem_read += c.vmem_read * w;
            total.vmem_write += c.vmem_write * w;
            total.padded_macs += c.padded_macs * w;
            total.steps += c.steps * w;
        }
        let kt = ceil_div(work.k, tk);
        Tried::Evaluated(Box::new(Evaluated {
            tiling: *t,
            held: (tm, tn, tk),
            critical,
            total,
            active_cores: active,
            mean_busy_s: busy_sum / self.cfg.chip.cores as f64,
            footprint: fp,
            a_resident: t.order == LoopOrder::MOuter && kt == 1,
            b_resident: t.order == LoopOrder::NOuter && kt == 1,
        }))
    }

    /// The mapper (rule 8): search the tiling space, keep the fastest.
    fn map(&self, work: &GemmWork) -> Option<(Evaluated, usize)> {
        let lo_m = 128;
        let lo_n = self.c().max(128);
        let lo_k = self.r().max(128);
        let tks = candidates_balanced(work.k, work.k, lo_k, NK_GRANULE);
        let splits: &[CoreSplit] = if self.cfg.chip.cores > 1 {
            &[
                CoreSplit::M,
                CoreSplit::N,
                CoreSplit::Batch,
                CoreSplit::None,
            ]
        } else {
            &[CoreSplit::None]
        };
        let mut best: Option<Evaluated> = None;
        let mut tried = 0usize;
        let mut consider = |t: Tiling, best: &mut Option<Evaluated>| {
            for order in [LoopOrder::MOuter, LoopOrder::NOuter] {
                let t = Tiling { order, ..t };
                // A tiling is kept only when more than 1e-9 faster than the best, or within
                // 1e-9 and lighter on HBM: one whose lower bound is above 1 + 1e-9 times the
                // best cannot be kept, and is counted as tried without its step walk.
                let beat_s = best
                    .as_ref()
                    .map_or(f64::INFINITY, |b| b.critical.time_s * (1.0 + 1e-9));
                let ev = match self.evaluate_within(work, &t, beat_s) {
                    Tried::DoesNotFit => continue,
                    Tried::CannotWin => {
                        tried += 1;
                        continue;
                    }
                    Tried::Evaluated(ev) => *ev,
                };
                tried += 1;
                let better = match best {
                    None => true,
                    Some(b) => {
                        let (x, y) = (ev.critical.time_s, b.critical.time_s);
                        x < y * (1.0 - 1e-9)
                            || (x <= y * (1.0 + 1e-9)
                                && ev.total.hbm_read + ev.total.hbm_write
                                    < (b.total.hbm_read + b.total.hbm_write) * (1.0 - 1e-9))
                    }
                };
                if better {
                    *best = Some(ev);
                }
            }
        };
        let g_m = m_granule(work.elem_bytes);
        for &split in splits {
            // Balanced M and N tiles are sized to the largest core share of this split.
            let Some(shares) = self.shares(work, split) else {
                continue;
            };
            let (share_m, share_n) = largest_share(&shares, work);
            let tms = candidates_balanced(work.m, share_m, lo_m, g_m);
            let tns = candidates_balanced(work.n, share_n, lo_n, NK_GRANULE);
            let tiling = |tm, tn, tk| Tiling {
                tm,
                tn,
                tk,
                order: LoopOrder::MOuter,
                split,
            };
            for &tm in &tms {
                for &tn in &tns {
                    for &tk in &tks {
                        consider(tiling(tm, tn, tk), &mut best);
                    }
                }
            }
            // PSUM-filling tiles next to each grid tile ([`Self::psum_tile`]), after the grid
            // so that they win only when strictly better; larger tiles first, no duplicates.
            let mut extra: Vec<(u64, u64)> = Vec::new();
            for &tn in &tns {
                if let Some(tm) = self.psum_tile(share_m, tn.min(share_n), g_m) {
                    extra.push((tm, tn));
                }
            }
            for &tm in &tms {
                if let Some(tn) = self.psum_tile(share_n, tm.min(share_m), NK_GRANULE) {
                    extra.push((tm, tn));
                }
            }
            extra.retain(|(tm, tn)| !(tms.contains(tm) && tns.contains(tn)));
            extra.sort_unstable_by(|a, b| b.cmp(a));
            extra.dedup();
            for (tm, tn) in extra {
                for &tk in &tks {
                    consider(tiling(tm, tn, tk), &mut best);
                }
            }
        }
        best.map(|b| (b, tried))
    }

    /// Simulate a GEMM with the mapper's plan, or with a forced tiling (e.g. to reproduce a
    /// Pallas kernel with fixed block sizes).
    pub fn simulate_gemm(&self, g: &Gemm, forced: Option<Tiling>) -> Result<OpProfile> {
        if g.m == 0 || g.n == 0 || g.k == 0 || g.batch == 0 {
            return Err(Error::input(
                Location::file("<workload>").key(g.name.clone()),
                format!(
                    "GEMM `{}` has a zero dimension (m={}, n={}, k={}, batch={}); every dimension must be >= 1",
                    g.name, g.m, g.n, g.k, g.batch
                ),
            ));
        }
        let work = self.work(g);
        let (ev, tried) = match forced {
            Some(t) => {
                let ev = self.evaluate(&work, &t).ok_or_else(|| {
                    Error::input(
                        Location::file("<plan>").key("tiling"),
                        format!(
                            "tiling {}x{}x{} ({:?} split) does not fit {} MiB of VMEM or does not apply to `{}`",
                            t.tm, t.tn, t.tk, t.split, self.cfg.sram.vmem_mib, g.name
                        ),
                    )
                })?;
                (ev, 1)
            }
            None => self.map(&work).ok_or_else(|| {
                Error::input(
                    Location::file("<config>").key("sram.vmem_mib"),
                    format!(
                        "no tiling of `{}` ({}x{}x{} {}) fits {} MiB of VMEM",
                        g.name, g.m, g.n, g.k, g.dtype, self.cfg.sram.vmem_mib
                    ),
                )
            })?,
        };
        Ok(self.profile(g, &work, &ev, tried))
    }

    fn profile(&self, g: &Gemm, work: &GemmWork, ev: &Evaluated, tried: usize) -> OpProfile {
        let cfg = &self.cfg;
        let clock = cfg.clock_hz();
        let mut p = profile_for(&Op::Gemm(g.clone()));
        let math = self.info.math_dtype(g.dtype);
        p.set_math_dtype(&self.info.name, math);
        let crit = &ev.critical;
        let macs_per_s = |hz: f64| cfg.macs_per_cycle(math) * hz;
        // The whole GEMM's MACs at the nominal clock, at the (power-limited) clock this copy
        // runs, and at that clock times the kernel efficiency (the array's actual rate).
        let ideal_nominal = g.macs() as f64 / macs_per_s(self.nominal_clock_hz);
        let ideal_clock = g.macs() as f64 / macs_per_s(clock);
        let ideal_eff = g.macs() as f64 / macs_per_s(cfg.gemm_clock_hz());
        let overhead = cfg.chip.dispatch_overhead_us * 1e-6;
        let tb = &mut p.time_breakdown_s;
        // The parts add up to the critical core's time: useful + padding + weight-load waits of
        // compute-bound steps, the DMA time of memory-bound steps beyond their useful work, the
        // prologue/epilogue, and the pipeline fill/drain. The useful MXU time splits into
        // compute at the nominal clock, clock throttling, kernel efficiency and the tail.
        let mxu_s = crit.useful_s + crit.pad_s;
        tb.compute_s = ideal_nominal.min(mxu_s);
        tb.clock_throttle_s = ideal_clock.min(mxu_s) - tb.compute_s;
        tb.kernel_efficiency_s = ideal_eff.min(mxu_s) - ideal_clock.min(mxu_s);
        tb.tail_s = mxu_s - ideal_eff.min(mxu_s);
        tb.fill_drain_s = crit.pipeline_s + crit.weight_load_s;
        tb.memory_stall_s = crit.stall_s;
        tb.overhead_s = overhead;
        p.time_s = tb.total_s();
        p.cycles = (p.time_s * clock).round() as u64;
        let stall_cycles = ((crit.stall_s + overhead) * clock).round() as u64;
        p.stall_cycles = stall_cycles.min(p.cycles);
        p.compute_cycles = p.cycles - p.stall_cycles;
        p.mapping_efficiency = if ev.total.padded_macs > 0.0 {
            (g.macs() as f64 / ev.total.padded_macs).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let t = &ev.total;
        p.counters = Counters {
            macs: g.macs(),
            vector_flops: 0.0,
            // Operands inside the array are in the math precision (upcast from fp4 storage).
            reg_bytes: g.macs() as f64 * (math.bytes_per_element() + 4.0),
            sram_read_bytes: t.vmem_read + t.cmem_read,
            sram_write_bytes: t.vmem_write,
            hbm_read_bytes: t.hbm_read,
            hbm_write_bytes: t.hbm_write,
            ..Default::default()
        };
        let imbalance = if ev.mean_busy_s > 0.0 {
            crit.busy_s / ev.mean_busy_s
        } else {
            1.0
        };
        p.plan = json!({
            "model": "native",
            "dataflow": cfg.array.dataflow.as_str(),
            "tile_m": ev.held.0,
            "tile_n": ev.held.1,
            "tile_k": ev.held.2,
            "loop_order": ev.tiling.order,
            "core_split": ev.tiling.split,
            "active_cores": ev.active_cores,
            "core_imbalance": imbalance,
            "a_panel_resident": ev.a_resident,
            "b_panel_resident": ev.b_resident,
            "vmem_footprint_bytes": ev.footprint,
            "steps_total": t.steps,
            "shared_b_folded_into_m": g.shared_b && g.batch > 1,
            "a_hbm_scale": work.a_scale,
            "candidates_tried": tried,
        });
        finish_profile(&mut p, cfg.peak_flops(math));
        p
    }

    /// Fused attention ([`crate::machine::attention`]) with this TPU's facts: tiles of 512 query
    /// rows × 512 keys (ASSUMPTION: the block sizes of JAX's Pallas splash-attention kernel,
    /// recalled, not in the reference data), no cache between HBM and VMEM (every pass re-reads
    /// K/V from HBM), the softmax on the VPU at 5 FLOPs per score (the softmax count of
    /// [`VectorKind::flops_per_element`]) issued in the same VLIW bundles as the MXU pushes, so
    /// it overlaps the matrix work (Norrie et al., IEEE Micro 2021, TPUv2/v3 core: VLIW).
    pub fn simulate_attention(&self, op: &Op, a: &AttentionOp) -> Result<OpProfile> {
        let [qk, av] = attention::tile_gemms(a);
        let qk = self.simulate_gemm_powered(&qk)?;
        let av = self.simulate_gemm_powered(&av)?;
        let cfg = &self.cfg;
        let clock = cfg.clock_hz();
        let vpu_rate = cfg.vpu.flops_per_cycle * cfg.chip.cores as f64 * clock;
        let facts = AttentionFacts {
            block_q: 512,
            block_kv: 512,
            hbm_bytes_per_s: cfg.hbm_bytes_per_s() * cfg.hbm.efficiency,
            cache: None,
            cores: cfg.chip.cores,
            softmax_elements_per_s: vpu_rate / VectorKind::Softmax.flops_per_element(),
            softmax_overlaps: true,
            overhead_s: cfg.chip.dispatch_overhead_us * 1e-6,
            clock_hz: clock,
            peak_flops: self.info.effective_peak_flops(a.dtype),
        };
        let mut p = attention::simulate(op, a, &facts, &qk, &av);
        if let Some(obj) = p.plan.as_object_mut() {
            obj.insert("model".into(), "native".into());
        }
        Ok(p)
    }

    /// Vector op on the VPU (rule 9).
    pub fn simulate_vector(&self, v: &VectorOp) -> OpProfile {
        let cfg = &self.cfg;
        let clock = cfg.clock_hz();
        let mut p = profile_for(&Op::Vector(v.clone()));
        let vpu_rate = cfg.vpu.flops_per_cycle * cfg.chip.cores as f64 * clock;
        let bytes = v.bytes();
        // The VPU streams from HBM: the first access's latency is part of the transfer.
        let mem = if bytes > 0.0 {
            cfg.hbm.latency_ns * 1e-9 + bytes / (cfg.hbm_bytes_per_s() * cfg.hbm.efficiency)
        } else {
            0.0
        };
        let roof = VectorRoofline::new(v.flops(), vpu_rate, mem);
        let compute = roof.compute_s;
        let overhead = cfg.chip.dispatch_overhead_us * 1e-6;
        p.time_breakdown_s.compute_s = compute;
        p.time_breakdown_s.memory_stall_s = roof.memory_stall_s;
        p.time_breakdown_s.overhead_s = overhead;
        p.time_s = p.time_breakdown_s.total_s();
        p.cycles = (p.time_s * clock).round() as u64;
        p.compute_cycles = (compute * clock).round().min(p.cycles as f64) as u64;
        p.stall_cycles = p.cycles - p.compute_cycles;
        p.mapping_efficiency = 0.0;
        let read = v.read_bytes();
        let write = v.write_bytes();
        p.counters = Counters {
            vector_flops: v.flops(),
            reg_bytes: v.elements as f64 * 4.0 * 2.0,
            sram_read_bytes: read + write,
            sram_write_bytes: read + write,
            hbm_read_bytes: read,
            hbm_write_bytes: write,
            ..Default::default()
        };
        p.plan = json!({
            "model": "native",
            "unit": "vpu",
            "vpu_flops_per_s": vpu_rate,
            "bound": roof.bound(),
        });
        // Utilization of a vector op is against the unit that runs it: the VPU peak.
        finish_profile(&mut p, vpu_rate);
        p
    }
}

impl Machine for NativeTpuMachine {
    fn info(&self) -> &MachineInfo {
        &self.info
    }
    fn energy_table(&self) -> &EnergyTable {
        &self.cfg.energy
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        match op {
            Op::Gemm(g) => self.simulate_gemm_powered(g),
            Op::Vector(v) => Ok(self.simulate_vector(v)),
            Op::Attention(a) => self.simulate_attention(op, a),
        }
    }
}

/// The facts of a systolic machine built from an archsim TOML config (native and PE-level
/// modes): memory levels VMEM (per core × cores), CMEM and HBM; the VPU peak; the config's
/// parameters as report details.
///
/// Peak: `2 · cores · mxus · R · C · mac_rate · rate(dtype) · clock` (rates per chip in the
/// config, from SPECS §1.1: e.g. int8 at 2× bf16 on v5e/v5p/v6e, fp8 without speed-up on
/// v5p/v6e).
pub fn info(cfg: &SystolicConfig, name: &str, mode: &str) -> MachineInfo {
    const MIB: f64 = 1024.0 * 1024.0;
    let mut info = MachineInfo::new(name, MachineKind::Systolic);
    info.mode = Some(mode.to_string());
    info.clock_hz = cfg.clock_hz();
    info.peak_flops = MachineInfo::peaks(|d| cfg.peak_flops(d));
    info.vector_peak_flops = cfg.vpu.flops_per_cycle * cfg.chip.cores as f64 * cfg.clock_hz();
    let cores = cfg.chip.cores as f64;
    let mut memory = vec![MemoryLevel::new(
        "hbm",
        Some((cfg.hbm.capacity_gib * 1024.0 * MIB) as u64),
        Some(cfg.hbm_bytes_per_s()),
    )];
    if cfg.sram.cmem_mib > 0.0 {
        memory.push(MemoryLevel::new(
            "cmem",
            Some((cfg.sram.cmem_mib * MIB) as u64),
            None,
        ));
    }
    memory.push(MemoryLevel::new(
        &cfg.sram.name,
        Some((cfg.sram.vmem_mib * MIB * cores) as u64),
        None,
    ));
    if cfg.sram.psum_mib > 0.0 {
        memory.push(MemoryLevel::new(
            "psum",
            Some((cfg.sram.psum_mib * MIB * cores) as u64),
            None,
        ));
    }
    info.memory = memory;
    info.usd_per_chip_hour = cfg.cost.as_ref().map(|c| c.usd_per_chip_hour);
    info.tdp_w = cfg.chip.tdp_w;
    info.validation = cfg.validation.clone();
    info.details = crate::machine::details_of(&SystolicParams {
        description: cfg.description.clone(),
        array_rows: cfg.array.rows,
        array_cols: cfg.array.cols,
        dataflow: cfg.array.dataflow.as_str().to_string(),
        mxus_per_core: cfg.array.mxus,
        mac_rate: cfg.array.mac_rate,
        cores: cfg.chip.cores,
        dispatch_overhead_us: cfg.chip.dispatch_overhead_us,
        vmem_mib_per_core: cfg.sram.vmem_mib,
        cmem_mib: cfg.sram.cmem_mib,
        hbm_latency_ns: cfg.hbm.latency_ns,
        hbm_capacity_gib: cfg.hbm.capacity_gib,
        peak_bf16_tflops: cfg.peak_flops(DType::Bf16) / 1e12,
        peak_int8_tops: cfg.peak_flops(DType::Int8) / 1e12,
        // Keys only chips that have them report (the TPU configs' objects unchanged).
        scratchpad: (cfg.sram.name != "vmem").then(|| cfg.sram.name.clone()),
        psum_mib_per_core: (cfg.sram.psum_mib > 0.0).then_some(cfg.sram.psum_mib),
    });
    info
}

/// The systolic model's own keys of a report's `"machine"` object (native and PE-level modes):
/// the config's parameters as the model read them (`docs/reference/config-systolic.md`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SystolicParams {
    /// The config's one-line description (`description`; empty when it gives none).
    pub description: String,
    /// PE rows R of one matrix unit (`array.rows`).
    pub array_rows: u64,
    /// PE columns C of one matrix unit (`array.cols`).
    pub array_cols: u64,
    /// Dataflow of the array: `ws` (weight-, `os` output-, `is` input-stationary).
    pub dataflow: String,
    /// Matrix units (MXUs) per core (`array.mxus`).
    pub mxus_per_core: u64,
    /// bf16 MACs per PE per cycle (`array.mac_rate`).
    pub mac_rate: f64,
    /// Cores (TensorCores, NeuronCores) per chip (`chip.cores`).
    pub cores: u64,
    /// Fixed device time per op: program/DMA-descriptor setup and the end-of-op
    /// synchronisation (`chip.dispatch_overhead_us`).
    pub dispatch_overhead_us: f64,
    /// Software-managed scratchpad per core (TPU VMEM, Trainium SBUF; `sram.vmem_mib`).
    pub vmem_mib_per_core: f64,
    /// Common memory per chip (TPU v4 CMEM; `sram.cmem_mib`), 0 when the chip has none.
    pub cmem_mib: f64,
    /// Latency of one HBM DMA, issue to first byte (`hbm.latency_ns`).
    pub hbm_latency_ns: f64,
    /// HBM capacity (`hbm.capacity_gib`).
    pub hbm_capacity_gib: f64,
    /// Dense bf16 peak of the chip: 2 · cores · MXUs · R · C · mac_rate · clock (1 MAC = 2 FLOPs).
    pub peak_bf16_tflops: f64,
    /// Dense int8 peak of the chip (1 MAC = 2 operations).
    pub peak_int8_tops: f64,
    /// The scratchpad's name where it is not `vmem` (e.g. `sbuf` on Trainium); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratchpad: Option<String>,
    /// Accumulator memory per core (Trainium PSUM; `sram.psum_mib`); absent when the chip has
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psum_mib_per_core: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(cores: u64, mxus: u64) -> SystolicConfig {
        let src = format!(
            "kind = \"systolic\"\n[array]\nrows = 128\ncols = 128\nmxus = {mxus}\n[chip]\ncores = {cores}\nclock_mhz = 1000\ndispatch_overhead_us = 1.0\n[sram]\nvmem_mib = 64\n[hbm]\nbandwidth_gbps = 1000\nlatency_ns = 300\n"
        );
        SystolicConfig::from_toml(&src, "t.toml").unwrap()
    }

    #[test]
    fn breakdown_sums_to_time_and_big_gemm_is_compute_bound() {
        let m = NativeTpuMachine::new(cfg(2, 4), "t");
        let p = m
            .simulate(&Op::Gemm(Gemm::new("g", 8192, 8192, 8192)))
            .unwrap();
        let tb = &p.time_breakdown_s;
        assert!((tb.total_s() - p.time_s).abs() < 1e-12 * p.time_s.max(1.0));
        assert!(p.utilization > 0.9, "{}", p.utilization);
        assert_eq!(p.cycles, p.compute_cycles + p.stall_cycles);
    }

    #[test]
    fn decode_gemm_is_memory_bound() {
        let m = NativeTpuMachine::new(cfg(2, 4), "t");
        let p = m
            .simulate(&Op::Gemm(Gemm::new("g", 1, 12288, 12288)))
            .unwrap();
        let bytes = 12288.0 * 12288.0 * 2.0;
        assert!(p.time_s >= bytes / 1e12);
        assert_eq!(p.main_stall, "memory_stall");
        assert!(p.counters.hbm_read_bytes >= bytes);
    }

    #[test]
    fn uneven_split_shows_as_tail() {
        let m = NativeTpuMachine::new(cfg(2, 1), "t");
        let p = m
            .simulate(&Op::Gemm(Gemm::new("g", 128, 128, 4096)))
            .unwrap();
        assert!(p.time_breakdown_s.tail_s > 0.0);
    }

    #[test]
    fn psum_bounds_the_output_tile_and_frees_vmem() {
        let plain = cfg(1, 1);
        let mut with_psum = plain.clone();
        with_psum.sram.psum_mib = 0.25;
        with_psum.sram.name = "sbuf".into();
        let g = Op::Gemm(Gemm::new("g", 4096, 4096, 4096));
        let m = NativeTpuMachine::new(with_psum, "t");
        let p = m.simulate(&g).unwrap();
        let (tm, tn) = (
            p.plan["tile_m"].as_u64().unwrap(),
            p.plan["tile_n"].as_u64().unwrap(),
        );
        assert!(tm * tn * 4 <= 256 * 1024, "{tm}x{tn}");
        let names: Vec<&str> = m.info().memory.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["hbm", "sbuf", "psum"]);
        assert!(m.info().details.contains_key("psum_mib_per_core"));
        // Without PSUM the accumulator tile counts in VMEM.
        let m0 = NativeTpuMachine::new(plain, "t");
        let names: Vec<&str> = m0.info().memory.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["hbm", "vmem"]);
        assert!(!m0.info().details.contains_key("psum_mib_per_core"));
    }

    #[test]
    fn zero_dim_is_input_error() {
        let m = NativeTpuMachine::new(cfg(1, 1), "t");
        let e = m.simulate(&Op::Gemm(Gemm::new("g", 0, 8, 8))).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    /// The mapper skips the step walk of a tiling whose lower bound is above the best time so
    /// far; the bound must never exceed the walk's time, or the mapper could drop the best
    /// tiling. Checked on the shipped TPU and Trainium configs (CMEM on v4, PSUM on trn2, two
    /// cores on v4/v5p/7x), over GEMMs with edge tiles, batches, skinny and decode shapes, every
    /// split, loop order and a spread of tile sizes.
    #[test]
    fn lower_bound_never_exceeds_the_step_walk() {
        let srcs = [
            ("tpu_v4", include_str!("../../configs/tpu_v4.toml")),
            ("tpu_v5p", include_str!("../../configs/tpu_v5p.toml")),
            ("tpu_v6e", include_str!("../../configs/tpu_v6e.toml")),
            ("tpu7x", include_str!("../../configs/tpu7x.toml")),
            ("trn2", include_str!("../../configs/trn2.toml")),
        ];
        let mut rng = crate::units::TestRng::new(0x2545_f491_4f6c_dd1d);
        let mut next = |lo: u64, hi: u64| lo + rng.below(hi - lo + 1);
        let mut gemms = vec![
            Gemm::new("big", 8192, 8192, 8192),
            Gemm::new("edge", 1664, 4766, 1000),
            Gemm::new("decode", 1, 8192, 8192),
            Gemm::new("batched", 333, 777, 12345).with_batch(3),
        ];
        for i in 0..24 {
            let (m, n, k) = (next(1, 20000), next(1, 20000), next(1, 20000));
            gemms.push(Gemm::new(format!("r{i}"), m, n, k).with_batch(next(1, 4)));
        }
        let mut checked = 0;
        for (name, src) in srcs {
            let c = SystolicConfig::from_toml(src, name).unwrap();
            let mach = NativeTpuMachine::new(c, name);
            for g in &gemms {
                let work = mach.work(g);
                for split in [
                    CoreSplit::None,
                    CoreSplit::M,
                    CoreSplit::N,
                    CoreSplit::Batch,
                ] {
                    let Some(shares) = mach.shares(&work, split) else {
                        continue;
                    };
                    let active: u64 = shares.iter().map(|s| s.cores).sum();
                    for tm in [128, 384, 1000, 4096] {
                        for tn in [128, 640, 2048] {
                            for tk in [128, 896, 4096, 1 << 20] {
                                for order in [LoopOrder::MOuter, LoopOrder::NOuter] {
                                    let t = Tiling {
                                        tm,
                                        tn,
                                        tk,
                                        order,
                                        split,
                                    };
                                    for s in &shares {
                                        let walk = mach.eval_core(&work, s, &t, active).time_s;
                                        let lb = mach.core_time_lower_bound(&work, s, &t, active);
                                        assert!(
                                            lb <= walk * (1.0 + 1e-12),
                                            "{name} {}x{}x{}x{} {t:?}: bound {lb} > walk {walk}",
                                            g.batch,
                                            g.m,
                                            g.n,
                                            g.k
                                        );
                                        checked += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn huge_dims_do_not_panic() {
        let m = NativeTpuMachine::new(cfg(2, 4), "t");
        let g = Gemm::new("g", 1 << 32, 1 << 32, 1 << 32).with_batch(1 << 20);
        let p = m.simulate(&Op::Gemm(g)).unwrap();
        assert!(p.time_s.is_finite() && p.time_s > 0.0);
    }
}
