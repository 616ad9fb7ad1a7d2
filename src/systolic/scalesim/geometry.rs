//! A layer as SCALE-Sim 3.0.0 sees it (a conv layer; a GEMM is a conv with a 1×K filter), the
//! dataflow mapping (Sr, Sc, T) and the fold shapes.
//!
//! Sources: `topology_utils.topo_calc_hyperparams` (ofmap size, ceil convention),
//! `topology_utils.load_arrays_gemm` (GEMM → conv), `compute/operand_matrix.py`
//! (`calc_ifmap_elem_addr`: which im2col entries are −1), `compute/systolic_compute_*.set_params`
//! (Sr, Sc, T and the folds). MODEL.md §1.2 and §2.

use crate::error::{Error, Result};
use crate::systolic::scalesim_cfg::Dataflow;
use crate::workload::Gemm;

/// A SCALE-Sim conv layer: NHWC ifmap `ifmap_h × ifmap_w × channels`, `num_filters` filters of
/// `filter_h × filter_w × channels`, one stride for both directions, no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub ifmap_h: u64,
    pub ifmap_w: u64,
    pub filter_h: u64,
    pub filter_w: u64,
    pub channels: u64,
    pub num_filters: u64,
    pub stride: u64,
    /// `ceil((H − Fh + S)/S)` (`topo_calc_hyperparams`).
    pub ofmap_h: u64,
    pub ofmap_w: u64,
}

#[cfg(test)]
impl Layer {
    /// A random conv layer for the tests that compare a fast path with a walk: ifmap sides
    /// 3..3+`hw`, filter sides 1..=min(side, `f`), stride 1..=`s`, 1..=`c` channels and 1..=`nf`
    /// filters, drawn in that order; `None` where [`Layer::conv`] rejects it.
    pub(crate) fn random(
        rng: &mut crate::units::TestRng,
        hw: u64,
        f: u64,
        s: u64,
        c: u64,
        nf: u64,
    ) -> Option<Layer> {
        let h = 3 + rng.below(hw);
        let w = 3 + rng.below(hw);
        let fh = 1 + rng.below(h.min(f));
        let fw = 1 + rng.below(w.min(f));
        let st = 1 + rng.below(s);
        let ch = 1 + rng.below(c);
        let n = 1 + rng.below(nf);
        Layer::conv(h, w, fh, fw, ch, n, st).ok()
    }
}

impl Layer {
    /// SCALE-Sim's conv layer: ofmap dims with the ceil convention (`topo_calc_hyperparams`).
    pub fn conv(h: u64, w: u64, fh: u64, fw: u64, c: u64, nf: u64, s: u64) -> Result<Layer> {
        if [h, w, fh, fw, c, nf, s].contains(&0) {
            return Err(Error::input(
                crate::error::Location::file("<workload>"),
                "SCALE-Sim layer dimensions and stride must be positive",
            ));
        }
        if fh > h || fw > w {
            return Err(Error::input(
                crate::error::Location::file("<workload>"),
                format!("filter {fh}×{fw} is larger than the ifmap {h}×{w}; SCALE-Sim has no padding, pass padded sizes"),
            ));
        }
        let oh = (h - fh + s).div_ceil(s);
        let ow = (w - fw + s).div_ceil(s);
        Ok(Layer {
            ifmap_h: h,
            ifmap_w: w,
            filter_h: fh,
            filter_w: fw,
            channels: c,
            num_filters: nf,
            stride: s,
            ofmap_h: oh,
            ofmap_w: ow,
        })
    }

    /// A GEMM C[M×N] = A[M×K]·B[K×N] as SCALE-Sim converts it (`load_arrays_gemm`):
    /// `[ifmap_h=M, ifmap_w=K, filt_h=1, filt_w=K, ch=1, num_filt=N, stride 1]`.
    pub fn gemm(m: u64, n: u64, k: u64) -> Result<Layer> {
        Layer::conv(m, k, 1, k, 1, n, 1)
    }

