//! System-layer speed: the full plan search for Llama 3.1 405B on 16,384 TPU v5p chips and on
//! 16,384 H100s (target < 1 s each), and one forced-plan point at 10^6 chips (target < 5 s).
use archsim::system::config;
use archsim::system::train::{train, PlanConstraints, TrainSpec};
use archsim::workload::model;
use archsim::workload::DType;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn spec(chips: u64, gb: u64) -> TrainSpec {
    TrainSpec {
        card: model::load("llama3_405b").unwrap(),
        chips,
        global_batch: gb,
        seq: 8192,
        dtype: DType::Bf16,
        tokens: Some(15e12),
        slice: None,
        fused_attention: true,
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("train_plan_search");
    g.sample_size(10);
    for sys in ["tpu_v5p_pod", "dgx_h100_ib"] {
        let s = config::load(sys).unwrap();
        let sp = spec(16384, 2048);
        g.bench_function(format!("{sys}_llama3_405b_16384_chips_search"), |b| {
            b.iter(|| train(black_box(&s), &sp, &PlanConstraints::default()).unwrap())
        });
    }
    let s = config::load("tpu7x_pod").unwrap();
    let sp = spec(1 << 20, 16384);
    let forced = PlanConstraints::parse("tp=16,pp=8,recompute=full").unwrap();
    g.bench_function("tpu7x_llama3_405b_1048576_chips_point", |b| {
        b.iter(|| train(black_box(&s), &sp, &forced).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
