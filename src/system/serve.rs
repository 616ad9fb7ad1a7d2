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
//!
//! Pipeline parallelism (`pp`): a replica is `tp · pp · ep` chips, the layers split into `pp`
//! stages of `L/pp` layers (the first stage also holds the input embedding, the last the LM
//! head; Megatron-LM / vLLM / TensorRT-LLM pipeline parallel). Each chip holds its stage's
//! weights and the KV cache of its stage's layers for every request of the replica. The batch
//! runs as `pp` micro-batches of `b/pp` requests in flight, one per stage, so every stage is busy
//! (iteration-level scheduling per micro-batch: Orca, Yu et al. OSDI 2022, §4, keeps as many
//! batches in flight as stages; vLLM's virtual engines; GPipe's and Megatron's micro-batches):
//! a stage time is the slowest stage's step on `b/pp` requests plus the point-to-point send of
//! its activations `b/pp × hidden × bytes` to the next stage; a decode round (every request one
//! token) is `pp` stage times, and TTFT runs the prefill through every stage.

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
    /// Pipeline parallelism per replica: stages of `layers/pp` layers (None: searched over the
    /// divisors of the layer count).
    pub pp: Option<u64>,
    /// Disaggregated prefill (DistServe, Splitwise): `(prefill chips, decode chips)`, summing to
    /// `chips`, each a multiple of the replica; None: every replica prefills and decodes.
    pub disaggregate: Option<(u64, u64)>,
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
    /// The plan as `--plan` takes it: `tp=T,pp=P` (and `,ep=E` for MoE cards).
    pub plan: String,
    /// Tensor parallelism per replica.
    pub tp: u64,
    /// Pipeline parallelism per replica: stages of layers/pp layers (1: no pipeline).
    pub pp: u64,
    /// Expert parallelism per replica (1 for dense models).
    pub ep: u64,
    /// Replicas serving side by side (data parallelism): chips / (tp·pp·ep).
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
    /// Time to first token: the batched prefill step (offline; with pp > 1 the pipeline's fill,
    /// 2·pp − 1 stage times) or one prompt's prefill through every stage plus M/D/1 queueing at
    /// the sustained load (server), mean.
    pub ttft_s: f64,
    /// Time per output token, mean: a cycle's time / O (decode steps and the prefill stalls).
    /// With pp > 1 a decode step is a pipeline round of pp stage times, each the stage's step plus
    /// its activation send (under full load a request's next token waits for its micro-batch's
    /// turn on every stage).
    pub tpot_s: f64,
    /// TTFT p99: a request-level simulation of the replica's prompt queue (Poisson arrivals at
    /// the load, fixed seed, 20,000 requests; Lindley's recursion); offline: the mean.
    pub ttft_p99_s: f64,
    /// TPOT p99: one decode step plus one prompt's prefill inserted before the token (prefill
    /// is not chunked).
    pub tpot_p99_s: f64,
    /// One batched prefill step (the batch's prompts), s; with pp > 1 the pipeline's busy time,
    /// pp stage times of b/pp prompts each.
    pub prefill_step_s: f64,
    /// One decode step at the batch (every request one token), s; with pp > 1 a pipeline round
    /// of pp stage times.
    pub decode_step_s: f64,
    /// Unloaded per-token latency through the pipeline: the stages' decode steps on one
    /// micro-batch in turn plus the pp − 1 activation sends between them, s (= the decode step
    /// at pp = 1).
    pub token_latency_s: f64,
    /// Throughput against latency as the batch grows, for the chosen plan: (batch, TPOT s,
    /// output tokens/s per chip).
    pub curve: Vec<(u64, f64, f64)>,
    /// Every plan the planner evaluated, with its best point; the report's plan is the best of
    /// them (feasible first, then output tokens/s; a fixed rate: feasible first).
    pub candidates: Vec<ServeCandidate>,
    /// KV cache of one request (prompt + output), in bytes.
    pub kv_cache_bytes_per_request: u64,
    /// KV cache of every request in flight, in bytes.
    pub kv_cache_bytes_total: u64,
    /// Weights per chip, in bytes (with pp > 1, a chip of the heaviest stage).
    pub weights_bytes_per_chip: u64,
    /// chips × all-in power per chip × PUE, in W.
    pub power_w: f64,
    /// Energy per output token, in J.
    pub j_per_token: f64,
    /// USD per million output tokens at the chip's `[cost]` price (null without one).
    pub usd_per_million_tokens: Option<f64>,
    /// Disaggregated prefill: the two pools and the KV-cache hand-over (absent without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disaggregated: Option<Disaggregated>,
    /// Server scenario: whether any batch meets the targets.
    pub feasible: bool,
    /// Why the figures are not a feasible point, when they are not.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Disaggregated prefill: prompts are prefilled on one pool of replicas, whose KV cache is then
