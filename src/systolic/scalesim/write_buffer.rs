//! OFMAP write buffer (`memory/write_buffer.py`, `write_buffer.service_writes`,
//! `empty_drain_buf`, `empty_all_buffers`; MODEL.md §4), simulated per *drain event* instead of
//! per element.
//!
//! SCALE-Sim stores every ofmap element into `bw`-wide DRAM lines (`store_to_trace_mat_cache`).
//! When more than `drain_buf_size` elements are held (`free_space < active_buf_size`) and no
//! drain is in progress, the partial line is flushed and a drain of up to
//! `ceil(drain_buf_size/bw)` lines starts at the current cycle, one line per cycle (write-port
//! latency 0). A drain counts `lines·bw` words minus the −1 padding of its *last* line only
//! (so padded lines in the middle count full: the "few extra elements of rounding"), and frees
//! that many words at once. While a drain runs, an element arriving with no free space stalls
//! the array until the drain ends. At the end every remaining line is drained back to back from
//! the last demand cycle.
//!
//! Between events the element stream is known in closed form ([`ElementStream`]), so the cost is
//! O(drains · log lines).

use std::collections::VecDeque;

/// The ofmap element stream of a layer: element count before a demand line and the line of the
/// n-th element (1-based), both ignoring stalls.
pub trait ElementStream {
    /// Total elements.
    fn total(&self) -> u128;
    /// Elements in demand lines `< line`.
    fn before_line(&self, line: u128) -> u128;
    /// Demand line of the n-th element (1-based, n ≤ total).
    fn line_of(&self, n: u128) -> u128;
}

/// Result of the write-buffer simulation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteResult {
    /// DRAM words written (`num_access`).
    pub dram_writes: u128,
    /// Stall cycles caused by a full buffer.
    pub stall_cycles: u128,
    /// First and last DRAM write cycles (`cycles_vec` min/max).
    pub dram_start: i128,
    pub dram_stop: i128,
    /// Number of drains (events), for diagnostics.
    pub drains: u128,
}

/// Queue of DRAM lines not yet drained: runs of full lines, each possibly ended by one partial
/// line.
#[derive(Default)]
pub(crate) struct LineQueue {
    runs: VecDeque<(u128, u128)>, // (full lines, partial size or 0)
    pub(crate) lines: u128,
}

impl LineQueue {
    pub(crate) fn push(&mut self, elems: u128, bw: u128) {
        let full = elems / bw;
        let part = elems % bw;
        if full == 0 && part == 0 {
            return;
        }
        self.lines += full + u128::from(part > 0);
        match self.runs.back_mut() {
            // Lines are only counted by size, so full lines after a full run merge into it.
            Some(back) if back.1 == 0 => {
                back.0 += full;
                back.1 = part;
            }
            _ => self.runs.push_back((full, part)),
        }
    }
    /// Drain whole groups of `n` full lines from the front run at once, back to back, while
    /// more than one group remains there: returns (groups, lines, words). Keeps the final
    /// drain loop O(runs) even for huge queues.
    pub(crate) fn take_full_groups(&mut self, n: u128, bw: u128) -> (u128, u128, u128) {
        let Some(front) = self.runs.front_mut() else {
            return (0, 0, 0);
        };
        if n == 0 || front.0 < 2 * n {
            return (0, 0, 0);
        }
        let groups = front.0 / n - 1;
        let lines = groups * n;
        front.0 -= lines;
        self.lines -= lines;
        (groups, lines, lines * bw)
    }

    /// Take up to `n` lines; returns (lines taken, words counted).
    pub(crate) fn take(&mut self, n: u128, bw: u128) -> (u128, u128) {
        let mut taken = 0u128;
        let mut last_size = bw;
        while taken < n {
            let Some(front) = self.runs.front_mut() else {
                break;
            };
            let want = n - taken;
            if front.0 > 0 {
                let t = front.0.min(want);
                front.0 -= t;
                taken += t;
                last_size = bw;
                if front.0 > 0 {
                    continue;
                }
            }
            if taken < n && front.1 > 0 {
                last_size = front.1;
                front.1 = 0;
                taken += 1;
            }
            if front.0 == 0 && front.1 == 0 {
                self.runs.pop_front();
            }
        }
        self.lines -= taken;
        if taken == 0 {
            return (0, 0);
        }
        (taken, taken * bw - (bw - last_size))
    }
}

