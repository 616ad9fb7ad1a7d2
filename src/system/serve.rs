//! Serving an LLM: continuous batching of prefill and decode on replicas of `tp` chips, the batch
//! bounded by KV-cache capacity, every step costed by the chip model through the engine plus the
//! tensor-parallel all-reduces on the system's network; offline (maximum throughput) and server
//! (the largest load meeting TTFT/TPOT targets) scenarios.
//!
//! Steady state (docs/SERVING.md): with `b` requests in flight, each cycle prefills `b` prompts of
//! `I` tokens (one batched prefill step) and runs `O` decode steps at batch `b` over an average
//! context of `I + O/2`; a cycle of `T(b) = t_prefill(b) + O · t_decode(b)` yields `b · O` output
//! tokens per replica (the steady state of iteration-level batching, Orca / vLLM).
//! KV capacity: `0.95 × (HBM − weights − workspace)` per chip (TensorRT-LLM's
//! `kv_cache_free_gpu_mem_fraction`), divided by a request's KV bytes `(I + O) · KV/token`, sharded
//! over `min(tp, kv_heads)` (KV heads replicate beyond that).
//!
//! Expert parallelism (MoE cards, `ep`): a replica is `tp · ep` chips; attention and the dense
//! parts run data-parallel over the ep groups (each chip serves `b/ep` of the replica's requests
//! and holds their KV cache), the routed experts are split over the ep ranks, and every MoE
//! layer dispatches and combines its tokens with two all-to-alls over the ep group (the
//! DeepSeek-V3 / SGLang "DP attention + EP MoE" layout, DeepSeek-V3 report §3.4). Per chip the
//! weights are the dense part / tp plus the experts / (tp·ep).

use super::collective::{place, Collective, Group};
use super::config::SystemConfig;
use crate::error::{Error, Result};
use crate::machine::Machine;
use crate::run::model::simulate_model;
use crate::workload::model::lower::{Phase, RunSpec};
use crate::workload::model::ModelCard;
use crate::workload::DType;
use serde::Serialize;

/// What the serving run optimizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Infinite request rate, no latency bound: the batch that maximizes throughput.
    Offline,
    /// The highest load whose mean TTFT and TPOT meet the targets (s).
    Server {
        /// Mean time-to-first-token target, s.
        ttft_s: f64,
        /// Mean time-per-output-token target, s.
        tpot_s: f64,
    },
    /// A fixed arrival rate (requests/s for the whole system, Poisson): the smallest batch that
    /// keeps up, and the latencies at that load.
    Rate { requests_per_s: f64 },
}

