//! One SCALE-Sim 3.0.0 layer, analytically: every COMPUTE_REPORT, BANDWIDTH_REPORT and
//! DETAILED_ACCESS_REPORT number of `single_layer_sim.calc_report_data` (MODEL.md §2–§5),
//! without walking cycles. Cost: O(R + C + column folds) plus O(drains·log) for the OFMAP
//! buffer; USER mode adds the read-buffer walk of [`super::user`].

use super::calc_dram::{self, ChunkSim, ClosePoint};
use super::geometry::{skewed_before, skewed_line_of, Layer, Mapping};
use super::window_walk;
use super::write_buffer::{self, ElementStream};
use crate::systolic::scalesim_cfg::{BandwidthMode, Dataflow, ScaleSimConfig};

/// All report values of one layer. Counts are u128 and cycles i128 so nothing overflows for
/// dims up to 2^32; [`LayerResult::to_report`] saturates into the shared report struct.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerResult {
    pub row_folds: u64,
    pub col_folds: u64,
    pub cycles_per_fold: u128,
    /// Demand lines L = folds · cycles_per_fold.
    pub demand_lines: u128,
    /// `Total Cycles` = L − 1 + stalls (`double_buffered_scratchpad.service_memory_requests`).
    pub total_cycles: u128,
    pub stall_cycles: u128,
    /// `Total Cycles (incl. prefetch)` = ofmap DRAM stop − min(ifmap, filter DRAM start)
    /// (`single_layer_sim.calc_report_data`).
    pub total_cycles_incl_prefetch: i128,
    pub macs: u128,
    pub overall_util_pct: f64,
    pub mapping_efficiency_pct: f64,
    pub compute_util_pct: f64,
    pub sram_ifmap_reads: u128,
    pub sram_filter_reads: u128,
    pub sram_ofmap_writes: u128,
    pub dram_ifmap_reads: u128,
    pub dram_filter_reads: u128,
    pub dram_ofmap_writes: u128,
    /// (start, stop) of SRAM ifmap, filter, ofmap, DRAM ifmap, filter, ofmap.
    pub access_cycles: [(i128, i128); 6],
    /// True when the DRAM read counts are exact (GEMM layers, or conv layers whose ifmap fits a
    /// CALC chunk); false where the overlapping-window conv ifmap was estimated.
    pub dram_reads_exact: bool,
}

/// Which operand a read stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operand {
    Ifmap,
    Filter,
}

/// How an operand's fold tile is laid out in demand lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Skewed stream (`skew_matrix`): column `c` of the used `w` holds `len` elements at lines
    /// `base + c ..`. OS ifmap/filter (base 0), WS ifmap and IS filter (base R: weight-load
    /// prefix).
    Skewed { base: u64, len: u64 },
    /// Stationary tile loaded flipped in the first R lines (`np.flip`): WS filter, IS ifmap;
    /// lines `R − rows_used .. R`.
    Stationary,
}

pub(crate) fn layout(df: Dataflow, op: Operand, map: &Mapping) -> Layout {
    match (df, op) {
        (Dataflow::Os, _) => Layout::Skewed {
            base: 0,
            len: map.t,
        },
        (Dataflow::Ws, Operand::Ifmap) | (Dataflow::Is, Operand::Filter) => Layout::Skewed {
            base: map.rows,
            len: map.t,
        },
        (Dataflow::Ws, Operand::Filter) | (Dataflow::Is, Operand::Ifmap) => Layout::Stationary,
    }
}

/// Columns of the array edge an operand uses in fold (fc, fr).
pub(crate) fn edge_used(df: Dataflow, op: Operand, map: &Mapping, fc: u64, fr: u64) -> u64 {
    match (df, op) {
        (Dataflow::Os, Operand::Ifmap) => map.rows_used(fr),
        (Dataflow::Os, Operand::Filter) => map.cols_used(fc),
        (Dataflow::Ws, Operand::Ifmap) | (Dataflow::Is, Operand::Filter) => map.rows_used(fr),
        (Dataflow::Ws, Operand::Filter) | (Dataflow::Is, Operand::Ifmap) => map.cols_used(fc),
    }
}

/// OFMAP element stream (`create_ofmap_demand_mat`): OS writes the flipped R-row tile after a
/// `T−1` prefix (rows `T−1+R−rows_used ..`, `rows_used` long); WS/IS write T rows after a
/// `2R−1` prefix; skewed over the used columns.
struct OfmapStream<'a> {
    map: &'a Mapping,
    per_fold: u128,
}

impl OfmapStream<'_> {
    fn fold_params(&self, fc: u64, fr: u64) -> (i128, i128, i128) {
        let m = self.map;
        let cu = m.cols_used(fc) as i128;
        match m.dataflow {
            Dataflow::Os => {
                let ru = m.rows_used(fr) as i128;
                (m.t as i128 - 1 + m.rows as i128 - ru, cu, ru)
            }
            _ => (2 * m.rows as i128 - 1, cu, m.t as i128),
        }
    }
    fn col_fold_elems(&self, cu: u64) -> u128 {
        let m = self.map;
        match m.dataflow {
            Dataflow::Os => m.sr as u128 * cu as u128,
            _ => m.row_folds as u128 * m.t as u128 * cu as u128,
        }
    }
    fn before_fold(&self, f: u128) -> u128 {
        let m = self.map;
        if f >= m.folds() {
            return self.total();
        }
        let (fc, fr) = m.fold_at(f);
        let full = self.col_fold_elems(m.cols);
        let cu = m.cols_used(fc) as u128;
        let within = match m.dataflow {
            Dataflow::Os => fr as u128 * m.rows as u128 * cu,
            _ => fr as u128 * m.t as u128 * cu,
        };
        fc as u128 * full + within
    }
}