/// Simulate the OFMAP write buffer. `total_elems` = OFMAP SRAM words, `bw` = drain bandwidth
/// (CALC: array columns; USER: `Bandwidth[0]`), `lines` = demand lines of the layer.
/// `max_events` bounds the work; past it the remaining writes are extrapolated (never reached
/// on realistic inputs; reported through `drains`).
pub fn simulate(
    stream: &dyn ElementStream,
    total_elems: u128,
    bw: u128,
    lines: u128,
    max_events: u128,
) -> WriteResult {
    let bw = bw.max(1);
    let active = total_elems.div_ceil(2) as i128; // ceil(total · 0.5)
    let drain_size = total_elems as i128 - active;
    let lines_per_drain = ((drain_size as u128).div_ceil(bw)).max(1);
    let e_total = stream.total();
    let mut q = LineQueue::default();
    let mut res = WriteResult {
        dram_start: i128::MAX,
        dram_stop: i128::MIN,
        ..Default::default()
    };
    let mut free: i128 = total_elems as i128; // free_space after element `base`
    let mut base: u128 = 0; // elements processed
    let mut seg_start: u128 = 0; // elements already flushed into lines
    let mut drain_end: i128 = 0;
    let mut stall: i128 = 0;
    let cyc = |n: u128, stall: i128| stream.line_of(n) as i128 + stall;
    let mut events = 0u128;
    loop {
        if base >= e_total {
            break;
        }
        events += 1;
        if events > max_events {
            // Extrapolate: the rest is written without stalls in drain-sized pieces.
            let rest = e_total - seg_start;
            q.push(rest, bw);
            seg_start = e_total;
            break;
        }
        // Smallest element index with free ≤ 0 (stall) / free < active (trigger).
        let e_stall = base + (free.max(1) as u128).max(1);
        let e_stall = if free <= 0 {
            base + 1
        } else {
            e_stall.max(base + 1)
        };
        let e_free = if free < active {
            base + 1
        } else {
            base + (free - active + 1) as u128
        };
        // First element whose cycle ≥ drain_end.
        let first_line = drain_end - stall;
        let e_time = if first_line <= 0 {
            1
        } else {
            stream.before_line(first_line as u128) + 1
        }
        .max(base + 1);
        if e_stall < e_time && e_stall <= e_total && e_stall < e_free.max(e_time) {
            // Stall: the array waits for the drain to end (`offset += drain_end − cycle`).
            let c = cyc(e_stall, stall);
            stall += (drain_end - c).max(0);
            free -= (e_stall - base) as i128;
            base = e_stall;
            continue;
        }
        let e_trig = e_free.max(e_time);
        if e_trig > e_total {
            break;
        }
        // Trigger: flush the partial line, drain up to lines_per_drain lines.
        free -= (e_trig - base) as i128;
        base = e_trig;
        q.push(e_trig - seg_start, bw);
        seg_start = e_trig;
        let start = cyc(e_trig, stall);
        let (nl, words) = q.take(lines_per_drain, bw);
        res.dram_writes += words;
        res.drains += 1;
        free += words as i128;
        let end = start + nl as i128 - 1;
        res.dram_start = res.dram_start.min(start);
        res.dram_stop = res.dram_stop.max(end);
        drain_end = end;
    }
    // empty_all_buffers(last serviced cycle): flush and drain back to back.
    if seg_start < e_total {
        q.push(e_total - seg_start, bw);
    }
    let mut cycle = lines as i128 - 1 + stall;
    while q.lines > 0 {
        let (groups, gl, gw) = q.take_full_groups(lines_per_drain, bw);
        if groups > 0 {
            res.dram_writes += gw;
            res.drains += groups;
            res.dram_start = res.dram_start.min(cycle);
            cycle += gl as i128;
            res.dram_stop = res.dram_stop.max(cycle - 1);
            continue;
        }
        let (nl, words) = q.take(lines_per_drain, bw);
        res.dram_writes += words;
        res.drains += 1;
        res.dram_start = res.dram_start.min(cycle);
        let end = cycle + nl as i128 - 1;
        res.dram_stop = res.dram_stop.max(end);
        cycle = end + 1;
    }
    if res.dram_start == i128::MAX {
        res.dram_start = 0;
        res.dram_stop = 0;
    }
    res.stall_cycles = stall.max(0) as u128;
    res
}

/// Element-by-element port of `write_buffer.service_writes` for USER mode, where read stalls
/// interleave with write stalls line by line ([`super::user`]).
pub(crate) struct WriteBufferPort {
    active: i128,
    lines_per_drain: u128,
    bw: u128,
    free: i128,
    line_fill: u128,
    queue: LineQueue,
    drain_end: i128,
    pub(crate) res: WriteResult,
}

impl WriteBufferPort {
    pub(crate) fn new(total_elems: u128, bw: u128) -> Self {
        let bw = bw.max(1);
        let active = total_elems.div_ceil(2) as i128;
        let drain = total_elems as i128 - active;
        WriteBufferPort {
            active,
            lines_per_drain: ((drain as u128).div_ceil(bw)).max(1),
            bw,
            free: total_elems as i128,
            line_fill: 0,
            queue: LineQueue::default(),
            drain_end: 0,
            res: WriteResult {
                dram_start: i128::MAX,
                dram_stop: i128::MIN,
                ..Default::default()
            },
        }
    }

    fn drain(&mut self, at: i128) -> i128 {
        let (nl, words) = self.queue.take(self.lines_per_drain, self.bw);
        self.res.dram_writes += words;
        self.res.drains += 1;
        self.free += words as i128;
        let end = at + nl as i128 - 1;
        self.res.dram_start = self.res.dram_start.min(at);
        self.res.dram_stop = self.res.dram_stop.max(end);
        end
    }

