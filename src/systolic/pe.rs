//! PE-level reference mode: steps an R×C grid of processing elements cycle by cycle, moving real
//! operand values (f32, or bf16 via `half`) through the PE registers, and returns the product
//! matrix and the number of cycles it took. The fast models are trusted because this slow one
//! agrees with them (`tests/tpu_pe_props.rs`).
//!
//! Timing follows SCALE-Sim 3.0.0 (`docs/scalesim/MODEL.md` §2–§3): folds run one after
//! another and each fully fills and drains the *physical* array (unused PEs get zeros):
//! * **OS**: A enters row i skewed by i cycles, B enters column j skewed by j; PE(i,j) does
//!   the MAC of step k at cycle k+i+j. A fold ends with the last MAC of PE(R−1,C−1): `T+R+C−2`
//!   cycles (T = K).
//! * **WS**: R cycles shift the weight tile down into the PEs, then A streams in from the left
//!   (row i skewed by i) while partial sums move down; the fold ends when the last partial sum
//!   leaves the bottom of column C−1: `2R+C+T−2` cycles (T = M).
//! * **IS**: as WS with the A tile stationary and B streaming (T = N).
//!
//! The cycle counts are not computed from these formulas: the loops run until the last output
//! has been produced, and [`scalesim_cycles`] is only used by tests to check them.
//!
//! [`simulate_overlapped`] steps the same grid the way a TPU MXU runs (WS/IS): double-buffered
//! stationary registers loaded through a skewed shift chain while the current fold streams, a
//! diagonal shadow→active swap carried by the first activation of each fold, and accumulators
//! at the bottom of the array. Its cycle count is [`native_rule_cycles`], the native model's
//! pipeline rule; `tests/tpu_pe_props.rs` checks the native model against it directly.

use super::config::{Dataflow, SystolicConfig};
use super::native::NativeTpuMachine;
use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::MachineInfo;
use crate::machine::{finish_profile, profile_for, Counters, Machine, OpProfile};
use crate::workload::{DType, Gemm, Op};
use half::bf16;
use ndarray::Array2;
use serde_json::json;

/// Largest M·N·K·batch the PE-level mode accepts (2^24 MACs).
pub const PE_MAX_MACS: u128 = 1 << 24;
/// Largest array side the PE-level mode accepts.
pub const PE_MAX_SIDE: u64 = 256;
/// Largest number of PE-cycles (cycles × R × C) one op may take (2^32).
pub const PE_MAX_PE_CYCLES: u128 = 1 << 32;

/// An operand value a PE register can hold. Products are formed exactly in f32 (a bf16×bf16
/// product fits f32) and accumulated in f32, as the MXU does.
pub trait PeValue: Copy + Default + Send + Sync + 'static {
    fn to_f32(self) -> f32;
    fn from_f32(x: f32) -> Self;
}
impl PeValue for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(x: f32) -> Self {
        x
    }
}
impl PeValue for bf16 {
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    fn from_f32(x: f32) -> Self {
        bf16::from_f32(x)
    }
}

/// Result of a PE-level run.
#[derive(Debug, Clone)]
pub struct PeResult {
    /// C = A·B, f32.
    pub product: Array2<f32>,
    /// Cycles counted while stepping the grid.
    pub cycles: u64,
    pub folds: u64,
}

/// Folds of a GEMM on an R×C array: `ceil(Sr/R)·ceil(Sc/C)` (MODEL.md §2).
pub fn folds(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (sr, sc, _) = df.spatio_temporal(m, n, k);
    sr.div_ceil(r) * sc.div_ceil(c)
}

/// SCALE-Sim's cycles per fold: OS `T+R+C−2`, WS/IS `2R+C+T−2` (MODEL.md §3).
pub fn scalesim_cycles_per_fold(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (_, _, t) = df.spatio_temporal(m, n, k);
    match df {
        Dataflow::Os => t + r + c - 2,
        Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
    }
}

/// SCALE-Sim's demand lines `L = folds · per_fold` (its "Total Cycles" is `L − 1`).
pub fn scalesim_cycles(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    folds(m, n, k, r, c, df) * scalesim_cycles_per_fold(m, n, k, r, c, df)
}

/// The native model's pipeline cycles for the same GEMM on one R×C array, one MXU, one core,
/// with the whole GEMM in one VMEM block (rule 7 of [`crate::systolic::native`]): the folds run
/// back to back, each costing `max(T, R)` (the next tile's R-cycle load overlaps the stream), the
/// array fills and drains once, and the last fold does not wait for a next load:
///
/// `native = scalesim − (folds − 1) · (per_fold − max(T, R))`
pub fn native_rule_cycles(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (_, _, t) = df.spatio_temporal(m, n, k);
    let f = folds(m, n, k, r, c, df);
    let per = scalesim_cycles_per_fold(m, n, k, r, c, df);
    scalesim_cycles(m, n, k, r, c, df) - (f - 1) * (per - t.max(r))
}

