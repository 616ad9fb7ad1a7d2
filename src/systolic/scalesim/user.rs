//! USER-mode memory simulation (`memory/read_buffer.py`, `memory/write_buffer.py`,
//! `double_buffered_scratchpad.service_memory_requests`; MODEL.md §4 USER).
//!
//! USER-mode stalls depend on the order of every demanded address against SCALE-Sim's hashed
//! prefetch buffer, so this is a walk — confined to USER mode, over demand lines and valid
//! addresses only (never over −1 padding), with O(log) hit checks instead of SCALE-Sim's Python
//! set scans. It ports, bugs included:
//! * the fetch matrix: the operand's prefetch matrix (`create_*_prefetch_mat`: fold-stacked,
//!   diagonally rolled out for the skewed operands) cut into `bw`-word DRAM lines;
//! * the hashed buffer (`prepare_hashed_buffer`): valid addresses in fetch order grouped into
//!   sets of `ceil(SRAM/100)`; `floor(V/eps) + 1` sets (the last one may be empty);
//! * `prefetch_active_buffer` before cycle 0 (free), then `new_prefetch` on every miss: the
//!   active window slides by the prefetch set count (mod the set count), `ceil(prefetch/bw)`
//!   lines are fetched after `last_prefetch_cycle`;
//! * the stall double count of `service_reads` (`offset += potential` unconditionally, then
//!   again when positive), negative potentials included;
//! * `stall += max(ifmap, filter, ofmap stall)` per demand line, and the OFMAP write buffer at
//!   `Bandwidth[0]` words/cycle, element by element ([`super::write_buffer::WriteBufferPort`]).
//!
//! Layers whose walk would exceed [`MAX_WALK`] address visits fall back to an estimate (the
//! CALC-mode counts, no read stalls) and are flagged not exact.

use super::geometry::{Layer, Mapping};
use super::write_buffer::{WriteBufferPort, WriteResult};
use crate::systolic::scalesim_cfg::{Dataflow, ScaleSimConfig};

/// Largest number of demand-address visits the USER walk accepts per layer (a few seconds;
/// SCALE-Sim needs hours for such a layer).
pub const MAX_WALK: u128 = 400_000_000;

/// Largest number of `new_prefetch` calls (hit-check retries) per layer before the walk gives
/// up (tiny SRAMs with out-of-order demands, where SCALE-Sim itself takes hours).
pub const MAX_PREFETCHES: u64 = 20_000_000;

/// Largest prefetch matrix (elements, −1 padding included) the walk builds per operand.
pub const MAX_FETCH_ELEMS: u128 = 1 << 25;

/// DRAM activity of one USER read buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserOperand {
    pub dram_reads: u128,
    pub dram_start: i128,
    pub dram_stop: i128,
}

/// USER-mode results of a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRun {
    pub ifmap: UserOperand,
    pub filter: UserOperand,
    pub ofmap: WriteResult,
    /// `stall_cycles`: Σ over lines of max(ifmap, filter, ofmap stall).
    pub stall_cycles: u128,
    /// `total_cycles = max(ofmap serviced cycles)`.
    pub total_cycles: u128,
    /// SRAM trace (start, stop): serviced cycles of the first/last line with a valid address,
    /// for ifmap, filter, ofmap (`get_*_sram_start_stop_cycles`).
    pub sram_cycles: [(i128, i128); 3],
}

/// One address element of an operand: (relative address) or None for −1.
type Elem = Option<u64>;

/// Operand element accessors of a layer (addresses without the offsets, which only shift
/// every address of a buffer and so change nothing).
pub(crate) struct Operands<'a> {
    layer: &'a Layer,
    /// Plain GEMM: `A[m, k] = m·K + k`, no −1 entries (fast path).
    gemm: bool,
    k: u64,
    /// Conv: [`Layer::ifmap_addr`] as table lookups (the walks call it per demanded address).
    table: Option<IfmapTable>,
}

impl<'a> Operands<'a> {
    pub(crate) fn new(layer: &'a Layer) -> Self {
        let gemm = layer.is_gemm();
        Operands {
            layer,
            gemm,
            k: layer.k(),
            table: if gemm { None } else { IfmapTable::new(layer) },
        }
    }
    fn a(&self, m: u64, k: u64) -> Elem {
        if self.gemm {
            return Some(m * self.k + k);
        }
        match &self.table {
            Some(t) => t.addr(m, k),
            None => self.layer.ifmap_addr(m, k),
        }
    }
    /// `filter[k, n] = n·K + k` (`calc_filter_elem_addr`).
    fn b(&self, k: u64, n: u64) -> Elem {
        Some(n * self.k + k)
    }
}