/// A serving run.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    pub card: ModelCard,
    pub chips: u64,
    pub scenario: Scenario,
    pub input_len: u64,
    pub output_len: u64,
    /// Weights and activations.
    pub dtype: DType,
    /// KV cache.
    pub kv_dtype: DType,
    /// Tensor parallelism per replica (None: searched).
    pub tp: Option<u64>,
    /// Expert parallelism per replica (MoE cards; None: searched, 1 for dense cards).
    pub ep: Option<u64>,
    /// Chunked prefill (Sarathi-Serve, Agrawal et al. 2024): prompts are split into chunks of
    /// this many tokens, one chunk piggybacked on each decode step, instead of one batched
    /// prefill step that stalls every decode.
    pub chunk_tokens: Option<u64>,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ServeReport {
    /// System config name.
    pub system: String,
    /// Chip config name.
    pub chip: String,
    /// Model card name.
    pub model: String,
    /// Chips serving.
    pub chips: u64,
    /// What the run optimizes: offline, server (with its TTFT/TPOT targets in s) or a fixed rate.
    pub scenario: Scenario,
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// Weights and activations dtype.
    pub dtype: DType,
    /// KV-cache dtype.
    pub kv_dtype: DType,
    /// Tensor parallelism, expert parallelism per replica (a replica is tp·ep chips) and
    /// replicas (data parallelism).
    pub tp: u64,
    /// Expert parallelism per replica (1 for dense models).
    pub ep: u64,
    /// Replicas serving side by side (data parallelism): chips / (tp·ep).
    pub replicas: u64,
    /// Requests in flight per replica.
    pub batch: u64,
    /// The largest batch the KV cache holds per replica.
    pub kv_capacity_batch: u64,
    /// Output tokens per second, whole system.
    pub output_tokens_per_s: f64,
    /// Output tokens per second per chip.
    pub output_tokens_per_s_per_chip: f64,
    /// Prompt + output tokens per second.
    pub total_tokens_per_s: f64,
    /// Requests per second the system sustains.
    pub requests_per_s: f64,
    /// Time to first token: the batched prefill step (offline) or one prompt's prefill plus
    /// M/D/1 queueing at the sustained load (server), mean.
    pub ttft_s: f64,
    /// Time per output token, mean: a cycle's time / O (decode steps and the prefill stalls).
    pub tpot_s: f64,
    /// TTFT p99: a request-level simulation of the replica's prompt queue (Poisson arrivals at
    /// the load, fixed seed, 20,000 requests; Lindley's recursion); offline: the mean.
    pub ttft_p99_s: f64,
    /// TPOT p99: one decode step plus one prompt's prefill inserted before the token (prefill
    /// is not chunked).
    pub tpot_p99_s: f64,
    /// One batched prefill step (the batch's prompts), s.
    pub prefill_step_s: f64,
    /// One decode step at the batch, s.
    pub decode_step_s: f64,
    /// Throughput against latency as the batch grows, for the chosen tp: (batch, TPOT s, output
    /// tokens/s per chip).
    pub curve: Vec<(u64, f64, f64)>,
    /// KV cache of one request (prompt + output), in bytes.
    pub kv_cache_bytes_per_request: u64,
    /// KV cache of every request in flight, in bytes.
    pub kv_cache_bytes_total: u64,
    /// Weights per chip, in bytes.
    pub weights_bytes_per_chip: u64,
    /// chips × all-in power per chip × PUE, in W.
    pub power_w: f64,
    /// Energy per output token, in J.
    pub j_per_token: f64,
    /// USD per million output tokens at the chip's `[cost]` price (null without one).
    pub usd_per_million_tokens: Option<f64>,
    /// Server scenario: whether any batch meets the targets.
    pub feasible: bool,
    /// Why the figures are not a feasible point, when they are not.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One point of a throughput-latency curve: (batch, TPOT s, output tokens/s per chip).
type Point = (u64, f64, f64);

/// Step times of one replica at one batch.
#[derive(Debug, Clone, Copy)]
struct Steps {
    prefill_s: f64,
    decode_s: f64,
    prefill_one_s: f64,
    /// One chunk of a prompt (chunked prefill), 0 without.
    chunk_s: f64,
}

struct Replica<'a> {
    machine: &'a dyn Machine,
    spec: &'a ServeSpec,
    shard: ModelCard,
    /// The replica's tensor-parallel group (None for tp = 1), placed once.
    tp_group: Option<Group>,
    /// The expert-parallel group (None for ep = 1).
    ep_group: Option<Group>,
    ep: u64,
    /// One prompt's prefill and one chunk of it (chunked prefill; 0 without): the same for
    /// every batch, simulated once.
    prefill_one_s: f64,
    chunk_s: f64,
}

impl<'a> Replica<'a> {
    fn new(
        sys: &SystemConfig,
        machine: &'a dyn Machine,
        spec: &'a ServeSpec,
        tp: u64,
        ep: u64,
    ) -> Result<Self> {
        let (tp_group, ep_group) = if tp * ep > 1 {
            let p = place(sys, tp * ep, None)?;
            let dims = [tp, ep];
            (
                (tp > 1).then(|| p.group(sys, &dims, 0..1)).transpose()?,
                (ep > 1).then(|| p.group(sys, &dims, 1..2)).transpose()?,
            )
        } else {
            (None, None)
        };
        let mut r = Replica {
            machine,
            spec,
            shard: super::train::shard_card(&spec.card, tp, 1, ep),
            tp_group,
            ep_group,
            ep,
            prefill_one_s: 0.0,
            chunk_s: 0.0,
        };
        let i = spec.input_len;
        r.prefill_one_s = r.run(Phase::Prefill, 1, i, i)? + r.tp_comm(i) + r.ep_comm(i);
        if let Some(c) = spec.chunk_tokens {
            let c = c.min(i);
            r.chunk_s = r.run(Phase::Prefill, 1, c, c)? + r.tp_comm(c) + r.ep_comm(c);
        }
        Ok(r)
    }