/// Refuse shapes too big for cycle-by-cycle simulation, with a clear error.
pub fn check_size(m: u64, n: u64, k: u64, batch: u64, r: u64, c: u64, df: Dataflow) -> Result<()> {
    if r == 0 || c == 0 || r > PE_MAX_SIDE || c > PE_MAX_SIDE {
        return Err(Error::input(
            Location::file("<config>").key("array.rows"),
            format!(
                "PE-level mode steps every PE each cycle and accepts arrays up to {PE_MAX_SIDE}×{PE_MAX_SIDE}; this one is {r}×{c}. Use --mode native or a smaller array"
            ),
        ));
    }
    if m == 0 || n == 0 || k == 0 || batch == 0 {
        return Err(Error::setting(
            "gemm",
            format!("PE-level mode needs every dimension >= 1 (got {m}x{n}x{k}, batch {batch})"),
        ));
    }
    let macs = m as u128 * n as u128 * k as u128 * batch as u128;
    if macs > PE_MAX_MACS {
        return Err(Error::setting("mode",
            format!(
                "PE-level mode is a reference for small GEMMs: M·N·K·batch must be <= 2^24 ({PE_MAX_MACS}), got {macs} for {m}x{n}x{k} (batch {batch}); use --mode native"
            ),
        ));
    }
    let pe_cycles = scalesim_cycles(m, n, k, r, c, df) as u128 * (r * c) as u128 * batch as u128;
    if pe_cycles > PE_MAX_PE_CYCLES {
        return Err(Error::setting("mode",
            format!(
                "PE-level mode would step {pe_cycles} PE-cycles (limit 2^32) for {m}x{n}x{k} on {r}×{c}; use a smaller array or --mode native"
            ),
        ));
    }
    Ok(())
}

/// Weight-load step of a stationary fold: each cycle every row takes the row above, row 0 takes
/// the next tile row from the top edge (last row first); after R cycles row i holds tile row i.
/// Returns the PE registers and the cycles stepped (R).
fn load_stationary_tile<T: PeValue>(r: usize, c: usize, w: &[T]) -> (Vec<T>, u64) {
    let mut cycles = 0u64;
    let mut wreg = vec![T::default(); r * c];
    let mut loaded = 0usize;
    while loaded < r {
        for i in (1..r).rev() {
            for j in 0..c {
                wreg[i * c + j] = wreg[(i - 1) * c + j];
            }
        }
        let src = r - 1 - loaded;
        wreg[..c].copy_from_slice(&w[src * c..src * c + c]);
        loaded += 1;
        cycles += 1;
    }
    (wreg, cycles)
}

/// Run one stationary-operand fold (WS or IS): `w` is the R×C tile held in the PEs, `stream(t, i)`
/// is the value entering row i at stream step t (t < tlen), `out(t, j, v)` receives the finished
/// sum of stream step t in column j. Returns the cycles stepped.
fn stationary_fold<T: PeValue>(
    r: usize,
    c: usize,
    w: &[T],
    tlen: usize,
    stream: impl Fn(usize, usize) -> T,
    mut out: impl FnMut(usize, usize, f32),
) -> u64 {
    let (wreg, mut cycles) = load_stationary_tile(r, c, w);
    // Streaming: activations move right, partial sums move down, one PE per cycle.
    let mut areg = vec![T::default(); r * c];
    let mut psum = vec![0f32; r * c];
    let mut outputs = 0usize;
    let needed = tlen * c;
    let mut s = 0usize;
    while outputs < needed {
        for i in (0..r).rev() {
            for j in (0..c).rev() {
                let a = if j == 0 {
                    if s >= i && s - i < tlen {
                        stream(s - i, i)
                    } else {
                        T::default()
                    }
                } else {
                    areg[i * c + j - 1]
                };
                areg[i * c + j] = a;
                let above = if i == 0 { 0.0 } else { psum[(i - 1) * c + j] };
                psum[i * c + j] = above + a.to_f32() * wreg[i * c + j].to_f32();
            }
        }
        // Bottom row: the sum of stream step t in column j leaves at cycle t + (R−1) + j.
        for j in 0..c {
            if s + 1 >= r + j {
                let t = s + 1 - r - j;
                if t < tlen {
                    out(t, j, psum[(r - 1) * c + j]);
                    outputs += 1;
                }
            }
        }
        s += 1;
        cycles += 1;
    }
    cycles
}