    /// The layer of one batch element of an archsim [`Gemm`], and how many independent copies
    /// SCALE-Sim mode simulates (SCALE-Sim has no batch: `operand_matrix.set_params`).
    pub fn from_gemm(g: &Gemm) -> Result<(Layer, u64)> {
        if g.m == 0 || g.n == 0 || g.k == 0 || g.batch == 0 {
            return Err(Error::input(
                crate::error::Location::file("<workload>").key(g.name.clone()),
                format!(
                    "GEMM `{}` has a zero dimension (m={}, n={}, k={}, batch={})",
                    g.name, g.m, g.n, g.k, g.batch
                ),
            ));
        }
        if let Some(c) = &g.conv {
            let images = c.batch.max(1);
            if let Ok(l) = Layer::conv(
                c.in_h, c.in_w, c.kernel_h, c.kernel_w, c.in_c, g.n, c.stride,
            ) {
                let consistent = l.m() as u128 * images as u128 == g.m as u128 && l.k() == g.k;
                if consistent {
                    return Ok((l, images.saturating_mul(g.batch)));
                }
            }
        }
        Ok((Layer::gemm(g.m, g.n, g.k)?, g.batch))
    }

    /// M = ofmap pixels (E_h·E_w).
    pub fn m(&self) -> u64 {
        self.ofmap_h.saturating_mul(self.ofmap_w)
    }
    /// N = filters.
    pub fn n(&self) -> u64 {
        self.num_filters
    }
    /// K = window size Fh·Fw·C.
    pub fn k(&self) -> u64 {
        self.filter_h
            .saturating_mul(self.filter_w)
            .saturating_mul(self.channels)
    }
    /// MACs = M·N·K (`single_layer_sim.run`: `num_ofmap_px · window_size`).
    pub fn macs(&self) -> u128 {
        self.m() as u128 * self.n() as u128 * self.k() as u128
    }
    /// True for a plain GEMM (every im2col entry valid, every address distinct).
    pub fn is_gemm(&self) -> bool {
        self.filter_h == 1
            && self.channels == 1
            && self.stride == 1
            && self.filter_w == self.ifmap_w
    }

    /// Valid filter rows / cols of window `m` (`calc_ifmap_elem_addr`:
    /// valid iff `c_row + i_row < H` and `c_col + i_col < W`).
    pub(crate) fn window_bounds(&self, m: u64) -> (u64, u64) {
        let (orow, ocol) = (m / self.ofmap_w, m % self.ofmap_w);
        let i_row = orow.saturating_mul(self.stride);
        let i_col = ocol.saturating_mul(self.stride);
        (
            self.filter_h.min(self.ifmap_h.saturating_sub(i_row)),
            self.filter_w.min(self.ifmap_w.saturating_sub(i_col)),
        )
    }

    fn split_k(&self, k: u64) -> (u64, u64, u64) {
        let row = self.filter_w * self.channels;
        (k / row, (k % row) / self.channels, k % self.channels)
    }

    fn join_k(&self, r: u64, c: u64, ch: u64) -> u64 {
        (r * self.filter_w + c) * self.channels + ch
    }

    /// Is im2col entry (m, k) a real ifmap address (not −1)?
    pub fn ifmap_valid(&self, m: u64, k: u64) -> bool {
        let (hb, wb) = self.window_bounds(m);
        let (r, c, _) = self.split_k(k);
        r < hb && c < wb
    }

    /// [`Self::ifmap_addr`] split into a part of the window and a part of the window position:
    /// window `m`'s base address `(orow·S·W + ocol·S)·C`; the address of a valid (m, k) is the
    /// base plus [`Self::ifmap_addr_parts_k`]'s offset.
    pub(crate) fn ifmap_addr_base(&self, m: u64) -> u64 {
        let (orow, ocol) = (m / self.ofmap_w, m % self.ofmap_w);
        (orow * self.stride * self.ifmap_w + ocol * self.stride) * self.channels
    }