impl ElementStream for OfmapStream<'_> {
    fn total(&self) -> u128 {
        let m = self.map;
        let full = self.col_fold_elems(m.cols);
        (m.col_folds as u128 - 1) * full + self.col_fold_elems(m.cols_used(m.col_folds - 1))
    }
    fn before_line(&self, line: u128) -> u128 {
        let f = line / self.per_fold;
        if f >= self.map.folds() {
            return self.total();
        }
        let tau = (line % self.per_fold) as i128;
        let (fc, fr) = self.map.fold_at(f);
        let (base, w, len) = self.fold_params(fc, fr);
        self.before_fold(f) + skewed_before(tau, base, w, len) as u128
    }
    fn line_of(&self, n: u128) -> u128 {
        // Last fold with before_fold(f) < n.
        let (mut lo, mut hi) = (0u128, self.map.folds() - 1);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.before_fold(mid) < n {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let (fc, fr) = self.map.fold_at(lo);
        let (base, w, len) = self.fold_params(fc, fr);
        let p = (n - self.before_fold(lo)) as i128;
        lo * self.per_fold + skewed_line_of(p, base, w, len) as u128
    }
}

/// First and last demand line (within its fold) holding a valid address of `op` in fold
/// (fc, fr), from the im2col validity of `operand_matrix.calc_ifmap_elem_addr`.
fn valid_line_range(
    layer: &Layer,
    map: &Mapping,
    op: Operand,
    fc: u64,
    fr: u64,
) -> Option<(u128, u128)> {
    let df = map.dataflow;
    let w = edge_used(df, op, map, fc, fr);
    let r = map.rows;
    match layout(df, op, map) {
        Layout::Skewed { base, len } => {
            let (mut first, mut last) = (u128::MAX, 0u128);
            let ifmap_os = df == Dataflow::Os && op == Operand::Ifmap;
            let ifmap_ws = df == Dataflow::Ws && op == Operand::Ifmap;
            if layer.is_gemm() || !(ifmap_os || ifmap_ws) {
                return Some((base as u128, base as u128 + w as u128 - 1 + len as u128 - 1));
            }
            for c in 0..w {
                let (t0, t1) = if ifmap_os {
                    let m = fr * r + c;
                    match (
                        layer.min_valid_k_from(m, 0),
                        layer.max_valid_k_below(m, layer.k()),
                    ) {
                        (Some(a), Some(b)) => (a, b),
                        _ => continue,
                    }
                } else {
                    let k = fr * r + c;
                    match layer.max_valid_m(k) {
                        Some(b) => (0, b),
                        None => continue,
                    }
                };
                first = first.min(base as u128 + c as u128 + t0 as u128);
                last = last.max(base as u128 + c as u128 + t1 as u128);
            }
            (first != u128::MAX).then_some((first, last))
        }
        Layout::Stationary => {
            let ru = map.rows_used(fr);
            let k0 = fr * r;
            if layer.is_gemm() || op == Operand::Filter {
                return Some(((r - ru) as u128, r as u128 - 1));
            }
            // IS ifmap: line τ holds k = k0 + R − 1 − τ for the M-slice of column fold fc.
            let cu = map.cols_used(fc);
            let (mut kmax, mut kmin) = (None::<u64>, None::<u64>);
            for c in 0..cu {
                let m = fc * map.cols + c;
                if let Some(k) = layer.max_valid_k_below(m, k0 + ru).filter(|&k| k >= k0) {
                    kmax = Some(kmax.map_or(k, |x| x.max(k)));
                }
                if let Some(k) = layer.min_valid_k_from(m, k0).filter(|&k| k < k0 + ru) {
                    kmin = Some(kmin.map_or(k, |x| x.min(k)));
                }
            }
            match (kmax, kmin) {
                (Some(a), Some(b)) => Some(((k0 + r - 1 - a) as u128, (k0 + r - 1 - b) as u128)),
                _ => None,
            }
        }
    }
}

/// Global first and last valid demand line of an operand (fold 0 and the last fold).
fn operand_lines(layer: &Layer, map: &Mapping, op: Operand, per_fold: u128) -> (u128, u128) {
    let first = valid_line_range(layer, map, op, 0, 0).map_or(0, |r| r.0);
    // The last folds can be entirely −1 (conv windows of the ceil convention that run off the
    // ifmap): walk back to the last fold with a valid address (a handful of folds at most).
    let lf = map.folds() - 1;
    let mut f = lf;
    loop {
        let (fc, fr) = map.fold_at(f);
        if let Some((_, last)) = valid_line_range(layer, map, op, fc, fr) {
            return (first, f * per_fold + last);
        }
        if f == 0 || lf - f >= 1 << 16 {
            return (first, lf * per_fold);
        }
        f -= 1;
    }
}