/// Run one output-stationary fold: PE(i,j) accumulates over `tlen` (= K) steps; `a(i, kk)` enters
/// row i, `b(kk, j)` enters column j. Returns (accumulators R×C, cycles).
fn os_fold<T: PeValue>(
    r: usize,
    c: usize,
    tlen: usize,
    a: impl Fn(usize, usize) -> T,
    b: impl Fn(usize, usize) -> T,
) -> (Vec<f32>, u64) {
    let mut areg = vec![T::default(); r * c];
    let mut breg = vec![T::default(); r * c];
    let mut acc = vec![0f32; r * c];
    let mut macs_last = 0usize; // MACs done by PE(R−1, C−1)
    let mut s = 0usize;
    let mut cycles = 0u64;
    while macs_last < tlen {
        for i in (0..r).rev() {
            for j in (0..c).rev() {
                let av = if j == 0 {
                    if s >= i && s - i < tlen {
                        a(i, s - i)
                    } else {
                        T::default()
                    }
                } else {
                    areg[i * c + j - 1]
                };
                let bv = if i == 0 {
                    if s >= j && s - j < tlen {
                        b(s - j, j)
                    } else {
                        T::default()
                    }
                } else {
                    breg[(i - 1) * c + j]
                };
                areg[i * c + j] = av;
                breg[i * c + j] = bv;
                acc[i * c + j] += av.to_f32() * bv.to_f32();
            }
        }
        // PE(R−1,C−1) sees step kk at cycle kk + R − 1 + C − 1.
        if s + 2 >= r + c && s + 2 - r - c < tlen {
            macs_last += 1;
        }
        s += 1;
        cycles += 1;
    }
    (acc, cycles)
}

/// Output-stationary folds of `a` (M×K) · `b` (K×N) on an `ru×cu` array: rows ← M, columns ← N,
/// stream ← K, in SCALE-Sim's order (column folds outer, row folds inner); each fold's
/// accumulators are the finished outputs of its block. Returns (product, cycles, folds).
fn os_folds<T: PeValue>(
    a: &Array2<T>,
    b: &Array2<T>,
    ru: usize,
    cu: usize,
) -> (Array2<f32>, u64, u64) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let zero = T::default();
    let mut out = Array2::<f32>::zeros((m, n));
    let (mut cycles, mut nfolds) = (0u64, 0u64);
    for n0 in (0..n).step_by(cu) {
        for m0 in (0..m).step_by(ru) {
            let (acc, cyc) = os_fold(
                ru,
                cu,
                k,
                |i, kk| if m0 + i < m { a[[m0 + i, kk]] } else { zero },
                |kk, j| if n0 + j < n { b[[kk, n0 + j]] } else { zero },
            );
            for i in 0..ru.min(m - m0) {
                for j in 0..cu.min(n - n0) {
                    out[[m0 + i, n0 + j]] = acc[i * cu + j];
                }
            }
            cycles += cyc;
            nfolds += 1;
        }
    }
    (out, cycles, nfolds)
}

/// Weight-stationary folds of `a` (M×K) · `b` (K×N) on an `ru×cu` array: rows ← K, columns ←
/// N, stream ← M. Partial sums of each K-fold are added into the output (SCALE-Sim writes each
/// K-fold's partial sums out). Returns (product, cycles, folds).
fn ws_folds<T: PeValue>(
    a: &Array2<T>,
    b: &Array2<T>,
    ru: usize,
    cu: usize,
) -> (Array2<f32>, u64, u64) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let zero = T::default();
    let mut out = Array2::<f32>::zeros((m, n));
    let (mut cycles, mut nfolds) = (0u64, 0u64);
    for n0 in (0..n).step_by(cu) {
        for k0 in (0..k).step_by(ru) {
            let mut w = vec![zero; ru * cu];
            for i in 0..ru.min(k - k0) {
                for j in 0..cu.min(n - n0) {
                    w[i * cu + j] = b[[k0 + i, n0 + j]];
                }
            }
            cycles += stationary_fold(
                ru,
                cu,
                &w,
                m,
                |t, i| if k0 + i < k { a[[t, k0 + i]] } else { zero },
                |t, j, v| {
                    if n0 + j < n {
                        out[[t, n0 + j]] += v;
                    }
                },
            );
            nfolds += 1;
        }
    }
    (out, cycles, nfolds)
}

/// (M, N, K) of A (M×K) · B (K×N); an internal error when the inner dimensions differ.
fn gemm_dims<T>(a: &Array2<T>, b: &Array2<T>) -> Result<(usize, usize, usize)> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 {
        return Err(Error::internal(format!(
            "PE simulate: inner dimensions differ ({k} vs {k2})"
        )));
    }
    Ok((m, n, k))
}

/// Multiply `a` (M×K) by `b` (K×N) on an R×C array, cycle by cycle. Folds run in SCALE-Sim's
/// order (column folds outer, row folds inner). Errors if the shape is over the PE-mode limits.
pub fn simulate<T: PeValue>(
    a: &Array2<T>,
    b: &Array2<T>,
    r: u64,
    c: u64,
    df: Dataflow,
) -> Result<PeResult> {
    let (m, n, k) = gemm_dims(a, b)?;
    check_size(m as u64, n as u64, k as u64, 1, r, c, df)?;
    let (ru, cu) = (r as usize, c as usize);
    let (product, cycles, folds) = match df {
        Dataflow::Os => os_folds(a, b, ru, cu),
        Dataflow::Ws => ws_folds(a, b, ru, cu),
        Dataflow::Is => {
            // IS is WS on the transposed product: Cᵀ = Bᵀ·Aᵀ with Aᵀ (K×M) stationary (rows ← K,
            // columns ← M) and the rows of Bᵀ (N of them) streamed — the same folds, in the same
            // order (column folds outer), with the same per-element accumulation order.
            let (o, cyc, f) = ws_folds(&b.t().to_owned(), &a.t().to_owned(), ru, cu);
            (o.reversed_axes(), cyc, f)
        }
    };
    Ok(PeResult {
        product,
        cycles,
        folds,
    })
}

