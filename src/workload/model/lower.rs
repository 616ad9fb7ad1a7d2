//! Lowering a [`ModelCard`] to the ops of one phase: prefill, one decode step, or one training
//! step. Layers that repeat are emitted once with a count ([`Lowered::ops`]), so a 126-layer
//! model costs one layer's simulation.
//!
//! Op names are `<phase>.<group>.<op>`: groups `embed`, `layer` (dense decoder layers),
//! `moe_layer` (MoE layers), `head` (final norm, LM head, loss) and `optimizer`. Training adds
//! `.bwd_dx` / `.bwd_dw` (input- and weight-gradient GEMMs, each the size of the forward GEMM),
//! `.bwd` (vector and attention backward) and, with activation recomputation, `.recompute` (the
//! forward of every layer again).

use super::{FfnKind, ModelCard, NormKind, PositionKind};
use crate::error::{Error, Result};
use crate::workload::{AttentionOp, DType, Gemm, Op, VectorKind, VectorOp};
use serde::Serialize;
use std::str::FromStr;

/// What a model run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Process `batch` prompts of `seq` tokens, building the KV cache.
    Prefill,
    /// One generation step for `batch` sequences with `context` tokens in the KV cache.
    Decode,
    /// One training step on `batch` sequences of `seq` tokens: forward, backward, optimizer.
    Train,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
            Phase::Train => "train",
        }
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "prefill" => Ok(Phase::Prefill),
            "decode" => Ok(Phase::Decode),
            "train" | "training" => Ok(Phase::Train),
            _ => Err(format!(
                "unknown phase `{s}`; expected prefill, decode or train"
            )),
        }
    }
}

/// The settings of a model run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSpec {
    pub phase: Phase,
    /// Sequences processed together.
    pub batch: u64,
    /// Tokens per sequence (prefill, train).
    pub seq: u64,
    /// Tokens already in the KV cache (decode); the step attends over `context + 1` keys.
    pub context: u64,
    pub dtype: DType,
    /// FlashAttention-style fused attention (default) or three unfused kernels.
    pub fused_attention: bool,
    /// Training: recompute every layer's forward in the backward pass (full activation
    /// checkpointing, Chen et al. 2016) instead of keeping its activations.
    pub recompute: bool,
    /// Training: selective recomputation (Korthikanti et al. 2022 §4.2): only the attention
    /// core (Q·Kᵀ, softmax, P·V) of every layer is recomputed in the backward pass instead of
    /// storing its `batch·heads·s²` scores. A fused (FlashAttention-style) kernel never stores
    /// the scores and its backward already recomputes them, so with fused attention this adds
    /// nothing. Ignored with full `recompute`.
    pub recompute_attention: bool,
    /// Context parallelism (prefill, train): `seq` is this chip's share, 1/cp of a sequence of
    /// `seq·cp` tokens split zig-zag into 2·cp chunks (two per rank, chunk i and 2cp−1−i) so every
    /// rank does the same causal work (Megatron-LM context parallelism; Llama 3 paper §3.3.2).
    /// Its queries then attend to `seq·cp/2` keys on average: the attention is costed as a
    /// non-causal `seq × seq·cp/2` one (the exact pair count of the balanced split, s²/(2cp) for
    /// a full sequence s, up to the diagonal chunks' halves). 1 = no context parallelism.
    pub context_parallel: u64,
    /// Sequence parallelism under tensor parallelism (Korthikanti et al. 2022 §4.2.2): the
    /// layer norms, the residual / bias-dropout-adds and the final norm run on this chip's
    /// `tokens/sp` share. 1 = none (every TP rank runs them on all tokens).
    pub sequence_parallel: u64,
}

impl RunSpec {
    /// Defaults: batch 1, seq 2048, context 2048, the card's dtype, fused, no recompute.
    pub fn new(phase: Phase, card: &ModelCard) -> RunSpec {
        RunSpec {
            phase,
            batch: 1,
            seq: 2048,
            context: 2048,
            dtype: card.dtype,
            fused_attention: true,
            recompute: false,
            recompute_attention: false,
            context_parallel: 1,
            sequence_parallel: 1,
        }
    }
    /// Tokens this run processes: `batch·seq` (prefill, train) or `batch` (decode).
    pub fn tokens(&self) -> u64 {
        match self.phase {
            Phase::Decode => self.batch,
            _ => self.batch * self.seq,
        }
    }
}

