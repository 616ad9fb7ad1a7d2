//! Training an LLM on a system: a parallelism plan, the step time built from per-chip sharded
//! ops (simulated by the chip model through the engine) and collectives on the system's
//! networks, memory per chip against HBM, MFU/HFU, power, energy and cost; and the planner that
//! searches the feasible plans.
//!
//! Rules (docs/SYSTEMS.md has the full list and sources):
//! * Ranks are laid out innermost first as `[tp, fsdp, cp, dp, dcn_dp, pp]`: tensor parallelism
//!   in the switch domain / the first torus axes, then FSDP, context parallelism (each sequence
//!   split zig-zag over cp ranks, ring attention), data parallelism, pipeline stages outermost.
//! * Per chip, the model is sharded Megatron-style: heads, KV heads (replicated when fewer than
//!   tp), FFN, vocabulary and expert FFNs divided by tp; layers by pp (the bottleneck stage holds
//!   ⌈L/pp⌉); experts by ep. One micro-batch of that shard is lowered and simulated by the chip
//!   model ([`crate::run::model::simulate_model`], phase train).
//! * Critical path (exposed): tensor-parallel all-gathers and reduce-scatters with sequence
//!   parallelism (4 forward + 4 backward per layer, 4 more with recomputation, each over the
//!   micro-batch's `mbs·seq·d` activation; Korthikanti et al. 2022 §3), expert all-to-alls (2
//!   forward + 2 backward per MoE layer), pipeline sends (one forward, one backward per
//!   micro-batch) and the pipeline bubble `(pp − 1)/vp` micro-batch times (Narayanan et al.
//!   2021 §2.2).
//! * Overlapped: FSDP weight all-gathers (forward, backward) and gradient reduce-scatters per
//!   micro-batch hide behind that micro-batch's compute, exposed only where longer, plus one
//!   layer's share that cannot be prefetched; the data-parallel gradient all-reduce (over dp and
//!   DCN slices) hides behind the last micro-batch's backward, plus its last bucket (one layer).
//! * Memory per chip: weights, gradients (the run's dtype) and fp32 master weights + Adam moments
//!   (12 B/param), all sharded over fsdp (ZeRO-3); activations of the micro-batches in flight
//!   (pp with 1F1B, × (1 + (pp−1)/(pp·vp)) interleaved; Korthikanti et al. §4.2.3).

