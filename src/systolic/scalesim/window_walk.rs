//! Exact CALC-mode DRAM reads of a conv ifmap in the OS and IS dataflows, jumping over whole
//! window slices instead of visiting every demanded address.
//!
//! SCALE-Sim's estimate buffer (`memory/read_buffer_estimate_bw.py`,
//! `ReadBufferEstimateBw.manage_prefetches`; MODEL.md §4) inserts every demanded address that is
//! not in the current chunk; the chunk closes when it holds `q` distinct addresses and a new,
//! empty one starts. So the stream splits into *segments*, each ending where its `q`-th
//! distinct address appears, and DRAM reads = Σ distinct addresses per segment.
//!
//! In OS and IS the ifmap stream is a series of *units* that each read every ifmap address of a
//! contiguous range of windows (ofmap pixels), all channels: an OS fold (R windows, all of K;
//! the list of row folds repeated once per column fold) or an IS column fold (C windows, its
//! row folds in a row). The distinct addresses of a run of units are the union of their
//! windows' receptive fields, which is counted in O(ifmap rows) (per ifmap row, the ofmap
//! pixels of the run that cover it form ≤ 3 ranges per window range). So a segment costs a
//! search over units for the one in which the count reaches `q`, plus one address-by-address
//! walk of that unit; the units before it are skipped. The count and the walk read the same
//! addresses as [`super::calc_dram::walk`] (`calc_ifmap_elem_addr`, −1 entries of off-map
//! windows excluded), so both give the same reads and the same last close line; the unit tests
//! check that on random layers.

use super::calc_dram::ChunkSim;
use super::geometry::{Cover, Layer, Mapping, Ranges};
use crate::systolic::scalesim_cfg::Dataflow;

/// Ifmap rows above which [`walk`] is not used (each count is O(rows)).
const MAX_ROWS: u64 = 1 << 20;

/// Ifmap elements above which [`walk`] is not used (a 4-byte chunk stamp per element: 64 MiB).
const MAX_DOMAIN: u128 = 1 << 24;

/// Per ifmap row of `rows`, the ofmap-column intervals of `ranges` that cover it: membership
/// of an address in a run's receptive fields in O(intervals) without recomputing the row.
struct RowTable {
    y0: u64,
    rows: Vec<Vec<(u64, u64)>>,
}

impl RowTable {
    fn new(cover: &Cover, ranges: &Ranges, rows: std::ops::Range<u64>) -> RowTable {
        let mut scratch = Vec::new();
        let y0 = rows.start;
        let rows = rows
            .map(|y| {
                cover.row_intervals(ranges, y, &mut scratch);
                scratch.clone()
            })
            .collect();
        RowTable { y0, rows }
    }

    fn contains(&self, cover: &Cover, a: u64) -> bool {
        let (y, x) = cover.pixel(a);
        y.checked_sub(self.y0)
            .and_then(|i| self.rows.get(i as usize))
            .is_some_and(|iv| cover.covers(iv, x))
    }
}

/// Per ifmap row, its held pixels as (column, channels held).
type TailGroups = Vec<(u64, Vec<(u64, u64)>)>;

/// The held tail's addresses grouped by ifmap row and pixel (with the number of its channels
/// held), so a count tests each row once and each pixel once. `per_px` (one counter per ifmap
/// pixel) is all zeros on entry and on return.
fn group_tail(cover: &Cover, tail: &[u64], per_px: &mut [u32]) -> TailGroups {
    let mut px: Vec<u64> = Vec::new();
    for &a in tail {
        let p = a / cover.c;
        let n = &mut per_px[p as usize];
        if *n == 0 {
            px.push(p);
        }
        *n += 1;
    }
    px.sort_unstable();
    let mut out: TailGroups = Vec::new();
    for p in px {
        let n = std::mem::take(&mut per_px[p as usize]) as u64;
        let (y, x) = (p / cover.w, p % cover.w);
        match out.last_mut() {
            Some((ly, xs)) if *ly == y => xs.push((x, n)),
            _ => out.push((y, vec![(x, n)])),
        }
    }
    out
}

