//! Whole-model speed: Llama 3.1 405B (126 layers) lowered and simulated for prefill (2048
//! tokens), decode (one step, 8k context, batch 32) and a training step (2048 tokens), each on
//! a TPU v5p and an H100. Repeated layers are simulated once, so each run costs about one
//! layer's ops. Target (issue 11): median < 20 ms per run.
use archsim::registry;
use archsim::run::model::simulate_model;
use archsim::workload::model::{self, lower::Phase, lower::RunSpec};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let card = model::load("llama3_405b").expect("shipped card");
    for cfg in ["tpu_v5p", "h100"] {
        let m = registry::load(cfg).unwrap().build(None).unwrap();
        for phase in [Phase::Prefill, Phase::Decode, Phase::Train] {
            let mut spec = RunSpec::new(phase, &card);
            if phase == Phase::Decode {
                spec.batch = 32;
                spec.context = 8192;
            }
            c.bench_function(&format!("{cfg}_llama3_405b_{}", phase.as_str()), |b| {
                b.iter(|| simulate_model(m.as_ref(), black_box(&card), &spec).unwrap())
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