/// sent over the network to a replica of the decode pool (DistServe, Zhong et al. OSDI 2024;
/// Splitwise, Patel et al. ISCA 2024).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Disaggregated {
    /// Chips prefilling.
    pub prefill_chips: u64,
    /// Chips decoding.
    pub decode_chips: u64,
    /// Replicas (of the report's plan) prefilling.
    pub prefill_replicas: u64,
    /// Replicas decoding (the report's `batch` is per decode replica).
    pub decode_replicas: u64,
    /// Requests/s the prefill pool sustains at the batch (prompts batched b at a time).
    pub prefill_requests_per_s: f64,
    /// Requests/s the decode pool sustains at the batch.
    pub decode_requests_per_s: f64,
    /// One request's KV cache (its prompt) sent from its prefill chips to its decode chips, s:
    /// each chip sends its shard, all in parallel, over the link between the pools.
    pub kv_transfer_s: f64,
}

/// One plan the serving planner evaluated, at its best batch.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ServeCandidate {
    /// The plan (`tp=T,pp=P[,ep=E]`).
    pub plan: String,
    /// Requests in flight per replica at the plan's best point.
    pub batch: u64,
    /// The largest batch the KV cache holds per replica.
    pub kv_capacity_batch: u64,
    /// Output tokens per second, whole system.
    pub output_tokens_per_s: f64,
    /// Time per output token, mean, s.
    pub tpot_s: f64,
    /// Whether the point meets the scenario (always true offline).
    pub feasible: bool,
}

/// One point of a throughput-latency curve: (batch, TPOT s, output tokens/s per chip).
type Point = (u64, f64, f64);

/// Step times of one replica at one batch.
#[derive(Debug, Clone, Copy)]
struct Steps {
    /// The batch's prefill: pp stage times of b/pp prompts (the pipeline kept busy).
    prefill_s: f64,
    /// The batch's prefill from an empty pipeline to the last prompt's first token:
    /// (2·pp − 1) stage times (GPipe's `(M + P − 1)` micro-batch slots with M = P).
    prefill_fill_s: f64,
    /// A decode round: pp stage times of b/pp requests (every request one token).
    decode_s: f64,
    /// One token of one micro-batch through the pipeline: pp stage steps + (pp − 1) sends.
    token_latency_s: f64,
    /// One prompt's prefill through every stage (pp stage steps + (pp − 1) sends).
    prefill_one_s: f64,
    /// The time one prompt occupies the prefill pipeline's bottleneck (one stage time; the
    /// whole prefill at pp = 1): the service time of the prompt queue.
    prefill_one_stage_s: f64,
    /// One chunk of a prompt through every stage (chunked prefill), 0 without.
    chunk_s: f64,
}

/// One step on one stage: the stage's compute and communication, and the send of its
/// activations to the next stage (0 at pp = 1).
#[derive(Debug, Clone, Copy)]
struct Stage {
    step_s: f64,
    send_s: f64,
}

impl Stage {
    /// Stage time with every stage busy: step + send (the sender is busy for the send;
    /// vLLM/TensorRT-LLM pipeline parallel send blocking p2p between stages).
    fn time_s(self) -> f64 {
        self.step_s + self.send_s
    }
    /// A pipeline round of `pp` stage times: every micro-batch advances once through all stages.
    fn round_s(self, pp: u64) -> f64 {
        pp as f64 * self.time_s()
    }
    /// One micro-batch through an otherwise idle pipeline: `pp` steps + `(pp − 1)` sends.
    fn latency_s(self, pp: u64) -> f64 {
        pp as f64 * self.step_s + (pp - 1) as f64 * self.send_s
    }
}

