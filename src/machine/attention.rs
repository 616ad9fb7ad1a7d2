//! Fused attention (FlashAttention-style) on any machine: the part both families share.
//!
//! A fused kernel (Dao et al. 2022; FlashAttention-2, Dao 2023; FlashAttention-3, Shah et al.
//! 2024) walks the score matrix in tiles of `block_q × block_kv`: a Q tile stays on chip, K/V
//! tiles stream past it, the softmax is computed online, and only Q, K, V, O (and in the
//! backward dO, dQ, dK, dV) touch HBM. Query heads that share a KV head are packed into the rows
//! of one tile (GQA packing, as FlashAttention-3's `pack_gqa` and FlashDecoding), so a decode
//! step reads each KV head once for its whole group.
//!
//! The machine supplies what differs ([`AttentionFacts`]: tile sizes, where K/V re-reads come
//! from, the softmax rate and whether it overlaps the matrix units) and its own GEMM model's
//! profiles of the two tile-loop GEMMs (`Q·Kᵀ` and `P·V` over the packed rows): their compute,
//! fill/drain and tail parts give the matrix time on that machine's units; their memory parts are
//! replaced by the fused kernel's traffic.

use super::{finish_profile, profile_for, Counters, OpProfile, TimeBreakdown};
use crate::workload::{AttentionOp, Gemm, Op};

/// What a machine tells the fused-attention model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionFacts {
    /// Rows (packed query positions) per tile.
    pub block_q: u64,
    /// Key positions per tile.
    pub block_kv: u64,
    /// Effective HBM bandwidth, bytes/s.
    pub hbm_bytes_per_s: f64,
    /// A cache between HBM and the cores that serves K/V (forward) or Q/dO/dQ (backward)
    /// re-reads when one pass's working set fits: (capacity bytes, bandwidth bytes/s). `None`
    /// where there is none (TPU: every pass re-reads HBM).
    pub cache: Option<(f64, f64)>,
    /// Cores working at once (SMs, TensorCores): the tiles in flight.
    pub cores: u64,
    /// Softmax throughput in score elements per second.
    pub softmax_elements_per_s: f64,
    /// The softmax runs beside the matrix units (TPU VLIW bundles; FlashAttention-3's
    /// ping-pong warpgroups on Hopper and later) instead of after them (FlashAttention-2).
    pub softmax_overlaps: bool,
    /// Fixed per-kernel time (launch / dispatch), s.
    pub overhead_s: f64,
    pub clock_hz: f64,
    /// Peak FLOP/s of the op's dtype (utilization).
    pub peak_flops: f64,
}

/// The two GEMMs of the tile loop with query heads packed into rows: `Q·Kᵀ` (batch
/// `batch·kv_heads`, M = `seq_q·group`, N = `seq_kv`, K = `head_dim`) and `P·V` (M = `seq_q·group`,
/// N = `head_dim_v`, K = `seq_kv`). The machine simulates them with its GEMM model.
pub fn tile_gemms(a: &AttentionOp) -> [Gemm; 2] {
    let group = a.heads / a.kv_heads.max(1);
    let rows = a.seq_q * group;
    let b = a.batch * a.kv_heads;
    let g = |suffix: &str, m: u64, n: u64, k: u64| {
        Gemm::new(format!("{}.{suffix}", a.name), m, n, k)
            .with_dtype(a.dtype)
            .with_batch(b)
    };
    [
        g("qk", rows, a.seq_kv, a.head_dim),
        g("av", rows, a.head_dim_v, a.seq_kv),
    ]
}

/// Fraction of the `block_q × block_kv` tiles a causal kernel computes (tiles wholly above the
/// diagonal are skipped; diagonal tiles are computed whole and masked). Queries are the last
/// `seq_q` of `seq_kv` positions. 1 for non-causal attention.
pub fn executed_tile_fraction(a: &AttentionOp, block_q: u64, block_kv: u64) -> f64 {
    if !a.causal {
        return 1.0;
    }
    let (sq, skv) = (a.seq_q.min(a.seq_kv), a.seq_kv);
    let (bq, bkv) = (block_q.max(1), block_kv.max(1));
    let nq = sq.div_ceil(bq);
    let nkv = skv.div_ceil(bkv);
    let offset = skv - sq;
    let mut tiles: u128 = 0;
    for i in 0..nq {
        let last_row = ((i + 1) * bq).min(sq) - 1;
        let kv_blocks = ((offset + last_row) / bkv + 1).min(nkv);
        tiles += kv_blocks as u128;
    }
    tiles as f64 / (nq as u128 * nkv as u128) as f64
}

