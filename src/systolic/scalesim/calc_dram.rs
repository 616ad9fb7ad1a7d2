//! CALC-mode DRAM read accounting of one read buffer, in closed form per pass
//! (`memory/read_buffer_estimate_bw.py`, `ReadBufferEstimateBw.manage_prefetches`; MODEL.md §4).
//!
//! SCALE-Sim's estimate buffer walks every demanded address. An address that is not in the
//! current 50-set *chunk* (`check_hit` over the completed sets of the active window, plus the set
//! being filled) is inserted into the chunk; when the chunk holds `q = 50·floor(S/100)` distinct
//! addresses it is closed ("prefetched"), counted as DRAM reads, and a new empty chunk starts.
//! DRAM reads = number of insertions.
//!
//! The demand of an operand is a series of *passes*; a pass streams a sequence of `u` distinct
//! addresses once each (a GEMM fold tile, or a whole operand round). Consecutive passes either
//! repeat the previous sequence (OS filter tile over the row folds, ifmap round over the column
//! folds) or start a disjoint one. Then the chunk always holds a *suffix* of the current sequence
//! (the positions after its last close), so a pass costs O(1):
//! * misses are the first `u − r` positions (`r` = suffix held);
//! * if `fill + (u − r) < q` nothing closes: `u − r` insertions, the whole sequence is held;
//! * otherwise the chunk closes at position `p = q − fill`, every later position misses, and
//!   closes repeat every `q` positions: `u` insertions.
//!
//! `n` identical passes cost O(1) too (after two passes a sequence shorter than `q` is fully
//! held; a longer one re-inserts `u` per pass).

/// Where the last chunk closed: pass index (within the `run` call that closed it) and the
/// 1-based position in that pass's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosePoint {
    /// Caller-defined id of the run (e.g. the column fold of an OS filter tile).
    pub run_id: u128,
    /// Pass index within the run (0-based).
    pub pass: u128,
    /// Position within the pass (1-based).
    pub pos: u128,
}

/// State of one CALC read buffer.
#[derive(Debug, Clone)]
pub struct ChunkSim {
    /// Chunk capacity `q = num_sets_prefetch_buffer(50) · floor(total_elems/100)`.
    pub q: u128,
    /// Distinct addresses in the current chunk.
    pub fill: u128,
    seq: Option<u128>,
    /// Suffix length of the current sequence held in the chunk.
    held: u128,
    /// Insertions so far = DRAM reads (`num_access`).
    pub inserted: u128,
    /// Chunks closed so far.
    pub closes: u128,
    pub last_close: Option<ClosePoint>,
}

impl ChunkSim {
    /// `total_elems` = SRAM words (`1024 · kB`, word size 1). Items per set
    /// `floor(total/100)`, 50 active sets (`active_buf_frac = 0.5`).
    pub fn new(total_elems: u128) -> ChunkSim {
        let items = total_elems / 100;
        ChunkSim {
            q: (50 * items).max(1),
            fill: 0,
            seq: None,
            held: 0,
            inserted: 0,
            closes: 0,
            last_close: None,
        }
    }

    /// Items per set: `floor(total_elems/100)`.
    pub fn items_per_set(&self) -> u128 {
        self.q / 50
    }