    /// Window position `k`'s address offset `(r·W + c)·C + ch` and its filter (row, column).
    pub(crate) fn ifmap_addr_parts_k(&self, k: u64) -> (u64, u64, u64) {
        let (r, c, ch) = self.split_k(k);
        ((r * self.ifmap_w + c) * self.channels + ch, r, c)
    }

    /// Ifmap address of (m, k) without the offset: `(row·W + col)·C + ch`
    /// (`calc_ifmap_elem_addr`), or `None` for −1.
    pub fn ifmap_addr(&self, m: u64, k: u64) -> Option<u64> {
        if !self.ifmap_valid(m, k) {
            return None;
        }
        let (orow, ocol) = (m / self.ofmap_w, m % self.ofmap_w);
        let (r, c, ch) = self.split_k(k);
        let row = orow * self.stride + r;
        let col = ocol * self.stride + c;
        Some((row * self.ifmap_w + col) * self.channels + ch)
    }

    /// Largest valid k < `hi` of window `m`.
    pub fn max_valid_k_below(&self, m: u64, hi: u64) -> Option<u64> {
        let (hb, wb) = self.window_bounds(m);
        if hb == 0 || wb == 0 || hi == 0 {
            return None;
        }
        let (mut r, mut c, mut ch) = self.split_k(hi - 1);
        if r >= hb {
            r = hb - 1;
            c = wb - 1;
            ch = self.channels - 1;
        } else if c >= wb {
            c = wb - 1;
            ch = self.channels - 1;
        }
        Some(self.join_k(r, c, ch))
    }

    /// Smallest valid k ≥ `lo` of window `m`.
    pub fn min_valid_k_from(&self, m: u64, lo: u64) -> Option<u64> {
        let (hb, wb) = self.window_bounds(m);
        if hb == 0 || wb == 0 || lo >= self.k() {
            return None;
        }
        let (mut r, mut c, mut ch) = self.split_k(lo);
        if r >= hb {
            return None;
        }
        if c >= wb {
            r += 1;
            c = 0;
            ch = 0;
            if r >= hb {
                return None;
            }
        }
        Some(self.join_k(r, c, ch))
    }

    /// Largest window m for which entry k is valid.
    pub fn max_valid_m(&self, k: u64) -> Option<u64> {
        let (r, c, _) = self.split_k(k);
        if r >= self.ifmap_h || c >= self.ifmap_w {
            return None;
        }
        let rows = self.ofmap_h.min((self.ifmap_h - r).div_ceil(self.stride));
        let cols = self.ofmap_w.min((self.ifmap_w - c).div_ceil(self.stride));
        if rows == 0 || cols == 0 {
            return None;
        }
        Some((rows - 1) * self.ofmap_w + cols - 1)
    }

    /// Number of ifmap positions along one axis touched by some window.
    fn touched(len: u64, f: u64, s: u64, e: u64) -> u64 {
        if e == 0 {
            return 0;
        }
        if s <= f {
            return len.min((e - 1).saturating_mul(s).saturating_add(f));
        }
        // Windows do not overlap: full windows, then at most one clipped one.
        let full = if len >= f {
            e.min((len - f) / s + 1)
        } else {
            0
        };
        let mut t = full * f;
        if full < e {
            t += len.saturating_sub(full * s).min(f);
        }
        t
    }

    /// Distinct valid ifmap addresses of the im2col matrix (= H·W·C when every pixel is read).
    pub fn ifmap_distinct(&self) -> u128 {
        Self::touched(self.ifmap_h, self.filter_h, self.stride, self.ofmap_h) as u128
            * Self::touched(self.ifmap_w, self.filter_w, self.stride, self.ofmap_w) as u128
            * self.channels as u128
    }

    /// True when no two windows share an ifmap pixel (`Fh ≤ S` and `Fw ≤ S`): every ifmap
    /// address then appears at most once in any im2col column set, so a round streams
    /// distinct addresses.
    pub fn windows_disjoint(&self) -> bool {
        self.filter_h <= self.stride && self.filter_w <= self.stride
    }