/// OS/IS conv ifmap overflowing a chunk, slice by slice (M-slices of consecutive windows, in
/// order, the whole list `rounds` times): a slice's addresses shared with the previous slice
/// (`O = U₋₁ + U − U(both)`, the halo rows) hit when they are still in the chunk, estimated as
/// `min(O, fill)` since they were inserted last; the rest are inserted. Estimate: re-fetches
/// inside a slice larger than a chunk are not modelled.
fn overlap_runs(
    sim: &mut ChunkSim,
    layer: &Layer,
    slices: &[(u64, u64)],
    sizes: &[u128],
    rounds: u64,
) {
    let q = sim.q;
    for round in 0..rounds {
        for (i, &(_, m1)) in slices.iter().enumerate() {
            let u = sizes[i];
            let overlap = if i == 0 {
                0
            } else {
                let (p0, _) = slices[i - 1];
                let both = layer
                    .ifmap_distinct_mslice(p0, m1)
                    .unwrap_or(sizes[i - 1] + u);
                (sizes[i - 1] + u).saturating_sub(both)
            };
            let misses = u - overlap + overlap.saturating_sub(sim.fill);
            let total = sim.fill + misses;
            if total >= q {
                sim.closes += total / q;
                sim.last_close = Some(ClosePoint {
                    run_id: round as u128 * slices.len() as u128 + i as u128,
                    pass: 0,
                    pos: misses - total % q,
                });
            }
            sim.fill = total % q;
            sim.inserted += misses;
        }
    }
}

/// Column folds beyond which the OS filter tile runs are extrapolated.
const MAX_TILE_RUNS: u64 = 1 << 22;

/// Drain events beyond which the OFMAP buffer is extrapolated (see [`write_buffer::simulate`]).
const MAX_DRAIN_EVENTS: u128 = 1 << 18;

