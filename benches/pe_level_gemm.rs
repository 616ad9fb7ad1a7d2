//! PE-level reference mode: a 64×64×64 GEMM stepped cycle by cycle on a 16×16 array, values
//! moved through the PE registers (f32 and bf16), per dataflow, SCALE-Sim timing, plus the
//! TPU-style overlapped WS grid. Bench names:
//! `pe_level_gemm/<dtype>_64x64x64_on_16x16_<dataflow>[_overlapped_tpu_style]`.
use archsim::systolic::config::Dataflow;
use archsim::systolic::pe::{self, SplitMix};
use criterion::{criterion_group, criterion_main, Criterion};
use half::bf16;
use ndarray::Array2;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut rng = SplitMix(7);
    let a = Array2::from_shape_fn((64, 64), |_| rng.next_f32());
    let b = Array2::from_shape_fn((64, 64), |_| rng.next_f32());
    let ah = a.mapv(bf16::from_f32);
    let bh = b.mapv(bf16::from_f32);
    let mut grp = c.benchmark_group("pe_level_gemm");
    for df in [Dataflow::Ws, Dataflow::Os, Dataflow::Is] {
        grp.bench_function(format!("f32_64x64x64_on_16x16_{df}"), |bn| {
            bn.iter(|| pe::simulate(black_box(&a), black_box(&b), 16, 16, df).unwrap())
        });
    }
    grp.bench_function("f32_64x64x64_on_16x16_ws_overlapped_tpu_style", |bn| {
        bn.iter(|| {
            pe::simulate_overlapped(black_box(&a), black_box(&b), 16, 16, Dataflow::Ws).unwrap()
        })
    });
    grp.bench_function("bf16_64x64x64_on_16x16_ws", |bn| {
        bn.iter(|| pe::simulate(black_box(&ah), black_box(&bh), 16, 16, Dataflow::Ws).unwrap())
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