    /// Elements of the ifmap, `H·W·C` (its 0-based address domain).
    pub fn ifmap_elems(&self) -> u128 {
        self.ifmap_h as u128 * self.ifmap_w as u128 * self.channels as u128
    }

    /// Whether some windows run off the ifmap (the ceil convention's extra output row or column:
    /// `(E−1)·S + F > H` along either axis), so the im2col stream has −1 entries.
    pub fn has_offmap_windows(&self) -> bool {
        let reach = |e: u64, f: u64| {
            e.saturating_sub(1)
                .saturating_mul(self.stride)
                .saturating_add(f)
        };
        reach(self.ofmap_h, self.filter_h) > self.ifmap_h
            || reach(self.ofmap_w, self.filter_w) > self.ifmap_w
    }

    /// Distinct valid ifmap addresses of the im2col columns `[k0, k1)` over all windows (a WS
    /// fold tile), or `None` when the ifmap is too large for the O(H + W) bitset method.
    ///
    /// Columns group by channel into ≤ 4 ranges of filter positions; a range of flattened
    /// positions is ≤ 3 products (filter rows × filter cols), and the pixels a product touches
    /// are `Y(rows) × X(cols)`, so inclusion–exclusion over ≤ 3 products gives the union.
    pub fn ifmap_distinct_kslice(&self, k0: u64, k1: u64) -> Option<u128> {
        const MAX_SIDE: u64 = 1 << 20;
        if self.ifmap_h > MAX_SIDE || self.ifmap_w > MAX_SIDE || k0 >= k1 {
            return None;
        }
        let c = self.channels as i128;
        let fw = self.filter_w;
        let mut groups: Vec<((u64, u64), u128)> = Vec::new();
        for ch in 0..self.channels.min(k1) {
            let lo = (k0 as i128 - ch as i128 + c - 1).div_euclid(c).max(0);
            let hi = (k1 as i128 - 1 - ch as i128).div_euclid(c);
            if hi < lo {
                continue;
            }
            let key = (lo as u64, hi as u64);
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1 += 1,
                None => groups.push((key, 1)),
            }
        }
        // Pixels along one axis touched by filter offsets in [a, b].
        let axis = |len: u64, e: u64, a: u64, b: u64| -> Vec<bool> {
            let mut v = vec![false; len as usize];
            for off in a..=b {
                for o in 0..e {
                    let y = o * self.stride + off;
                    if y >= len {
                        break;
                    }
                    v[y as usize] = true;
                }
            }
            v
        };
        let mut total = 0u128;
        for ((plo, phi), nch) in groups {
            let (ra, ca, rb, cb) = (plo / fw, plo % fw, phi / fw, phi % fw);
            let mut prods: Vec<((u64, u64), (u64, u64))> = Vec::new();
            if ra == rb {
                prods.push(((ra, ra), (ca, cb)));
            } else {
                prods.push(((ra, ra), (ca, fw - 1)));
                if rb > ra + 1 {
                    prods.push(((ra + 1, rb - 1), (0, fw - 1)));
                }
                prods.push(((rb, rb), (0, cb)));
            }
            let sets: Vec<(Vec<bool>, Vec<bool>)> = prods
                .iter()
                .map(|&((r0, r1), (c0, c1))| {
                    (
                        axis(self.ifmap_h, self.ofmap_h, r0, r1),
                        axis(self.ifmap_w, self.ofmap_w, c0, c1),
                    )
                })
                .collect();
            let u = union_of_products(&sets);
            total += u * nch;
        }
        Some(total)
    }

    /// Distinct valid ifmap addresses read by windows `[m0, m1)` over all of K (an OS fold
    /// tile or an IS column fold), or `None` for ifmaps of more than 2^20 rows or columns:
    /// per ifmap row, the windows covering it are ≤ 3 runs of ofmap columns ([`Cover`]), × C.
    pub fn ifmap_distinct_mslice(&self, m0: u64, m1: u64) -> Option<u128> {
        const MAX_SIDE: u64 = 1 << 20;
        if self.ifmap_h > MAX_SIDE || self.ifmap_w > MAX_SIDE || m0 >= m1 {
            return None;
        }
        Some(Cover::new(self).union_count(&[(m0, m1), (0, 0)], &mut Vec::new()))
    }

    /// Number of valid (non −1) im2col entries in rows [m0, m1) × cols [k0, k1).
    /// Used for DRAM estimates; exact but O(m1−m0) — only called on small ranges.
    pub fn valid_count_rows(&self, m0: u64, m1: u64, k0: u64, k1: u64) -> u128 {
        let mut n = 0u128;
        for m in m0..m1 {
            let (hb, wb) = self.window_bounds(m);
            if hb == self.filter_h && wb == self.filter_w {
                n += (k1 - k0) as u128;
                continue;
            }
            for k in k0..k1 {
                if self.ifmap_valid(m, k) {
                    n += 1;
                }
            }
        }
        n
    }
}