/// A stationary tile with its fold number (the tag that travels with the weights).
#[derive(Clone, Copy, Default)]
struct Tagged<T> {
    v: T,
    /// Fold number + 1 (0 = empty / bubble).
    fold: usize,
}

/// An activation register of the overlapped grid.
#[derive(Clone, Copy, Default)]
struct Activation<T> {
    v: T,
    /// Fold number + 1 (0 = bubble).
    fold: usize,
    /// First activation of its fold: it carries the shadow → active swap.
    first: bool,
    /// Stream step within the fold.
    t: usize,
}

/// Fold schedule of [`simulate_overlapped`]: the folds in SCALE-Sim order (column folds outer,
/// K-folds inner) as (outer origin, k0), and where each fold's stationary tile, stream values and
/// outputs come from and go:
/// * WS: tile[i][j] = B[k0+i][n0+j], stream t → A[t][k0+i], output (t, j) → C[t][n0+j].
/// * IS: tile[i][j] = A[m0+j][k0+i], stream t → B[k0+i][t], output (t, j) → C[m0+j][t].
struct FoldSchedule<'a, T> {
    a: &'a Array2<T>,
    b: &'a Array2<T>,
    df: Dataflow,
    k: usize,
    /// Extent of the dimension mapped to the columns (N for WS, M for IS).
    outer: usize,
    /// Stream steps per fold (M for WS, N for IS).
    tlen: usize,
    /// (outer origin, k0) of each fold, in the order they run.
    folds: Vec<(usize, usize)>,
}

impl<'a, T: PeValue> FoldSchedule<'a, T> {
    /// The folds of `a` (M×K) · `b` (K×N) on an `ru×cu` array for WS or IS.
    fn new(a: &'a Array2<T>, b: &'a Array2<T>, df: Dataflow, ru: usize, cu: usize) -> Self {
        let (m, k) = a.dim();
        let n = b.dim().1;
        let (outer, tlen) = match df {
            Dataflow::Ws => (n, m),
            _ => (m, n),
        };
        let mut folds: Vec<(usize, usize)> = Vec::new();
        for o0 in (0..outer).step_by(cu) {
            for k0 in (0..k).step_by(ru) {
                folds.push((o0, k0));
            }
        }
        FoldSchedule {
            a,
            b,
            df,
            k,
            outer,
            tlen,
            folds,
        }
    }

    /// Element (i, j) of fold f's stationary tile (zero outside the operand).
    #[inline(always)]
    fn tile(&self, f: usize, i: usize, j: usize) -> T {
        let (o0, k0) = self.folds[f];
        if k0 + i >= self.k || o0 + j >= self.outer {
            return T::default();
        }
        match self.df {
            Dataflow::Ws => self.b[[k0 + i, o0 + j]],
            _ => self.a[[o0 + j, k0 + i]],
        }
    }

    /// Value entering row i at stream step t of fold f (zero outside the operand).
    #[inline(always)]
    fn stream(&self, f: usize, t: usize, i: usize) -> T {
        let (_, k0) = self.folds[f];
        if k0 + i >= self.k {
            return T::default();
        }
        match self.df {
            Dataflow::Ws => self.a[[t, k0 + i]],
            _ => self.b[[k0 + i, t]],
        }
    }

    /// Add the finished sum `v` of stream step t, column j of fold f into the output (dropped
    /// when column j is padding).
    #[inline(always)]
    fn accumulate(&self, out: &mut Array2<f32>, f: usize, t: usize, j: usize, v: f32) {
        let (o0, _) = self.folds[f];
        if o0 + j < self.outer {
            match self.df {
                Dataflow::Ws => out[[t, o0 + j]] += v,
                _ => out[[o0 + j, t]] += v,
            }
        }
    }
}

/// Register state of the TPU-style grid of [`simulate_overlapped`] between cycles, plus the
/// controller's record of which folds have entered and which tiles are loaded.
struct OverlapGrid<T> {
    r: usize,
    c: usize,
    /// Stationary registers the MACs use.
    active: Vec<Tagged<T>>,
    /// Stationary registers the next tile is shifted into.
    shadow: Vec<Tagged<T>>,
    areg: Vec<Activation<T>>,
    psum: Vec<f32>,
    /// Per column: the fold being loaded into the shadow registers and the load's start cycle.
    load: Vec<Option<(usize, usize)>>,
    /// Per column: folds (+1) completely in the shadow registers.
    loaded_fold: Vec<usize>,
    /// Cycle each fold's first activation enters row 0 (`usize::MAX` until it does).
    start: Vec<usize>,
    /// Folds that have started entering row 0.
    next_fold: usize,
}