    /// Tensor-parallel all-reduces: 2 per layer (after attention, after the FFN; Megatron
    /// without sequence parallelism), each over the step's `tokens · d` activation.
    fn tp_comm(&self, tokens: u64) -> f64 {
        let Some(g) = &self.tp_group else {
            return 0.0;
        };
        let bytes = (tokens * self.spec.card.hidden) as f64 * self.spec.dtype.bytes_per_element();
        2.0 * self.spec.card.layers as f64 * g.cost(Collective::AllReduce, bytes).time_s
    }

    fn run(&self, phase: Phase, batch: u64, seq: u64, context: u64) -> Result<f64> {
        let rs = RunSpec {
            phase,
            batch,
            seq,
            context,
            dtype: self.spec.dtype,
            fused_attention: true,
            recompute: false,
            context_parallel: 1,
            sequence_parallel: 1,
            recompute_attention: false,
        };
        Ok(simulate_model(self.machine, &self.shard, &rs)?.total.time_s)
    }

    /// Expert-parallel all-to-alls: dispatch and combine per MoE layer, each moving the chip's
    /// `tokens · top_k · d` activations over the ep group.
    fn ep_comm(&self, tokens: u64) -> f64 {
        let (Some(g), Some(m)) = (&self.ep_group, &self.spec.card.moe) else {
            return 0.0;
        };
        let (_, moe_layers) = self.spec.card.dense_and_moe_layers();
        let bytes =
            (tokens * m.top_k * self.spec.card.hidden) as f64 * self.spec.dtype.bytes_per_element();
        2.0 * moe_layers as f64 * g.cost(Collective::AllToAll, bytes).time_s
    }

    /// Prefill and decode steps with `b` requests in flight on the replica (`b/ep` per chip).
    fn steps(&self, b: u64) -> Result<Steps> {
        let (i, o) = (self.spec.input_len, self.spec.output_len);
        let ctx = i + o / 2;
        let b = b.div_ceil(self.ep);
        Ok(Steps {
            prefill_s: self.run(Phase::Prefill, b, i, i)?
                + self.tp_comm(b * i)
                + self.ep_comm(b * i),
            decode_s: self.run(Phase::Decode, b, 1, ctx)? + self.tp_comm(b) + self.ep_comm(b),
            prefill_one_s: self.prefill_one_s,
            chunk_s: self.chunk_s,
        })
    }
}