/// Half-open window (ofmap pixel, row-major) ranges of a run of units: at most two (an OS
/// run that wraps from the last row fold to the first).
pub(crate) type Ranges = [(u64, u64); 2];

/// Receptive-field geometry of a conv layer, for unions of windows' reads in O(ifmap rows)
/// ([`Layer::ifmap_distinct_mslice`], `window_walk`) (SCALE-Sim: no padding, windows at `(oy·S, ox·S)`,
/// clipped to the ifmap: `calc_ifmap_elem_addr` gives −1 beyond it).
pub(crate) struct Cover {
    pub(crate) h: u64,
    pub(crate) w: u64,
    pub(crate) c: u64,
    pub(crate) fh: u64,
    fw: u64,
    pub(crate) s: u64,
    pub(crate) wo: u64,
}

impl Cover {
    pub(crate) fn new(l: &Layer) -> Cover {
        Cover {
            h: l.ifmap_h,
            w: l.ifmap_w,
            c: l.channels,
            fh: l.filter_h,
            fw: l.filter_w,
            s: l.stride,
            wo: l.ofmap_w,
        }
    }

    /// Inclusive ofmap-column intervals of the windows in `ranges` that cover ifmap row `y`
    /// (windows of ofmap row `oy` cover rows `[oy·S, oy·S + Fh)`).
    pub(crate) fn row_intervals(&self, ranges: &Ranges, y: u64, out: &mut Vec<(u64, u64)>) {
        out.clear();
        let oy_min = (y + 1).saturating_sub(self.fh).div_ceil(self.s);
        let oy_max = y / self.s;
        for &(m1, m2) in ranges {
            if m1 >= m2 {
                continue;
            }
            let (oy1, ox1) = (m1 / self.wo, m1 % self.wo);
            let (oy2, ox2) = ((m2 - 1) / self.wo, (m2 - 1) % self.wo);
            let (a, b) = (oy_min.max(oy1), oy_max.min(oy2));
            if a > b {
                continue;
            }
            if oy1 == oy2 {
                out.push((ox1, ox2));
                continue;
            }
            if a == oy1 {
                out.push((ox1, self.wo - 1));
            }
            if b == oy2 {
                out.push((0, ox2));
            }
            if a.max(oy1 + 1) <= b.min(oy2 - 1) {
                out.push((0, self.wo - 1));
            }
        }
    }