impl<T: PeValue> OverlapGrid<T> {
    /// Empty R×C grid for `nf` folds; every column starts loading fold 0's tile at cycle 0.
    fn new(r: usize, c: usize, nf: usize) -> Self {
        OverlapGrid {
            r,
            c,
            active: vec![Tagged::default(); r * c],
            shadow: vec![Tagged::default(); r * c],
            areg: vec![Activation::default(); r * c],
            psum: vec![0f32; r * c],
            load: vec![Some((0, 0)); c],
            loaded_fold: vec![0usize; c],
            start: vec![usize::MAX; nf],
            next_fold: 0,
        }
    }

    /// Controller step: fold f enters when fold f−1 has fully entered (T cycles) and its tile
    /// is loaded into the shadow registers of column 0.
    fn admit_next_fold(&mut self, cyc: usize, tlen: usize) {
        let f = self.next_fold;
        if f < self.start.len()
            && self.loaded_fold[0] > f
            && (f == 0 || cyc >= self.start[f - 1] + tlen)
        {
            self.start[f] = cyc;
            self.next_fold += 1;
        }
    }

    /// Left-edge input of row i at cycle `cyc`: row i sees stream step t of fold f at cycle
    /// start[f] + i + t; a bubble when no fold is streaming into that row.
    #[inline(always)]
    fn edge_activation(&self, plan: &FoldSchedule<T>, cyc: usize, i: usize) -> Activation<T> {
        let mut x = Activation::default();
        for f in (0..self.next_fold).rev() {
            if cyc >= self.start[f] + i {
                let t = cyc - self.start[f] - i;
                if t < plan.tlen {
                    x = Activation {
                        v: plan.stream(f, t, i),
                        fold: f + 1,
                        first: t == 0,
                        t,
                    };
                }
                break;
            }
        }
        x
    }

    /// Data-path step: one cycle of the wavefront, bottom-right first so every read sees last
    /// cycle's registers. Activations move right, partial sums move down.
    fn step_wavefront(&mut self, plan: &FoldSchedule<T>, cyc: usize) -> Result<()> {
        for i in (0..self.r).rev() {
            for j in (0..self.c).rev() {
                let act = if j == 0 {
                    self.edge_activation(plan, cyc, i)
                } else {
                    self.areg[i * self.c + j - 1]
                };
                self.pe_cycle(i, j, act, cyc)?;
            }
        }
        Ok(())
    }

    /// One PE's cycle: swap shadow → active if `act` starts a fold, then the MAC, checking that
    /// the active tile belongs to the activation's fold (an internal error otherwise).
    #[inline(always)]
    fn pe_cycle(&mut self, i: usize, j: usize, act: Activation<T>, cyc: usize) -> Result<()> {
        let c = self.c;
        let idx = i * c + j;
        if act.first {
            // Swap: the shadow must hold this fold's tile (read before this cycle's shift).
            if self.shadow[idx].fold != act.fold {
                return Err(Error::internal(format!(
                    "PE({i},{j}) cycle {cyc}: fold {} starts but the shadow holds fold {}",
                    act.fold, self.shadow[idx].fold
                )));
            }
            self.active[idx] = self.shadow[idx];
        }
        let above = if i == 0 {
            0.0
        } else {
            self.psum[(i - 1) * c + j]
        };
        let prod = if act.fold > 0 {
            if self.active[idx].fold != act.fold {
                return Err(Error::internal(format!(
                    "PE({i},{j}) cycle {cyc}: activation of fold {} meets weights of fold {}",
                    act.fold, self.active[idx].fold
                )));
            }
            act.v.to_f32() * self.active[idx].v.to_f32()
        } else {
            0.0
        };
        self.areg[idx] = act;
        self.psum[idx] = above + prod;
        Ok(())
    }

    /// Drain step: the finished sums leaving the bottom row go to the accumulators. Returns how
    /// many outputs (padding columns included) left this cycle.
    fn drain_outputs(&self, plan: &FoldSchedule<T>, out: &mut Array2<f32>) -> usize {
        let mut outputs = 0usize;
        let bottom = (self.r - 1) * self.c;
        for j in 0..self.c {
            let act = self.areg[bottom + j];
            if act.fold > 0 {
                plan.accumulate(out, act.fold - 1, act.t, j, self.psum[bottom + j]);
                outputs += 1;
            }
        }
        outputs
    }

    /// Shadow-load step: skewed shift chain per column, deepest row first. The load of fold f
    /// into column j starts in the cycle fold f−1's first activation reaches PE(0, j): that PE
    /// has just swapped (in [`Self::step_wavefront`], before this write), so its shadow register
    /// is free. A load takes R cycles.
    fn shift_shadow_loads(&mut self, plan: &FoldSchedule<T>, cyc: usize) {
        let (r, c, nf) = (self.r, self.c, self.start.len());
        for j in 0..c {
            if self.load[j].is_none() && self.loaded_fold[j] < nf {
                let f = self.loaded_fold[j];
                if f >= 1 && self.start[f - 1] != usize::MAX && cyc >= self.start[f - 1] + j {
                    self.load[j] = Some((f, cyc));
                }
            }
            if let Some((f, l0)) = self.load[j] {
                let step = cyc - l0; // 0..R−1
                for i in (1..=step.min(r - 1)).rev() {
                    self.shadow[i * c + j] = self.shadow[(i - 1) * c + j];
                }
                self.shadow[j] = Tagged {
                    v: plan.tile(f, r - 1 - step, j),
                    fold: f + 1,
                };
                if step + 1 == r {
                    self.loaded_fold[j] = f + 1;
                    self.load[j] = None;
                }
            }
        }
    }
}

