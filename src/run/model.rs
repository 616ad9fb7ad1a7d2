//! A whole model on one machine: lower a [`ModelCard`] for a phase, simulate every distinct op
//! once (repeated layers are counted, not re-simulated), and report the model's FLOPs, memory
//! needs against the chip's HBM, time and tokens/s.

use super::{simulate_ops, RunReport};
use crate::error::Result;
use crate::machine::{Machine, Repeat};
use crate::workload::model::lower::{b_is_weight, lower, Lowered, Phase, Role, RunSpec};
use crate::workload::model::ModelCard;
use crate::workload::{AttentionOp, DType, Op};
use serde::Serialize;

/// Memory one chip needs for the run, against its HBM.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MemoryReport {
    /// Weights at the run's dtype: parameters × bytes.
    pub weights_bytes: u64,
    /// KV cache: `batch × positions × KV bytes per token` (prefill: the cache it builds;
    /// decode: the context it reads plus the new token; train: 0).
    pub kv_cache_bytes: u64,
    /// Activations: inference, the largest tensors live at once (one op's inputs and output);
    /// training, every layer op's output kept for the backward pass (with recomputation: each
    /// layer's input plus one layer's outputs), the method of Korthikanti et al. 2022 §4.1.
    pub activation_bytes: u64,
    /// Training: one gradient per parameter at the run's dtype.
    pub gradient_bytes: u64,
    /// Training: fp32 master weights and Adam's two fp32 moments, 12 bytes per parameter
    /// (ZeRO, Rajbhandari et al. 2020 §3.1: 16 bytes per parameter with the 16-bit weight and
    /// gradient).
    pub optimizer_bytes: u64,
    /// The sum of the above.
    pub needed_bytes: u64,
    /// HBM capacity of the chip (null when the config gives none).
    pub capacity_bytes: Option<u64>,
    /// needed ≤ capacity (null when the capacity is unknown).
    pub fits: Option<bool>,
}

/// The `model` object of a `--model` run report.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ModelReport {
    /// Model card name.
    pub name: String,
    /// Where the card's shapes come from.
    pub source: String,
    /// Parameters.
    pub params: u64,
    /// Parameters active per token (MoE: routed top-k plus shared experts).
    pub active_params: u64,
    /// Decoder layers.
    pub layers: u64,
    /// prefill, decode or train.
    pub phase: Phase,
    /// Sequences processed together.
    pub batch: u64,
    /// Tokens per sequence (prefill, train).
    pub seq: u64,
    /// Decode: tokens already in the KV cache.
    pub context: u64,
    /// Operand dtype of the run.
    pub dtype: DType,
    /// "fused" (one FlashAttention-style kernel) or "unfused" (Q·Kᵀ, softmax, P·V).
    pub attention: &'static str,
    /// Training recomputes every layer's forward in the backward pass.
    pub recompute: bool,
    /// Tokens the run processes (batch × seq; decode: batch).
    pub tokens: u64,
    /// Model FLOPs: matrix FLOPs of the forward (and in training the backward, at 2× the
    /// forward) with causal attention counting only the pairs a query sees (MaxText's
    /// convention since 2025; MODELS.md).
    pub model_flops: f64,
    /// Model FLOPs with attention counted over every pair (Megatron-LM / PaLM MFU convention,
    /// Narayanan et al. 2021 §5.1; Chowdhery et al. 2022 App. B).
    pub model_flops_full_attention: f64,
    /// FLOPs the lowered ops execute: matrix and vector work, recomputation included.
    pub hardware_flops: f64,
    /// `model_flops / tokens`.
    pub model_flops_per_token: f64,
    /// KV-cache bytes per token of context at the run's dtype (all layers).
    pub kv_bytes_per_token: u64,
    /// Memory one chip needs for the run, against its HBM.
    pub memory: MemoryReport,
    /// Device time of the whole run (every layer), s.
    pub time_s: f64,
    pub tokens_per_s: f64,
    /// Model FLOPs / (time × peak of the run's dtype): MFU.
    pub mfu: f64,
}

