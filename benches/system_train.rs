//! System-layer speed (and `archsim serve`): the full plan search for Llama 3.1 405B on 16,384 TPU v5p chips and on
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
    // Serving: one offline point (Llama 3.1 70B, TP2 on H100, ISL/OSL 1000/1000), one with
    // pipeline parallelism (TP2 × PP2) and a server search over every plan (tp, pp) and batch
    // with the TTFT/TPOT check. Targets: < 50 ms a point and < 2 s a search.
    use archsim::system::serve::{serve, Scenario, ServeSpec};
    let h = config::load("dgx_h100_ib").unwrap();
    let mut sv = ServeSpec {
        card: model::load("llama3_70b").unwrap(),
        chips: 2,
        scenario: Scenario::Offline,
        input_len: 1000,
        output_len: 1000,
        dtype: DType::Fp8,
        kv_dtype: DType::Fp8,
        tp: Some(2),
        pp: Some(1),
        ep: None,
        disaggregate: None,
        chunk_tokens: None,
    };
    g.bench_function("serve_llama3_70b_h100_tp2_offline_point", |b| {
        b.iter(|| serve(black_box(&h), &sv).unwrap())
    });
    // A pipelined point: TP2 × PP2 on 4 chips.
    let pp_point = ServeSpec {
        chips: 4,
        pp: Some(2),
        ..sv.clone()
    };
    g.bench_function("serve_llama3_70b_h100_tp2_pp2_offline_point", |b| {
        b.iter(|| serve(black_box(&h), &pp_point).unwrap())
    });
    sv.scenario = Scenario::Server {
        ttft_s: 1.0,
        tpot_s: 0.05,
    };
    sv.chips = 8;
    sv.tp = None;
    sv.pp = None;
    g.bench_function("serve_llama3_70b_h100_8_chips_server_search", |b| {
        b.iter(|| serve(black_box(&h), &sv).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