/// Units of the ifmap stream: OS folds (fold order) or IS column folds.
struct Units<'a> {
    map: &'a Mapping,
    m: u64,
    count: u128,
}

impl Units<'_> {
    /// Window range of unit `u`.
    fn windows(&self, u: u128) -> (u64, u64) {
        let map = self.map;
        match map.dataflow {
            Dataflow::Is => {
                let fc = u as u64;
                (fc * map.cols, fc * map.cols + map.cols_used(fc))
            }
            _ => {
                let (_, fr) = map.fold_at(u);
                (fr * map.rows, fr * map.rows + map.rows_used(fr))
            }
        }
    }

    /// Window ranges of units `a..=b` (`a ≤ b`).
    fn span(&self, a: u128, b: u128) -> Ranges {
        let none = (0, 0);
        if self.map.dataflow == Dataflow::Os && b - a + 1 >= self.map.row_folds as u128 {
            return [(0, self.m), none]; // a whole round of row folds
        }
        let (lo, _) = self.windows(a);
        let (_, hi) = self.windows(b);
        if lo < hi {
            [(lo, hi), none]
        } else {
            [(lo, self.m), (0, hi)] // OS: wraps into the next column fold's round
        }
    }

    /// Ifmap rows read by unit `u`'s windows (a superset: whole ofmap rows).
    fn rows(&self, u: u128, cover: &Cover) -> std::ops::Range<u64> {
        let (lo, hi) = self.windows(u);
        let (oy1, oy2) = (lo / cover.wo, (hi.max(lo + 1) - 1) / cover.wo);
        (oy1 * cover.s).min(cover.h)..(oy2 * cover.s + cover.fh).min(cover.h)
    }

    /// Global folds of unit `u`.
    fn folds(&self, u: u128) -> std::ops::Range<u128> {
        match self.map.dataflow {
            Dataflow::Is => {
                let rf = self.map.row_folds as u128;
                u * rf..(u + 1) * rf
            }
            _ => u..u + 1,
        }
    }
}

/// Whether [`walk`] applies: a conv layer (not a plain GEMM) in OS or IS whose ifmap has at
/// most 2^20 rows and 2^24 elements.
pub fn applies(layer: &Layer, map: &Mapping) -> bool {
    map.dataflow != Dataflow::Ws
        && !layer.is_gemm()
        && layer.ifmap_h <= MAX_ROWS
        && layer.ifmap_elems() <= MAX_DOMAIN
}

/// Loose upper bound of [`walk`]'s work in [`walk`]'s budget units, for a caller to refuse
/// hopeless layers before trying: at most one walked unit per chunk close (closes bounded by
/// the SRAM reads / `q` and by the units), every search step an O(rows + unit) count.
pub fn cost(layer: &Layer, map: &Mapping, sram_reads: u128, sram_elems: u128) -> u128 {
    let q = ChunkSim::new(sram_elems).q;
    let (units, unit_visits) = match map.dataflow {
        Dataflow::Is => (
            map.col_folds as u128,
            map.row_folds as u128 * map.cycles_per_fold() + map.cols as u128 * layer.k() as u128,
        ),
        _ => (
            map.folds(),
            map.cycles_per_fold() + map.rows as u128 * layer.k() as u128,
        ),
    };
    let closes = (sram_reads / q.max(1) + 1).min(units);
    let steps = 2 * (128 - units.leading_zeros() as u128) + 2;
    closes * (unit_visits + steps * (layer.ifmap_h as u128 + unit_visits))
}