/// Memory needs of a lowered run ([`MemoryReport`] without the capacity).
pub fn memory_needs(card: &ModelCard, spec: &RunSpec, lowered: &Lowered) -> MemoryReport {
    let bytes = |d: DType, n: u64| u64::try_from(d.bytes_for(n)).unwrap_or(u64::MAX);
    let params = card.params().total;
    let kv_per_token = card.kv_bytes_per_token(spec.dtype);
    let positions = match spec.phase {
        Phase::Prefill => spec.seq,
        Phase::Decode => spec.context + 1,
        Phase::Train => 0,
    };
    let kv_cache = spec
        .batch
        .saturating_mul(positions)
        .saturating_mul(kv_per_token);
    let activation = match spec.phase {
        Phase::Train => {
            let per_layer_and_count: Vec<(u64, u64)> = lowered
                .ops
                .iter()
                .filter(|c| c.in_layer && c.role == Role::Forward)
                // Selective recomputation does not keep the attention core's outputs.
                .filter(|c| {
                    !(spec.recompute_attention
                        && !spec.fused_attention
                        && crate::workload::model::lower::is_attention_core(&c.op))
                })
                .map(|c| (output_bytes(&c.op), c.count))
                .collect();
            let stored: u64 = per_layer_and_count.iter().map(|(b, n)| b * n).sum();
            if spec.recompute {
                let largest_layer = per_layer_and_count.iter().map(|(b, _)| *b).sum::<u64>();
                card.layers * bytes(spec.dtype, spec.tokens() * card.hidden) + largest_layer
            } else {
                stored
            }
        }
        _ => lowered
            .ops
            .iter()
            .map(|c| live_bytes(&c.op))
            .max()
            .unwrap_or(0),
    };
    let (gradient, optimizer) = if spec.phase == Phase::Train {
        (bytes(spec.dtype, params), params * 12)
    } else {
        (0, 0)
    };
    let weights = bytes(spec.dtype, params);
    MemoryReport {
        weights_bytes: weights,
        kv_cache_bytes: kv_cache,
        activation_bytes: activation,
        gradient_bytes: gradient,
        optimizer_bytes: optimizer,
        needed_bytes: weights
            .saturating_add(kv_cache)
            .saturating_add(activation)
            .saturating_add(gradient)
            .saturating_add(optimizer),
        capacity_bytes: None,
        fits: None,
    }
}

/// Bytes of an op's output tensor(s).
fn output_bytes(op: &Op) -> u64 {
    match op {
        Op::Gemm(g) => to_u64(g.dtype.bytes_for_rows(g.batch * g.m, g.n)),
        Op::Vector(v) => v.write_bytes() as u64,
        // O and the fp32 log-sum-exp kept for the backward pass.
        Op::Attention(a) => {
            to_u64(
                a.dtype
                    .bytes_for_rows(a.batch * a.heads * a.seq_q, a.head_dim_v),
            ) + a.batch * a.heads * a.seq_q * 4
        }
    }
}

/// Bytes of activations an op holds at once (inputs that are not weights, and outputs).
fn live_bytes(op: &Op) -> u64 {
    match op {
        Op::Gemm(g) => {
            let d = g.dtype;
            let b_operand = if g.shared_b || b_is_weight(g) {
                0
            } else {
                d.bytes_for_rows(g.batch * g.k, g.n)
            };
            to_u64(
                d.bytes_for_rows(g.batch * g.m, g.k)
                    + b_operand
                    + d.bytes_for_rows(g.batch * g.m, g.n),
            )
        }
        Op::Vector(v) => v.bytes() as u64,
        Op::Attention(a) => attention_live_bytes(a),
    }
}