/// Multiply on an R×C array the way a TPU MXU does it (WS or IS only): double-buffered
/// stationary registers, folds streamed back to back, partial sums of all folds accumulated at
/// the bottom of the array (the accumulators), one fill and one drain for the whole sequence.
///
/// Microarchitecture stepped here:
/// * every PE has an *active* and a *shadow* stationary register; the activation that starts a
///   fold carries a flag, and each PE copies shadow → active when that activation reaches it
///   (the swap moves diagonally with the data);
/// * the next tile is loaded into the shadow registers of column j through a skewed shift chain
///   (deepest row first, row i shifting from the i-th cycle of the load on), starting in the
///   cycle fold f's first activation reaches PE(0, j): R cycles per tile, overlapped with the
///   stream of the current fold;
/// * fold f+1 enters row 0 once fold f has entered completely (T cycles) and its tile is in the
///   shadow registers (R cycles after the load started).
///
/// Every MAC checks that the PE's active tile belongs to the fold of the activation it multiplies
/// (an internal error otherwise), so the overlap is verified, not assumed. The cycle count comes
/// out as [`native_rule_cycles`]; `tests/tpu_pe_props.rs` checks it over random shapes.
///
/// Each cycle runs, in order: [`OverlapGrid::admit_next_fold`], [`OverlapGrid::step_wavefront`],
/// [`OverlapGrid::drain_outputs`], [`OverlapGrid::shift_shadow_loads`].
pub fn simulate_overlapped<T: PeValue>(
    a: &Array2<T>,
    b: &Array2<T>,
    r: u64,
    c: u64,
    df: Dataflow,
) -> Result<PeResult> {
    let (m, n, k) = gemm_dims(a, b)?;
    if df == Dataflow::Os {
        return Err(Error::setting("dataflow",
            "the overlapped (TPU-style) PE reference covers the stationary-operand dataflows ws and is",
        ));
    }
    check_size(m as u64, n as u64, k as u64, 1, r, c, df)?;
    let (ru, cu) = (r as usize, c as usize);
    let plan = FoldSchedule::new(a, b, df, ru, cu);
    let nf = plan.folds.len();
    let mut grid = OverlapGrid::new(ru, cu, nf);
    let mut out = Array2::<f32>::zeros((m, n));
    let mut outputs = 0usize;
    let needed = nf * plan.tlen * cu;
    let mut cyc = 0usize;
    while outputs < needed {
        grid.admit_next_fold(cyc, plan.tlen);
        grid.step_wavefront(&plan, cyc)?;
        outputs += grid.drain_outputs(&plan, &mut out);
        grid.shift_shadow_loads(&plan, cyc);
        cyc += 1;
    }
    Ok(PeResult {
        product: out,
        cycles: cyc as u64,
        folds: nf as u64,
    })
}

/// Deterministic splitmix64 generator for the seeded operand values.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);
impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    /// Integer in [-lim, lim].
    pub fn next_int(&mut self, lim: i64) -> f32 {
        ((self.next_u64() % (2 * lim as u64 + 1)) as i64 - lim) as f32
    }
}

fn seed_of(g: &Gemm) -> u64 {
    // FNV-1a over the name and shape: the same op always gets the same operands.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let shape = format!("{}|{}|{}|{}|{}", g.name, g.m, g.n, g.k, g.dtype);
    for b in shape.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Largest |difference| allowed between the PE product and the ndarray product of the same
/// operand values: f32 accumulation-order rounding, relative to Σ|a·b| of the element.
fn tolerance(abs_sum: f32) -> f32 {
    abs_sum * 1e-5 + 1e-6
}

/// Compare a PE product with ndarray's matmul of the same (f32-converted) operands; returns the
/// largest absolute difference, or an internal error if it exceeds f32 accumulation rounding.
pub fn check_against_ndarray(
    a: &Array2<f32>,
    b: &Array2<f32>,
    product: &Array2<f32>,
) -> Result<f32> {
    let reference = a.dot(b);
    let abs = a.mapv(f32::abs).dot(&b.mapv(f32::abs));
    let mut max_err = 0f32;
    for ((x, y), s) in product.iter().zip(reference.iter()).zip(abs.iter()) {
        let d = (x - y).abs();
        if d > tolerance(*s) {
            return Err(Error::internal(format!(
                "PE-level product differs from the ndarray matmul: {x} vs {y} (bound {})",
                tolerance(*s)
            )));
        }
        max_err = max_err.max(d);
    }
    Ok(max_err)
}

/// Totals of one GEMM's batch on the PE grid.
#[derive(Debug, Default)]
struct PeTotals {
    /// SCALE-Sim-timed cycles.
    cycles: u64,
    folds: u64,
    /// Largest |PE − ndarray| over all products.
    max_err: f32,
    /// Cycles of the overlapped (TPU-style) run; 0 for OS.
    overlapped: u64,
}

/// Seeded operands of one batch element, A (M×K) then B (K×N), drawn from `rng` row by row:
/// integers in [-8, 8] for int8/fp8, uniform in [-1, 1) otherwise.
fn seeded_operands(g: &Gemm, rng: &mut SplitMix) -> (Array2<f32>, Array2<f32>) {
    let (m, n, k) = (g.m as usize, g.n as usize, g.k as usize);
    let mut gen = |rows: usize, cols: usize| -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| match g.dtype {
            DType::Int8 | DType::Fp8 => rng.next_int(8),
            _ => rng.next_f32(),
        })
    };
    let a = gen(m, k);
    let b = gen(k, n);
    (a, b)
}