/// [`Layer::ifmap_addr`] precomputed: per window `m` its base address and its valid filter rows
/// and columns ([`Layer::window_bounds`]), per window position `k` its offset and filter
/// (row, column). An address is then two compares and an add instead of six divisions.
struct IfmapTable {
    base: Vec<u64>,
    rows: Vec<u32>,
    cols: Vec<u32>,
    k_off: Vec<u64>,
    k_row: Vec<u32>,
    k_col: Vec<u32>,
}

impl IfmapTable {
    /// None when the layer is too large to tabulate (M or K above 2^26).
    fn new(layer: &Layer) -> Option<IfmapTable> {
        let (m, k) = (layer.m(), layer.k());
        if m > 1 << 26 || k > 1 << 26 || layer.filter_h > u32::MAX as u64 {
            return None;
        }
        let mut t = IfmapTable {
            base: Vec::with_capacity(m as usize),
            rows: Vec::with_capacity(m as usize),
            cols: Vec::with_capacity(m as usize),
            k_off: Vec::with_capacity(k as usize),
            k_row: Vec::with_capacity(k as usize),
            k_col: Vec::with_capacity(k as usize),
        };
        for i in 0..m {
            let (hb, wb) = layer.window_bounds(i);
            t.base.push(layer.ifmap_addr_base(i));
            t.rows.push(hb as u32);
            t.cols.push(wb as u32);
        }
        for j in 0..k {
            let (off, r, c) = layer.ifmap_addr_parts_k(j);
            t.k_off.push(off);
            t.k_row.push(r as u32);
            t.k_col.push(c as u32);
        }
        Some(t)
    }

    fn addr(&self, m: u64, k: u64) -> Elem {
        let (m, k) = (m as usize, k as usize);
        (self.k_row[k] < self.rows[m] && self.k_col[k] < self.cols[m])
            .then(|| self.base[m] + self.k_off[k])
    }
}

/// A read buffer of `read_buffer.py` over a precomputed address → set-id index.
struct ReadBuffer {
    bw: u128,
    active_buf_size: u128,
    prefetch_buf_size: u128,
    fetch_lines: u128,
    num_lines: u64,
    num_active: u64,
    num_prefetch: u64,
    /// CSR: set ids (sorted) of each address.
    starts: Vec<u64>,
    ids: Vec<u32>,
    active: (u64, u64),
    last_prefetch_cycle: i128,
    started: bool,
    /// `new_prefetch` calls so far (bounded by [`MAX_PREFETCHES`]).
    prefetches: u64,
    out: UserOperand,
}

impl ReadBuffer {
    /// Build from the fetch order (`None` = −1) over an address domain of size `domain`.
    fn new(order: &[Elem], domain: u64, sram_elems: u128, bw: u128) -> ReadBuffer {
        let bw = bw.max(1);
        let active_buf_size = sram_elems.div_ceil(2); // ceil(total · 0.5)
        let prefetch_buf_size = sram_elems - active_buf_size;
        let eps = sram_elems.div_ceil(100).max(1) as u64; // prepare_hashed_buffer
        let mut counts = vec![0u64; domain as usize + 1];
        let mut valid = 0u64;
        for a in order.iter().flatten() {
            counts[*a as usize] += 1;
            valid += 1;
        }
        let mut starts = vec![0u64; domain as usize + 1];
        let mut acc = 0u64;
        for (i, c) in counts.iter().enumerate() {
            starts[i] = acc;
            acc += c;
        }
        let mut fill = starts.clone();
        let mut ids = vec![0u32; valid as usize];
        for (j, a) in order.iter().flatten().enumerate() {
            let slot = &mut fill[*a as usize];
            ids[*slot as usize] = (j as u64 / eps) as u32;
            *slot += 1;
        }
        // Ids of one address are appended in fetch order, so they are sorted already.
        let num_lines = valid / eps + 1;
        let max_active = (active_buf_size.div_ceil(eps as u128)) as u64;
        let max_prefetch = (prefetch_buf_size.div_ceil(eps as u128)) as u64;
        let num_active = num_lines.min(max_active);
        let num_prefetch = (num_lines - num_active).min(max_prefetch);
        ReadBuffer {
            bw,
            active_buf_size,
            prefetch_buf_size,
            fetch_lines: (order.len() as u128).div_ceil(bw),
            num_lines,
            num_active,
            num_prefetch,
            starts,
            ids,
            active: (0, num_active),
            last_prefetch_cycle: -1,
            started: false,
            prefetches: 0,
            out: UserOperand::default(),
        }
    }