    /// Ifmap columns covered by windows of ofmap columns in `iv` (inclusive intervals; window
    /// `ox` covers `[ox·S, ox·S + Fw) ∩ [0, W)`).
    fn columns_covered(&self, iv: &mut [(u64, u64)]) -> u64 {
        iv.sort_unstable();
        let (s, fw, w) = (self.s, self.fw, self.w);
        let mut total = 0u64;
        if fw >= s {
            // Consecutive windows touch: each interval is one pixel interval; merge them.
            let mut cur: Option<(u64, u64)> = None;
            for &(lo, hi) in iv.iter() {
                let (a, b) = (lo * s, (hi * s + fw).min(w));
                if a >= b {
                    continue;
                }
                cur = match cur {
                    Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
                    Some((ca, cb)) => {
                        total += cb - ca;
                        Some((a, b))
                    }
                    None => Some((a, b)),
                };
            }
            if let Some((ca, cb)) = cur {
                total += cb - ca;
            }
        } else {
            // Windows are disjoint along x: count each distinct ofmap column once.
            let mut next = 0u64; // first ofmap column not yet counted
            for &(lo, hi) in iv.iter() {
                for ox in lo.max(next)..=hi {
                    let x0 = ox * s;
                    if x0 >= w {
                        break;
                    }
                    total += fw.min(w - x0);
                }
                next = next.max(hi + 1);
            }
        }
        total
    }

    /// Distinct ifmap addresses read by the windows in `ranges`, all channels.
    pub(crate) fn union_count(&self, ranges: &Ranges, scratch: &mut Vec<(u64, u64)>) -> u128 {
        let mut px = 0u128;
        for y in 0..self.h {
            self.row_intervals(ranges, y, scratch);
            if !scratch.is_empty() {
                px += self.columns_covered(scratch) as u128;
            }
        }
        px * self.c as u128
    }

    /// Whether ifmap column `x` is read by a window of an ofmap-column interval in `iv`.
    pub(crate) fn covers(&self, iv: &[(u64, u64)], x: u64) -> bool {
        let ox_lo = (x + 1).saturating_sub(self.fw).div_ceil(self.s);
        let ox_hi = x / self.s;
        iv.iter().any(|&(lo, hi)| ox_lo.max(lo) <= ox_hi.min(hi))
    }

    /// (row, column) of ifmap address `a` (`(y·W + x)·C + ch`).
    pub(crate) fn pixel(&self, a: u64) -> (u64, u64) {
        let p = a / self.c;
        (p / self.w, p % self.w)
    }
}

/// |∪ᵢ Yᵢ×Xᵢ| for ≤ a few products of axis sets, by inclusion–exclusion.
fn union_of_products(sets: &[(Vec<bool>, Vec<bool>)]) -> u128 {
    let n = sets.len();
    let mut u: i128 = 0;
    for mask in 1u32..(1 << n) {
        let idx: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
        let mut ys = sets[idx[0]].0.clone();
        let mut xs = sets[idx[0]].1.clone();
        for &i in &idx[1..] {
            for (a, b) in ys.iter_mut().zip(&sets[i].0) {
                *a = *a && *b;
            }
            for (a, b) in xs.iter_mut().zip(&sets[i].1) {
                *a = *a && *b;
            }
        }
        let cnt =
            ys.iter().filter(|x| **x).count() as i128 * xs.iter().filter(|x| **x).count() as i128;
        u += if idx.len() % 2 == 1 { cnt } else { -cnt };
    }
    u.max(0) as u128
}

/// SCALE-Sim's mapping of a layer on an R×C array for a dataflow (MODEL.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub dataflow: Dataflow,
    pub rows: u64,
    pub cols: u64,
    /// Operand dimension along the array rows.
    pub sr: u64,
    /// Operand dimension along the array columns.
    pub sc: u64,
    /// Dimension streamed in time.
    pub t: u64,
    pub row_folds: u64,
    pub col_folds: u64,
}