/// One batch element: the SCALE-Sim-timed grid in the GEMM's dtype (bf16 for bf16/fp16), and
/// for WS/IS the overlapped grid on the same f32-converted operands, each product checked
/// against ndarray; adds the cycles, folds and error into `tot`.
fn run_batch_element(
    g: &Gemm,
    a: Array2<f32>,
    b: Array2<f32>,
    (r, c, df): (u64, u64, Dataflow),
    tot: &mut PeTotals,
) -> Result<()> {
    let (res, a32, b32) = match g.dtype {
        DType::Bf16 | DType::Fp16 => {
            let ah = a.mapv(bf16::from_f32);
            let bh = b.mapv(bf16::from_f32);
            let res = simulate(&ah, &bh, r, c, df)?;
            (res, ah.mapv(|x| x.to_f32()), bh.mapv(|x| x.to_f32()))
        }
        _ => (simulate(&a, &b, r, c, df)?, a, b),
    };
    let err = check_against_ndarray(&a32, &b32, &res.product)?;
    tot.max_err = tot.max_err.max(err);
    tot.cycles += res.cycles;
    tot.folds += res.folds;
    if df != Dataflow::Os {
        let ov = simulate_overlapped(&a32, &b32, r, c, df)?;
        let err = check_against_ndarray(&a32, &b32, &ov.product)?;
        tot.max_err = tot.max_err.max(err);
        tot.overlapped += ov.cycles;
    }
    Ok(())
}

/// The PE-level reference as a [`Machine`] (`archsim run --mode pe`): GEMMs run cycle by cycle on
/// one R×C array of the config with seeded random operands and are checked against an ndarray
/// matmul; vector ops are costed by the native VPU rule.
#[derive(Debug, Clone)]
pub struct PeMachine {
    native: NativeTpuMachine,
    info: MachineInfo,
}

impl PeMachine {
    /// Errors when the config's array is larger than [`PE_MAX_SIDE`].
    pub fn new(cfg: SystolicConfig, name: &str) -> Result<Self> {
        let (r, c) = (cfg.array.rows, cfg.array.cols);
        if r > PE_MAX_SIDE || c > PE_MAX_SIDE {
            return Err(Error::setting("mode",
                format!(
                    "PE-level mode accepts arrays up to {PE_MAX_SIDE}×{PE_MAX_SIDE}; `{name}` has {r}×{c} (array.rows × array.cols)"
                ),
            ));
        }
        // One R×C array at 1 MAC/PE/cycle: the PE mode simulates a single MXU.
        let mut info = super::native::info(&cfg, name, "pe");
        let one_array = 2.0 * (r * c) as f64 * cfg.clock_hz();
        info.peak_flops = MachineInfo::peaks(|_| one_array);
        Ok(PeMachine {
            native: NativeTpuMachine::new(cfg, name),
            info,
        })
    }

    fn cfg(&self) -> &SystolicConfig {
        self.native.config()
    }

    fn run_gemm(&self, g: &Gemm) -> Result<OpProfile> {
        let cfg = self.cfg();
        let (r, c, df) = (cfg.array.rows, cfg.array.cols, cfg.array.dataflow);
        check_size(g.m, g.n, g.k, g.batch, r, c, df)?;
        let mut rng = SplitMix(seed_of(g));
        let mut tot = PeTotals::default();
        for _ in 0..g.batch {
            let (a, b) = seeded_operands(g, &mut rng);
            run_batch_element(g, a, b, (r, c, df), &mut tot)?;
        }
        Ok(self.gemm_profile(g, &tot))
    }