    /// `n` consecutive passes over sequence `seq` of `u` distinct addresses.
    pub fn run(&mut self, run_id: u128, seq: u128, u: u128, n: u128) {
        if u == 0 || n == 0 {
            return;
        }
        if self.seq != Some(seq) {
            self.seq = Some(seq);
            self.held = 0;
        }
        let q = self.q;
        let mut j = 0u128;
        while j < n {
            let a = u - self.held;
            if a == 0 {
                return; // fully held: every remaining pass hits
            }
            if self.fill + a < q {
                self.inserted += a;
                self.fill += a;
                self.held = u;
                j += 1;
                continue;
            }
            if u >= q && n - j > 1 {
                // Every remaining pass closes and re-inserts all u addresses.
                let rem = n - j;
                let total = self.fill + rem * u;
                // (fill + (rem−1)·u) mod q without overflow.
                let fill_before_last = (self.fill + mulmod((rem - 1) % q, u % q, q)) % q;
                let p = q - fill_before_last;
                let rest = u - p;
                self.closes += total / q;
                self.inserted += rem * u;
                self.last_close = Some(ClosePoint {
                    run_id,
                    pass: n - 1,
                    pos: p + rest / q * q,
                });
                self.fill = rest % q;
                self.held = self.fill;
                return;
            }
            let p = q - self.fill;
            let rest = u - p;
            self.closes += 1 + rest / q;
            self.inserted += u;
            self.last_close = Some(ClosePoint {
                run_id,
                pass: j,
                pos: p + rest / q * q,
            });
            self.fill = rest % q;
            self.held = self.fill;
            j += 1;
        }
    }

    /// DRAM start cycle of this buffer's trace (`manage_prefetches` first prefetch, or
    /// `complete_all_prefetches` when no chunk ever closed). `first_req_cycle` = cycle of the
    /// first demand line with a valid address. The default prefetch bandwidth is 10 words/cycle
    /// (`single_layer_sim.run`), the read-port latency 1.
    pub fn dram_start_cycle(&self, first_req_cycle: i128) -> i128 {
        let items = self.items_per_set() as i128;
        if self.closes > 0 {
            // end = first − 1 − latency; start = end − ceil(50·items/10) + 1; trace = start + 1.
            first_req_cycle - (50 * items + 9) / 10
        } else {
            // end = −1 − latency; sets = ceil(inserted/items).
            let sets = if items > 0 {
                (self.inserted as i128 + items - 1) / items
            } else {
                1
            };
            -((sets * items + 9) / 10)
        }
    }
}

/// SCALE-Sim's estimate buffer walked over every demanded address of the ifmap
/// (`ifmap = true`) or filter, one demand line at a time, in fold order
/// (`ReadBufferEstimateBw.manage_prefetches`): the exact CALC read count. Returns the buffer
/// state (`inserted` = DRAM reads, `closes`) and the global demand line (`fold · per_fold +
/// τ`) of the last chunk close, if any chunk closed. Cost O(SRAM reads of the operand): the
/// chunk is a stamp per address of the operand's domain (0-based addresses: `H·W·C` for the
/// ifmap, `K·N` for the filter), holding the id of the chunk that last inserted it, so a close
/// clears it in O(1). [`super::layer`] walks conv ifmaps with overlapping windows this way
/// when the closed form cannot be exact and the walk is within [`super::layer::MAX_CALC_WALK`].
pub fn walk(
    layer: &super::geometry::Layer,
    map: &super::geometry::Mapping,
    ifmap: bool,
    sram_elems: u128,
) -> (ChunkSim, Option<u128>) {
    let mut sim = ChunkSim::new(sram_elems);
    let q = sim.q;
    let domain = if ifmap {
        layer.ifmap_elems()
    } else {
        layer.k() as u128 * layer.n() as u128
    };
    // stamp[a] = `cur` while a is in the current chunk; `cur` = 1 + chunks closed (below
    // 2^32: every close takes ≥ 50 insertions, and the callers bound the walk far below
    // 2^32 · 50 visits); 0 = never inserted.
    let mut stamp = vec![0u32; domain as usize];
    let mut cur = 1u32;
    let mut line = Vec::new();
    let mut last_close = None;
    let per_fold = map.cycles_per_fold();
    let ops = super::user::Operands::new(layer);
    for f in 0..map.folds() {
        let (fc, fr) = map.fold_at(f);
        for tau in 0..per_fold as u64 {
            super::user::demand_line(&ops, map, ifmap, fc, fr, tau, &mut line);
            for &a in &line {
                let st = &mut stamp[a as usize];
                if *st != cur {
                    *st = cur;
                    sim.inserted += 1;
                    sim.fill += 1;
                    if sim.fill == q {
                        sim.fill = 0;
                        sim.closes += 1;
                        cur += 1;
                        last_close = Some(f * per_fold + tau as u128);
                    }
                }
            }
        }
    }
    (sim, last_close)
}