/// What one op is in a model run, for FLOP and memory accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A forward op (counted in model FLOPs).
    Forward,
    /// A backward op (counted in model FLOPs).
    Backward,
    /// The forward again under activation recomputation (hardware FLOPs only).
    Recompute,
    /// The optimizer update.
    Optimizer,
}

/// One op of a model run and how many times the run executes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedOp {
    pub op: Op,
    pub count: u64,
    pub role: Role,
    /// Part of a decoder layer (its output tensors are stored for backward).
    pub in_layer: bool,
}

/// A model lowered for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Lowered {
    pub ops: Vec<CountedOp>,
}

/// Token/shape context of one pass through the layers.
struct Pass<'a> {
    card: &'a ModelCard,
    spec: &'a RunSpec,
    prefix: String,
    /// Tokens through the layer.
    t: u64,
    seq_q: u64,
    seq_kv: u64,
    /// Causal mask (false for the context-parallel share, see [`RunSpec::context_parallel`]).
    causal: bool,
}

impl Pass<'_> {
    fn name(&self, group: &str, op: &str) -> String {
        format!("{}.{group}.{op}", self.prefix)
    }
    fn gemm(&self, group: &str, op: &str, m: u64, n: u64, k: u64) -> Op {
        Op::Gemm(Gemm {
            shared_b: true,
            ..Gemm::new(self.name(group, op), m, n, k).with_dtype(self.spec.dtype)
        })
    }
    fn batched(&self, group: &str, op: &str, batch: u64, m: u64, n: u64, k: u64) -> Op {
        Op::Gemm(
            Gemm::new(self.name(group, op), m, n, k)
                .with_dtype(self.spec.dtype)
                .with_batch(batch),
        )
    }
    fn vector(&self, group: &str, op: &str, kind: VectorKind, elements: u64) -> Op {
        Op::Vector(VectorOp {
            name: self.name(group, op),
            kind,
            elements,
            dtype: self.spec.dtype,
        })
    }
    fn norm_kind(&self) -> VectorKind {
        match self.card.norm {
            NormKind::Rmsnorm => VectorKind::Rmsnorm,
            NormKind::Layernorm => VectorKind::Layernorm,
        }
    }
    fn attention(&self, group: &str, heads: u64, kv_heads: u64, d: u64, dv: u64) -> Vec<Op> {
        let a = AttentionOp {
            name: self.name(group, "attention"),
            batch: self.spec.batch,
            heads,
            kv_heads,
            seq_q: self.seq_q,
            seq_kv: self.seq_kv,
            head_dim: d,
            head_dim_v: dv,
            causal: self.causal,
            backward: false,
            dtype: self.spec.dtype,
        };
        if self.spec.fused_attention {
            // FlashAttention applies dropout inside the kernel and regenerates the mask from the
            // RNG state in the backward pass (Dao et al. 2022 §3.1): no extra HBM traffic.
            vec![Op::Attention(a)]
        } else {
            let mut ops = a.lower_unfused();
            if self.dropout() {
                // Megatron-LM's attention dropout on the softmax output, its own kernel
                // (Korthikanti et al. 2022 Table 2: the `a·s²·b` mask and `2·a·s²·b` output).
                let probs = self.spec.batch * heads * self.seq_q * self.seq_kv;
                let name = format!("{}.dropout", self.name(group, "attention"));
                ops.insert(
                    2,
                    Op::Vector(VectorOp {
                        name,
                        kind: VectorKind::Dropout,
                        elements: probs,
                        dtype: self.spec.dtype,
                    }),
                );
            }
            ops
        }
    }
    /// Tokens of the sequence-parallel elementwise ops (norms, residual adds).
    fn t_sp(&self) -> u64 {
        self.t.div_ceil(self.spec.sequence_parallel.max(1))
    }
    /// Dropout runs: a card trained with it, in a training step.
    fn dropout(&self) -> bool {
        self.card.dropout && self.spec.phase == Phase::Train
    }
    /// The residual add closing a block: Megatron's fused bias-dropout-add with dropout.
    fn residual_kind(&self) -> VectorKind {
        if self.dropout() {
            VectorKind::DropoutAdd
        } else {
            VectorKind::Add
        }
    }

    /// The attention block of one layer: norm, projections, position encoding, attention,
    /// output projection, residual.
    fn attention_block(&self, g: &str) -> Vec<Op> {
        let c = self.card;
        let (t, d, h) = (self.t, c.hidden, c.heads);
        let mut ops = vec![self.vector(g, "attn_norm", self.norm_kind(), self.t_sp() * d)];
        match &c.mla {
            None => {
                let hd = c.head_dim;
                ops.push(self.gemm(g, "qkv", t, (h + 2 * c.kv_heads) * hd, d));
                if c.position == PositionKind::Rope {
                    ops.push(self.vector(g, "rope", VectorKind::Rope, t * (h + c.kv_heads) * hd));
                }
                ops.extend(self.attention(g, h, c.kv_heads, hd, hd));
                ops.push(self.gemm(g, "out_proj", t, d, h * hd));
            }
            Some(m) => {
                let qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
                if m.q_lora_rank > 0 {
                    ops.push(self.gemm(g, "q_down", t, m.q_lora_rank, d));
                    ops.push(self.vector(g, "q_norm", self.norm_kind(), t * m.q_lora_rank));
                    ops.push(self.gemm(g, "q_up", t, h * qk, m.q_lora_rank));
                } else {
                    ops.push(self.gemm(g, "q_proj", t, h * qk, d));
                }
                ops.push(self.gemm(g, "kv_down", t, m.kv_lora_rank + m.qk_rope_head_dim, d));
                ops.push(self.vector(g, "kv_norm", self.norm_kind(), t * m.kv_lora_rank));
                ops.push(self.vector(
                    g,
                    "rope",
                    VectorKind::Rope,
                    t * (h + 1) * m.qk_rope_head_dim,
                ));
                if self.spec.phase == Phase::Decode {
                    // Weight absorption (DeepSeek-V2 §2.1.3): W_UK folds into the query and W_UV
                    // into the output, so attention runs over the cached latent directly: one
                    // shared "KV head" of dim kv_lora_rank + rope (keys) and kv_lora_rank
                    // (values).
                    ops.push(self.batched(g, "q_absorb", h, t, m.kv_lora_rank, m.qk_nope_head_dim));
                    ops.extend(self.attention(
                        g,
                        h,
                        1,
                        m.kv_lora_rank + m.qk_rope_head_dim,
                        m.kv_lora_rank,
                    ));
                    ops.push(self.batched(g, "v_absorb", h, t, m.v_head_dim, m.kv_lora_rank));
                } else {
                    // Training/prefill decompress K and V per head (DeepSeek-V2 eq. 10–14).
                    ops.push(self.gemm(
                        g,
                        "kv_up",
                        t,
                        h * (m.qk_nope_head_dim + m.v_head_dim),
                        m.kv_lora_rank,
                    ));
                    ops.extend(self.attention(g, h, h, qk, m.v_head_dim));
                }
                ops.push(self.gemm(g, "out_proj", t, d, h * m.v_head_dim));
            }
        }
        ops.push(self.vector(g, "residual1", self.residual_kind(), self.t_sp() * d));
        ops
    }

    /// A dense FFN of intermediate size `f` on `t` tokens, names prefixed by `what`.
    fn dense_ffn(&self, g: &str, what: &str, t: u64, f: u64) -> Vec<Op> {
        let d = self.card.hidden;
        match self.card.ffn {
            FfnKind::Swiglu => vec![
                self.gemm(g, &format!("{what}gate_up"), t, 2 * f, d),
                self.vector(g, &format!("{what}silu"), VectorKind::Silu, t * f),
                self.vector(g, &format!("{what}mul"), VectorKind::Mul, t * f),
                self.gemm(g, &format!("{what}down"), t, d, f),
            ],
            FfnKind::Gelu => vec![
                self.gemm(g, &format!("{what}up"), t, f, d),
                self.vector(g, &format!("{what}gelu"), VectorKind::Gelu, t * f),
                self.gemm(g, &format!("{what}down"), t, d, f),
            ],
        }
    }

    /// The FFN block: norm, dense FFN or MoE (router, top-k dispatch, grouped expert GEMMs,
    /// shared experts, weighted combine), residual.
    fn ffn_block(&self, g: &str, moe: bool) -> Vec<Op> {
        let c = self.card;
        let (t, d) = (self.t, c.hidden);
        let mut ops = vec![self.vector(g, "ffn_norm", self.norm_kind(), self.t_sp() * d)];
        match (&c.moe, moe) {
            (Some(m), true) => {
                let (experts, per_expert) = expert_load(t, m.experts, m.top_k, m.load_imbalance);
                ops.push(self.gemm(g, "router", t, m.experts, d));
                ops.push(self.vector(g, "router_topk", VectorKind::Softmax, t * m.experts));
                ops.push(self.vector(g, "dispatch", VectorKind::Copy, t * m.top_k * d));
                let f = m.expert_ffn;
                ops.push(self.batched(g, "expert_gate_up", experts, per_expert, 2 * f, d));
                ops.push(self.vector(g, "expert_silu", VectorKind::Silu, experts * per_expert * f));
                ops.push(self.vector(g, "expert_mul", VectorKind::Mul, experts * per_expert * f));
                ops.push(self.batched(g, "expert_down", experts, per_expert, d, f));
                ops.push(self.vector(g, "combine", VectorKind::Mul, t * m.top_k * d));
                if m.shared_experts > 0 {
                    ops.extend(self.dense_ffn(g, "shared_", t, m.shared_experts * f));
                }
            }
            _ => ops.extend(self.dense_ffn(g, "ffn_", t, c.ffn_size)),
        }
        ops.push(self.vector(g, "residual2", self.residual_kind(), self.t_sp() * d));
        ops
    }

    fn layer(&self, g: &str, moe: bool) -> Vec<Op> {
        let mut ops = self.attention_block(g);
        ops.extend(self.ffn_block(g, moe));
        ops
    }
}