/// The CALC read-buffer passes of an operand (MODEL.md §4 and [`ChunkSim`]), returning the
/// buffer state and the global demand line of its last chunk close.
///
/// A conv ifmap whose chunks close is walked address by address ([`calc_dram::walk`], exact)
/// when the walk costs at most `walk_limit` address visits ([`super::user::walk_cost`]); beyond
/// it, overlapping windows are estimated and flagged, and the last close's line is located
/// approximately.
fn calc_reads(
    layer: &Layer,
    map: &Mapping,
    op: Operand,
    sram_elems: u128,
    per_fold: u128,
    walk_limit: u128,
) -> (ChunkSim, Option<u128>, bool) {
    let df = map.dataflow;
    let mut sim = ChunkSim::new(sram_elems);
    let (m, n, k) = (layer.m() as u128, layer.n() as u128, layer.k() as u128);
    let (r, c) = (map.rows as u128, map.cols as u128);
    let (rf, cf) = (map.row_folds as u128, map.col_folds as u128);
    // Exact whenever each address appears at most once per pass: GEMMs, filters, and convs
    // whose windows do not overlap (1×1, or stride ≥ filter).
    let exact_gemm = layer.is_gemm() || op == Operand::Filter || layer.windows_disjoint();
    let mut extrapolated = false;
    // Distinct addresses of the operand.
    let distinct = match op {
        Operand::Ifmap => layer.ifmap_distinct(),
        Operand::Filter => k * n,
    };
    // Sum of fold-tile sizes of one pass (the im2col size), to map positions for conv.
    enum Kind {
        /// Whole operand streamed once per column fold (OS/WS ifmap, IS filter).
        Round { tile_len: u128 },
        /// OS filter: column-fold tile repeated over the row folds.
        Tile,
        /// WS filter, IS ifmap: every tile once.
        Single,
        /// WS conv ifmap with overlapping windows that overflows a chunk: every fold tile
        /// (a K-slice over all windows) as a fresh sequence of its distinct addresses
        /// ([`Layer::ifmap_distinct_kslice`]). Estimate: reuse between consecutive K-slices
        /// that survives in the chunk is ignored (measured within 8% of the exact walk on
        /// ResNet-50 layers with 64 kB SRAMs).
        PerFold { sizes: Vec<u128> },
        /// IS conv ifmap overflowing a chunk: each column fold (an M-slice of C windows, all
        /// its K-slices in a row) as one fresh sequence of its distinct addresses
        /// ([`Layer::ifmap_distinct_mslice`]). OS uses `PerFold` with M-slice tiles.
        PerColFold { sizes: Vec<u128> },
    }
    let overflow = op == Operand::Ifmap && !exact_gemm && distinct >= sim.q;
    // Distinct addresses of each fold tile (WS: K-slice; OS: M-slice over all K) or of each
    // IS column fold (M-slice over all K).
    let slice_sizes = if !overflow {
        None
    } else {
        match df {
            Dataflow::Ws => (0..map.row_folds)
                .map(|fr| {
                    let k0 = fr * map.rows;
                    layer.ifmap_distinct_kslice(k0, k0 + map.rows_used(fr))
                })
                .collect::<Option<Vec<u128>>>(),
            Dataflow::Os => (0..map.row_folds)
                .map(|fr| {
                    let m0 = fr * map.rows;
                    layer.ifmap_distinct_mslice(m0, m0 + map.rows_used(fr))
                })
                .collect::<Option<Vec<u128>>>(),
            Dataflow::Is => (0..map.col_folds)
                .map(|fc| {
                    let m0 = fc * map.cols;
                    layer.ifmap_distinct_mslice(m0, m0 + map.cols_used(fc))
                })
                .collect::<Option<Vec<u128>>>(),
        }
    };
    let kind = match (df, op) {
        _ if slice_sizes.is_some() && df == Dataflow::Is => Kind::PerColFold {
            sizes: slice_sizes.unwrap_or_default(),
        },
        _ if slice_sizes.is_some() => Kind::PerFold {
            sizes: slice_sizes.unwrap_or_default(),
        },
        (Dataflow::Os, Operand::Ifmap) => Kind::Round { tile_len: k },
        (Dataflow::Ws, Operand::Ifmap) => Kind::Round { tile_len: m },
        (Dataflow::Is, Operand::Filter) => Kind::Round { tile_len: n },
        (Dataflow::Os, Operand::Filter) => Kind::Tile,
        _ => Kind::Single,
    };
    let im2col = match op {
        Operand::Ifmap => m * k,
        Operand::Filter => k * n,
    };
    // Conv ifmap with overlapping windows: positions are counted in distinct addresses; scale
    // them onto the im2col stream to locate the close line (estimate).
    let scale = |pos: u128| -> u128 {
        if exact_gemm || distinct == 0 {
            return pos;
        }
        let scaled = match pos.checked_mul(im2col) {
            Some(p) => p / distinct,
            None => (pos as f64 * (im2col as f64 / distinct as f64)) as u128,
        };
        scaled.clamp(1, im2col)
    };
    match kind {
        Kind::Round { .. } => sim.run(0, 0, distinct, cf),
        Kind::Tile => {
            // One O(1) run per column fold. Beyond MAX_TILE_RUNS column folds (only for
            // absurd shapes) the count is extrapolated linearly and flagged inexact.
            let runs = map.col_folds.min(MAX_TILE_RUNS);
            for fc in 0..runs {
                sim.run(fc as u128, fc as u128, k * map.cols_used(fc) as u128, rf);
            }
            if runs < map.col_folds {
                sim.inserted = sim.inserted / runs as u128 * map.col_folds as u128;
                sim.last_close = None;
                extrapolated = true;
            }
        }
        Kind::Single => sim.run(0, 0, distinct, 1),
        Kind::PerFold { ref sizes } if df == Dataflow::Os => {
            let slices: Vec<(u64, u64)> = (0..map.row_folds)
                .map(|fr| (fr * map.rows, fr * map.rows + map.rows_used(fr)))
                .collect();
            overlap_runs(&mut sim, layer, &slices, sizes, map.col_folds);
        }
        Kind::PerFold { ref sizes } => {
            for f in 0..map.folds() {
                let fr = (f % rf) as usize;
                sim.run(f, f, sizes[fr], 1);
            }
        }
        Kind::PerColFold { ref sizes } => {
            let slices: Vec<(u64, u64)> = (0..map.col_folds)
                .map(|fc| (fc * map.cols, fc * map.cols + map.cols_used(fc)))
                .collect();
            overlap_runs(&mut sim, layer, &slices, sizes, 1);
        }
    }
    let ws_exact = match &kind {
        Kind::PerFold { sizes } if df == Dataflow::Ws => ws_folds_fresh(layer, map, sizes, sim.q),
        _ => false,
    };
    let exact = (exact_gemm || sim.closes == 0 || ws_exact) && !extrapolated;
    // A conv ifmap whose chunks close: the count is estimated when windows overlap, and the
    // last close's demand line is located by scaling positions onto the im2col stream, which
    // the −1 entries of off-map windows (ceil convention) shift even when windows are
    // disjoint. The walk gets both exactly.
    let close_line_inexact = sim.closes > 0 && layer.has_offmap_windows();
    if op == Operand::Ifmap && !layer.is_gemm() && (!exact || close_line_inexact) {
        // The address walk within its limit (≤ ~1 ms; the jumps can cost twice as much per
        // visit where every fold holds a close), else the window jumps (OS/IS) within their
        // budget, unless their loose cost bound is far beyond it.
        if ifmap_walkable(layer, map, walk_limit) {
            let (walked, close_line) = calc_dram::walk(layer, map, true, sram_elems);
            return (walked, close_line, true);
        }
        let budget = walk_limit.saturating_mul(JUMP_LIMIT_FACTOR);
        if window_walk::applies(layer, map)
            && window_walk::cost(layer, map, sram_counts(layer, map).0, sram_elems)
                <= budget.saturating_mul(1 << 10)
        {
            if let Some((walked, close_line)) = window_walk::walk(layer, map, sram_elems, budget) {
                return (walked, close_line, true);
            }
        }
    }
    let close_line = sim.last_close.map(|ClosePoint { run_id, pass, pos }| {
        let (fold, p_in) = match &kind {
            Kind::PerColFold { sizes } => {
                let fc = run_id;
                let cu = map.cols_used(fc as u64) as u128;
                let span = k * cu;
                let u = sizes[fc as usize].max(1);
                let p = pos.checked_mul(span).map_or(span, |x| x / u).clamp(1, span);
                let fr = ((p - 1) / (r * cu)).min(rf - 1);
                (fc * rf + fr, p - fr * r * cu)
            }
            Kind::PerFold { sizes } => {
                let (_, fr) = map.fold_at(run_id);
                let other = if df == Dataflow::Os { k } else { m };
                let tile = other * map.rows_used(fr) as u128;
                let u = sizes[fr as usize].max(1);
                let p = pos.checked_mul(tile).map_or(tile, |x| x / u).clamp(1, tile);
                (run_id, p)
            }
            Kind::Round { tile_len } => {
                let pos = scale(pos);
                let tile = r * *tile_len;
                let fr = ((pos - 1) / tile).min(rf - 1);
                (pass * rf + fr, pos - fr * tile)
            }
            Kind::Tile => (run_id * rf + pass, pos),
            Kind::Single => {
                let pos = scale(pos);
                let colfold = k * c; // Sr = K for WS filter / IS ifmap
                let fc = ((pos - 1) / colfold).min(cf - 1);
                let rem = pos - fc * colfold;
                let cu = map.cols_used(fc as u64) as u128;
                let fr = ((rem - 1) / (r * cu)).min(rf - 1);
                (fc * rf + fr, rem - fr * r * cu)
            }
        };
        let (fc, fr) = map.fold_at(fold);
        let w = edge_used(df, op, map, fc, fr) as i128;
        let tau = match layout(df, op, map) {
            Layout::Skewed { base, len } => {
                skewed_line_of(p_in as i128, base as i128, w, len as i128).max(0) as u128
            }
            Layout::Stationary => {
                let ru = map.rows_used(fr) as u128;
                (r - ru) + (p_in - 1) / w.max(1) as u128
            }
        };
        fold * per_fold + tau.min(per_fold - 1)
    });
    (sim, close_line, exact)
}