/// [`walk`]'s (DRAM reads, chunks closed): the exact reference the closed form is tested
/// against.
pub fn walk_reads(
    layer: &super::geometry::Layer,
    map: &super::geometry::Mapping,
    ifmap: bool,
    sram_elems: u128,
) -> (u128, u128) {
    let (sim, _) = walk(layer, map, ifmap, sram_elems);
    (sim.inserted, sim.closes)
}

/// (a·b) mod m for a, b < m without overflow (m < 2^127).
fn mulmod(a: u128, b: u128, m: u128) -> u128 {
    if let Some(p) = a.checked_mul(b) {
        return p % m;
    }
    let (mut a, mut b, mut r) = (a % m, b, 0u128);
    while b > 0 {
        if b & 1 == 1 {
            r = (r + a) % m;
        }
        a = (a * 2) % m;
        b >>= 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Brute-force SCALE-Sim estimate buffer insertion count over an address stream.
    fn brute(q: usize, stream: &[u64]) -> (u128, u128, Option<usize>) {
        let mut chunk: HashSet<u64> = HashSet::new();
        let (mut ins, mut closes, mut last) = (0u128, 0u128, None);
        for (i, a) in stream.iter().enumerate() {
            if chunk.contains(a) {
                continue;
            }
            chunk.insert(*a);
            ins += 1;
            if chunk.len() == q {
                chunk.clear();
                closes += 1;
                last = Some(i);
            }
        }
        (ins, closes, last)
    }

    #[test]
    fn repeated_sequences_match_brute_force() {
        for q in [7usize, 10, 16, 33] {
            for u in [1u64, 5, 9, 10, 16, 17, 40, 70] {
                for n in 1..6u128 {
                    for pre in [0u64, 3, 12] {
                        let mut stream: Vec<u64> = (0..pre).map(|x| 1_000_000 + x).collect();
                        for _ in 0..n {
                            stream.extend(0..u);
                        }
                        stream.extend(500..500 + u);
                        stream.extend(500..500 + u);
                        let (want, wclose, wlast) = brute(q, &stream);
                        let mut s = ChunkSim::new(0);
                        s.q = q as u128;
                        s.run(0, 99, pre as u128, 1);
                        s.run(1, 0, u as u128, n);
                        s.run(2, 1, u as u128, 2);
                        assert_eq!(s.inserted, want, "q={q} u={u} n={n} pre={pre}");
                        assert_eq!(s.closes, wclose, "q={q} u={u} n={n} pre={pre}");
                        if let (Some(i), Some(c)) = (wlast, s.last_close) {
                            let idx = match c.run_id {
                                0 => c.pos - 1,
                                1 => pre as u128 + c.pass * u as u128 + c.pos - 1,
                                _ => pre as u128 + n * u as u128 + c.pass * u as u128 + c.pos - 1,
                            };
                            assert_eq!(idx, i as u128, "q={q} u={u} n={n} pre={pre}");
                        } else {
                            assert_eq!(wlast.is_none(), s.last_close.is_none());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn start_cycles() {
        // g16 on 512 kB: 256 addresses, one set → −ceil(5242/10) = −525 (reference row).
        let mut s = ChunkSim::new(512 * 1024);
        s.run(0, 0, 256, 1);
        assert_eq!(s.dram_start_cycle(0), -525);
        let mut s = ChunkSim::new(512 * 1024);
        s.run(0, 0, 5300, 1);
        assert_eq!(s.dram_start_cycle(0), -1049);
        let mut s = ChunkSim::new(512 * 1024);
        s.run(0, 0, 262144, 16);
        assert_eq!(s.inserted, 16 * 262144);
        assert_eq!(s.dram_start_cycle(32), 32 - 26210);
    }
}