/// Serve a model on a system.
pub fn serve(sys: &SystemConfig, spec: &ServeSpec) -> Result<ServeReport> {
    let card = &spec.card;
    for (key, v) in [
        ("input_len", spec.input_len),
        ("output_len", spec.output_len),
    ] {
        if v == 0 || v > 1 << 20 {
            return Err(Error::setting(
                key,
                format!("{key} = {v}: must be from 1 to 2^20"),
            ));
        }
    }
    let machine = sys.chip.build(None)?;
    let capacity = machine
        .info()
        .memory_level("hbm")
        .and_then(|l| l.capacity_bytes)
        .ok_or_else(|| {
            Error::setting("system", format!("{} has no HBM capacity", sys.chip.name))
        })?;
    let domain = sys.scale_up_chips();
    let tps: Vec<u64> = match spec.tp {
        Some(t) => vec![t],
        None => (0..8)
            .map(|k| 1u64 << k)
            .filter(|&t| {
                t <= domain && spec.chips.is_multiple_of(t) && card.heads.is_multiple_of(t)
            })
            .collect(),
    };
    if let Some(t) = spec.tp {
        if t == 0 || !spec.chips.is_multiple_of(t) || !card.heads.is_multiple_of(t) {
            return Err(Error::setting(
                "plan",
                format!(
                    "tp={t} must divide the {} chips and the {} heads",
                    spec.chips, card.heads
                ),
            ));
        }
    }
    let eps: Vec<u64> = match (&card.moe, spec.ep) {
        (_, Some(e)) => vec![e],
        (Some(m), None) => (0..10)
            .map(|k| 1u64 << k)
            .filter(|&e| m.experts.is_multiple_of(e) && e <= spec.chips)
            .collect(),
        (None, None) => vec![1],
    };
    if let Some(e) = spec.ep {
        let experts = card.moe.as_ref().map_or(1, |m| m.experts);
        if e == 0 || !experts.is_multiple_of(e) || !spec.chips.is_multiple_of(e) {
            return Err(Error::setting(
                "plan",
                format!(
                    "ep={e} must divide the {} chips and the {experts} routed experts of {}",
                    spec.chips, card.name
                ),
            ));
        }
    }
    let kv_token = card.kv_bytes_per_token(spec.kv_dtype);
    let kv_req = (spec.input_len + spec.output_len) * kv_token;
    let mut best: Option<ServeReport> = None;
    // Throughput-latency curve per (tp, ep).
    let mut curves: std::collections::HashMap<(u64, u64), Vec<Point>> = Default::default();
    let mut why = String::new();
    for (tp, ep) in tps
        .iter()
        .flat_map(|&t| eps.iter().map(move |&e| (t, e)))
        .filter(|&(t, e)| spec.chips.is_multiple_of(t * e))
    {
        // The dense part / tp plus the experts / (tp·ep): the ep shard's parameters / tp.
        let params = super::train::shard_card(card, 1, 1, ep).params().total;
        let weights = u64::try_from(spec.dtype.bytes_for(params)).unwrap_or(u64::MAX) / tp;
        // Workspace: the prefill activations of one prompt (the largest step), sharded by tp.
        let workspace =
            (spec.input_len * card.hidden * 4) as f64 * spec.dtype.bytes_per_element() / tp as f64;
        let free = (capacity as f64 - weights as f64 - workspace) * 0.95;
        let kv_share = kv_req as f64 / tp.min(card.kv_heads) as f64;
        // Each of the ep attention groups holds the KV cache of its b/ep requests.
        let b_kv = if free > 0.0 {
            (free / kv_share).floor() as u64 * ep
        } else {
            0
        };
        if b_kv == 0 {
            why = format!(
                "{} does not fit a {}-chip replica (tp={tp}, ep={ep}): weights {:.1} GiB per chip + one request's KV cache {:.2} GiB of {:.1} GiB HBM",
                card.name,
                tp * ep,
                weights as f64 / (1u64 << 30) as f64,
                kv_share / (1u64 << 30) as f64,
                capacity as f64 / (1u64 << 30) as f64
            );
            continue;
        }
        let replica = Replica::new(sys, machine.as_ref(), spec, tp, ep)?;
        let replicas = spec.chips / (tp * ep);
        let o = spec.output_len as f64;
        let mut b = ep;
        let mut candidates = Vec::new();
        while b <= b_kv.min(8192) {
            candidates.push(b);
            b *= 2;
        }
        if *candidates.last().unwrap_or(&0) != b_kv.min(8192) {
            candidates.push(b_kv.min(8192));
        }
        let mut curve = Vec::new();
        for &b in &candidates {
            let mut s = replica.steps(b)?;
            // With chunked prefill a prompt's first token waits for its chunks, each riding on a
            // decode step: ⌈I/C⌉ · (decode + chunk) stands in for the prompt's prefill in TTFT.
            if let Some(c) = spec.chunk_tokens {
                let chunks = spec.input_len.div_ceil(c.max(1)) as f64;
                s.prefill_one_s = chunks * (s.decode_s + s.chunk_s);
            }
            let cycle = s.prefill_s + o * s.decode_s;
            let tpot = cycle / o;
            let req_rate = b as f64 / cycle * replicas as f64;
            let (ttft, feasible, rate) = match spec.scenario {
                Scenario::Offline => (s.prefill_s, true, req_rate),
                Scenario::Rate { requests_per_s } => {
                    let lambda = requests_per_s / replicas as f64;
                    let t1 = s.prefill_one_s;
                    let rho = lambda * t1;
                    let keeps_up = lambda <= b as f64 / cycle && rho < 1.0;
                    let ttft = if rho < 1.0 {
                        t1 + rho * t1 / (2.0 * (1.0 - rho))
                    } else {
                        f64::INFINITY
                    };
                    (ttft, keeps_up, requests_per_s.min(req_rate))
                }
                Scenario::Server { ttft_s, tpot_s } => {
                    // M/D/1 queue of prompts at the replica's prefill server (one prompt at a
                    // time): W = ρ·t/(2(1−ρ)); the load is the largest meeting the TTFT target,
                    // capped by the batch's capacity.
                    let t1 = s.prefill_one_s;
                    let cap = b as f64 / cycle; // requests/s per replica
                    let rho_cap = (cap * t1).min(0.999);
                    let ttft_at = |rho: f64| t1 + rho * t1 / (2.0 * (1.0 - rho));
                    let rho = if ttft_at(rho_cap) <= ttft_s {
                        rho_cap
                    } else if t1 >= ttft_s {
                        0.0
                    } else {
                        // ttft_at(ρ) = T  →  ρ = 2(T − t)/(2T − t)
                        (2.0 * (ttft_s - t1) / (2.0 * ttft_s - t1)).clamp(0.0, rho_cap)
                    };
                    let ok = tpot <= tpot_s && t1 <= ttft_s && rho > 0.0;
                    (ttft_at(rho), ok, rho / t1 * replicas as f64)
                }
            };
            let out_tps = rate * o;
            let ttft_p99 = match spec.scenario {
                Scenario::Offline => ttft,
                _ => queue_p99(rate / replicas as f64, s.prefill_one_s).unwrap_or(f64::INFINITY),
            };

            let tokens_total = rate * (spec.input_len + spec.output_len) as f64;
            let power = spec.chips as f64 * sys.allin_w_per_chip * sys.pue;
            let report = ServeReport {
                system: sys.name.clone(),
                chip: sys.chip.name.clone(),
                model: card.name.clone(),
                chips: spec.chips,
                scenario: spec.scenario,
                input_len: spec.input_len,
                output_len: spec.output_len,
                dtype: spec.dtype,
                kv_dtype: spec.kv_dtype,
                tp,
                ep,
                replicas,
                batch: b,
                kv_capacity_batch: b_kv,
                output_tokens_per_s: out_tps,
                output_tokens_per_s_per_chip: out_tps / spec.chips as f64,
                total_tokens_per_s: tokens_total,
                requests_per_s: rate,
                ttft_s: ttft,
                tpot_s: tpot,
                ttft_p99_s: ttft_p99,
                tpot_p99_s: s.decode_s
                    + if spec.chunk_tokens.is_some() {
                        s.chunk_s
                    } else {
                        s.prefill_one_s
                    },
                prefill_step_s: s.prefill_s,
                decode_step_s: s.decode_s,
                curve: Vec::new(),
                kv_cache_bytes_per_request: kv_req,
                kv_cache_bytes_total: kv_req * b * replicas,
                weights_bytes_per_chip: weights,
                power_w: power,
                j_per_token: if out_tps > 0.0 {
                    power / out_tps
                } else {
                    f64::INFINITY
                },
                usd_per_million_tokens: sys.chip.cost().map(|c| {
                    c.usd_per_chip_hour * spec.chips as f64 / 3600.0 / out_tps.max(1e-30) * 1e6
                }),
                feasible,
                note: String::new(),
            };
            curve.push((b, tpot, req_rate * o / spec.chips as f64));
            let better = match &best {
                None => true,
                // A fixed rate: the smallest batch that keeps up; otherwise the highest
                // throughput, feasible first.
                Some(cur) if matches!(spec.scenario, Scenario::Rate { .. }) => {
                    report.feasible && !cur.feasible
                }
                Some(cur) => {
                    (report.feasible, report.output_tokens_per_s)
                        > (cur.feasible, cur.output_tokens_per_s)
                }
            };
            if better {
                best = Some(report);
            }
        }
        curves.insert((tp, ep), curve);
    }
    let mut r = best.ok_or_else(|| Error::setting("model", why))?;
    r.curve = curves.remove(&(r.tp, r.ep)).unwrap_or_default();
    if !r.feasible {
        r.note = match spec.scenario {
            Scenario::Rate { .. } => "no batch keeps up with the rate: the numbers are for the largest batch, at the rate it sustains".into(),
            _ => "no batch meets the TTFT/TPOT targets: the numbers are for the fastest infeasible point".into(),
        };
    }
    Ok(r)
}

/// p99 of time in system (wait + service) of an M/D/1 queue with arrival rate `lambda` (1/s)
/// and service time `t` (s), from a request-level simulation: 20,000 Poisson arrivals from a
/// fixed-seed generator (SplitMix64), waits by Lindley's recursion
/// `W_{n+1} = max(0, W_n + t − A_{n+1})`. None when the queue is unstable (ρ ≥ 1).
pub fn queue_p99(lambda: f64, t: f64) -> Option<f64> {
    if lambda <= 0.0 {
        return Some(t);
    }
    if lambda * t >= 1.0 {
        return None;
    }
    let mut state: u64 = 0x5EED_A5C1_u64;
    let mut next = || {
        // SplitMix64 (Steele et al. 2014).
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = 20_000;
    let mut w = 0.0f64;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        times.push(w + t);
        let gap = -(1.0 - next()).ln() / lambda;
        w = (w + t - gap).max(0.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    Some(times[(n as f64 * 0.99) as usize])
}