/// Whether an op is part of the attention core (the fused attention kernel, or the unfused
/// Q·Kᵀ, softmax and P·V): what selective recomputation recomputes and does not store.
pub fn is_attention_core(op: &Op) -> bool {
    let n = op.name();
    n.ends_with(".attention") || n.contains(".attention.")
}

/// Whether a lowered GEMM's B operand is a weight (already counted in the model's weights)
/// rather than an activation: true for every projection, expert and absorbed-MLA GEMM; false
/// only for the unfused attention GEMMs (`….attention.qk`, `.av` and their gradients), whose B
/// is K or V.
pub fn b_is_weight(g: &Gemm) -> bool {
    !g.name.contains(".attention.")
}

/// Routed experts that receive tokens and the tokens each processes, for `t` tokens sent to
/// `k` of `e` experts each.
///
/// Experts hit: the expectation for uniform routing, `e·(1 − (1 − k/e)^t)` (each expert is
/// missed by a token with probability `1 − k/e`), rounded up; at least `k`. Tokens per expert:
/// the mean `t·k / hit` times the load-imbalance (capacity) factor, rounded up: the grouped GEMM
/// computes every expert's padded buffer (Switch Transformer's capacity factor, Fedus et al.
/// 2022 §2.2).
pub fn expert_load(t: u64, e: u64, k: u64, imbalance: f64) -> (u64, u64) {
    let miss = 1.0 - k as f64 / e as f64;
    let hit = (e as f64 * (1.0 - miss.powf(t as f64))).ceil() as u64;
    let hit = hit.clamp(k.min(e), e);
    let per = ((t as f64 * k as f64 / hit as f64) * imbalance).ceil() as u64;
    (hit, per.max(1))
}