struct Replica<'a> {
    machine: &'a dyn Machine,
    spec: &'a ServeSpec,
    /// One pipeline stage's shard: heads, FFN, vocabulary / tp; layers / pp; experts / ep.
    shard: ModelCard,
    /// The replica's tensor-parallel group (None for tp = 1), placed once.
    tp_group: Option<Group>,
    /// The expert-parallel group (None for ep = 1).
    ep_group: Option<Group>,
    /// The pipeline group (None for pp = 1): consecutive stages send over its link.
    pp_group: Option<Group>,
    ep: u64,
    pp: u64,
    /// One prompt's prefill on one stage and one chunk of it (chunked prefill; zero without):
    /// the same for every batch, simulated once.
    prefill_one: Stage,
    chunk: Stage,
}

impl<'a> Replica<'a> {
    fn new(
        sys: &SystemConfig,
        machine: &'a dyn Machine,
        spec: &'a ServeSpec,
        tp: u64,
        pp: u64,
        ep: u64,
    ) -> Result<Self> {
        let (tp_group, ep_group, pp_group) = if tp * ep * pp > 1 {
            let p = place(sys, tp * ep * pp, None)?;
            let dims = [tp, ep, pp];
            (
                (tp > 1).then(|| p.group(sys, &dims, 0..1)).transpose()?,
                (ep > 1).then(|| p.group(sys, &dims, 1..2)).transpose()?,
                (pp > 1).then(|| p.group(sys, &dims, 2..3)).transpose()?,
            )
        } else {
            (None, None, None)
        };
        let zero = Stage {
            step_s: 0.0,
            send_s: 0.0,
        };
        let mut r = Replica {
            machine,
            spec,
            shard: super::train::shard_card(&spec.card, tp, pp, ep),
            tp_group,
            ep_group,
            pp_group,
            ep,
            pp,
            prefill_one: zero,
            chunk: zero,
        };
        let i = spec.input_len;
        r.prefill_one = r.stage(Phase::Prefill, 1, i, i)?;
        if let Some(c) = spec.chunk_tokens {
            let c = c.min(i);
            r.chunk = r.stage(Phase::Prefill, 1, c, c)?;
        }
        Ok(r)
    }

    /// Tensor-parallel all-reduces: 2 per layer of the stage (after attention, after the FFN;
    /// Megatron without sequence parallelism), each over the step's `tokens · d` activation.
    fn tp_comm(&self, tokens: u64) -> f64 {
        let Some(g) = &self.tp_group else {
            return 0.0;
        };
        let bytes = (tokens * self.spec.card.hidden) as f64 * self.spec.dtype.bytes_per_element();
        2.0 * self.shard.layers as f64 * g.cost(Collective::AllReduce, bytes).time_s
    }