    /// The op profile of a GEMM from its batch totals: SCALE-Sim-timed cycles split into useful
    /// compute, padding tail and fill/drain, register-traffic counters, and the plan JSON.
    fn gemm_profile(&self, g: &Gemm, tot: &PeTotals) -> OpProfile {
        let cfg = self.cfg();
        let (r, c, df) = (cfg.array.rows, cfg.array.cols, cfg.array.dataflow);
        let (cycles, nfolds) = (tot.cycles, tot.folds);
        let clock = cfg.clock_hz();
        let mut p = profile_for(&Op::Gemm(g.clone()));
        let (_, _, t) = df.spatio_temporal(g.m, g.n, g.k);
        let padded = nfolds as f64 * (r * c) as f64 * t as f64;
        let useful = g.macs() as f64;
        let tb = &mut p.time_breakdown_s;
        tb.compute_s = useful / (r * c) as f64 / clock;
        tb.tail_s = (padded - useful) / (r * c) as f64 / clock;
        tb.fill_drain_s = (cycles as f64 - padded / (r * c) as f64) / clock;
        p.cycles = cycles;
        p.compute_cycles = cycles;
        p.stall_cycles = 0;
        p.time_s = cycles as f64 / clock;
        p.mapping_efficiency = if padded > 0.0 { useful / padded } else { 0.0 };
        let e = g.dtype.bytes() as f64;
        p.counters = Counters {
            macs: g.macs(),
            reg_bytes: useful * (e + 4.0),
            ..Default::default()
        };
        p.plan = json!({
            "model": "pe",
            "dataflow": df.as_str(),
            "array_rows": r,
            "array_cols": c,
            "folds": nfolds,
            "cycles_per_fold": scalesim_cycles_per_fold(g.m, g.n, g.k, r, c, df),
            "verified_against_ndarray": true,
            "tpu_overlapped_cycles": if df == Dataflow::Os { serde_json::Value::Null } else { json!(tot.overlapped) },
            "max_abs_err": tot.max_err,
            "note": "one array; cycles use SCALE-Sim timing (folds not overlapped); tpu_overlapped_cycles is the same GEMM with double-buffered weights (f32 run); memory not modelled",
        });
        // Utilization against one array (the PE mode simulates one MXU).
        finish_profile(&mut p, 2.0 * (r * c) as f64 * clock);
        p
    }
}

impl Machine for PeMachine {
    fn info(&self) -> &MachineInfo {
        &self.info
    }
    fn energy_table(&self) -> &EnergyTable {
        &self.cfg().energy
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        match op {
            Op::Gemm(g) => self.run_gemm(g),
            Op::Vector(v) => Ok(self.native.simulate_vector(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut r = SplitMix(seed);
        Array2::from_shape_fn((rows, cols), |_| r.next_int(4))
    }

    type Sim = fn(&Array2<f32>, &Array2<f32>, u64, u64, Dataflow) -> Result<PeResult>;
    type Rule = fn(u64, u64, u64, u64, u64, Dataflow) -> u64;

    /// Every (M, N, K, R, C) case on every dataflow: the grid's product equals ndarray's and its
    /// cycles equal `rule`'s.
    fn check_against_rule(
        dataflows: &[Dataflow],
        cases: &[Shape],
        seed: u64,
        sim: Sim,
        rule: Rule,
    ) {
        for &df in dataflows {
            for &(m, n, k, r, c) in cases {
                let a = ints(m, k, seed);
                let b = ints(k, n, seed + 1);
                let res = sim(&a, &b, r, c, df).unwrap();
                assert_eq!(res.product, a.dot(&b), "{df} {m}x{n}x{k} on {r}x{c}");
                assert_eq!(
                    res.cycles,
                    rule(m as u64, n as u64, k as u64, r, c, df),
                    "{df} {m}x{n}x{k} on {r}x{c}"
                );
            }
        }
    }

    type Shape = (usize, usize, usize, u64, u64);
    const CASES: [Shape; 4] = [
        (5, 7, 3, 2, 3),
        (16, 16, 16, 4, 4),
        (1, 1, 1, 3, 2),
        (9, 4, 11, 4, 8),
    ];

    #[test]
    fn all_dataflows_exact_and_cycles_match_scalesim() {
        let all = [Dataflow::Os, Dataflow::Ws, Dataflow::Is];
        check_against_rule(&all, &CASES, 1, simulate, scalesim_cycles);
    }

    #[test]
    fn overlapped_matches_native_rule() {
        let mut cases = CASES.to_vec();
        cases.push((3, 20, 30, 8, 2));
        let (sim, rule): (Sim, Rule) = (simulate_overlapped, native_rule_cycles);
        check_against_rule(&[Dataflow::Ws, Dataflow::Is], &cases, 3, sim, rule);
    }

    #[test]
    fn size_limits_are_input_errors() {
        assert_eq!(
            check_size(1024, 1024, 1024, 1, 16, 16, Dataflow::Ws)
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            check_size(8, 8, 8, 1, 512, 16, Dataflow::Ws)
                .unwrap_err()
                .exit_code(),
            2
        );
        assert!(check_size(64, 64, 64, 1, 16, 16, Dataflow::Ws).is_ok());
    }

    #[test]
    fn native_rule_single_fold_equals_scalesim() {
        assert_eq!(
            native_rule_cycles(100, 16, 16, 16, 16, Dataflow::Ws),
            scalesim_cycles(100, 16, 16, 16, 16, Dataflow::Ws)
        );
        // 4 K-folds of T=100 ≥ R: R + 4·100 + R + C − 2.
        assert_eq!(
            native_rule_cycles(100, 16, 64, 16, 16, Dataflow::Ws),
            16 + 400 + 16 + 16 - 2
        );
    }
}