    /// Write `n` elements in the demand line issued at `cycle`; returns the line's serviced
    /// cycle (`cycle + offset`).
    pub(crate) fn write_line(&mut self, n: u64, cycle: i128) -> i128 {
        let mut cur = cycle;
        for _ in 0..n {
            self.line_fill += 1;
            self.free -= 1;
            if self.line_fill == self.bw {
                self.queue.push(self.bw, self.bw);
                self.line_fill = 0;
            }
            if cur < self.drain_end {
                if self.free <= 0 {
                    cur = self.drain_end;
                }
            } else if self.free < self.active {
                if self.line_fill > 0 {
                    self.queue.push(self.line_fill, self.bw);
                    self.line_fill = 0;
                }
                self.drain_end = self.drain(cur);
            }
        }
        cur
    }

    /// `empty_all_buffers(cycle)`: flush and drain everything back to back.
    pub(crate) fn finish(mut self, mut cycle: i128) -> WriteResult {
        if self.line_fill > 0 {
            self.queue.push(self.line_fill, self.bw);
            self.line_fill = 0;
        }
        while self.queue.lines > 0 {
            cycle = self.drain(cycle) + 1;
        }
        if self.res.dram_start == i128::MAX {
            self.res.dram_start = 0;
            self.res.dram_stop = 0;
        }
        self.res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream given explicitly as per-line element counts.
    struct Lines(Vec<u128>);
    impl ElementStream for Lines {
        fn total(&self) -> u128 {
            self.0.iter().sum()
        }
        fn before_line(&self, line: u128) -> u128 {
            self.0.iter().take(line as usize).sum()
        }
        fn line_of(&self, n: u128) -> u128 {
            let mut acc = 0;
            for (i, c) in self.0.iter().enumerate() {
                acc += c;
                if acc >= n {
                    return i as u128;
                }
            }
            self.0.len() as u128
        }
    }

    /// Direct port of write_buffer.service_writes / empty_all_buffers, element by element.
    fn brute(counts: &[u128], total: i128, bw: usize) -> WriteResult {
        let active = (total + 1) / 2;
        let drain = total - active;
        let lpd = ((drain as usize).div_ceil(bw)).max(1);
        let mut free = total;
        let mut lines: Vec<usize> = Vec::new(); // sizes
        let mut cur = 0usize;
        let mut start_line = 0usize;
        let mut drain_end: i128 = 0;
        let mut stall: i128 = 0;
        let mut res = WriteResult {
            dram_start: i128::MAX,
            dram_stop: i128::MIN,
            ..Default::default()
        };
        let do_drain = |lines: &Vec<usize>,
                        start_line: &mut usize,
                        at: i128,
                        res: &mut WriteResult|
         -> (i128, i128) {
            let end_line = (*start_line + lpd).min(lines.len());
            let nl = end_line - *start_line;
            let data = nl * bw - (bw - lines[end_line - 1]);
            res.dram_writes += data as u128;
            res.drains += 1;
            *start_line = end_line;
            res.dram_start = res.dram_start.min(at);
            res.dram_stop = res.dram_stop.max(at + nl as i128 - 1);
            (at + nl as i128 - 1, data as i128)
        };
        for (i, &c) in counts.iter().enumerate() {
            let mut cc = i as i128 + stall;
            let line_cycle = cc;
            for _ in 0..c {
                cur += 1;
                free -= 1;
                if cur == bw {
                    lines.push(bw);
                    cur = 0;
                }
                if cc < drain_end {
                    if free <= 0 {
                        cc = drain_end;
                    }
                } else if free < active {
                    if cur > 0 {
                        lines.push(cur);
                        cur = 0;
                    }
                    let (e, d) = do_drain(&lines, &mut start_line, cc, &mut res);
                    drain_end = e;
                    free += d;
                }
            }
            stall += cc - line_cycle;
        }
        if cur > 0 {
            lines.push(cur);
        }
        let mut cycle = counts.len() as i128 - 1 + stall;
        while start_line < lines.len() {
            let (e, _) = do_drain(&lines, &mut start_line, cycle, &mut res);
            cycle = e + 1;
        }
        res.stall_cycles = stall as u128;
        res
    }

    #[test]
    fn matches_element_by_element_port() {
        let patterns: Vec<Vec<u128>> = vec![
            vec![0, 0, 3, 5, 8, 8, 8, 5, 3, 0, 0, 4, 8, 8, 2],
            (0..200).map(|i| (i % 7) as u128).collect(),
            (0..300).map(|i| if i % 50 < 10 { 0 } else { 6 }).collect(),
            vec![8; 100],
        ];
        for counts in &patterns {
            for total in [16i128, 24, 40, 64, 1000] {
                for bw in [1usize, 3, 4, 8] {
                    let want = brute(counts, total, bw);
                    let got = simulate(
                        &Lines(counts.clone()),
                        total as u128,
                        bw as u128,
                        counts.len() as u128,
                        u128::MAX,
                    );
                    assert_eq!(got, want, "total={total} bw={bw} counts={counts:?}");
                }
            }
        }
    }
}