    /// `prefetch_active_buffer(start_cycle)`.
    fn start(&mut self, start_cycle: i128) {
        let n = self.active_buf_size.div_ceil(self.bw).min(self.fetch_lines);
        self.out.dram_reads += n * self.bw;
        // Request cycles −(n − s − (i − 1)), response +1: s − n .. s − 1.
        self.out.dram_start = start_cycle - n as i128;
        self.last_prefetch_cycle = start_cycle - 1;
        self.out.dram_stop = self.last_prefetch_cycle;
        self.active = (0, self.num_active);
        self.started = true;
    }

    /// `active_buffer_hit`.
    fn hit(&self, a: u64) -> bool {
        let lo = self.starts[a as usize] as usize;
        let hi = self.starts[a as usize + 1] as usize;
        let ids = &self.ids[lo..hi];
        let (s, e) = (self.active.0 as u32, self.active.1 as u32);
        if s < e {
            let i = ids.partition_point(|&x| x < s);
            i < ids.len() && ids[i] < e
        } else {
            ids.last().is_some_and(|&x| x >= s) || ids.first().is_some_and(|&x| x < e)
        }
    }

    /// `new_prefetch`.
    fn new_prefetch(&mut self) {
        self.prefetches += 1;
        let nl = self.num_lines;
        let s = (self.active.0 + self.num_prefetch) % nl;
        let e = (s + self.num_active) % nl;
        self.active = (s, e);
        let n = self.prefetch_buf_size.div_ceil(self.bw);
        self.out.dram_reads += n * self.bw;
        self.last_prefetch_cycle += n as i128 + 1;
        self.out.dram_stop = self.out.dram_stop.max(self.last_prefetch_cycle);
    }

    /// `service_reads` of one demand line (non-layout path); returns the stall
    /// (`out_cycle − cycle − hit_latency`), or `None` past the prefetch budget.
    fn line(&mut self, cycle: i128, addrs: &[u64]) -> Option<i128> {
        if !self.started {
            self.start(cycle);
        }
        let mut offset: i128 = 1;
        for &a in addrs {
            while !self.hit(a) {
                if self.prefetches >= MAX_PREFETCHES {
                    return None;
                }
                self.new_prefetch();
                let pot = self.last_prefetch_cycle - (cycle + offset);
                offset += pot; // read_buffer.py: unconditional …
                if pot > 0 {
                    offset += pot; // … and again when positive (the double count)
                }
            }
        }
        Some(offset - 1)
    }
}

/// Diagonal rollout of a `rows × cols` matrix (`create_*_prefetch_mat`, "Fixing ISSUE #15").
fn diagonal(rows: u64, cols: u64, f: impl Fn(u64, u64) -> Elem) -> Vec<Elem> {
    let mut out = Vec::with_capacity((rows * cols) as usize);
    for d in 0..rows + cols {
        let max_r = d.min(rows - 1);
        let min_r = (d + 1).saturating_sub(cols);
        if min_r > max_r {
            continue;
        }
        let mut r = max_r;
        loop {
            out.push(f(r, d - r));
            if r == min_r {
                break;
            }
            r -= 1;
        }
    }
    out
}

/// Row-major flattening of a `rows × cols` matrix.
fn row_major(rows: u64, cols: u64, f: impl Fn(u64, u64) -> Elem) -> Vec<Elem> {
    let mut out = Vec::with_capacity((rows * cols) as usize);
    for r in 0..rows {
        for c in 0..cols {
            out.push(f(r, c));
        }
    }
    out
}

