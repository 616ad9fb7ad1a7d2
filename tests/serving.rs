//! `archsim serve`: sanity properties of the serving model and its command.

mod common;

use archsim::registry::HardwareConfig;
use archsim::system::config;
use archsim::system::serve::{serve, Scenario, ServeSpec};
use archsim::workload::model;
use archsim::workload::DType;
use common::archsim;

fn spec(m: &str, chips: u64, i: u64, o: u64, kv: DType) -> ServeSpec {
    ServeSpec {
        card: model::load(m).unwrap(),
        chips,
        scenario: Scenario::Offline,
        input_len: i,
        output_len: o,
        dtype: DType::Fp8,
        kv_dtype: kv,
        tp: Some(chips),
        chunk_tokens: None,
    }
}

#[test]
fn more_hbm_bandwidth_never_lowers_decode_throughput() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let mut fast = sys.clone();
    if let HardwareConfig::Simt(c) = &mut fast.chip.hw {
        c.memory.hbm_bandwidth_gbps *= 1.5;
    } else {
        panic!("h100 is a SIMT config");
    }
    let s = spec("llama3_8b", 1, 128, 2048, DType::Fp8);
    let a = serve(&sys, &s).unwrap();
    let b = serve(&fast, &s).unwrap();
    assert!(
        b.output_tokens_per_s >= a.output_tokens_per_s,
        "{} < {}",
        b.output_tokens_per_s,
        a.output_tokens_per_s
    );
    assert!(b.tpot_s <= a.tpot_s);
}

#[test]
fn fp8_kv_cache_fits_more_requests() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let bf16 = serve(&sys, &spec("llama3_70b", 2, 1000, 1000, DType::Bf16)).unwrap();
    let fp8 = serve(&sys, &spec("llama3_70b", 2, 1000, 1000, DType::Fp8)).unwrap();
    assert!(fp8.kv_capacity_batch > bf16.kv_capacity_batch);
    assert_eq!(
        fp8.kv_cache_bytes_per_request * 2,
        bf16.kv_cache_bytes_per_request
    );
}

#[test]
fn longer_outputs_never_raise_tokens_per_s_once_the_kv_cache_binds() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let mut last = f64::INFINITY;
    for o in [1000, 2000, 4000, 8000] {
        let r = serve(&sys, &spec("llama3_8b", 1, 2000, o, DType::Fp8)).unwrap();
        assert!(
            r.batch >= r.kv_capacity_batch.min(8192) / 2,
            "KV-bound batch expected"
        );
        assert!(
            r.total_tokens_per_s <= last * 1.0001,
            "{o}: {} > {last}",
            r.total_tokens_per_s
        );
        last = r.total_tokens_per_s;
    }
}

#[test]
fn server_targets_and_infeasible_targets() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let mut s = spec("llama3_8b", 1, 1000, 500, DType::Fp8);
    s.scenario = Scenario::Server {
        ttft_s: 1.0,
        tpot_s: 0.03,
    };
    let r = serve(&sys, &s).unwrap();
    assert!(r.feasible && r.tpot_s <= 0.03 && r.ttft_s <= 1.0, "{r:?}");
    let off = serve(&sys, &spec("llama3_8b", 1, 1000, 500, DType::Fp8)).unwrap();
    assert!(r.output_tokens_per_s <= off.output_tokens_per_s);
    // An impossible target is reported, not an error: exit 0 with INFEASIBLE.
    let out = archsim([
        "serve",
        "--system",
        "h100",
        "--model",
        "llama3_8b",
        "--chips",
        "1",
        "--scenario",
        "server",
        "--input-len",
        "1000",
        "--output-len",
        "100",
        "--tpot-ms",
        "0.01",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(common::stdout(&out).contains("INFEASIBLE"));
}

#[test]
fn serve_json_and_bad_input() {
    let out = archsim([
        "serve",
        "--system",
        "dgx_h100_ib",
        "--model",
        "llama3_70b",
        "--chips",
        "8",
        "--input-len",
        "500",
        "--output-len",
        "2000",
        "--dtype",
        "fp8",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "output_tokens_per_s",
        "output_tokens_per_s_per_chip",
        "total_tokens_per_s",
        "batch",
        "ttft_s",
        "tpot_s",
        "kv_cache_bytes_per_request",
        "kv_cache_bytes_total",
        "tp",
        "replicas",
        "power_w",
        "j_per_token",
        "usd_per_million_tokens",
    ] {
        assert!(!v[k].is_null(), "missing {k}");
    }
    // Zero lengths and a model that fits no replica are errors with exit 2.
    let out = archsim([
        "serve",
        "--system",
        "h100",
        "--model",
        "llama3_8b",
        "--chips",
        "1",
        "--input-len",
        "0",
        "--output-len",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("input_len"));
    let out = archsim([
        "serve",
        "--system",
        "h100",
        "--model",
        "llama3_405b",
        "--chips",
        "1",
        "--input-len",
        "100",
        "--output-len",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = common::stderr(&out);
    assert!(e.contains("does not fit") && e.contains("GiB"), "{e}");
}

#[test]
fn a_fixed_rate_takes_the_smallest_batch_and_p99_is_above_the_mean() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let mut s = spec("llama3_8b", 8, 2000, 500, DType::Fp8);
    s.tp = None;
    s.scenario = Scenario::Rate {
        requests_per_s: 20.0,
    };
    let r = serve(&sys, &s).unwrap();
    assert!(r.feasible);
    assert!((r.requests_per_s - 20.0).abs() < 1e-9);
    assert!(r.batch < r.kv_capacity_batch);
    assert!(
        r.ttft_p99_s >= r.ttft_s && r.tpot_p99_s >= r.tpot_s * 0.99,
        "{r:?}"
    );
    // The curve is the batch sweep: throughput grows with the batch.
    let per_chip: Vec<f64> = r.curve.iter().map(|c| c.2).collect();
    assert!(
        per_chip.windows(2).all(|w| w[1] >= w[0] * 0.999),
        "{per_chip:?}"
    );
    // Deterministic queue simulation.
    let a = archsim::system::serve::queue_p99(10.0, 0.05).unwrap();
    assert_eq!(a, archsim::system::serve::queue_p99(10.0, 0.05).unwrap());
    assert!(a > 0.05 && archsim::system::serve::queue_p99(30.0, 0.05).is_none());
}

#[test]
fn compare_writes_the_pareto_plot() {
    let dir = common::tempdir();
    let out = archsim([
        "serve",
        "--system",
        "tpu_v6e_pod",
        "--compare",
        "dgx_h100_ib",
        "--model",
        "llama3_8b",
        "--chips",
        "8",
        "--input-len",
        "1000",
        "--output-len",
        "200",
        "--out",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(dir.path().join("serving_pareto.png").is_file());
}

#[test]
fn chunked_prefill_trades_ttft_for_tpot_tail() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let mut s = spec("llama3_8b", 1, 4000, 500, DType::Fp8);
    s.scenario = Scenario::Rate {
        requests_per_s: 2.0,
    };
    let plain = serve(&sys, &s).unwrap();
    s.chunk_tokens = Some(512);
    let chunked = serve(&sys, &s).unwrap();
    assert!(chunked.tpot_p99_s < plain.tpot_p99_s);
    assert!(chunked.ttft_s > plain.ttft_s);
    assert!((chunked.output_tokens_per_s - plain.output_tokens_per_s).abs() < 1e-6);
}