    /// The pipeline send between consecutive stages: the step's `tokens · d` activations, the
    /// whole (tp-replicated) hidden state from each tp rank to its peer in the next stage
    /// (vLLM's pipeline-parallel `send_tensor_dict` of the hidden states), over the pp group's
    /// link.
    fn pp_send(&self, tokens: u64) -> f64 {
        let Some(g) = &self.pp_group else {
            return 0.0;
        };
        let bytes = (tokens * self.spec.card.hidden) as f64 * self.spec.dtype.bytes_per_element();
        g.cost(Collective::SendRecv, bytes).time_s
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

    /// Expert-parallel all-to-alls: dispatch and combine per MoE layer of the stage, each
    /// moving the chip's `tokens · top_k · d` activations over the ep group.
    fn ep_comm(&self, tokens: u64) -> f64 {
        let (Some(g), Some(m)) = (&self.ep_group, &self.spec.card.moe) else {
            return 0.0;
        };
        let (_, moe_layers) = self.shard.dense_and_moe_layers();
        let bytes =
            (tokens * m.top_k * self.spec.card.hidden) as f64 * self.spec.dtype.bytes_per_element();
        2.0 * moe_layers as f64 * g.cost(Collective::AllToAll, bytes).time_s
    }

    /// One stage's step on `batch` sequences of `seq` new tokens (per chip), with its send.
    /// The simulated stage holds `layers/pp` layers and the LM head: the slowest stage.
    fn stage(&self, phase: Phase, batch: u64, seq: u64, context: u64) -> Result<Stage> {
        let tokens = batch * seq;
        Ok(Stage {
            step_s: self.run(phase, batch, seq, context)?
                + self.tp_comm(tokens)
                + self.ep_comm(tokens),
            send_s: self.pp_send(tokens),
        })
    }

    /// Prefill and decode steps with `b` requests in flight on the replica (`b/ep` per chip,
    /// `b/(ep·pp)` per micro-batch).
    fn steps(&self, b: u64) -> Result<Steps> {
        let (i, o) = (self.spec.input_len, self.spec.output_len);
        let ctx = i + o / 2;
        let pp = self.pp;
        let m = b.div_ceil(self.ep).div_ceil(pp);
        let prefill = self.stage(Phase::Prefill, m, i, i)?;
        let decode = self.stage(Phase::Decode, m, 1, ctx)?;
        Ok(Steps {
            prefill_s: prefill.round_s(pp),
            prefill_fill_s: (2 * pp - 1) as f64 * prefill.time_s(),
            decode_s: decode.round_s(pp),
            token_latency_s: decode.latency_s(pp),
            prefill_one_s: self.prefill_one.latency_s(pp),
            prefill_one_stage_s: self.prefill_one.time_s(),
            chunk_s: if self.spec.chunk_tokens.is_some() {
                self.chunk.round_s(pp)
            } else {
                0.0
            },
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
    if let Some((p, d)) = spec.disaggregate {
        if p == 0 || d == 0 || p.checked_add(d) != Some(spec.chips) {
            return Err(Error::setting(
                "disaggregate",
                format!(
                    "{p}:{d}: both pools need at least one chip and together the {} chips",
                    spec.chips
                ),
            ));
        }
        if spec.chunk_tokens.is_some() {
            return Err(Error::setting(
                "disaggregate",
                "disaggregated decode replicas run no prefill: leave out --chunked-prefill",
            ));
        }
    }
    let built = sys.chip.build(None)?;
    // The search runs the same shard at many batch sizes and context lengths, and different
    // plans share shapes: each distinct op is simulated once.
    let machine = crate::machine::memo::Memoized::new(built.as_ref());
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
    // Pipeline stages: the divisors of the layer count that divide the chips (every stage the
    // same number of layers).
    let pps: Vec<u64> = match spec.pp {
        Some(p) => vec![p],
        None => (1..=card.layers.min(spec.chips))
            .filter(|&p| card.layers.is_multiple_of(p) && spec.chips.is_multiple_of(p))
            .collect(),
    };
    if let Some(p) = spec.pp {
        if p == 0 || !card.layers.is_multiple_of(p) || !spec.chips.is_multiple_of(p) {
            return Err(Error::setting(
                "plan",
                format!(
                    "pp={p} must divide the {} layers of {} and the {} chips",
                    card.layers, card.name, spec.chips
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
    let plans: Vec<(u64, u64, u64)> = tps
        .iter()
        .flat_map(|&t| pps.iter().map(move |&p| (t, p)))
        .flat_map(|(t, p)| eps.iter().map(move |&e| (t, p, e)))
        .filter(|&(t, p, e)| {
            t.checked_mul(p)
                .and_then(|x| x.checked_mul(e))
                .is_some_and(|r| spec.chips.is_multiple_of(r))
        })
        .collect();
    if plans.is_empty() {
        return Err(Error::setting(
            "plan",
            format!(
                "no replica of tp·pp·ep chips divides the {} chips (tp from {:?}, pp from {:?}, ep from {:?})",
                spec.chips, tps, pps, eps
            ),
        ));
    }
    let kv_token = card.kv_bytes_per_token(spec.kv_dtype);
    let kv_req = (spec.input_len + spec.output_len) * kv_token;
    let better = |new: &ServeReport, cur: &Option<ServeReport>| match cur {
        None => true,
        // A fixed rate: the smallest batch that keeps up; otherwise the highest throughput,
        // feasible first.
        Some(cur) if matches!(spec.scenario, Scenario::Rate { .. }) => {
            new.feasible && !cur.feasible
        }
        Some(cur) => {
            (new.feasible, new.output_tokens_per_s) > (cur.feasible, cur.output_tokens_per_s)
        }
    };
    let mut best: Option<ServeReport> = None;
    let mut candidates = Vec::new();
    // Throughput-latency curve per plan.
    let mut curves: std::collections::HashMap<(u64, u64, u64), Vec<Point>> = Default::default();
    let mut why = String::new();
    let mut pool_why = String::new();
    for (tp, pp, ep) in plans {
        let plan = if card.moe.is_some() {
            format!("tp={tp},pp={pp},ep={ep}")
        } else {
            format!("tp={tp},pp={pp}")
        };
        let weights = stage_weights_bytes(card, spec.dtype, tp, pp, ep);
        // Workspace: the prefill activations of one prompt (the largest step), sharded by tp.
        let workspace =
            (spec.input_len * card.hidden * 4) as f64 * spec.dtype.bytes_per_element() / tp as f64;
        let free = (capacity as f64 - weights as f64 - workspace) * 0.95;
        // A chip holds the KV cache of its stage's layers/pp layers, its share of the KV heads.
        let stage_kv_token =
            super::train::shard_card(card, 1, pp, 1).kv_bytes_per_token(spec.kv_dtype);
        let stage_kv_req = (spec.input_len + spec.output_len) * stage_kv_token;
        let kv_share = stage_kv_req as f64 / tp.min(card.kv_heads) as f64;
        let size = tp * pp * ep;
        let replicas = spec.chips / size;
        // Disaggregated: (prefill replicas, decode replicas, KV hand-over s).
        let pools = match spec.disaggregate {
            None => None,
            Some((p, d)) if p.is_multiple_of(size) && d.is_multiple_of(size) => {
                // Each chip's KV shard (its stage's layers, its KV heads) for the prompt goes to
                // its peer in a decode replica: a send over the level joining replicas.
                let place = place(sys, spec.chips, None)?;
                let g = place.group(sys, &[size, replicas], 1..2)?;
                let bytes = (spec.input_len * stage_kv_token) as f64 / tp.min(card.kv_heads) as f64;
                Some((
                    p / size,
                    d / size,
                    g.cost(Collective::SendRecv, bytes).time_s,
                ))
            }
            Some((p, d)) => {
                pool_why = format!(
                    "{p}:{d}: each pool must be a multiple of the replica, and no plan's replica divides both (last tried: {plan}, {size} chips)"
                );
                continue;
            }
        };
        // Each of the ep attention groups holds the KV cache of its b/ep requests.
        let b_kv = if free > 0.0 {
            (free / kv_share).floor() as u64 * ep
        } else {
            0
        };
        if b_kv == 0 {
            why = format!(
                "{} does not fit a {}-chip replica ({plan}): weights {:.1} GiB per chip + one request's KV cache {:.2} GiB of {:.1} GiB HBM",
                card.name,
                tp * pp * ep,
                weights as f64 / (1u64 << 30) as f64,
                kv_share / (1u64 << 30) as f64,
                capacity as f64 / (1u64 << 30) as f64
            );
            continue;
        }
        let replica = Replica::new(sys, &machine, spec, tp, pp, ep)?;
        let o = spec.output_len as f64;
        // Batches in multiples of the ep groups and of the pp micro-batches.
        let cap = b_kv.min(8192);
        let mut b = ep * pp;
        let mut sizes = Vec::new();
        while b <= cap {
            sizes.push(b);
            b *= 2;
        }
        if *sizes.last().unwrap_or(&0) != cap {
            sizes.push(cap);
        }
        let mut curve = Vec::new();
        let mut plan_best: Option<ServeReport> = None;
        for &b in &sizes {
            let mut s = replica.steps(b)?;
            // With chunked prefill a prompt's first token waits for its chunks, each riding on a
            // decode step: ⌈I/C⌉ · (decode + chunk) stands in for the prompt's prefill in TTFT,
            // and the prompt occupies the queue's server for that long.
            if let Some(c) = spec.chunk_tokens {
                let chunks = spec.input_len.div_ceil(c.max(1)) as f64;
                s.prefill_one_s = chunks * (s.decode_s + s.chunk_s);
                s.prefill_one_stage_s = s.prefill_one_s;
            }
            // Aggregated: a cycle prefills the batch and decodes it, `b` requests per cycle per
            // replica. Disaggregated: the prefill pool prefills b prompts per batched prefill,
            // the decode pool decodes without prefill stalls, and the system sustains the
            // slower of the two; the KV hand-over adds to TTFT (DistServe §3).
            let (cycle, req_rate, queues, t_kv, disagg) = match pools {
                None => {
                    let cycle = s.prefill_s + o * s.decode_s;
                    (
                        cycle,
                        b as f64 / cycle * replicas as f64,
                        replicas,
                        0.0,
                        None,
                    )
                }
                Some((rp, rd, t_kv)) => {
                    let prefill_rate = b as f64 / s.prefill_s * rp as f64;
                    let decode_rate = b as f64 / (o * s.decode_s) * rd as f64;
                    let (p, d) = spec.disaggregate.unwrap_or_default();
                    let info = Disaggregated {
                        prefill_chips: p,
                        decode_chips: d,
                        prefill_replicas: rp,
                        decode_replicas: rd,
                        prefill_requests_per_s: prefill_rate,
                        decode_requests_per_s: decode_rate,
                        kv_transfer_s: t_kv,
                    };
                    (
                        o * s.decode_s,
                        prefill_rate.min(decode_rate),
                        rp,
                        t_kv,
                        Some(info),
                    )
                }
            };
            let tpot = cycle / o;
            // The prompt queue (M/D/1, W = ρ·t_s/(2(1−ρ)), Kleinrock vol. 1 §5.6) at each of the
            // `queues` replicas that prefill: a prompt's latency t1 (through every stage, plus
            // the KV hand-over when disaggregated) plus its wait for the bottleneck, whose
            // service time t_s is one stage time (t_s = the whole prefill at pp = 1).
            let (t1, ts) = (s.prefill_one_s + t_kv, s.prefill_one_stage_s);
            let ttft_at = |rho: f64| t1 + rho * ts / (2.0 * (1.0 - rho));
            let (ttft, feasible, rate) = match spec.scenario {
                Scenario::Offline => (s.prefill_fill_s + t_kv, true, req_rate),
                Scenario::Rate { requests_per_s } => {
                    let lambda = requests_per_s / queues as f64;
                    let rho = lambda * ts;
                    let keeps_up = requests_per_s <= req_rate && rho < 1.0;
                    let ttft = if rho < 1.0 {
                        ttft_at(rho)
                    } else {
                        f64::INFINITY
                    };
                    (ttft, keeps_up, requests_per_s.min(req_rate))
                }
                Scenario::Server { ttft_s, tpot_s } => {
                    // The load is the largest meeting the TTFT target, capped by the batch's
                    // capacity.
                    let cap = req_rate / queues as f64; // requests/s per prefilling replica
                    let rho_cap = (cap * ts).min(0.999);
                    let rho = if ttft_at(rho_cap) <= ttft_s {
                        rho_cap
                    } else if t1 >= ttft_s {
                        0.0
                    } else {
                        // t1 + ρ·t_s/(2(1−ρ)) = T  →  ρ = 2(T − t1)/(t_s + 2(T − t1))
                        let slack = 2.0 * (ttft_s - t1);
                        (slack / (ts + slack)).clamp(0.0, rho_cap)
                    };
                    let ok = tpot <= tpot_s && t1 <= ttft_s && rho > 0.0;
                    (ttft_at(rho), ok, rho / ts * queues as f64)
                }
            };
            let out_tps = rate * o;
            let ttft_p99 = match spec.scenario {
                Scenario::Offline => ttft,
                _ => queue_p99(rate / queues as f64, ts).map_or(f64::INFINITY, |p| p - ts + t1),
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
                plan: plan.clone(),
                tp,
                pp,
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
                // Disaggregated decode replicas never stall for a prompt.
                tpot_p99_s: s.decode_s
                    + if pools.is_some() {
                        0.0
                    } else if spec.chunk_tokens.is_some() {
                        s.chunk_s
                    } else {
                        s.prefill_one_s
                    },
                prefill_step_s: s.prefill_s,
                decode_step_s: s.decode_s,
                token_latency_s: s.token_latency_s,
                curve: Vec::new(),
                candidates: Vec::new(),
                kv_cache_bytes_per_request: kv_req,
                kv_cache_bytes_total: kv_req * b * pools.map_or(replicas, |p| p.1),
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
                disaggregated: disagg,
                feasible,
                note: String::new(),
            };
            curve.push((b, tpot, req_rate * o / spec.chips as f64));
            if better(&report, &plan_best) {
                plan_best = Some(report);
            }
        }
        curves.insert((tp, pp, ep), curve);
        if let Some(r) = plan_best {
            candidates.push(ServeCandidate {
                plan: r.plan.clone(),
                batch: r.batch,
                kv_capacity_batch: r.kv_capacity_batch,
                output_tokens_per_s: r.output_tokens_per_s,
                tpot_s: r.tpot_s,
                feasible: r.feasible,
            });
            if better(&r, &best) {
                best = Some(r);
            }
        }
    }
    let mut r = best.ok_or_else(|| {
        if why.is_empty() {
            Error::setting("disaggregate", pool_why)
        } else {
            Error::setting("model", why)
        }
    })?;
    r.curve = curves.remove(&(r.tp, r.pp, r.ep)).unwrap_or_default();
    r.candidates = candidates;
    if !r.feasible {
        r.note = match spec.scenario {
            Scenario::Rate { .. } => "no batch keeps up with the rate: the numbers are for the largest batch, at the rate it sustains".into(),
            _ => "no batch meets the TTFT/TPOT targets: the numbers are for the fastest infeasible point".into(),
        };
    }
    Ok(r)
}

/// Weights on one chip of the heaviest pipeline stage, in bytes: the dense part / tp plus the
/// experts / (tp·ep) (the ep shard's parameters / tp); with pp > 1 the stage's `layers/pp` share
/// of the layers plus the larger of the input embedding (first stage) and the LM head (last
/// stage; a tied table is held again there), as Megatron-LM places them.
fn stage_weights_bytes(card: &ModelCard, dtype: DType, tp: u64, pp: u64, ep: u64) -> u64 {
    let pc = super::train::shard_card(card, 1, 1, ep).params();
    let params = if pp <= 1 {
        pc.total as u128
    } else {
        let table = card.vocab as u128 * card.hidden as u128;
        let head = if card.tied_embeddings { 0 } else { table };
        let input = pc.embedding as u128 - head;
        let body = (pc.total - pc.embedding) as u128;
        body * (card.layers / pp) as u128 / card.layers.max(1) as u128 + input.max(table)
    };
    u64::try_from(dtype.bytes_for(u64::try_from(params).unwrap_or(u64::MAX))).unwrap_or(u64::MAX)
        / tp
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::model::load;

    #[test]
    fn a_pipeline_round_is_pp_stage_times_and_a_token_skips_the_last_send() {
        let s = Stage {
            step_s: 1.0,
            send_s: 0.25,
        };
        assert_eq!(s.round_s(4), 5.0);
        assert_eq!(s.latency_s(4), 4.75);
        assert_eq!(s.round_s(1), 1.25);
        let alone = Stage {
            step_s: 2.0,
            send_s: 0.0,
        };
        assert_eq!((alone.round_s(1), alone.latency_s(1)), (2.0, 2.0));
    }

    #[test]
    fn stage_weights_split_the_layers_and_keep_the_larger_vocab_table() {
        // Untied (Llama 3 70B): the input embedding and the LM head are equal tables, one per end
        // stage, so two stages hold exactly half each.
        let c = load("llama3_70b").unwrap();
        let one = stage_weights_bytes(&c, DType::Bf16, 1, 1, 1);
        assert_eq!(one as u128, DType::Bf16.bytes_for(c.params().total));
        let two = stage_weights_bytes(&c, DType::Bf16, 1, 2, 1);
        assert!(two.abs_diff(one / 2) <= 1, "{two} vs {one}");
        assert_eq!(stage_weights_bytes(&c, DType::Bf16, 4, 2, 1), two / 4);
        // Tied (GPT-3): the last stage holds the shared table again for its LM head, and the
        // first stage's learned positions come with the input table.
        let g = load("gpt3_175b").unwrap();
        let p = g.params();
        let table = g.vocab * g.hidden;
        let body = p.total - p.embedding;
        let want = body / 4 + p.embedding.max(table);
        let got = stage_weights_bytes(&g, DType::Bf16, 1, 4, 1);
        assert!(got.abs_diff(2 * want) <= 2, "{got} vs {}", 2 * want);
    }
}