/// Channels `{k mod C : k ∈ [k0, k0 + n)}` of a K-slice as ≤ 2 half-open intervals of
/// `[0, C)` (a flattened window position `k = (r·Fw + c)·C + ch`, `Layer::split_k`).
fn slice_channels(k0: u64, n: u64, c: u64) -> [(u64, u64); 2] {
    if n >= c {
        return [(0, c), (0, 0)];
    }
    let a = k0 % c;
    if a + n <= c {
        [(a, a + n), (0, 0)]
    } else {
        [(a, c), (0, a + n - c)]
    }
}

/// Whether the WS per-fold closed form ([`calc_reads`]' `PerFold`: every fold a fresh sequence
/// of its distinct addresses) is exact: no address recurs while it can still be in the chunk.
/// By induction over the folds (if every earlier fold was fresh, the chunk at fold `f`'s start
/// holds exactly the last `fill = (Σ earlier sizes) mod q` insertions), sufficient conditions:
/// * a fold's K-slice has pairwise distinct channels (`rows_used ≤ C`), so its entries
///   (window, k) are distinct addresses (two windows never read the same pixel at one k);
/// * every fold `g` those held insertions come from shares no channel with `f` (an address of
///   another channel is another address), or (no off-map windows, so every entry is an
///   insertion) `f` closes a chunk before it reads the ifmap rows of `g`'s held tail: `f`'s
///   first `q − fill` insertions read windows `≤ ⌈(q−fill)/ru⌉ + ru − 1` and `g`'s last `t`
///   ones windows `≥ M − ⌈t/ru⌉ − ru` (the skewed stream: line x reads windows x − c, c < ru).
fn ws_folds_fresh(layer: &Layer, map: &Mapping, sizes: &[u128], q: u128) -> bool {
    let c = layer.channels;
    let rf = map.row_folds;
    let chans = |fr: u64| slice_channels(fr * map.rows, map.rows_used(fr), c);
    let meet = |a: [(u64, u64); 2], b: [(u64, u64); 2]| {
        a.iter()
            .any(|&(x0, x1)| b.iter().any(|&(y0, y1)| x0.max(y0) < x1.min(y1)))
    };
    if (0..rf).any(|fr| map.rows_used(fr) > c) || map.folds() > 1 << 20 {
        return false;
    }
    let m = layer.m() as u128;
    let spatial = !layer.has_offmap_windows();
    // First ifmap row read by windows ≥ w, and the end of the rows read by windows ≤ w.
    let row_of = |w: u128| (w / layer.ofmap_w as u128) * layer.stride as u128;
    let mut steps = 0u64;
    let mut fill = 0u128;
    for f in 0..map.folds() as u64 {
        let fr = f % rf;
        let (mine, size_f) = (chans(fr), sizes[fr as usize]);
        let ru_f = map.rows_used(fr) as u128;
        let mut need = fill;
        let mut g = f;
        while need > 0 {
            steps += 1;
            if g == 0 || steps > 1 << 22 {
                return false;
            }
            g -= 1;
            let gr = g % rf;
            let size_g = sizes[gr as usize];
            let take = need.min(size_g);
            if meet(mine, chans(gr)) {
                let ru_g = map.rows_used(gr) as u128;
                let tail_rows_from = row_of(m.saturating_sub(take.div_ceil(ru_g) + ru_g));
                let first = q - fill; // insertions of f before its first close
                let head_windows = (first.div_ceil(ru_f) + ru_f - 1).min(m - 1);
                let head_rows_end = row_of(head_windows) + layer.filter_h as u128;
                // (A whole held fold, or an `f` that closes no chunk, reaches every row.)
                if !(spatial && head_rows_end <= tail_rows_from) {
                    return false;
                }
            }
            need -= take;
        }
        fill = (fill + size_f) % q;
    }
    true
}

