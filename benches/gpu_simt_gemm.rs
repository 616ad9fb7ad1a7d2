//! SIMT GPU model speed: one GEMM = plan search (candidate kernels, analytic pre-screen) +
//! warp-level simulation of the best candidates + extrapolation. Target: median < 2 ms per GEMM.
use archsim::jobs::validate::gpu::machine;
use archsim::machine::Machine;
use archsim::workload::{DType, Gemm, Op};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let h100 = machine("h100").expect("shipped h100 config");
    let big = Op::Gemm(Gemm::new("square", 8192, 8192, 8192).with_dtype(DType::Bf16));
    c.bench_function("h100_plan_and_simulate_gemm_8192cubed_bf16", |b| {
        b.iter(|| h100.simulate(black_box(&big)).unwrap())
    });
    // GPT-3 175B layer, prefill of 2048 tokens: d_model 12288, 96 heads x 128, ffn 49152.
    let s = 2048;
    let gpt3 = [
        ("qkv_proj", Gemm::new("qkv", s, 3 * 12288, 12288)),
        (
            "attn_scores_qkT_batch96",
            Gemm::new("qk", s, s, 128).with_batch(96),
        ),
        (
            "attn_values_av_batch96",
            Gemm::new("av", s, 128, s).with_batch(96),
        ),
        ("out_proj", Gemm::new("out", s, 12288, 12288)),
        ("ffn_up", Gemm::new("up", s, 49152, 12288)),
        ("ffn_down", Gemm::new("down", s, 12288, 49152)),
    ];
    for (name, g) in gpt3 {
        let op = Op::Gemm(g.with_dtype(DType::Bf16));
        c.bench_function(
            &format!("h100_plan_and_simulate_gpt3_175b_{name}_bf16"),
            |b| b.iter(|| h100.simulate(black_box(&op)).unwrap()),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