use super::collective::{place, Collective, Placement};
use super::config::SystemConfig;
use crate::error::{Error, Result};
use crate::machine::Machine;
use crate::run::model::{memory_needs, model_flops, simulate_model};
use crate::workload::model::lower::{lower, Phase, RunSpec};
use crate::workload::model::ModelCard;
use crate::workload::DType;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A parallelism plan. `chips = tp · fsdp · cp · dp · dcn_dp · pp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub struct Plan {
    /// Data parallelism inside a slice / the cluster (gradients all-reduced, weights replicated).
    pub dp: u64,
    /// Fully sharded data parallelism (ZeRO-3): weights, gradients, optimizer sharded.
    pub fsdp: u64,
    /// Tensor (Megatron) parallelism with sequence parallelism.
    pub tp: u64,
    /// Pipeline stages.
    pub pp: u64,
    /// Virtual stages per device (interleaved 1F1B).
    pub vp: u64,
    /// Context parallelism: each sequence split over `cp` ranks (zig-zag, ring attention).
    pub cp: u64,
    /// Expert parallelism (MoE): experts sharded over `ep` of the data-parallel ranks.
    pub ep: u64,
    /// Micro-batch size (sequences).
    pub mbs: u64,
    /// Data parallelism across slices over DCN (TPU multislice).
    pub dcn_dp: u64,
    /// Full activation recomputation.
    pub recompute: bool,
    /// Selective recomputation of the attention core (Korthikanti et al. 2022 §4.2; only
    /// differs from none with unfused attention). Never together with `recompute`.
    pub selective_recompute: bool,
    /// Asynchronous tensor parallelism (collective matmul): each TP all-gather / reduce-scatter
    /// is decomposed into `tp` chunks that overlap the adjacent GEMM chunk by chunk (Wang et al.
    /// ASPLOS 2023; PyTorch/Megatron "async TP", TPU collective matmul); only one chunk and the
    /// excess over the GEMMs stay exposed.
    pub tp_overlap: bool,
    /// The data-parallel gradient all-reduce overlaps the last micro-batch's backward pass (the
    /// default; PyTorch DDP buckets). Off: it runs after the backward pass, fully exposed (as in
    /// Megatron-LM of Korthikanti et al. 2022, §6.3).
    pub dp_overlap: bool,
    /// Sequence parallelism with tp (the default; Korthikanti et al. 2022 §4.2.2): norms and
    /// residual adds run on 1/tp of the tokens. Off: every TP rank runs them on all tokens
    /// (Megatron TP alone; the same all-reduce bytes as all-gather + reduce-scatter).
    pub sp: bool,
}

impl Plan {
    pub fn chips(&self) -> u64 {
        self.tp * self.fsdp * self.cp * self.dp * self.dcn_dp * self.pp
    }
    /// Ranks innermost first: `[tp, fsdp, cp, dp, dcn_dp, pp]`.
    fn dims(&self) -> [u64; 6] {
        [self.tp, self.fsdp, self.cp, self.dp, self.dcn_dp, self.pp]
    }
    /// `tp=8,pp=4,...` (every key; `tp_overlap` and `dp_overlap` only when not the default).
    pub fn describe(&self) -> String {
        format!(
            "tp={},pp={},vp={},fsdp={},cp={},dp={},dcn_dp={},ep={},mbs={},recompute={}{}{}{}",
            self.tp,
            self.pp,
            self.vp,
            self.fsdp,
            self.cp,
            self.dp,
            self.dcn_dp,
            self.ep,
            self.mbs,
            if self.recompute {
                "full"
            } else if self.selective_recompute {
                "selective"
            } else {
                "none"
            },
            if self.tp_overlap { ",tp_overlap=1" } else { "" },
            if self.dp_overlap { "" } else { ",dp_overlap=0" },
            if self.sp { "" } else { ",sp=0" },
        )
    }
}

/// Keys of `--plan` that fix part of the plan; the rest is searched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanConstraints {
    pub dp: Option<u64>,
    pub fsdp: Option<u64>,
    pub tp: Option<u64>,
    pub pp: Option<u64>,
    pub vp: Option<u64>,
    pub cp: Option<u64>,
    pub ep: Option<u64>,
    pub mbs: Option<u64>,
    pub dcn_dp: Option<u64>,
    pub recompute: Option<bool>,
    /// `recompute=selective`.
    pub selective_recompute: Option<bool>,
    /// `tp_overlap=1|0`.
    pub tp_overlap: Option<bool>,
    /// `dp_overlap=1|0`.
    pub dp_overlap: Option<bool>,
    /// `sp=1|0`.
    pub sp: Option<bool>,
}

impl PlanConstraints {
    /// Parse `tp=8,pp=16,dp=64,recompute=full`.
    pub fn parse(s: &str) -> Result<PlanConstraints> {
        let mut c = PlanConstraints::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                Error::setting("plan", format!("`{part}`: expected key=value (e.g. tp=8)"))
            })?;
            let (k, v) = (k.trim(), v.trim());
            if k == "recompute" {
                let (full, selective) = match v {
                    "full" | "true" | "yes" => (true, false),
                    "selective" => (false, true),
                    "none" | "false" | "no" => (false, false),
                    _ => {
                        return Err(Error::setting(
                            "plan",
                            format!("recompute={v}: expected full, selective or none"),
                        ))
                    }
                };
                c.recompute = Some(full);
                c.selective_recompute = Some(selective);
                continue;
            }
            if k == "tp_overlap" || k == "dp_overlap" || k == "sp" {
                let on = match v {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => return Err(Error::setting("plan", format!("{k}={v}: expected 1 or 0"))),
                };
                match k {
                    "tp_overlap" => c.tp_overlap = Some(on),
                    "dp_overlap" => c.dp_overlap = Some(on),
                    _ => c.sp = Some(on),
                }
                continue;
            }
            let n: u64 = v
                .parse()
                .ok()
                .filter(|&n| (1..=1 << 24).contains(&n))
                .ok_or_else(|| {
                    Error::setting(
                        "plan",
                        format!("{k}={v}: expected a whole number from 1 to 2^24"),
                    )
                })?;
            let slot = match k {
                "dp" => &mut c.dp,
                "fsdp" => &mut c.fsdp,
                "tp" => &mut c.tp,
                "pp" => &mut c.pp,
                "vp" => &mut c.vp,
                "ep" => &mut c.ep,
                "mbs" => &mut c.mbs,
                "dcn_dp" => &mut c.dcn_dp,
                "cp" => &mut c.cp,
                _ => {
                    return Err(Error::setting(
                        "plan",
                        format!("unknown plan key `{k}`; expected dp, fsdp, tp, pp, vp, ep, mbs, dcn_dp, cp, recompute, tp_overlap, dp_overlap, sp"),
                    ))
                }
            };
            *slot = Some(n);
        }
        Ok(c)
    }
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    pub card: ModelCard,
    pub chips: u64,
    /// Sequences per optimizer step.
    pub global_batch: u64,
    pub seq: u64,
    pub dtype: DType,
    /// Training tokens, for time to train.
    pub tokens: Option<f64>,
    /// TPU slice shape.
    pub slice: Option<Vec<u64>>,
    /// FlashAttention-style fused attention (default) or unfused (the score matrix through HBM,
    /// as Megatron-LM ran before FlashAttention).
    pub fused_attention: bool,
}

/// Step time split by reason, s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StepBreakdown {
    /// Per-chip compute of every micro-batch (forward, backward, recomputation).
    pub compute: f64,
    /// Exposed communication by collective: tp, cp, ep, pp, fsdp, dp, embedding (the tied
    /// embedding's gradient all-reduce between the first and last pipeline stage).
    pub exposed_comm: BTreeMap<String, f64>,
    /// Pipeline bubble.
    pub bubble: f64,
    /// Optimizer update and other per-step work.
    pub overhead: f64,
}

/// The result of one plan.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TrainReport {
    /// System config name.
    pub system: String,
    /// Chip config name.
    pub chip: String,
    /// Model card name.
    pub model: String,
    /// Chips training.
    pub chips: u64,
    /// Sequences per optimizer step (all chips).
    pub global_batch: u64,
    /// Tokens per sequence.
    pub seq: u64,
    pub dtype: DType,
    /// The plan's keys.
    pub plan: Plan,
    /// TPU slice shape and slices, or the GPU domain size and domains.
    pub slice: Vec<u64>,
    /// Slices (TPU, joined by DCN) or switch domains (GPU).
    pub slices: u64,
    /// Micro-batches per step per data-parallel rank.
    pub microbatches: u64,
    /// One optimizer step, in seconds.
    pub step_time_s: f64,
    /// The step split by reason, in seconds (they sum to `step_time_s`).
    pub breakdown_s: StepBreakdown,
    /// Model FLOPs/s per chip ÷ the chip's dense bf16 peak.
    pub mfu: f64,
    /// Hardware FLOPs (recomputation included) per chip ÷ the dense bf16 peak.
    pub hfu: f64,
    /// Model FLOPs per second per chip, in TFLOP/s.
    pub model_tflops_per_chip: f64,
    /// Training tokens per second (all chips).
    pub tokens_per_s: f64,
    /// Time to train `--tokens` tokens, in seconds (with --tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_train_s: Option<f64>,
    /// Memory per chip: weights, gradients, optimizer state and activations in flight, in bytes.
    pub memory_per_chip_bytes: u64,
    /// HBM per chip, in bytes (null if unknown).
    pub memory_capacity_bytes: Option<u64>,
    /// chips × all-in power per chip × PUE, W.
    pub power_w: f64,
    /// Energy per step (power × step time), in J.
    pub energy_j_per_step: f64,
    /// Energy per training token, in J.
    pub energy_j_per_token: f64,
    /// USD per step at the chip's `[cost]` price (null without one).
    pub cost_usd_per_step: Option<f64>,
    /// USD to train `tokens` (when given and priced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// 1 GW / (all-in power per chip × PUE).
    pub chips_per_gw: f64,
    /// Share of a micro-batch's compute that is backward (for the step trace's 1F1B warm-up and
    /// cool-down).
    #[serde(skip)]
    pub backward_share: f64,
}

/// The best plan and the runners-up.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TrainOutcome {
    #[serde(flatten)]
    pub best: TrainReport,
    /// The next best feasible plans: (plan, step time, MFU).
    pub runners_up: Vec<RunnerUp>,
    /// Feasible plans evaluated.
    pub plans_evaluated: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunnerUp {
    /// The plan (`tp=..,pp=..,...`).
    pub plan: String,
    /// Its step time, in seconds.
    pub step_time_s: f64,
    /// Its MFU.
    pub mfu: f64,
}

/// Per-micro-batch costs of one shard (tp, pp, ep, mbs, recompute) from the chip model.
#[derive(Debug, Clone, Copy)]
struct ShardCost {
    /// One micro-batch through the bottleneck stage: its layers (+ head and embedding), s.
    stage_s: f64,
    /// Its backward part, s.
    backward_s: f64,
    /// Optimizer over the shard's parameters (before the fsdp split), s.
    optimizer_s: f64,
    /// Hardware FLOPs of one micro-batch on the stage.
    flops: f64,
    /// Parameters of the shard (one stage, one tp rank).
    params: u64,
    /// Activation bytes one micro-batch keeps for its backward pass on the stage
    /// (sequence-parallel: / tp); held for every micro-batch in flight.
    activation_stored_bytes: u64,
    /// The working set of the layer being computed (with recomputation), held once.
    activation_working_bytes: u64,
    /// Layers on the stage.
    layers: u64,
    /// MoE layers on the stage.
    moe_layers: u64,
    /// Attention kernels of one micro-batch on the stage (forward, backward, recomputed), s:
    /// what ring attention hides its K/V exchange behind.
    attention_s: f64,
    /// K and V elements per token on one tp rank.
    kv_per_token: u64,
    /// The layers' weight GEMMs of one micro-batch on the stage (forward, backward,
    /// recomputed; not the attention core), s: what async TP overlaps its collectives with.
    tp_gemm_s: f64,
}

/// The model as one chip of the plan holds it (serving uses it with pp = ep = 1).
pub(crate) fn shard_card(card: &ModelCard, tp: u64, pp: u64, ep: u64) -> ModelCard {
    let mut c = card.clone();
    c.heads = (card.heads / tp).max(1);
    c.kv_heads = (card.kv_heads / tp).max(1);
    c.ffn_size = (card.ffn_size / tp).max(1);
    c.vocab = card.vocab.div_ceil(tp);
    c.layers = card.layers.div_ceil(pp);
    if let Some(m) = &mut c.moe {
        m.experts = (m.experts / ep).max(1);
        m.expert_ffn = (m.expert_ffn / tp).max(1);
        m.dense_layers = m.dense_layers.div_ceil(pp).min(c.layers);
        m.top_k = m.top_k.min(m.experts.max(1) * ep);
    }
    c
}

fn shard_cost(
    machine: &dyn Machine,
    card: &ModelCard,
    spec: &TrainSpec,
    plan: &Plan,
) -> Result<ShardCost> {
    let c = shard_card(card, plan.tp, plan.pp, plan.ep);
    // With context parallelism the chip holds seq/cp tokens of each sequence.
    let seq = spec.seq / plan.cp;
    let run = RunSpec {
        phase: Phase::Train,
        batch: plan.mbs,
        seq,
        context: seq,
        dtype: spec.dtype,
        fused_attention: spec.fused_attention,
        recompute: plan.recompute,
        recompute_attention: plan.selective_recompute,
        context_parallel: plan.cp,
        sequence_parallel: if plan.sp { plan.tp } else { 1 },
    };
    let report = simulate_model(machine, &c, &run)?;
    // Activations with sequence parallelism are the unsharded layer's divided by tp
    // (Korthikanti et al. Table 2: 34·s·b·h/t): count them on the stage's layers unsplit by tp.
    let unsplit = shard_card(card, 1, plan.pp, plan.ep);
    let run = RunSpec {
        sequence_parallel: 1,
        ..run
    };
    let mem = memory_needs(&unsplit, &run, &lower(&unsplit, &run)?);
    let mut stage = 0.0;
    let mut backward = 0.0;
    let mut optimizer = 0.0;
    let mut flops = 0.0;
    let mut attention = 0.0;
    let mut tp_gemm = 0.0;
    for p in &report.ops {
        let t = p.time_s * p.repeat.0 as f64;
        if p.name.contains(".attention") {
            attention += t;
        } else if p.op == "gemm" && p.name.contains("layer.") {
            tp_gemm += t;
        }
        if p.name.contains(".optimizer.") {
            optimizer += t;
            continue;
        }
        // With pipelining the embedding runs on the first stage and the head on the last; the
        // bottleneck stage is charged the head (the larger).
        if plan.pp > 1 && p.name.contains(".embed.") {
            continue;
        }
        stage += t;
        flops += p.flops * p.repeat.0 as f64;
        if p.name.contains(".bwd") {
            backward += t;
        }
    }
    let (_, moe_layers) = c.dense_and_moe_layers();
    // With recomputation only each layer's input is kept (`memory_needs`: layers · tokens · d);
    // the rest is one layer's working set.
    let stored = if plan.recompute {
        let t = plan.mbs * seq;
        (unsplit.layers * t * unsplit.hidden) as f64 * spec.dtype.bytes_per_element()
    } else {
        mem.activation_bytes as f64
    }
    .min(mem.activation_bytes as f64) as u64;
    // K and V elements per token on one tp rank: what ring attention passes around the cp ranks
    // (MLA exchanges the decompressed per-head keys and values, as Megatron-LM does).
    let kv_per_token = match &c.mla {
        Some(m) => c.heads * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim),
        None => 2 * c.kv_heads * c.head_dim,
    };
    Ok(ShardCost {
        tp_gemm_s: tp_gemm,
        attention_s: attention,
        kv_per_token,
        stage_s: stage,
        backward_s: backward,
        optimizer_s: optimizer,
        flops,
        params: c.params().total,
        activation_stored_bytes: stored / plan.tp,
        activation_working_bytes: (mem.activation_bytes - stored) / plan.tp,
        layers: c.layers,
        moe_layers,
    })
}

/// Check that a plan fits the model and the chips; the error names the `--plan` key.
fn check_plan(card: &ModelCard, spec: &TrainSpec, p: &Plan) -> Result<()> {
    let bad = |msg: String| Err(Error::setting("plan", msg));
    if p.chips() != spec.chips {
        return bad(format!(
            "{} uses {} chips, not --chips {}",
            p.describe(),
            p.chips(),
            spec.chips
        ));
    }
    if !card.heads.is_multiple_of(p.tp) {
        return bad(format!(
            "tp={} does not divide the {} attention heads",
            p.tp, card.heads
        ));
    }
    if !card.kv_heads.is_multiple_of(p.tp) && !p.tp.is_multiple_of(card.kv_heads) {
        return bad(format!(
            "tp={} and the {} KV heads do not divide one another",
            p.tp, card.kv_heads
        ));
    }
    if !card.ffn_size.is_multiple_of(p.tp) {
        return bad(format!(
            "tp={} does not divide ffn_size {}",
            p.tp, card.ffn_size
        ));
    }
    if p.pp > card.layers {
        return bad(format!(
            "pp={} is more than the {} layers",
            p.pp, card.layers
        ));
    }
    if p.vp > 1 && (p.pp == 1 || !card.layers.div_ceil(p.pp).is_multiple_of(p.vp)) {
        return bad(format!(
            "vp={} needs pp > 1 and to divide the {} layers per stage",
            p.vp,
            card.layers.div_ceil(p.pp)
        ));
    }
    match &card.moe {
        Some(m) => {
            if !m.experts.is_multiple_of(p.ep) {
                return bad(format!(
                    "ep={} does not divide the {} experts",
                    p.ep, m.experts
                ));
            }
            if !(p.fsdp * p.dp * p.dcn_dp).is_multiple_of(p.ep) {
                return bad(format!(
                    "ep={} must divide the data-parallel ranks fsdp·dp·dcn_dp = {}",
                    p.ep,
                    p.fsdp * p.dp * p.dcn_dp
                ));
            }
        }
        None if p.ep > 1 => return bad(format!("ep={}: {} has no experts", p.ep, card.name)),
        None => {}
    }
    if p.cp > 1 && !spec.seq.is_multiple_of(2 * p.cp) {
        return bad(format!(
            "cp={} needs the sequence ({} tokens) to split into 2·cp = {} equal chunks (zig-zag)",
            p.cp,
            spec.seq,
            2 * p.cp
        ));
    }
    let data = p.fsdp * p.dp * p.dcn_dp;
    if !spec.global_batch.is_multiple_of(p.mbs * data) {
        return bad(format!(
            "global batch {} is not a multiple of mbs × data-parallel ranks = {} × {}",
            spec.global_batch, p.mbs, data
        ));
    }
    Ok(())
}

/// What every plan of one search shares.
struct Context<'a> {
    sys: &'a SystemConfig,
    place: &'a Placement,
    spec: &'a TrainSpec,
    /// Model FLOPs of one step (all chips).
    model_flops_per_step: f64,
    /// The chip's dense bf16 peak, FLOP/s.
    peak_bf16: f64,
    /// HBM per chip, bytes.
    capacity: Option<u64>,
}

/// Evaluate one plan, once per `tp_overlap` value in `overlaps` (the collectives are costed
/// once).
fn evaluate(
    ctx: &Context,
    plan: &Plan,
    shard: &ShardCost,
    overlaps: &[bool],
) -> Result<Vec<TrainReport>> {
    let (sys, place, spec) = (ctx.sys, ctx.place, ctx.spec);
    let (model_flops_per_step, peak_bf16, capacity) =
        (ctx.model_flops_per_step, ctx.peak_bf16, ctx.capacity);
    let card = &spec.card;
    let dims = plan.dims();
    let e = spec.dtype.bytes_per_element();
    let data = plan.fsdp * plan.dp * plan.dcn_dp;
    let m = spec.global_batch / (plan.mbs * data);
    // One micro-batch's activation on one chip: its seq/cp tokens.
    let act = (plan.mbs * (spec.seq / plan.cp) * card.hidden) as f64 * e;
    // Tensor parallelism with sequence parallelism: 4 AG + 4 RS per layer (fwd + bwd), 4 more
    // with recomputation (Korthikanti et al. 2022 §4.2.2). The vocabulary-parallel embedding
    // and LM head add one each way: the embedding output reduce-scattered forward (its gradient
    // all-gathered backward) and the head input all-gathered forward (reduce-scattered backward)
    // (Megatron-LM `VocabParallelEmbedding`, `parallel_lm_logits`); the bottleneck stage of a
    // pipeline holds the head only.
    let mut tp_all = 0.0;
    if plan.tp > 1 {
        let g = place.group(sys, &dims, 0..1)?;
        let per = g.cost(Collective::AllGather, act).time_s;
        let n = if plan.recompute { 12.0 } else { 8.0 };
        let edges = if plan.pp > 1 { 2.0 } else { 4.0 };
        tp_all = (n * shard.layers as f64 + edges) * per;
    }
    // Expert parallelism: dispatch + combine, forward and backward (and the recomputed forward).
    let mut ep_mb = 0.0;
    if plan.ep > 1 {
        if let Some(mo) = &card.moe {
            let ep_dims = [plan.tp, plan.ep, spec.chips / (plan.tp * plan.ep)];
            let g = place.group(sys, &ep_dims, 1..2)?;
            let bytes = (plan.mbs * spec.seq / plan.tp * mo.top_k * card.hidden) as f64 * e;
            let n = if plan.recompute { 6.0 } else { 4.0 };
            ep_mb = n * g.cost(Collective::AllToAll, bytes).time_s * shard.moe_layers as f64;
        }
    }
    // Pipeline sends: one activation forward, one gradient backward per micro-batch and
    // virtual stage (the interleaved schedule multiplies the sends by vp; Narayanan et al.
    // 2021 §2.2.2), each the sequence-parallel shard `act/tp` (§4.1 scatter/gather).
    let mut pp_mb = 0.0;
    let mut embedding_step = 0.0;
    if plan.pp > 1 {
        let g = place.group(sys, &dims, 5..6)?;
        pp_mb = 2.0 * plan.vp as f64 * g.cost(Collective::SendRecv, act / plan.tp as f64).time_s;
        // Tied embeddings: the first and the last stage each hold the word embedding and
        // all-reduce its gradient once per step after the backward pass (Megatron-LM
        // `_allreduce_embedding_grads`; Shoeybi et al. 2019 §3): a two-rank exchange.
        if card.tied_embeddings {
            let bytes = (card.vocab.div_ceil(plan.tp) * card.hidden) as f64 * e;
            embedding_step = g.cost(Collective::SendRecv, bytes).time_s;
        }
    }
    // FSDP: weight all-gathers (fwd, bwd) and the gradient reduce-scatter per micro-batch,
    // hidden behind the micro-batch's compute; one layer's share cannot be prefetched.
    let shard_bytes = shard.params as f64 * e;
    let mut fsdp_mb = 0.0;
    if plan.fsdp > 1 {
        let g = place.group(sys, &dims, 1..2)?;
        let t = 2.0 * g.cost(Collective::AllGather, shard_bytes).time_s
            + g.cost(Collective::ReduceScatter, shard_bytes).time_s;
        let layers = shard.layers.max(1) as f64;
        fsdp_mb = (t - shard.stage_s).max(0.0) + t / layers;
    }
    // Context parallelism (ring attention; Liu et al. 2023, Megatron-LM CP): per layer the K/V
    // of the whole sequence pass around the cp ranks, an all-gather of K/V forward (and again
    // when recomputing), an all-gather of K/V plus a reduce-scatter of dK/dV backward; each
    // step's transfer overlaps the attention of the chunk already received, so only what
    // exceeds the attention kernels' time is exposed.
    let mut cp_mb = 0.0;
    if plan.cp > 1 {
        let g = place.group(sys, &dims, 2..3)?;
        let kv = (plan.mbs * spec.seq * shard.kv_per_token) as f64 * e;
        let ag = g.cost(Collective::AllGather, kv).time_s;
        let rs = g.cost(Collective::ReduceScatter, kv).time_s;
        let n_ag = if plan.recompute { 3.0 } else { 2.0 };
        let per_layer = n_ag * ag + rs;
        cp_mb = (per_layer * shard.layers as f64 - shard.attention_s).max(0.0);
    }
    // Gradient all-reduce over the ranks holding the same weights (cp, dp and DCN slices),
    // behind the last micro-batch's backward.
    let mut dp_step = 0.0;
    if plan.cp * plan.dp * plan.dcn_dp > 1 {
        let g = place.group(sys, &dims, 2..5)?;
        let t = g
            .cost(Collective::AllReduce, shard_bytes / plan.fsdp as f64)
            .time_s;
        dp_step = if plan.dp_overlap {
            (t - shard.backward_s).max(0.0) + t / shard.layers.max(1) as f64
        } else {
            t
        };
    }
    let mut out = Vec::with_capacity(overlaps.len());
    for &tp_overlap in overlaps {
        let plan = &Plan {
            tp_overlap,
            ..*plan
        };
        let tp_mb = if plan.tp_overlap {
            // Async TP (Wang et al. ASPLOS 2023 §3, "decomposition"): each collective is split
            // into tp ring steps, each overlapped with the GEMM on the chunk already at hand; the
            // first (all-gather) or last (reduce-scatter) chunk has no GEMM to hide behind, and
            // what the layers' weight GEMMs cannot cover stays exposed. Summed over the
            // micro-batch: all/tp + max(0, all·(tp−1)/tp − GEMMs). Never more than `all`.
            let tp = plan.tp as f64;
            tp_all / tp + (tp_all * (tp - 1.0) / tp - shard.tp_gemm_s).max(0.0)
        } else {
            tp_all
        };
        let mut comm: BTreeMap<String, f64> = BTreeMap::new();
        let per_mb = shard.stage_s + tp_mb + cp_mb + ep_mb + pp_mb + fsdp_mb;
        let bubble =
            (plan.pp - 1) as f64 / plan.vp as f64 * (shard.stage_s + tp_mb + cp_mb + ep_mb);
        let optimizer = shard.optimizer_s / plan.fsdp as f64;
        let step = m as f64 * per_mb + bubble + dp_step + embedding_step + optimizer;
        for (k, v) in [
            ("tp", m as f64 * tp_mb),
            ("cp", m as f64 * cp_mb),
            ("ep", m as f64 * ep_mb),
            ("pp", m as f64 * pp_mb),
            ("fsdp", m as f64 * fsdp_mb),
            ("dp", dp_step),
            ("embedding", embedding_step),
        ] {
            if v > 0.0 {
                comm.insert(k.to_string(), v);
            }
        }
        // Memory per chip.
        let params = shard.params as f64;
        let weights_grads_opt = params * (2.0 * e + 12.0) / plan.fsdp as f64;
        // 1F1B keeps pp micro-batches in flight on the first stage; the interleaved schedule
        // (vp > 1) × (1 + (pp−1)/(pp·vp)) (Korthikanti et al. 2022 §4.2.3).
        let in_flight = match (plan.pp, plan.vp) {
            (1, _) => 1.0,
            (p, 1) => p as f64,
            (p, v) => p as f64 * (1.0 + (p - 1) as f64 / (p * v) as f64),
        };
        let memory = (weights_grads_opt
            + shard.activation_stored_bytes as f64 * in_flight
            + shard.activation_working_bytes as f64) as u64;
        let tokens = (spec.global_batch * spec.seq) as f64;
        let chips = spec.chips as f64;
        let power = chips * sys.allin_w_per_chip * sys.pue;
        let price = sys.chip.cost().map(|c| c.usd_per_chip_hour);
        let cost_step = price.map(|p| p * chips * step / 3600.0);
        let time_to_train = spec.tokens.map(|t| t / tokens * step);
        out.push(TrainReport {
            system: sys.name.clone(),
            chip: sys.chip.name.clone(),
            model: card.name.clone(),
            chips: spec.chips,
            global_batch: spec.global_batch,
            seq: spec.seq,
            dtype: spec.dtype,
            plan: *plan,
            slice: place.slice.clone(),
            slices: place.slices,
            microbatches: m,
            step_time_s: step,
            breakdown_s: StepBreakdown {
                compute: m as f64 * shard.stage_s,
                exposed_comm: comm,
                bubble,
                overhead: optimizer,
            },
            mfu: model_flops_per_step / (step * chips * peak_bf16),
            // Hardware FLOPs of the bottleneck stage's chip (recomputation included).
            hfu: shard.flops * m as f64 / (step * peak_bf16),
            model_tflops_per_chip: model_flops_per_step / step / chips / 1e12,
            tokens_per_s: tokens / step,
            time_to_train_s: time_to_train,
            memory_per_chip_bytes: memory,
            memory_capacity_bytes: capacity,
            power_w: power,
            energy_j_per_step: power * step,
            energy_j_per_token: power * step / tokens,
            cost_usd_per_step: cost_step,
            cost_usd: time_to_train.and_then(|t| price.map(|p| p * chips * t / 3600.0)),
            chips_per_gw: 1e9 / (sys.allin_w_per_chip * sys.pue),
            backward_share: if shard.stage_s > 0.0 {
                shard.backward_s / shard.stage_s
            } else {
                0.5
            },
        });
    }
    Ok(out)
}

fn divisors(n: u64) -> Vec<u64> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

fn pow2_divisors(n: u64, max: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut d = 1;
    while d <= n && d <= max {
        if n.is_multiple_of(d) {
            v.push(d);
        }
        d *= 2;
    }
    v
}

/// Search the feasible plans (or evaluate the forced one) and return the best with its
/// runners-up. A plan is feasible when it divides the model and the chips, maps onto the
/// system, and its memory per chip fits HBM.
pub fn train(
    sys: &SystemConfig,
    spec: &TrainSpec,
    forced: &PlanConstraints,
) -> Result<TrainOutcome> {
    let card = &spec.card;
    if spec.global_batch == 0 || spec.global_batch > 1 << 24 {
        return Err(Error::setting(
            "global_batch",
            format!("global batch {}: must be from 1 to 2^24", spec.global_batch),
        ));
    }
    if spec.seq == 0 || spec.seq > 1 << 20 {
        return Err(Error::setting(
            "seq",
            format!("seq {}: must be from 1 to 2^20", spec.seq),
        ));
    }
    let place = place(sys, spec.chips, spec.slice.as_deref())?;
    let machine = sys.chip.build(None)?;
    let peak = machine.peak_flops(DType::Bf16);
    let capacity = machine
        .info()
        .memory_level("hbm")
        .and_then(|l| l.capacity_bytes);
    // Model FLOPs per step: one sequence's lowering × the global batch.
    let one = RunSpec {
        phase: Phase::Train,
        batch: 1,
        seq: spec.seq,
        context: spec.seq,
        dtype: spec.dtype,
        fused_attention: true,
        recompute: false,
        recompute_attention: false,
        context_parallel: 1,
        sequence_parallel: 1,
    };
    let (per_seq, _) = model_flops(&lower(card, &one)?);
    let model_flops_step = per_seq * spec.global_batch as f64;

    // Candidate plans.
    let scale_up = sys.scale_up_chips();
    let tp_max = match &sys.scale_up {
        super::config::ScaleUp::Switch { domain_chips, .. } => *domain_chips,
        super::config::ScaleUp::Torus { .. } => 16,
    };
    let dcn_choices: Vec<u64> = match forced.dcn_dp {
        Some(d) => vec![d],
        None => {
            if matches!(sys.scale_up, super::config::ScaleUp::Torus { .. }) {
                vec![place.slices]
            } else {
                vec![1]
            }
        }
    };
    // Forced keys that cannot work are named before the search.
    let bad = |msg: String| Err(Error::setting("plan", msg));
    if let Some(t) = forced.tp {
        if !spec.chips.is_multiple_of(t)
            || !card.heads.is_multiple_of(t)
            || t > tp_max.min(scale_up)
        {
            return bad(format!(
                "tp={t}: tensor parallelism must divide the {} chips and the {} heads and fit one {}-chip scale-up domain",
                spec.chips,
                card.heads,
                tp_max.min(scale_up)
            ));
        }
    }
    if let Some(p) = forced.pp {
        if !spec.chips.is_multiple_of(p) || p > card.layers {
            return bad(format!(
                "pp={p}: pipeline stages must divide the {} chips and be at most the {} layers",
                spec.chips, card.layers
            ));
        }
    }
    if let Some(c) = forced.cp {
        if !spec.seq.is_multiple_of(2 * c) {
            return bad(format!(
                "cp={c}: context parallelism splits each sequence into 2·cp = {} equal chunks (zig-zag); --seq {} does not divide",
                2 * c,
                spec.seq
            ));
        }
    }
    for (key, v) in [
        ("fsdp", forced.fsdp),
        ("cp", forced.cp),
        ("dp", forced.dp),
        ("dcn_dp", forced.dcn_dp),
    ] {
        if let Some(v) = v {
            if !spec.chips.is_multiple_of(v) {
                return bad(format!(
                    "{key}={v} does not divide the {} chips",
                    spec.chips
                ));
            }
        }
    }
    let pick = |f: Option<u64>, all: Vec<u64>| -> Vec<u64> {
        match f {
            Some(v) => vec![v],
            None => all,
        }
    };
    let tps = pick(forced.tp, pow2_divisors(spec.chips, tp_max.min(scale_up)));
    let pps = pick(
        forced.pp,
        divisors(card.layers)
            .into_iter()
            .filter(|&p| p <= 64 && spec.chips.is_multiple_of(p))
            .collect(),
    );
    let mbss = pick(forced.mbs, vec![1, 2, 4, 8]);
    // Context parallelism is tried in powers of two while every rank keeps at least 1,024
    // tokens of each sequence (below that the K/V exchange outgrows the attention it hides
    // behind; Llama 3 used cp = 16 at 131,072 tokens, 8,192 per rank).
    let cps = pick(
        forced.cp,
        (0..5)
            .map(|i| 1u64 << i)
            .filter(|&c| {
                c == 1
                    || (spec.seq.is_multiple_of(2 * c)
                        && spec.seq / c >= 1024
                        && spec.chips.is_multiple_of(c))
            })
            .collect(),
    );
    // (full, selective): selective only differs from none with unfused attention.
    let recs: Vec<(bool, bool)> = match (forced.recompute, forced.selective_recompute) {
        (Some(r), s) => vec![(r, s.unwrap_or(false) && !r)],
        (None, _) if spec.fused_attention => vec![(false, false), (true, false)],
        (None, _) => vec![(false, false), (false, true), (true, false)],
    };
    // dp_overlap is on unless forced off.
    let dp_overlap = forced.dp_overlap.unwrap_or(true);
    let sp = forced.sp.unwrap_or(true);
    let eps: Vec<u64> = match (&card.moe, forced.ep) {
        (_, Some(e)) => vec![e],
        (Some(m), None) => pow2_divisors(m.experts, 256),
        (None, None) => vec![1],
    };
    let mut plans = Vec::new();
    for (&tp, &cp) in tps.iter().flat_map(|t| cps.iter().map(move |c| (t, c))) {
        for &pp in &pps {
            for &dcn in &dcn_choices {
                let denom = tp * cp * pp * dcn;
                if denom == 0 || !spec.chips.is_multiple_of(denom) {
                    continue;
                }
                let data_ici = spec.chips / denom;
                let fsdps = pick(forced.fsdp, divisors(data_ici));
                for &fsdp in &fsdps {
                    if !data_ici.is_multiple_of(fsdp) {
                        continue;
                    }
                    let dp = data_ici / fsdp;
                    if forced.dp.is_some_and(|d| d != dp) {
                        continue;
                    }
                    let vps = match forced.vp {
                        Some(v) => vec![v],
                        None if pp > 1 => vec![1, 2, 4],
                        None => vec![1],
                    };
                    for &vp in &vps {
                        for &ep in &eps {
                            for &mbs in &mbss {
                                for &(recompute, selective_recompute) in &recs {
                                    let p = Plan {
                                        dp,
                                        fsdp,
                                        tp,
                                        pp,
                                        vp,
                                        cp,
                                        ep,
                                        mbs,
                                        dcn_dp: dcn,
                                        recompute,
                                        selective_recompute,
                                        tp_overlap: false,
                                        dp_overlap,
                                        sp,
                                    };
                                    if check_plan(card, spec, &p).is_ok() {
                                        plans.push(p);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if plans.is_empty() {
        return Err(Error::setting(
            "plan",
            format!(
                "no plan of {} chips fits {} with global batch {}{}: tp must divide the {} heads (and be at most {}), pp the {} layers, and mbs × the data-parallel ranks (chips / (tp·cp·pp)) the global batch",
                spec.chips,
                card.name,
                spec.global_batch,
                if *forced == PlanConstraints::default() {
                    String::new()
                } else {
                    " and the forced plan keys".to_string()
                },
                card.heads,
                tp_max.min(scale_up),
                card.layers
            ),
        ));
    }
    // Shard costs, each (tp, pp, ep, mbs, recompute) simulated once, in parallel.
    type Key = (u64, u64, u64, u64, (bool, bool), u64, bool);
    let key = |p: &Plan| -> Key {
        (
            p.tp,
            p.pp,
            p.ep,
            p.mbs,
            (p.recompute, p.selective_recompute),
            p.cp,
            p.sp,
        )
    };
    let mut keys: Vec<Key> = plans.iter().map(key).collect();
    keys.sort_unstable();
    keys.dedup();
    // Plans share most of their op shapes (a recompute variant or another pipeline depth runs
    // the same GEMMs): each distinct op is simulated once across all of them.
    let memo = crate::machine::memo::Memoized::new(machine.as_ref());
    let costs: Vec<Result<ShardCost>> = keys
        .par_iter()
        .map(
            |&(tp, pp, ep, mbs, (recompute, selective_recompute), cp, sp)| {
                let p = Plan {
                    tp,
                    pp,
                    ep,
                    mbs,
                    recompute,
                    selective_recompute,
                    cp,
                    sp,
                    ..plans[0]
                };
                shard_cost(&memo, card, spec, &p)
            },
        )
        .collect();
    let mut cache = HashMap::new();
    for (k, c) in keys.into_iter().zip(costs) {
        cache.insert(k, c?);
    }
    let ctx = Context {
        sys,
        place: &place,
        spec,
        model_flops_per_step: model_flops_step,
        peak_bf16: peak,
        capacity,
    };
    let mut reports: Vec<TrainReport> = Vec::new();
    let mut last_err = None;
    for p in &plans {
        let shard = &cache[&key(p)];
        // Async TP is tried wherever tp > 1 unless forced (it never makes a step slower).
        let overlaps: &[bool] = match forced.tp_overlap {
            Some(true) => &[true],
            Some(false) => &[false],
            None if p.tp > 1 => &[false, true],
            None => &[false],
        };
        match evaluate(&ctx, p, shard, overlaps) {
            Ok(rs) => reports.extend(
                rs.into_iter()
                    .filter(|r| capacity.is_none_or(|c| r.memory_per_chip_bytes <= c)),
            ),
            Err(e) => last_err = Some(e),
        }
    }
    if reports.is_empty() {
        if let Some(e) = last_err {
            return Err(e);
        }
        return Err(Error::setting(
            "plan",
            format!(
                "no plan of {} chips fits {} in {} HBM per chip ({} plans tried); add chips or allow recomputation/FSDP",
                spec.chips,
                card.name,
                capacity.map_or("unknown".into(), |c| format!("{:.0} GiB", c as f64 / (1u64 << 30) as f64)),
                plans.len()
            ),
        ));
    }
    reports.sort_by(|a, b| {
        a.step_time_s
            .partial_cmp(&b.step_time_s)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.plan.describe().cmp(&b.plan.describe()))
    });
    let n = reports.len();
    let runners_up = reports[1..n.min(6)]
        .iter()
        .map(|r| RunnerUp {
            plan: r.plan.describe(),
            step_time_s: r.step_time_s,
            mfu: r.mfu,
        })
        .collect();
    Ok(TrainOutcome {
        best: reports.swap_remove(0),
        runners_up,
        plans_evaluated: n,
    })
}

/// How two systems are matched in a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The same number of chips on both.
    EqualChips,
    /// As many chips as a power budget (W, all-in × PUE) feeds on each.
    EqualPower { watts: f64 },
}

/// Two systems training the same model on the same token budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainComparison {
    pub basis: Basis,
    pub a: TrainOutcome,
    pub b: TrainOutcome,
    pub verdict: String,
}

/// The largest chip count at most `max` that the system can place and the model can be planned
/// on: powers of two (times the switch domain on GPU systems), tried from the top.
fn chips_for(
    sys: &SystemConfig,
    spec: &TrainSpec,
    forced: &PlanConstraints,
    max: u64,
) -> Result<TrainOutcome> {
    let unit = match &sys.scale_up {
        super::config::ScaleUp::Switch { domain_chips, .. } => *domain_chips,
        super::config::ScaleUp::Torus { .. } => 1,
    };
    if max < unit {
        return Err(Error::setting(
            "power_mw",
            format!(
                "the power budget feeds {max} chips of {}, less than one {unit}-chip node",
                sys.name
            ),
        ));
    }
    let mut k = 1u64 << (63 - (max / unit).leading_zeros());
    let mut last = None;
    while k >= 1 {
        let chips = k * unit;
        match train(
            sys,
            &TrainSpec {
                chips,
                ..spec.clone()
            },
            forced,
        ) {
            Ok(o) => return Ok(o),
            Err(e) => last = Some(e),
        }
        k /= 2;
    }
    Err(last.unwrap_or_else(|| Error::setting("power_mw", "no chip count fits the budget")))
}

/// Train the same model on two systems, at equal chip count or equal power, and say which
/// finishes first, on less energy and for less money.
pub fn compare(
    a: &SystemConfig,
    b: &SystemConfig,
    spec: &TrainSpec,
    forced: &PlanConstraints,
    basis: Basis,
) -> Result<TrainComparison> {
    let (ra, rb) = match basis {
        Basis::EqualChips => (train(a, spec, forced)?, train(b, spec, forced)?),
        Basis::EqualPower { watts } => {
            let n = |s: &SystemConfig| (watts / (s.allin_w_per_chip * s.pue)).floor() as u64;
            (
                chips_for(a, spec, forced, n(a))?,
                chips_for(b, spec, forced, n(b))?,
            )
        }
    };
    let verdict = train_verdict(&ra.best, &rb.best, spec);
    Ok(TrainComparison {
        basis,
        a: ra,
        b: rb,
        verdict,
    })
}

/// A duration for a verdict: days from one day up, else SI seconds.
fn duration(s: f64) -> String {
    if s >= 86400.0 {
        format!("{:.2} days", s / 86400.0)
    } else {
        crate::units::fmt_time(s)
    }
}

fn train_verdict(a: &TrainReport, b: &TrainReport, spec: &TrainSpec) -> String {
    let tokens = spec.tokens.unwrap_or((spec.global_batch * spec.seq) as f64);
    let time = |r: &TrainReport| tokens / r.tokens_per_s;
    let (ta, tb) = (time(a), time(b));
    let (fast, slow, ratio) = if ta <= tb {
        (a, b, tb / ta)
    } else {
        (b, a, ta / tb)
    };
    let energy = |r: &TrainReport| r.energy_j_per_token * tokens;
    let (ea, eb) = (energy(a), energy(b));
    let mut s = format!(
        "{} ({} x {}) trains {} on {:.3e} tokens {ratio:.2}x faster than {} ({} x {}): {} vs {} at MFU {:.1}% vs {:.1}%. ",
        fast.system,
        fast.chips,
        fast.chip,
        a.model,
        tokens,
        slow.system,
        slow.chips,
        slow.chip,
        duration(time(fast)),
        duration(time(slow)),
        fast.mfu * 100.0,
        slow.mfu * 100.0
    );
    let (less, more, er) = if ea <= eb {
        (a, b, eb / ea)
    } else {
        (b, a, ea / eb)
    };
    s.push_str(&format!(
        "{} uses {er:.2}x less energy ({:.3e} J vs {:.3e} J, facility overhead included). ",
        less.system,
        energy(less),
        energy(more),
    ));
    if let (Some(ca), Some(cb)) = (a.cost_usd_per_step, b.cost_usd_per_step) {
        let (ua, ub) = (
            ca / (a.global_batch * a.seq) as f64 * tokens,
            cb / (b.global_batch * b.seq) as f64 * tokens,
        );
        let (cheap, cr) = if ua <= ub { (a, ub / ua) } else { (b, ua / ub) };
        s.push_str(&format!(
            "At the chips' configured prices {} is {cr:.2}x cheaper (USD {:.3e} vs {:.3e}).",
            cheap.system,
            ua.min(ub),
            ua.max(ub)
        ));
    } else {
        s.push_str("One of the chips has no [cost] price: no cost comparison.");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `describe` names the overlap keys only off their defaults, and its text parses back to
    /// the same keys.
    #[test]
    fn overlap_keys_round_trip_through_describe() {
        let c = PlanConstraints::parse("tp=8,pp=2,tp_overlap=1,dp_overlap=0").unwrap();
        let p = Plan {
            dp: 1,
            fsdp: 1,
            tp: 8,
            pp: 2,
            vp: 1,
            cp: 1,
            ep: 1,
            mbs: 1,
            dcn_dp: 1,
            recompute: false,
            selective_recompute: false,
            tp_overlap: c.tp_overlap.unwrap(),
            dp_overlap: c.dp_overlap.unwrap(),
            sp: true,
        };
        let text = p.describe();
        assert!(text.ends_with(",tp_overlap=1,dp_overlap=0"), "{text}");
        let back = PlanConstraints::parse(&text).unwrap();
        assert_eq!(
            (back.tp_overlap, back.dp_overlap),
            (Some(true), Some(false))
        );
        let default = Plan {
            tp_overlap: false,
            dp_overlap: true,
            ..p
        };
        assert!(!default.describe().contains("overlap"));
        let no_sp = Plan { sp: false, ..p };
        assert!(no_sp.describe().ends_with(",sp=0"));
        assert_eq!(
            PlanConstraints::parse(&no_sp.describe()).unwrap().sp,
            Some(false)
        );
        for bad in ["tp_overlap=2", "dp_overlap=", "tp_overlap=maybe", "sp=8"] {
            assert!(PlanConstraints::parse(bad).is_err(), "{bad}");
        }
    }
}
