//! Native TPU model (tpu_v5p) on one GPT-3-175B layer, mapper included: the prefill of 2048
//! tokens and one decode step with a 2048-token KV cache (d_model 12288, 96 heads × 128,
//! FFN 49152). Bench names: `tpu_native_gpt3/<phase>_layer_<how>`.
use archsim::workload::{VectorKind, VectorOp};
use archsim::{simulate_ops, DType, Gemm, Op};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const D: u64 = 12288;
const HEADS: u64 = 96;
const HEAD_DIM: u64 = 128;
const FFN: u64 = 49152;
const CTX: u64 = 2048;

fn vec_op(name: &str, kind: VectorKind, elements: u64) -> Op {
    Op::Vector(VectorOp {
        name: name.into(),
        kind,
        elements,
        dtype: DType::Bf16,
    })
}

/// The ops of one layer for `tokens` new tokens attending over `CTX` positions.
fn layer(tokens: u64) -> Vec<Op> {
    let g = |name: &str, m, n, k| Op::Gemm(Gemm::new(name, m, n, k));
    let bg = |name: &str, m, n, k| Op::Gemm(Gemm::new(name, m, n, k).with_batch(HEADS));
    vec![
        vec_op("ln1", VectorKind::Layernorm, tokens * D),
        g("qkv", tokens, 3 * D, D),
        bg("qk_t", tokens, CTX, HEAD_DIM),
        vec_op("softmax", VectorKind::Softmax, HEADS * tokens * CTX),
        bg("av", tokens, HEAD_DIM, CTX),
        g("out_proj", tokens, D, D),
        vec_op("residual1", VectorKind::Add, tokens * D),
        vec_op("ln2", VectorKind::Layernorm, tokens * D),
        g("ffn_up", tokens, FFN, D),
        vec_op("gelu", VectorKind::Gelu, tokens * FFN),
        g("ffn_down", tokens, D, FFN),
        vec_op("residual2", VectorKind::Add, tokens * D),
    ]
}

fn bench(c: &mut Criterion) {
    let machine = archsim::registry::load("tpu_v5p")
        .unwrap()
        .build(None)
        .unwrap();
    let prefill = layer(CTX);
    let decode = layer(1);
    let mut grp = c.benchmark_group("tpu_native_gpt3");
    grp.bench_function("prefill_layer_2048_tokens_parallel", |b| {
        b.iter(|| simulate_ops(machine.as_ref(), black_box(&prefill)).unwrap())
    });
    grp.bench_function("decode_step_layer_kv2048_parallel", |b| {
        b.iter(|| simulate_ops(machine.as_ref(), black_box(&decode)).unwrap())
    });
    grp.bench_function("prefill_layer_2048_tokens_one_thread", |b| {
        b.iter(|| {
            for op in black_box(&prefill) {
                black_box(machine.simulate(op).unwrap());
            }
        })
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