/// Simulate one layer of SCALE-Sim 3.0.0 on `cfg`.
pub fn simulate_layer(cfg: &ScaleSimConfig, layer: &Layer) -> LayerResult {
    simulate_layer_with(cfg, layer, MAX_CALC_WALK)
}

/// Address visits up to which a CALC conv ifmap the closed form cannot get exactly (chunks
/// that close over overlapping windows, or over −1 entries) is walked ([`calc_dram::walk`],
/// 6–18 ns a visit on ResNet-50's layers, so at most ~2.5 ms a layer); larger layers keep the
/// closed form, and their op says `dram_reads_exact: false` when the count is the estimate.
/// CALC is the fast mode: ResNet-50's layers have 0.2–0.9 M visits, and a 2^20 limit made a
/// whole ResNet-50 run at a 64 kB ifmap SRAM take 72 ms against 7 ms at 2^17 (medians of 5
/// alternated `archsim run` processes), too slow for SRAM sweeps, while every layer of the
/// seeded cross-check set (`tests/data/scalesim/crosscheck`, at most 79,500 visits) is walked
/// and exact.
pub const MAX_CALC_WALK: u128 = 1 << 17;

/// [`window_walk::walk`]'s work budget, as a multiple of the address walk's visit limit:
/// 2^23 units of work (address visits of walked units, plus the rows and held pixels of each
/// count). VGG-16's conv layers on a 32×32 OS array with 512 kB SRAMs all fit (2^22 did not
/// fit conv4_2/4_3); a layer beyond it gives up within ~0.1 s (`archsim run` of a 200×200×64
/// or 300×300×64 3×3 conv on `calc_128x128_os.cfg` at a 64 kB ifmap SRAM: 0.09 / 0.07 s,
/// flagged estimates).
const JUMP_LIMIT_FACTOR: u128 = 1 << 6;

/// Most ifmap elements a CALC walk stamps (16 MiB of stamps).
const MAX_WALK_DOMAIN: u128 = 1 << 22;

/// Whether the CALC walk of a conv ifmap ([`calc_dram::walk`]) is affordable: at most
/// `walk_limit` address visits ([`super::user::walk_cost`] over the ifmap's SRAM reads,
/// MODEL.md §4: every fold streams its tile) and at most [`MAX_WALK_DOMAIN`] ifmap elements to
/// stamp, 4 bytes each, so a layer whose strides skip most of a huge ifmap (few visits, a big
/// domain) keeps the estimate rather than allocate gigabytes.
fn ifmap_walkable(layer: &Layer, map: &Mapping, walk_limit: u128) -> bool {
    super::user::walk_cost(map, sram_counts(layer, map).0) <= walk_limit
        && layer.ifmap_elems() <= MAX_WALK_DOMAIN
}

/// SRAM (ifmap reads, filter reads, ofmap writes) of a layer (`ifmap_reads`, `filter_reads`,
/// `ofmap_writes`; MODEL.md §4 table).
fn sram_counts(layer: &Layer, map: &Mapping) -> (u128, u128, u128) {
    let (m, n, k) = (layer.m() as u128, layer.n() as u128, layer.k() as u128);
    let (rf, cf) = (map.row_folds as u128, map.col_folds as u128);
    match map.dataflow {
        Dataflow::Os => (
            m * k * cf,
            k * n * rf,
            // + folds·(R+C): line 403 adds shape[0]+shape[1] after the real count.
            m * n + map.folds() * (map.rows as u128 + map.cols as u128),
        ),
        Dataflow::Ws => (m * k * cf, k * n, m * n * rf),
        Dataflow::Is => (m * k, k * n * cf, m * n * rf),
    }
}

/// [`simulate_layer`] with CALC conv-ifmap DRAM reads from the closed-form estimate only, never
/// the exact walk (what layers beyond [`MAX_CALC_WALK`] get): for tests that measure the
/// estimate.
pub fn simulate_layer_analytic(cfg: &ScaleSimConfig, layer: &Layer) -> LayerResult {
    simulate_layer_with(cfg, layer, 0)
}