/// The exact CALC read count of a conv ifmap in OS or IS ([`applies`]), as
/// [`super::calc_dram::walk`] returns it: the buffer state (`inserted` = DRAM reads, `closes`)
/// and the global demand line (`fold · per_fold + τ`) of the last chunk close.
/// `budget` bounds the work (address visits of the walked units plus, per count, the ifmap
/// rows and the held tail); `None` when it runs out (the caller keeps its estimate).
pub fn walk(
    layer: &Layer,
    map: &Mapping,
    sram_elems: u128,
    budget: u128,
) -> Option<(ChunkSim, Option<u128>)> {
    let mut sim = ChunkSim::new(sram_elems);
    let q = sim.q;
    let cover = Cover::new(layer);
    let units = Units {
        map,
        m: layer.m(),
        count: match map.dataflow {
            Dataflow::Is => map.col_folds as u128,
            _ => map.folds(),
        },
    };
    let ops = super::user::Operands::new(layer);
    let per_fold = map.cycles_per_fold();
    let mut scratch = Vec::new();
    let mut line = Vec::new();
    // The chunk holds `tail` (addresses inserted since the last close, inside the unit that
    // closed it) plus every address of units `next..` jumped over since. `stamp[a] == chunk`
    // iff `a` is in the tail (the walk's O(1) membership; a close bumps `chunk`).
    let mut tail: Vec<u64> = Vec::new();
    let mut stamp = vec![0u32; layer.ifmap_elems() as usize];
    let mut per_px = vec![0u32; (layer.ifmap_h * layer.ifmap_w) as usize];
    let mut chunk = 1u32;
    let mut last_close = None;
    let mut next = 0u128;
    let mut work = 0u128;
    let rows = layer.ifmap_h as u128;
    while next < units.count {
        // Chunk size after units next..=g: |U(span)| + |tail \ U(span)|, exact when below q
        // (a count at or above q is only compared with q, so |U(span)| ≥ q answers it without
        // the tail, which is grouped on first need).
        let mut groups: Option<TailGroups> = None;
        let mut count = |g: u128| -> u128 {
            if g < next {
                return tail.len() as u128;
            }
            work += rows;
            let r = units.span(next, g);
            let u = cover.union_count(&r, &mut scratch);
            if u >= q || tail.is_empty() {
                return u;
            }
            let groups = groups.get_or_insert_with(|| group_tail(&cover, &tail, &mut per_px));
            work += groups.len() as u128;
            let mut outside = 0u128;
            for (y, xs) in groups.iter() {
                cover.row_intervals(&r, *y, &mut scratch);
                for &(x, n) in xs {
                    if !cover.covers(&scratch, x) {
                        outside += n as u128;
                    }
                }
            }
            work += outside / cover.c as u128;
            u + outside
        };
        let last = units.count - 1;
        let end = count(last);
        if end < q {
            // No further close: the rest of the stream fills the chunk.
            sim.inserted += end - tail.len() as u128;
            sim.fill = end;
            break;
        }
        // Smallest g with count(g) ≥ q: exponential then binary search (count is monotone).
        let (mut lo, mut hi) = (next, last); // count(hi) ≥ q; answer in [lo, hi]
        let mut step = 1u128;
        while lo < hi {
            let probe = (next + step - 1).min(hi);
            if count(probe) >= q {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if count(mid) >= q {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let g = lo;
        // Jump over units next..g−1, then walk unit g address by address.
        let before = (g > next)
            .then(|| RowTable::new(&cover, &units.span(next, g - 1), units.rows(g, &cover)));
        let fill_before = if g > next {
            count(g - 1)
        } else {
            tail.len() as u128
        };
        sim.inserted += fill_before - tail.len() as u128;
        sim.fill = fill_before;
        // The jumped units' addresses count as held until the chunk closes in this unit.
        let mut jumped = before;
        let closes_before = sim.closes;
        if work > budget {
            return None;
        }
        for f in units.folds(g) {
            let (fc, fr) = map.fold_at(f);
            for tau in 0..per_fold as u64 {
                super::user::demand_line(&ops, map, true, fc, fr, tau, &mut line);
                work += line.len() as u128 + 1;
                for &a in &line {
                    let st = &mut stamp[a as usize];
                    if *st == chunk {
                        continue;
                    }
                    if jumped.as_ref().is_some_and(|t| t.contains(&cover, a)) {
                        continue;
                    }
                    *st = chunk;
                    tail.push(a);
                    sim.inserted += 1;
                    sim.fill += 1;
                    if sim.fill == q {
                        sim.fill = 0;
                        sim.closes += 1;
                        tail.clear();
                        // Below 2^32: every close takes q ≥ 1 insertions, and the budget bounds
                        // the visits far below 2^32.
                        chunk += 1;
                        jumped = None;
                        last_close = Some(f * per_fold + tau as u128);
                    }
                }
            }
        }
        debug_assert!(
            sim.closes > closes_before,
            "the unit where the count reaches q closes"
        );
        next = g + 1;
        if work > budget {
            return None;
        }
    }
    Some((sim, last_close))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(l: Layer, df: Dataflow, rows: u64, cols: u64, sram: u128) {
        let map = Mapping::new(&l, df, rows, cols);
        let (a, la) = super::super::calc_dram::walk(&l, &map, true, sram);
        let (b, lb) = walk(&l, &map, sram, u128::MAX).unwrap();
        assert_eq!(
            (a.inserted, a.closes, a.fill, la),
            (b.inserted, b.closes, b.fill, lb),
            "{l:?} {df:?} {rows}x{cols} sram {sram}"
        );
    }

    /// Same reads, closes, fill and last close line as the address-by-address walk, on layers
    /// with overlapping windows, off-map windows (ceil convention), strides above the filter
    /// along one axis, and SRAMs from a few addresses per chunk to more than the ifmap.
    #[test]
    fn jumps_agree_with_the_address_walk() {
        let mut rng = crate::units::TestRng::new(0x2545_f491_4f6c_dd1du64);
        let mut checked = 0;
        while checked < 400 {
            let Some(l) = Layer::random(&mut rng, 30, 6, 4, 6, 40) else {
                continue;
            };
            let mut rnd = |n: u64| rng.below(n);
            let df = if rnd(2) == 0 {
                Dataflow::Os
            } else {
                Dataflow::Is
            };
            let (rows, cols) = (1 + rnd(20), 1 + rnd(20));
            let sram = [100, 200, 500, 1000, 3000, 10_000, 100_000][rnd(7) as usize];
            if !applies(&l, &Mapping::new(&l, df, rows, cols)) {
                continue;
            }
            check(l, df, rows, cols, sram);
            checked += 1;
        }
    }

    /// A budget too small for the walk gives `None` (the caller keeps its estimate); the
    /// budget the walk needs gives the full result.
    #[test]
    fn budget_runs_out() {
        let l = Layer::conv(40, 40, 3, 3, 16, 8, 1).unwrap();
        let map = Mapping::new(&l, Dataflow::Os, 16, 16);
        assert!(walk(&l, &map, 4096, 10).is_none());
        let full = walk(&l, &map, 4096, u128::MAX).unwrap();
        assert!(full.0.closes > 3);
        let (mut lo, mut hi) = (0u128, 1u128 << 40);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if walk(&l, &map, 4096, mid).is_some() {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let fit = walk(&l, &map, 4096, lo).unwrap();
        assert_eq!((fit.0.inserted, fit.1), (full.0.inserted, full.1));
        assert!(walk(&l, &map, 4096, lo - 1).is_none());
    }

    /// A stock-size layer (VGG-16 conv3 at a 32×32 array, 512 kB SRAM): the jumps agree with
    /// the walk where the closed-form estimate was ~3× too high.
    #[test]
    fn stock_layer_agrees() {
        let l = Layer::conv(58, 58, 3, 3, 128, 256, 1).unwrap();
        check(l, Dataflow::Os, 32, 32, 512 * 1024);
        check(l, Dataflow::Is, 32, 32, 512 * 1024);
        check(l, Dataflow::Os, 32, 32, 16 * 1024);
    }
}