/// Fetch (prefetch-matrix) order of the ifmap and filter, per dataflow.
fn fetch_orders(ops: &Operands, map: &Mapping) -> (Vec<Elem>, Vec<Elem>) {
    let layer = ops.layer;
    let (r, c, t) = (map.rows, map.cols, map.t);
    let (sr, sc) = (map.sr, map.sc);
    let (rf, cf) = (map.row_folds, map.col_folds);
    let k = layer.k();
    match map.dataflow {
        Dataflow::Os => (
            // rows fr·T + t, col j → A[fr·R + j, t]
            diagonal(rf * t, r, |row, j| {
                let (fr, tt) = (row / t, row % t);
                let m = fr * r + j;
                (m < sr).then(|| ops.a(m, tt)).flatten()
            }),
            // rows fc·T + t, col j → B[t, fc·C + j]
            diagonal(cf * t, c, |row, j| {
                let (fc, tt) = (row / t, row % t);
                let n = fc * c + j;
                (n < sc).then(|| ops.b(tt, n)).flatten()
            }),
        ),
        Dataflow::Ws => (
            // rows fr·M + m, col j → A[m, fr·R + j]
            diagonal(rf * t, r, |row, j| {
                let (fr, m) = (row / t, row % t);
                let kk = fr * r + j;
                (kk < sr).then(|| ops.a(m, kk)).flatten()
            }),
            // rows fc·K + k, col j → B[k, fc·C + j] (not rolled out)
            row_major(cf * k, c, |row, j| {
                let (fc, kk) = (row / k, row % k);
                let n = fc * c + j;
                (n < sc).then(|| ops.b(kk, n)).flatten()
            }),
        ),
        Dataflow::Is => (
            // rows fc·K + k, col j → A[fc·C + j, k] (not rolled out)
            row_major(cf * k, c, |row, j| {
                let (fc, kk) = (row / k, row % k);
                let m = fc * c + j;
                (m < sc).then(|| ops.a(m, kk)).flatten()
            }),
            // rows fr·N + n, col j → B[fr·R + j, n]
            diagonal(rf * t, r, |row, j| {
                let (fr, n) = (row / t, row % t);
                let kk = fr * r + j;
                (kk < sr).then(|| ops.b(kk, n)).flatten()
            }),
        ),
    }
}

/// Demand addresses of one operand in line `tau` of fold (fc, fr), in column order
/// (`create_*_demand_mat`, −1 entries dropped). `ops` = [`Operands::new`] of the layer, built
/// once per walk.
pub(crate) fn demand_line(
    ops: &Operands,
    map: &Mapping,
    ifmap: bool,
    fc: u64,
    fr: u64,
    tau: u64,
    out: &mut Vec<u64>,
) {
    out.clear();
    let (r, t) = (map.rows, map.t);
    let ru = map.rows_used(fr);
    let cu = map.cols_used(fc);
    // Skewed stream: column c holds time tau − base − c.
    let mut skewed = |base: u64, w: u64, f: &dyn Fn(u64, u64) -> Elem| {
        if tau < base {
            return;
        }
        let x = tau - base;
        let c_lo = (x + 1).saturating_sub(t);
        let c_hi = x.min(w.saturating_sub(1));
        if w == 0 || c_lo > c_hi {
            return;
        }
        for c in c_lo..=c_hi {
            if let Some(a) = f(c, x - c) {
                out.push(a);
            }
        }
    };
    match (map.dataflow, ifmap) {
        (Dataflow::Os, true) => skewed(0, ru, &|c, tt| ops.a(fr * r + c, tt)),
        (Dataflow::Os, false) => skewed(0, cu, &|c, tt| ops.b(tt, fc * map.cols + c)),
        (Dataflow::Ws, true) => skewed(r, ru, &|c, tt| ops.a(tt, fr * r + c)),
        (Dataflow::Is, false) => skewed(r, ru, &|c, tt| ops.b(fr * r + c, tt)),
        (Dataflow::Ws, false) | (Dataflow::Is, true) => {
            // Stationary tile, flipped: line tau holds tile row R−1−tau.
            if tau >= r || r - 1 - tau >= ru {
                return;
            }
            let kk = fr * r + (r - 1 - tau);
            for c in 0..cu {
                let e = if ifmap {
                    ops.a(fc * map.cols + c, kk)
                } else {
                    ops.b(kk, fc * map.cols + c)
                };
                if let Some(a) = e {
                    out.push(a);
                }
            }
        }
    }
}

/// Number of address visits the walk would make (≈ SRAM reads + lines).
pub fn walk_cost(map: &Mapping, sram_reads: u128) -> u128 {
    sram_reads + map.folds() * map.cycles_per_fold()
}