fn simulate_layer_with(cfg: &ScaleSimConfig, layer: &Layer, walk_limit: u128) -> LayerResult {
    let (r, c) = (cfg.array_rows, cfg.array_cols);
    let map = Mapping::new(layer, cfg.dataflow, r, c);
    let folds = map.folds();
    let per_fold = map.cycles_per_fold();
    let lines = folds * per_fold;
    let (rr, cc, t) = (r as u128, c as u128, map.t as u128);
    let pe = rr * cc;

    // Mapping efficiency: mean over folds of rows_used·cols_used/(R·C); Σ over folds of
    // rows_used·cols_used = Sr·Sc (`systolic_compute_*.create_*_demand_mat`).
    let used = map.sr as u128 * map.sc as u128;
    let mapping_eff = used as f64 / (folds as f64 * pe as f64);
    // Compute util: mean of rows_used·cols_used·T/(R·C·cyc_f); OS cyc_f = T+R+C−2, WS/IS
    // cyc_f = 2R+2C+T−3 (the `shape[0]+shape[1]−1` of an unskewed tile: C−1 too long).
    let cyc_f = match cfg.dataflow {
        Dataflow::Os => per_fold,
        _ => 2 * rr + 2 * cc + t - 3,
    };
    let compute_util = used as f64 * t as f64 / (folds as f64 * pe as f64 * cyc_f as f64);

    // SRAM counts (`ifmap_reads`, `filter_reads`, `ofmap_writes`; MODEL.md §4 table).
    let (sram_if, sram_fl, sram_of) = sram_counts(layer, &map);

    let (if_first, if_last) = operand_lines(layer, &map, Operand::Ifmap, per_fold);
    let (fl_first, fl_last) = operand_lines(layer, &map, Operand::Filter, per_fold);
    let ofs = OfmapStream {
        map: &map,
        per_fold,
    };
    let of_first = ofs.line_of(1);
    let of_last = ofs.line_of(ofs.total());

    let ofmap_elems = 1024 * cfg.ofmap_sram_kb as u128;
    let mut res = LayerResult {
        row_folds: map.row_folds,
        col_folds: map.col_folds,
        cycles_per_fold: per_fold,
        demand_lines: lines,
        macs: layer.macs(),
        mapping_efficiency_pct: mapping_eff * 100.0,
        compute_util_pct: compute_util * 100.0,
        sram_ifmap_reads: sram_if,
        sram_filter_reads: sram_fl,
        sram_ofmap_writes: sram_of,
        ..Default::default()
    };

    let calc = |res: &mut LayerResult| {
        let ifs = 1024 * cfg.ifmap_sram_kb as u128;
        let fls = 1024 * cfg.filter_sram_kb as u128;
        let (isim, iclose, iex) =
            calc_reads(layer, &map, Operand::Ifmap, ifs, per_fold, walk_limit);
        let (fsim, fclose, fex) =
            calc_reads(layer, &map, Operand::Filter, fls, per_fold, walk_limit);
        // Trace stop = last close cycle + read-port latency; −1 when nothing closed.
        let stop = |cl: Option<u128>| cl.map_or(-1, |l| l as i128 + 1);
        res.dram_ifmap_reads = isim.inserted;
        res.dram_filter_reads = fsim.inserted;
        res.dram_reads_exact = iex && fex;
        (
            (isim.dram_start_cycle(if_first as i128), stop(iclose)),
            (fsim.dram_start_cycle(fl_first as i128), stop(fclose)),
        )
    };
    let user = match cfg.bw_mode {
        BandwidthMode::User => {
            let counts = |line: u128| (ofs.before_line(line + 1) - ofs.before_line(line)) as u64;
            super::user::simulate(cfg, layer, &map, &counts, sram_if + sram_fl)
        }
        BandwidthMode::Calc => None,
    };
    let mut user_sram = None;
    let (if_dram, fl_dram, wr, total) = match user {
        Some(u) => {
            user_sram = Some(u.sram_cycles);
            res.dram_ifmap_reads = u.ifmap.dram_reads;
            res.dram_filter_reads = u.filter.dram_reads;
            res.dram_reads_exact = true;
            res.stall_cycles = u.stall_cycles;
            (
                (u.ifmap.dram_start, u.ifmap.dram_stop),
                (u.filter.dram_start, u.filter.dram_stop),
                u.ofmap,
                u.total_cycles,
            )
        }
        None => {
            // CALC, or a USER layer too large for the walk (estimate: CALC read counts, no
            // read stalls, write stalls from the drain model).
            let (i, f) = calc(&mut res);
            let wr = write_buffer::simulate(
                &ofs,
                ofmap_elems,
                cfg.ofmap_drain_bw() as u128,
                lines,
                MAX_DRAIN_EVENTS,
            );
            res.stall_cycles = wr.stall_cycles;
            if cfg.bw_mode == BandwidthMode::User {
                res.dram_reads_exact = false;
            }
            let total = lines - 1 + wr.stall_cycles;
            (i, f, wr, total)
        }
    };
    let stalls = res.stall_cycles;
    res.total_cycles = total;
    res.overall_util_pct =
        layer.macs() as f64 * 100.0 / (res.total_cycles.max(1) as f64 * pe as f64);
    res.dram_ofmap_writes = wr.dram_writes;
    let s = stalls as i128;
    // SRAM read trace cycles = demand cycle + hit latency 1; ofmap = demand cycle.
    let sram = user_sram.unwrap_or([
        (if_first as i128 + 1, if_last as i128 + 1 + s),
        (fl_first as i128 + 1, fl_last as i128 + 1 + s),
        (of_first as i128, of_last as i128 + s),
    ]);
    res.access_cycles = [
        sram[0],
        sram[1],
        sram[2],
        if_dram,
        fl_dram,
        (wr.dram_start, wr.dram_stop),
    ];
    res.total_cycles_incl_prefetch = wr.dram_stop - if_dram.0.min(fl_dram.0);
    res
}

