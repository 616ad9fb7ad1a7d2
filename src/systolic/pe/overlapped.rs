//! The TPU-style grid (WS/IS): double-buffered stationary registers, folds streamed back to back,
//! accumulation at the bottom of the array; its cycle count is [`native_rule_cycles`].

use super::*;

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