/// The backward ops of forward ops (in reverse order): for C[M×N] = A[M×K]·B[K×N], the input
/// gradient dA = dC·Bᵀ (M×K×N) and the weight gradient dB = Aᵀ·dC (K×N×M), each with the
/// forward's MACs (hence backward = 2× forward, Kaplan et al. 2020 §2.1); vector ops once more
/// at their forward size (elementwise backward reads the input and the gradient: approximated
/// by the forward's cost); fused attention as the FlashAttention backward.
fn backward(ops: &[Op]) -> Vec<Op> {
    let mut out = Vec::new();
    for op in ops.iter().rev() {
        match op {
            Op::Gemm(g) => {
                out.push(Op::Gemm(Gemm {
                    name: format!("{}.bwd_dx", g.name),
                    m: g.m,
                    n: g.k,
                    k: g.n,
                    ..g.clone()
                }));
                out.push(Op::Gemm(Gemm {
                    name: format!("{}.bwd_dw", g.name),
                    m: g.k,
                    n: g.n,
                    k: g.m,
                    ..g.clone()
                }));
            }
            Op::Vector(v) => out.push(Op::Vector(VectorOp {
                name: format!("{}.bwd", v.name),
                kind: if v.kind == VectorKind::Copy {
                    VectorKind::Add // scatter-add of the embedding gradient
                } else {
                    v.kind
                },
                ..v.clone()
            })),
            Op::Attention(a) => out.push(Op::Attention(AttentionOp {
                name: format!("{}.bwd", a.name),
                backward: true,
                ..a.clone()
            })),
        }
    }
    out
}