impl LayerResult {
    /// Saturating conversion into the shared report struct.
    pub fn to_report(&self) -> crate::machine::ScaleSimReport {
        let u = |x: u128| u64::try_from(x).unwrap_or(u64::MAX);
        let i = |x: i128| i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX });
        crate::machine::ScaleSimReport {
            total_cycles_incl_prefetch: i(self.total_cycles_incl_prefetch),
            total_cycles: u(self.total_cycles),
            stall_cycles: u(self.stall_cycles),
            overall_util_pct: self.overall_util_pct,
            mapping_efficiency_pct: self.mapping_efficiency_pct,
            compute_util_pct: self.compute_util_pct,
            sram_ifmap_reads: u(self.sram_ifmap_reads),
            sram_filter_reads: u(self.sram_filter_reads),
            sram_ofmap_writes: u(self.sram_ofmap_writes),
            dram_ifmap_reads: u(self.dram_ifmap_reads),
            dram_filter_reads: u(self.dram_filter_reads),
            dram_ofmap_writes: u(self.dram_ofmap_writes),
            access_cycles: self.access_cycles.map(|(a, b)| (i(a), i(b))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whenever the closed form says it is exact without a walk (`walk_limit` 0), it agrees with
    /// the address walk on the reads and on the last close's line; random WS convs, where
    /// [`ws_folds_fresh`] makes many overflowing layers exact.
    #[test]
    fn closed_form_marked_exact_agrees_with_the_walk() {
        let mut rng = crate::units::TestRng::new(0x9e37_79b9_7f4a_7c15u64);
        let (mut checked, mut ws_fresh) = (0, 0);
        while checked < 600 {
            let Some(l) = Layer::random(&mut rng, 40, 5, 3, 80, 40) else {
                continue;
            };
            let mut rnd = |n: u64| rng.below(n);
            let df = [Dataflow::Ws, Dataflow::Os, Dataflow::Is][rnd(3) as usize];
            let map = Mapping::new(&l, df, 1 + rnd(40), 1 + rnd(40));
            let sram = [200u128, 1000, 3000, 10_000, 50_000][rnd(5) as usize];
            let per_fold = map.cycles_per_fold();
            let (est, line, exact) = calc_reads(&l, &map, Operand::Ifmap, sram, per_fold, 0);
            if !exact {
                continue;
            }
            let (walk, wline) = calc_dram::walk(&l, &map, true, sram);
            assert_eq!(
                est.inserted, walk.inserted,
                "{l:?} {df:?} {map:?} sram {sram}"
            );
            if !l.has_offmap_windows() {
                assert_eq!(line, wline, "close line: {l:?} {df:?} {map:?} sram {sram}");
            }
            checked += 1;
            if df == Dataflow::Ws && est.closes > 0 && !l.windows_disjoint() {
                ws_fresh += 1;
            }
        }
        assert!(
            ws_fresh > 50,
            "{ws_fresh} overlapping WS cases exact by ws_folds_fresh"
        );
    }

    /// The spatial half of [`ws_folds_fresh`]: WS layers whose K-slices are exactly the channels
    /// (rows = C), so neighbouring folds always share channels, and whose folds are much larger
    /// than a chunk. Every case marked exact agrees with the address walk, and many are.
    #[test]
    fn ws_tail_apart_from_the_next_fold_head_agrees_with_the_walk() {
        let mut rng = crate::units::TestRng::new(0x51_7cc1_b727_220a);
        let (mut marked, mut tried) = (0, 0);
        while tried < 300 {
            let s = 1 + rng.below(2);
            let (fh, fw) = (s + 1 + rng.below(2), s + 1 + rng.below(2));
            // No off-map windows: H = (E − 1)·S + F.
            let (eh, ew) = (6 + rng.below(40), 6 + rng.below(40));
            let c = 2 + rng.below(14);
            let l = Layer::conv((eh - 1) * s + fh, (ew - 1) * s + fw, fh, fw, c, 4, s).unwrap();
            assert!(!l.has_offmap_windows());
            let map = Mapping::new(&l, Dataflow::Ws, c, 8);
            let sram = [1000u128, 3000, 8000][rng.below(3) as usize];
            let (est, line, exact) =
                calc_reads(&l, &map, Operand::Ifmap, sram, map.cycles_per_fold(), 0);
            tried += 1;
            if !exact || est.closes == 0 {
                continue;
            }
            let (walk, wline) = calc_dram::walk(&l, &map, true, sram);
            assert_eq!(
                (est.inserted, line),
                (walk.inserted, wline),
                "{l:?} sram {sram}"
            );
            marked += 1;
        }
        assert!(marked > 30, "{marked} of {tried} marked exact");
    }

    /// The walk is refused for a few-visit layer over a 1.6 G-element ifmap (its stamps would
    /// take 6.4 GB) and for a layer beyond the visit limit, and allowed for a small one.
    #[test]
    fn walk_needs_few_visits_and_a_small_ifmap() {
        let huge = Layer::conv(40_000, 40_000, 2, 1, 1, 4, 400).unwrap();
        let map = Mapping::new(&huge, Dataflow::Os, 32, 32);
        assert!(huge.has_offmap_windows());
        assert!(
            super::super::user::walk_cost(&map, huge.m() as u128 * huge.k() as u128)
                < MAX_CALC_WALK
        );
        assert!(!ifmap_walkable(&huge, &map, MAX_CALC_WALK));
        let small = Layer::conv(20, 20, 3, 3, 8, 16, 1).unwrap();
        let map = Mapping::new(&small, Dataflow::Ws, 16, 16);
        assert!(ifmap_walkable(&small, &map, MAX_CALC_WALK));
        assert!(!ifmap_walkable(&small, &map, 100));
    }
}