/// Simulate a fused attention op from the machine's facts and its profiles of the two
/// [`tile_gemms`].
///
/// * Matrix time: the GEMM profiles' compute + fill/drain + tail (+ clock throttle) times the
///   executed tile fraction; backward ×2.5 (5 matmuls of the forward's size instead of 2:
///   FlashAttention-2 §3.2).
/// * Softmax: executed score elements / the softmax rate (backward ×2: P recomputed and
///   dS = P∘(dP − D)); hidden under the matrix time where it overlaps, added where not.
/// * Traffic (forward): Q read and O written once; K/V read once per pass of `block_q` packed
///   rows over the keys it needs. Backward (parallel over K/V tiles, FlashAttention-2 Alg. 2):
///   K, V read and dK, dV written once; Q, dO read and dQ (fp32) read and written once per pass
///   of `block_kv` keys; O and the log-sum-exp read once. With a cache that holds one pass's
///   streamed operand for the tiles in flight, HBM sees it once and the re-reads hit the cache.
/// * Time = max(compute side, HBM time, cache time) + overhead; the excess of memory over the
///   compute side is the memory stall.
pub fn simulate(
    op: &Op,
    a: &AttentionOp,
    f: &AttentionFacts,
    qk: &OpProfile,
    av: &OpProfile,
) -> OpProfile {
    let e = a.dtype.bytes_per_element();
    let group = (a.heads / a.kv_heads.max(1)).max(1);
    let rows = a.seq_q * group;
    let frac = executed_tile_fraction(a, f.block_q / group.min(f.block_q).max(1), f.block_kv);
    let bwd = if a.backward { 2.5 } else { 1.0 };
    let part = |p: &OpProfile| {
        let t = &p.time_breakdown_s;
        (
            t.compute_s,
            t.fill_drain_s,
            t.tail_s,
            t.clock_throttle_s,
            t.kernel_efficiency_s,
        )
    };
    let (c1, f1, t1, k1, e1) = part(qk);
    let (c2, f2, t2, k2, e2) = part(av);
    let scale = frac * bwd;
    let matrix_compute = (c1 + c2) * scale;
    let fill = (f1 + f2) * scale;
    let tail = (t1 + t2) * scale;
    let throttle = (k1 + k2) * scale;
    let kernel_eff = (e1 + e2) * scale;
    let matrix_s = matrix_compute + fill + tail + throttle + kernel_eff;

    let score_elems = a.batch as f64 * a.heads as f64 * (a.seq_q as f64 * a.seq_kv as f64) * frac;
    let softmax_elems = score_elems * if a.backward { 2.0 } else { 1.0 };
    let softmax_s = softmax_elems / f.softmax_elements_per_s.max(1.0);
    let softmax_exposed = if f.softmax_overlaps {
        (softmax_s - matrix_s).max(0.0)
    } else {
        softmax_s
    };

    // Traffic.
    let b = a.batch as f64;
    let q_bytes = b * (a.heads * a.seq_q * a.head_dim) as f64 * e;
    let o_bytes = b * (a.heads * a.seq_q * a.head_dim_v) as f64 * e;
    let kv_bytes = b * (a.kv_heads * a.seq_kv * (a.head_dim + a.head_dim_v)) as f64 * e;
    let lse_bytes = b * (a.heads * a.seq_q) as f64 * 4.0;
    // (read once, written once, streamed reads per pass, streamed writes per pass, passes)
    let (once_read, once_write, stream_read, stream_write, passes) = if a.backward {
        let dq_f32 = b * (a.heads * a.seq_q * a.head_dim) as f64 * 4.0;
        (
            kv_bytes + o_bytes + lse_bytes,
            kv_bytes,
            q_bytes + o_bytes + dq_f32, // Q, dO, dQ accumulator
            dq_f32,
            a.seq_kv.div_ceil(f.block_kv.max(1)),
        )
    } else {
        (
            q_bytes,
            o_bytes + lse_bytes,
            kv_bytes,
            0.0,
            rows.div_ceil(f.block_q.max(1)),
        )
    };
    // Causal passes touch only the tiles up to the diagonal (at least one full read).
    let pass_factor = passes as f64 * frac.max(1.0 / passes as f64);
    let stream_total = (stream_read + stream_write) * pass_factor;
    // The streamed operand of the (batch, KV head) sets in flight must fit the cache: the tiles
    // in flight cover `cores / passes` sets at a time (at least one).
    let sets = (a.batch * a.kv_heads).max(1);
    let per_set = (stream_read + stream_write) / sets as f64;
    let in_flight = f.cores.div_ceil(passes.max(1)).clamp(1, sets) as f64;
    let cached =
        matches!(f.cache, Some((cap, _)) if passes > 1 && per_set * in_flight <= cap / 2.0);
    let (hbm_read, hbm_write, cache_bytes, cache_s) = if cached {
        let bw = f.cache.map_or(1.0, |c| c.1);
        (
            once_read + stream_read,
            once_write + stream_write,
            stream_total,
            stream_total / bw,
        )
    } else {
        (
            once_read + stream_read * pass_factor,
            once_write + stream_write * pass_factor,
            0.0,
            0.0,
        )
    };
    let hbm_s = (hbm_read + hbm_write) / f.hbm_bytes_per_s;

    let compute_side = matrix_s + softmax_exposed;
    let mem_s = hbm_s.max(cache_s);
    let memory_stall = (mem_s - compute_side).max(0.0);

    let mut p = profile_for(op);
    // The tile GEMMs ran at the machine's precision for the dtype (an fp4 fallback says so).
    p.math_dtype = qk.math_dtype;
    // The tile GEMMs' clock (the QK GEMM's; the softmax runs at it too).
    p.clock_fraction = qk.clock_fraction;
    p.note = qk.note.clone();
    p.time_breakdown_s = TimeBreakdown {
        compute_s: matrix_compute + softmax_exposed,
        fill_drain_s: fill,
        memory_stall_s: memory_stall,
        tail_s: tail,
        overhead_s: f.overhead_s,
        clock_throttle_s: throttle,
        kernel_efficiency_s: kernel_eff,
    };
    p.time_s = p.time_breakdown_s.total_s();
    p.cycles = (p.time_s * f.clock_hz).round() as u64;
    p.compute_cycles = ((matrix_compute + softmax_exposed) * f.clock_hz).round() as u64;
    p.stall_cycles = p.cycles.saturating_sub(p.compute_cycles);
    let w = |x: f64, y: f64| if x + y > 0.0 { x / (x + y) } else { 0.5 };
    let wq = w(c1, c2);
    p.mapping_efficiency = qk.mapping_efficiency * wq + av.mapping_efficiency * (1.0 - wq);
    let mut reg = qk.counters.reg_bytes + av.counters.reg_bytes;
    reg *= scale;
    p.counters = Counters {
        macs: a.macs(),
        vector_flops: softmax_elems * 5.0,
        reg_bytes: reg,
        sram_read_bytes: stream_total + once_read,
        sram_write_bytes: stream_total + once_write,
        l2_read_bytes: if f.cache.is_some() {
            cache_bytes + hbm_read
        } else {
            0.0
        },
        l2_write_bytes: if f.cache.is_some() { hbm_write } else { 0.0 },
        hbm_read_bytes: hbm_read,
        hbm_write_bytes: hbm_write,
        interconnect_bytes: hbm_read + hbm_write + cache_bytes,
        link_bytes: 0.0,
    };
    let bound = if memory_stall > 0.0 {
        if cache_s > hbm_s {
            "cache"
        } else {
            "memory"
        }
    } else if f.softmax_overlaps && softmax_s > matrix_s {
        "softmax"
    } else {
        "compute"
    };
    p.plan = serde_json::json!({
        "kernel": if a.backward { "fused attention backward (FlashAttention-2 style)" } else { "fused attention (FlashAttention style)" },
        "causal": a.causal,
        "block_q": f.block_q,
        "block_kv": f.block_kv,
        "gqa_group": group,
        "packed_rows": rows,
        "executed_tile_fraction": frac,
        "passes": passes,
        "streamed_from": if cache_bytes > 0.0 { "cache" } else { "hbm" },
        "softmax": if f.softmax_overlaps { "overlapped" } else { "serial" },
        "bound": bound,
    });
    finish_profile(&mut p, f.peak_flops);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::DType;

    fn op(sq: u64, skv: u64, causal: bool) -> AttentionOp {
        AttentionOp {
            name: "a".into(),
            batch: 1,
            heads: 8,
            kv_heads: 8,
            seq_q: sq,
            seq_kv: skv,
            head_dim: 128,
            head_dim_v: 128,
            causal,
            backward: false,
            dtype: DType::Bf16,
        }
    }

    #[test]
    fn causal_tiles_approach_half() {
        // 64 × 64 tiles of 128: 64·65/2 of 64² computed.
        let f = executed_tile_fraction(&op(8192, 8192, true), 128, 128);
        assert!((f - 65.0 / 128.0).abs() < 1e-12, "{f}");
        assert_eq!(
            executed_tile_fraction(&op(8192, 8192, false), 128, 128),
            1.0
        );
        // A decode step (one query at the end) sees every key.
        assert_eq!(executed_tile_fraction(&op(1, 4097, true), 128, 128), 1.0);
    }

    #[test]
    fn causal_pairs_exact() {
        assert_eq!(op(4, 4, true).pairs(), 10);
        assert_eq!(op(2, 5, true).pairs(), 2 * 3 + 3);
        assert_eq!(op(4, 4, false).pairs(), 16);
    }
}