/// Lower a model for a run.
pub fn lower(card: &ModelCard, spec: &RunSpec) -> Result<Lowered> {
    for (key, v) in [
        ("batch", spec.batch),
        ("seq", spec.seq),
        ("context", spec.context),
    ] {
        if v == 0 {
            return Err(Error::setting(
                key,
                format!("{key} = 0: must be at least 1"),
            ));
        }
        if v > 1 << 24 {
            return Err(Error::setting(
                key,
                format!("{key} = {v} is larger than the supported 2^24"),
            ));
        }
    }
    let t = spec.tokens();
    if t > 1 << 30 {
        return Err(Error::setting(
            "batch",
            format!("batch × seq = {t} tokens is more than the supported 2^30"),
        ));
    }
    if spec.context_parallel == 0 || spec.context_parallel > 1 << 12 {
        return Err(Error::setting(
            "cp",
            format!(
                "context parallelism {} must be from 1 to 4096",
                spec.context_parallel
            ),
        ));
    }
    if spec.sequence_parallel == 0 || spec.sequence_parallel > 1 << 12 {
        return Err(Error::setting(
            "sp",
            format!(
                "sequence parallelism {} must be from 1 to 4096",
                spec.sequence_parallel
            ),
        ));
    }
    let cp = spec.context_parallel;
    let (seq_q, seq_kv, causal) = match spec.phase {
        Phase::Decode => (1, spec.context + 1, true),
        _ if cp > 1 => (spec.seq, (spec.seq * cp).div_ceil(2), false),
        _ => (spec.seq, spec.seq, true),
    };
    let pass = Pass {
        card,
        spec,
        prefix: spec.phase.as_str().to_string(),
        t,
        seq_q,
        seq_kv,
        causal,
    };
    let d = card.hidden;
    let (n_dense, n_moe) = card.dense_and_moe_layers();
    let dense_group = if card.moe.is_some() {
        "dense_layer"
    } else {
        "layer"
    };

    let mut embed = vec![pass.vector("embed", "lookup", VectorKind::Copy, t * d)];
    if card.position == PositionKind::Learned {
        embed.push(pass.vector("embed", "positions", VectorKind::Add, t * d));
    }
    // Inference needs logits of the last position of each sequence only; training all.
    let head_t = if spec.phase == Phase::Train {
        t
    } else {
        spec.batch
    };
    let mut head = vec![
        pass.vector(
            "head",
            "final_norm",
            pass.norm_kind(),
            head_t.div_ceil(spec.sequence_parallel.max(1)) * d,
        ),
        pass.gemm("head", "lm_head", head_t, card.vocab, d),
    ];
    if spec.phase == Phase::Train {
        head.push(pass.vector("head", "loss_softmax", VectorKind::Softmax, t * card.vocab));
    }
    let layers: Vec<(Vec<Op>, u64)> = [
        (pass.layer(dense_group, false), n_dense),
        (pass.layer("moe_layer", true), n_moe),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect();

    let mut out = Vec::new();
    let mut push = |ops: &[Op], count: u64, role: Role, in_layer: bool| {
        for op in ops {
            out.push(CountedOp {
                op: op.clone(),
                count,
                role,
                in_layer,
            });
        }
    };
    push(&embed, 1, Role::Forward, false);
    for (ops, n) in &layers {
        push(ops, *n, Role::Forward, true);
    }
    push(&head, 1, Role::Forward, false);
    if spec.phase == Phase::Train {
        push(&backward(&head), 1, Role::Backward, false);
        for (ops, n) in layers.iter().rev() {
            if spec.recompute {
                let again: Vec<Op> = ops
                    .iter()
                    .map(|o| {
                        let mut o = o.clone();
                        o.set_name(format!("{}.recompute", o.name()));
                        o
                    })
                    .collect();
                push(&again, *n, Role::Recompute, true);
            } else if spec.recompute_attention && !spec.fused_attention {
                let again: Vec<Op> = ops
                    .iter()
                    .filter(|o| is_attention_core(o))
                    .map(|o| {
                        let mut o = o.clone();
                        o.set_name(format!("{}.recompute", o.name()));
                        o
                    })
                    .collect();
                push(&again, *n, Role::Recompute, true);
            }
            push(&backward(ops), *n, Role::Backward, true);
        }
        push(&backward(&embed), 1, Role::Backward, false);
        let params = card.params().total;
        let adam = Op::Vector(VectorOp {
            name: format!("{}.optimizer.adam", pass.prefix),
            kind: VectorKind::Adam,
            elements: params,
            dtype: DType::Fp32,
        });
        push(&[adam], 1, Role::Optimizer, false);
    }
    Ok(Lowered { ops: out })
}

#[cfg(test)]
mod dropout_tests {
    use super::*;

    /// Dropout runs in training only: the attention dropout as its own kernel with unfused
    /// attention (in the core selective recomputation recomputes), none with a fused kernel;
    /// the residual adds become bias-dropout-adds.
    #[test]
    fn dropout_is_lowered_for_training_only() {
        let mut card = crate::workload::model::maxtext(16).unwrap();
        card.dropout = true;
        let kinds = |phase, fused| {
            let spec = RunSpec {
                fused_attention: fused,
                seq: 256,
                context: 256,
                ..RunSpec::new(phase, &card)
            };
            lower(&card, &spec)
                .unwrap()
                .ops
                .into_iter()
                .filter_map(|c| match c.op {
                    Op::Vector(v) => Some((v.name, v.kind)),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let unfused = kinds(Phase::Train, false);
        let attn = unfused
            .iter()
            .filter(|(n, k)| *k == VectorKind::Dropout && n.contains(".attention."))
            .count();
        assert_eq!(attn, 2, "forward and backward");
        assert!(unfused
            .iter()
            .any(|(n, k)| n.ends_with("residual2") && *k == VectorKind::DropoutAdd));
        let fused = kinds(Phase::Train, true);
        assert!(!fused.iter().any(|(_, k)| *k == VectorKind::Dropout));
        assert!(fused.iter().any(|(_, k)| *k == VectorKind::DropoutAdd));
        let prefill = kinds(Phase::Prefill, false);
        assert!(!prefill
            .iter()
            .any(|(_, k)| matches!(k, VectorKind::Dropout | VectorKind::DropoutAdd)));
    }
}
