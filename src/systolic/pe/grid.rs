//! The SCALE-Sim-timed grid: folds one after another, each filling and draining the physical
//! array (MODEL.md §2–§3), for OS, WS and IS.

use super::*;

/// What PE(i, j) of an R×`c` grid receives from its left this cycle: the edge input in column 0,
/// else the register of its left neighbour (last cycle's value).
#[inline(always)]
fn from_left<T: Copy>(reg: &[T], c: usize, i: usize, j: usize, edge: impl FnOnce() -> T) -> T {
    if j == 0 {
        edge()
    } else {
        reg[i * c + j - 1]
    }
}

/// The value entering lane `lane` at the array's edge in cycle `s`: the wavefront is skewed by
/// one cycle per lane, so lane `lane` sees stream step `s − lane` while that is within
/// `0..tlen`, and zero (a bubble) otherwise.
#[inline(always)]
fn edge<T: PeValue>(s: usize, lane: usize, tlen: usize, value: impl FnOnce(usize) -> T) -> T {
    if s >= lane && s - lane < tlen {
        value(s - lane)
    } else {
        T::default()
    }
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
                let a = from_left(&areg, c, i, j, || edge(s, i, tlen, |t| stream(t, i)));
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
                    edge(s, i, tlen, |t| a(i, t))
                } else {
                    areg[i * c + j - 1]
                };
                let bv = if i == 0 {
                    edge(s, j, tlen, |t| b(t, j))
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

/// A product assembled fold by fold: (product, cycles, folds).
type Folded = (Array2<f32>, u64, u64);

/// (M, K, N) of A (M×K) · B (K×N), and the zero that pads partial tiles.
fn operand_shape<T: PeValue>(a: &Array2<T>, b: &Array2<T>) -> (usize, usize, usize, T) {
    let (m, k) = a.dim();
    (m, k, b.dim().1, T::default())
}

/// Output-stationary folds of `a` (M×K) · `b` (K×N) on an `ru×cu` array: rows ← M, columns ← N,
/// stream ← K, in SCALE-Sim's order (column folds outer, row folds inner); each fold's
/// accumulators are the finished outputs of its block. Returns (product, cycles, folds).
fn os_folds<T: PeValue>(a: &Array2<T>, b: &Array2<T>, ru: usize, cu: usize) -> Folded {
    let (m, k, n, zero) = operand_shape(a, b);
    let (mut out, mut cycles, mut nfolds) = (Array2::<f32>::zeros((m, n)), 0u64, 0u64);
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
fn ws_folds<T: PeValue>(a: &Array2<T>, b: &Array2<T>, ru: usize, cu: usize) -> Folded {
    let (m, k, n, zero) = operand_shape(a, b);
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