impl Mapping {
    /// `systolic_compute_{os,ws,is}.set_params`: OS (Sr,Sc,T) = (M,N,K), WS = (K,N,M),
    /// IS = (K,M,N); `row_folds = ceil(Sr/R)`, `col_folds = ceil(Sc/C)`.
    pub fn new(layer: &Layer, dataflow: Dataflow, rows: u64, cols: u64) -> Mapping {
        let (m, n, k) = (layer.m(), layer.n(), layer.k());
        let (sr, sc, t) = match dataflow {
            Dataflow::Os => (m, n, k),
            Dataflow::Ws => (k, n, m),
            Dataflow::Is => (k, m, n),
        };
        Mapping {
            dataflow,
            rows,
            cols,
            sr,
            sc,
            t,
            row_folds: sr.div_ceil(rows),
            col_folds: sc.div_ceil(cols),
        }
    }
    pub fn folds(&self) -> u128 {
        self.row_folds as u128 * self.col_folds as u128
    }
    /// Demand lines per fold (`create_*_demand_mat` + `skew_matrix`): OS `T+R+C−2`,
    /// WS/IS `2R+C+T−2`. Partial folds are padded to the full array, so all folds are equal.
    pub fn cycles_per_fold(&self) -> u128 {
        let (r, c, t) = (self.rows as u128, self.cols as u128, self.t as u128);
        match self.dataflow {
            Dataflow::Os => t + r + c - 2,
            Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
        }
    }
    /// Rows used in row fold `fr`: `min(R, Sr − fr·R)`.
    pub fn rows_used(&self, fr: u64) -> u64 {
        self.rows.min(self.sr - fr * self.rows)
    }
    /// Columns used in column fold `fc`: `min(C, Sc − fc·C)`.
    pub fn cols_used(&self, fc: u64) -> u64 {
        self.cols.min(self.sc - fc * self.cols)
    }
    /// (fc, fr) of global fold index `f` (column folds outer, row folds inner).
    pub fn fold_at(&self, f: u128) -> (u64, u64) {
        let rf = self.row_folds as u128;
        ((f / rf) as u64, (f % rf) as u64)
    }
}

/// Σ_{c=0}^{w−1} max(0, y − c): the number of elements in the first `y` diagonals of a
/// `w`-column skewed block of unbounded length.
fn ramp(y: i128, w: i128) -> i128 {
    if y <= 0 || w <= 0 {
        return 0;
    }
    let k = w.min(y);
    k * y - k * (k - 1) / 2
}

/// Elements in demand lines `< tau` of a skewed block (`skew_matrix`): column `c < w` holds
/// `len` elements at lines `base + c .. base + c + len`.
pub fn skewed_before(tau: i128, base: i128, w: i128, len: i128) -> i128 {
    let x = tau - base;
    ramp(x, w) - ramp(x - len, w)
}