/// Run the USER-mode memory system over a layer. Returns `None` when the layer is too large
/// for the walk (see [`MAX_WALK`], [`MAX_FETCH_ELEMS`], [`MAX_PREFETCHES`]); the caller then
/// falls back to an estimate flagged inexact.
pub fn simulate(
    cfg: &ScaleSimConfig,
    layer: &Layer,
    map: &Mapping,
    ofmap_line_counts: &dyn Fn(u128) -> u64,
    sram_reads: u128,
) -> Option<UserRun> {
    if walk_cost(map, sram_reads) > MAX_WALK {
        return None;
    }
    // Prefetch matrices: rows (row or column folds × T or K) × array edge.
    let (r, c) = (map.rows as u128, map.cols as u128);
    let k = layer.k() as u128;
    let fetch = [
        map.row_folds as u128 * map.t as u128 * r,
        map.col_folds as u128 * k * c,
        map.col_folds as u128 * map.t as u128 * c,
    ];
    let domains = [
        layer.ifmap_h as u128 * layer.ifmap_w as u128 * layer.channels as u128,
        k * layer.n() as u128,
    ];
    if fetch
        .iter()
        .chain(domains.iter())
        .any(|&x| x > MAX_FETCH_ELEMS)
    {
        return None;
    }
    // The operand accessors (and their ifmap address table) serve the fetch orders and every
    // demand line.
    let ops = Operands::new(layer);
    let (if_order, fl_order) = fetch_orders(&ops, map);
    let if_domain = layer.ifmap_h * layer.ifmap_w * layer.channels;
    let fl_domain = layer.k() * layer.n();
    let mut ibuf = ReadBuffer::new(
        &if_order,
        if_domain,
        1024 * cfg.ifmap_sram_kb as u128,
        cfg.ifmap_sram_bank_bandwidth as u128,
    );
    drop(if_order);
    let mut fbuf = ReadBuffer::new(
        &fl_order,
        fl_domain,
        1024 * cfg.filter_sram_kb as u128,
        cfg.filter_sram_bank_bandwidth as u128,
    );
    drop(fl_order);
    let mut wbuf = WriteBufferPort::new(
        1024 * cfg.ofmap_sram_kb as u128,
        cfg.ofmap_drain_bw() as u128,
    );
    let per_fold = map.cycles_per_fold();
    let mut stall: i128 = 0;
    let mut last_out: i128 = 0;
    let (mut ia, mut fa) = (Vec::new(), Vec::new());
    let mut line: u128 = 0;
    // SRAM trace start/stop (`get_*_sram_start_stop_cycles`): the serviced cycle of the first
    // and of the last line with a valid address, not the smallest and largest serviced cycle.
    // Read stalls can be negative (`service_reads` lets them cancel), so a later line can be
    // serviced earlier than the first.
    let mut sram: [Option<(i128, i128)>; 3] = [None; 3];
    let mut mark = |i: usize, c: i128| {
        sram[i] = Some(sram[i].map_or((c, c), |(first, _)| (first, c)));
    };
    for f in 0..map.folds() {
        let (fc, fr) = map.fold_at(f);
        for tau in 0..per_fold as u64 {
            let cycle = line as i128 + stall;
            demand_line(&ops, map, true, fc, fr, tau, &mut ia);
            demand_line(&ops, map, false, fc, fr, tau, &mut fa);
            let is = ibuf.line(cycle, &ia)?;
            let fs = fbuf.line(cycle, &fa)?;
            let nw = ofmap_line_counts(line);
            let out = wbuf.write_line(nw, cycle);
            let os = out - cycle;
            if !ia.is_empty() {
                mark(0, cycle + is + 1);
            }
            if !fa.is_empty() {
                mark(1, cycle + fs + 1);
            }
            if nw > 0 {
                mark(2, out);
            }
            last_out = out;
            stall += is.max(fs).max(os);
            line += 1;
        }
    }
    let ofmap = wbuf.finish(last_out);
    Some(UserRun {
        ifmap: ibuf.out,
        filter: fbuf.out,
        ofmap,
        stall_cycles: stall.max(0) as u128,
        total_cycles: last_out.max(0) as u128,
        sram_cycles: sram.map(|v| v.unwrap_or((0, 0))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The address table is [`Layer::ifmap_addr`] exactly, −1 entries included, on convs with
    /// strides, edge windows that run off the ifmap (ceil convention) and overlapping windows.
    #[test]
    fn ifmap_table_is_ifmap_addr() {
        for (h, w, fh, fw, c, s) in [
            (7, 15, 2, 3, 14, 3),
            (22, 10, 3, 3, 14, 3),
            (13, 21, 1, 3, 6, 2),
            (9, 26, 3, 5, 16, 1),
            (5, 5, 5, 5, 1, 1),
            (28, 23, 2, 5, 17, 2),
        ] {
            let l = Layer::conv(h, w, fh, fw, c, 4, s).unwrap();
            let t = IfmapTable::new(&l).unwrap();
            let mut invalid = 0;
            for m in 0..l.m() {
                for k in 0..l.k() {
                    assert_eq!(t.addr(m, k), l.ifmap_addr(m, k), "{l:?} m={m} k={k}");
                    invalid += usize::from(t.addr(m, k).is_none());
                }
            }
            if (h - fh) % s != 0 || (w - fw) % s != 0 {
                assert!(
                    invalid > 0,
                    "{l:?}: ceil-convention windows have −1 entries"
                );
            }
        }
    }
}