/// Q and O (the K/V it reads are the KV cache, counted there).
fn attention_live_bytes(a: &AttentionOp) -> u64 {
    to_u64(
        a.dtype
            .bytes_for_rows(a.batch * a.heads * a.seq_q, a.head_dim + a.head_dim_v),
    )
}

fn to_u64(b: u128) -> u64 {
    u64::try_from(b).unwrap_or(u64::MAX)
}

/// Model FLOPs of a lowered run: (causal convention, full-attention convention), see
/// [`ModelReport::model_flops`]. GEMMs and attention of the forward and backward ops; vector
/// ops, recomputation and the optimizer are hardware work, not model FLOPs.
pub fn model_flops(lowered: &Lowered) -> (f64, f64) {
    let mut model = 0.0;
    let mut full = 0.0;
    for c in &lowered.ops {
        if !matches!(c.role, Role::Forward | Role::Backward) {
            continue;
        }
        let n = c.count as f64;
        let (f, all) = match &c.op {
            Op::Gemm(g) => (g.flops(), g.flops()),
            Op::Attention(a) => (
                a.flops(),
                AttentionOp {
                    causal: false,
                    ..a.clone()
                }
                .flops(),
            ),
            Op::Vector(_) => (0.0, 0.0),
        };
        model += f * n;
        full += all * n;
    }
    (model, full)
}

/// Lower, simulate and account a model run on one machine. The report's ops are the distinct
/// ops, each with its `repeat`; totals count every execution.
pub fn simulate_model(
    machine: &dyn Machine,
    card: &ModelCard,
    spec: &RunSpec,
) -> Result<RunReport> {
    let lowered = lower(card, spec)?;
    let ops: Vec<Op> = lowered.ops.iter().map(|c| c.op.clone()).collect();
    // Simulate each op once; repeats only scale the totals.
    let mut report = simulate_ops(machine, &ops)?;
    for (p, c) in report.ops.iter_mut().zip(&lowered.ops) {
        p.repeat = Repeat(c.count);
    }
    report.total = super::total_of(machine, &report.ops)?;

    // Model FLOPs do not depend on the kernels: count them on the fused lowering.
    let (model_flops, full_flops) = if spec.fused_attention {
        model_flops(&lowered)
    } else {
        let fused = RunSpec {
            fused_attention: true,
            ..spec.clone()
        };
        model_flops(&lower(card, &fused)?)
    };
    let mut memory = memory_needs(card, spec, &lowered);
    let capacity = machine
        .info()
        .memory_level("hbm")
        .and_then(|l| l.capacity_bytes)
        .filter(|c| *c > 0);
    memory.capacity_bytes = capacity;
    memory.fits = capacity.map(|c| memory.needed_bytes <= c);
    let params = card.params();
    let tokens = spec.tokens();
    let time_s = report.total.time_s;
    let peak = machine.info().effective_peak_flops(spec.dtype);
    report.model = Some(ModelReport {
        name: card.name.clone(),
        source: card.source.clone(),
        params: params.total,
        active_params: params.active,
        layers: card.layers,
        phase: spec.phase,
        batch: spec.batch,
        seq: if spec.phase == Phase::Decode {
            1
        } else {
            spec.seq
        },
        context: if spec.phase == Phase::Decode {
            spec.context
        } else {
            0
        },
        dtype: spec.dtype,
        attention: if spec.fused_attention {
            "fused"
        } else {
            "unfused"
        },
        recompute: spec.recompute,
        tokens,
        model_flops,
        model_flops_full_attention: full_flops,
        hardware_flops: report.total.flops,
        model_flops_per_token: model_flops / tokens as f64,
        kv_bytes_per_token: card.kv_bytes_per_token(spec.dtype),
        memory,
        time_s,
        tokens_per_s: if time_s > 0.0 {
            tokens as f64 / time_s
        } else {
            0.0
        },
        mfu: if time_s > 0.0 && peak > 0.0 {
            model_flops / time_s / peak
        } else {
            0.0
        },
    });
    Ok(report)
}