/// Smallest line τ with `skewed_before(τ + 1) ≥ p` (the line of the p-th element, 1-based).
pub fn skewed_line_of(p: i128, base: i128, w: i128, len: i128) -> i128 {
    let (mut lo, mut hi) = (base, base + w + len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if skewed_before(mid + 1, base, w, len) >= p {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_convention_and_validity() {
        let l = Layer::conv(56, 56, 1, 1, 256, 512, 2).unwrap();
        assert_eq!((l.ofmap_h, l.ofmap_w), (29, 29));
        assert_eq!(l.ifmap_distinct(), 28 * 28 * 256);
        // The 29th window of a row runs off the map.
        assert!(!l.ifmap_valid(28, 0));
        assert!(l.ifmap_valid(27, 255));
        let c1 = Layer::conv(224, 224, 7, 7, 3, 64, 2).unwrap();
        assert_eq!((c1.m(), c1.k()), (12100, 147));
        assert_eq!(c1.ifmap_distinct(), 224 * 224 * 3);
        let r3 = Layer::conv(28, 28, 3, 3, 128, 128, 1).unwrap();
        assert_eq!(r3.m(), 676);
        assert_eq!(r3.ifmap_distinct(), 28 * 28 * 128);
        let g = Layer::gemm(100, 37, 53).unwrap();
        assert!(g.is_gemm());
        assert_eq!((g.m(), g.n(), g.k()), (100, 37, 53));
        assert_eq!(g.ifmap_addr(2, 5), Some(2 * 53 + 5));
    }

    #[test]
    fn valid_k_helpers_agree_with_brute_force() {
        let l = Layer::conv(9, 8, 3, 2, 2, 4, 2).unwrap();
        for m in 0..l.m() {
            for b in 0..=l.k() {
                let want_max = (0..b).rev().find(|&k| l.ifmap_valid(m, k));
                assert_eq!(l.max_valid_k_below(m, b), want_max, "m={m} hi={b}");
                let want_min = (b..l.k()).find(|&k| l.ifmap_valid(m, k));
                assert_eq!(l.min_valid_k_from(m, b), want_min, "m={m} lo={b}");
            }
        }
        for k in 0..l.k() {
            let want = (0..l.m()).rev().find(|&m| l.ifmap_valid(m, k));
            assert_eq!(l.max_valid_m(k), want, "k={k}");
        }
        let mut seen = std::collections::HashSet::new();
        for m in 0..l.m() {
            for k in 0..l.k() {
                if let Some(a) = l.ifmap_addr(m, k) {
                    seen.insert(a);
                }
            }
        }
        assert_eq!(seen.len() as u128, l.ifmap_distinct());
    }

    #[test]
    fn kslice_distinct_matches_brute_force() {
        for l in [
            Layer::conv(9, 8, 3, 2, 2, 4, 1).unwrap(),
            Layer::conv(11, 10, 3, 3, 5, 4, 2).unwrap(),
            Layer::conv(12, 12, 7, 7, 3, 4, 2).unwrap(),
            Layer::conv(6, 6, 3, 3, 64, 4, 1).unwrap(),
        ] {
            for k0 in 0..l.k() {
                for k1 in [k0 + 1, k0 + 3, k0 + 17, l.k()] {
                    let k1 = k1.min(l.k());
                    let mut seen = std::collections::HashSet::new();
                    for m in 0..l.m() {
                        for k in k0..k1 {
                            if let Some(a) = l.ifmap_addr(m, k) {
                                seen.insert(a);
                            }
                        }
                    }
                    assert_eq!(
                        l.ifmap_distinct_kslice(k0, k1),
                        Some(seen.len() as u128),
                        "{l:?} [{k0},{k1})"
                    );
                }
            }
        }
    }

    #[test]
    fn mslice_distinct_matches_brute_force() {
        for l in [
            Layer::conv(9, 8, 3, 2, 2, 4, 1).unwrap(),
            Layer::conv(11, 10, 3, 3, 5, 4, 2).unwrap(),
            Layer::conv(12, 12, 7, 7, 3, 4, 2).unwrap(),
            Layer::conv(8, 8, 1, 1, 4, 4, 2).unwrap(),
        ] {
            for m0 in 0..l.m() {
                for m1 in [m0 + 1, m0 + 4, m0 + 13, l.m()] {
                    let m1 = m1.min(l.m());
                    let mut seen = std::collections::HashSet::new();
                    for m in m0..m1 {
                        for k in 0..l.k() {
                            if let Some(a) = l.ifmap_addr(m, k) {
                                seen.insert(a);
                            }
                        }
                    }
                    assert_eq!(
                        l.ifmap_distinct_mslice(m0, m1),
                        Some(seen.len() as u128),
                        "{l:?} [{m0},{m1})"
                    );
                }
            }
        }
    }

    #[test]
    fn skew_counts() {
        // 3 columns of 4 elements starting at line 2: lines 2..=8.
        let total = skewed_before(100, 2, 3, 4);
        assert_eq!(total, 12);
        let mut brute = 0;
        for tau in 0..12 {
            assert_eq!(skewed_before(tau, 2, 3, 4), brute, "tau={tau}");
            for c in 0..3 {
                if tau >= 2 + c && tau < 2 + c + 4 {
                    brute += 1;
                }
            }
        }
        for p in 1..=12 {
            let l = skewed_line_of(p, 2, 3, 4);
            assert!(skewed_before(l + 1, 2, 3, 4) >= p && skewed_before(l, 2, 3, 4) < p);
        }
    }
}
