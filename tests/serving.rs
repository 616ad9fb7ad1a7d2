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
        pp: Some(1),
        ep: None,
        disaggregate: None,
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

/// Expert parallelism for MoE serving: a replica is tp·ep chips; the experts are split over ep,
/// so the weights per chip fall as ep grows, and the KV cache of the replica's requests is
/// spread over the ep attention groups; the all-to-alls make the decode step no faster than the
/// same per-chip batch without them would be; a dense card or an ep that does not divide is
/// refused naming the plan.
#[test]
fn expert_parallelism_splits_the_experts_over_the_replica() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let run = |tp: u64, ep: u64| {
        serve(
            &sys,
            &ServeSpec {
                tp: Some(tp),
                ep: Some(ep),
                ..spec("mixtral_8x7b", 8, 1024, 256, DType::Fp8)
            },
        )
        .unwrap()
    };
    let one = run(1, 1);
    let two = run(1, 2);
    let eight = run(1, 8);
    assert_eq!((eight.tp, eight.ep, eight.replicas), (1, 8, 1));
    assert_eq!((two.replicas, one.replicas), (4, 8));
    assert!(two.weights_bytes_per_chip < one.weights_bytes_per_chip);
    assert!(eight.weights_bytes_per_chip < two.weights_bytes_per_chip);
    // The experts are ~96% of Mixtral's weights: at ep = 8 a chip holds about a quarter of the
    // replica-1 weights (attention and embeddings stay whole).
    let r = eight.weights_bytes_per_chip as f64 / one.weights_bytes_per_chip as f64;
    assert!(r > 0.125 && r < 0.3, "{r}");
    // More HBM left for KV: a larger batch per replica chip.
    assert!(
        eight.kv_capacity_batch as f64 / 8.0 > one.kv_capacity_batch as f64,
        "{} vs {}",
        eight.kv_capacity_batch,
        one.kv_capacity_batch
    );
    assert_eq!(eight.batch % 8, 0);
    // Dense cards have no experts to split; ep must divide the experts.
    for (m, ep) in [("llama3_8b", 2), ("mixtral_8x7b", 3)] {
        let e = serve(
            &sys,
            &ServeSpec {
                tp: Some(1),
                ep: Some(ep),
                ..spec(m, 6, 128, 128, DType::Fp8)
            },
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(&format!("ep={ep}")), "{e}");
    }
    // The flag: `--plan tp=1,ep=4`.
    let o = archsim([
        "serve",
        "--system",
        "dgx_h100_ib",
        "--model",
        "mixtral_8x7b",
        "--chips",
        "8",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--plan",
        "tp=1,ep=4",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((j["tp"].as_u64(), j["ep"].as_u64()), (Some(1), Some(4)));
    let o = archsim([
        "serve",
        "--system",
        "h100",
        "--model",
        "mixtral_8x7b",
        "--chips",
        "8",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--plan",
        "tp=1,xp=4",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--plan"));
}

/// Pipeline parallelism: `--plan tp=T,pp=P` splits the layers (so the weights and the KV cache
/// per chip) over the stages, and the KV capacity grows accordingly.
#[test]
fn pipeline_parallelism_splits_weights_and_kv_cache_per_chip() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let run = |pp: u64| {
        serve(
            &sys,
            &ServeSpec {
                tp: Some(2),
                pp: Some(pp),
                ..spec("llama3_70b", 4, 1000, 1000, DType::Fp8)
            },
        )
        .unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert_eq!((one.pp, one.replicas, two.pp, two.replicas), (1, 2, 2, 1));
    assert_eq!(
        (one.plan.as_str(), two.plan.as_str()),
        ("tp=2,pp=1", "tp=2,pp=2")
    );
    // Half: each stage holds 40 of the 80 layers and one of the two vocab tables (the input
    // embedding on the first stage, the LM head on the last).
    let r = two.weights_bytes_per_chip as f64 / one.weights_bytes_per_chip as f64;
    assert!((r - 0.5).abs() < 1e-6, "{r}");
    // Each chip holds the KV cache of half the layers and has more HBM free: the pp = 2 replica
    // (twice the chips) holds more than twice the requests.
    assert!(
        two.kv_capacity_batch > 2 * one.kv_capacity_batch,
        "{} vs {}",
        two.kv_capacity_batch,
        one.kv_capacity_batch
    );
    // The KV bytes of a request are the model's, whatever the split.
    assert_eq!(
        one.kv_cache_bytes_per_request,
        two.kv_cache_bytes_per_request
    );
}

/// Llama 3.1 405B in bf16 (810 GB) does not fit an 8-GPU tp=8 replica of 80 GB H100s; on the
/// same 16 chips two stages of tp=8 hold it.
#[test]
fn a_model_too_big_for_one_stage_fits_a_pipeline_on_the_same_chips() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let s = |pp: Option<u64>| ServeSpec {
        tp: Some(8),
        pp,
        dtype: DType::Bf16,
        ..spec("llama3_405b", 16, 1024, 256, DType::Bf16)
    };
    let e = serve(&sys, &s(Some(1))).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("does not fit"), "{e}");
    let r = serve(&sys, &s(Some(2))).unwrap();
    assert_eq!((r.tp, r.pp, r.replicas), (8, 2, 1));
    assert!(r.output_tokens_per_s > 0.0 && r.batch >= 2);
    // Searched, the planner finds a pipeline too.
    let r = serve(&sys, &s(None)).unwrap();
    assert!(r.pp >= 2, "{}", r.plan);
}

/// At equal tp and equal requests per micro-batch, a deeper pipeline adds stage boundaries
/// (sends) and re-reads each stage's weights per micro-batch: TPOT grows with pp, and so does
/// the unloaded per-token latency through the stages.
#[test]
fn tpot_grows_with_pp_at_equal_tp() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let run = |pp: u64| {
        serve(
            &sys,
            &ServeSpec {
                tp: Some(2),
                pp: Some(pp),
                ..spec("llama3_70b", 8, 1000, 1000, DType::Fp8)
            },
        )
        .unwrap()
    };
    let reports: Vec<_> = [1, 2, 4].into_iter().map(run).collect();
    // TPOT at b = pp·m requests (m per micro-batch), from each plan's batch curve.
    let tpot_at = |r: &archsim::system::serve::ServeReport, b: u64| {
        r.curve
            .iter()
            .find(|c| c.0 == b)
            .map(|c| c.1)
            .unwrap_or_else(|| panic!("{} has no batch {b}: {:?}", r.plan, r.curve))
    };
    for m in [1, 8, 64] {
        let t: Vec<f64> = reports.iter().map(|r| tpot_at(r, r.pp * m)).collect();
        assert!(t[0] < t[1] && t[1] < t[2], "m = {m}: {t:?}");
    }
    // At equal total batch the pp = 2 replica has twice the chips' HBM bandwidth for the KV
    // cache: once the KV reads dominate (1000 + 1000 tokens, 256 requests) its TPOT is lower.
    assert!(
        tpot_at(&reports[1], 256) < tpot_at(&reports[0], 256),
        "{:?} vs {:?}",
        reports[1].curve,
        reports[0].curve
    );
    // The unloaded latency of a token through the stages is at most the loaded round.
    for r in &reports {
        assert!(
            r.token_latency_s <= r.decode_step_s * (1.0 + 1e-12),
            "{r:?}"
        );
    }
    assert_eq!(reports[0].token_latency_s, reports[0].decode_step_s);
}

/// A pp that does not divide the layers (or the chips), or a tp·pp that does not divide the
/// chips, is refused naming the plan, exit 2.
#[test]
fn refused_pipeline_plans_exit_2_naming_plan() {
    for (plan, what) in [
        ("tp=2,pp=3", "pp=3"), // 80 layers
        ("tp=1,pp=5", "pp=5"), // divides 80 layers, not 8 chips
        ("tp=4,pp=4", "plan"), // 16 chips a replica, 8 chips
        ("tp=2,pp=0", "--plan"),
    ] {
        let o = archsim([
            "serve",
            "--system",
            "dgx_h100_ib",
            "--model",
            "llama3_70b",
            "--chips",
            "8",
            "--input-len",
            "128",
            "--output-len",
            "128",
            "--plan",
            plan,
        ]);
        assert_eq!(o.status.code(), Some(2), "{plan}");
        let e = common::stderr(&o);
        assert!(e.starts_with("error:"), "{plan}: {e}");
        assert!(e.contains("plan") && e.contains(what), "{plan}: {e}");
    }
}

/// The planner reports every plan it evaluated, pipelines included, and picks the best of them
/// (offline: the highest throughput; server: feasible first).
#[test]
fn the_planner_picks_the_best_of_the_candidates_it_reports() {
    let sys = config::load("dgx_h100_ib").unwrap();
    for scenario in [
        Scenario::Offline,
        Scenario::Server {
            ttft_s: 2.0,
            tpot_s: 0.04,
        },
    ] {
        let r = serve(
            &sys,
            &ServeSpec {
                tp: None,
                pp: None,
                scenario,
                ..spec("llama3_70b", 8, 1000, 1000, DType::Fp8)
            },
        )
        .unwrap();
        let c = &r.candidates;
        assert!(c.iter().any(|c| c.plan.contains("pp=2")), "{c:?}");
        assert!(c.iter().any(|c| c.plan.contains("pp=1")), "{c:?}");
        let chosen = c
            .iter()
            .find(|c| c.plan == r.plan)
            .expect("the plan is a candidate");
        assert_eq!(chosen.output_tokens_per_s, r.output_tokens_per_s);
        assert_eq!((chosen.batch, chosen.feasible), (r.batch, r.feasible));
        for x in c {
            assert!(
                (x.feasible, x.output_tokens_per_s) <= (r.feasible, r.output_tokens_per_s),
                "{x:?} beats {}",
                r.plan
            );
        }
    }
}

/// Disaggregated prefill (`--disaggregate P:D`): the decode pool never stalls for a prompt (TPOT
/// and its p99 are the decode step), the system sustains the slower pool, TTFT pays the KV
/// hand-over, and each pool's capacity follows its chips.
#[test]
fn disaggregated_prefill_splits_the_chips_into_two_pools() {
    let sys = config::load("dgx_h100_ib").unwrap();
    let run = |d: Option<(u64, u64)>| {
        serve(
            &sys,
            &ServeSpec {
                tp: Some(2),
                disaggregate: d,
                ..spec("llama3_70b", 8, 2000, 500, DType::Fp8)
            },
        )
        .unwrap()
    };
    let agg = run(None);
    assert!(agg.disaggregated.is_none());
    let mut last_decode = 0.0;
    for (p, d) in [(6, 2), (4, 4), (2, 6)] {
        let r = run(Some((p, d)));
        let x = r.disaggregated.clone().expect("disaggregated figures");
        assert_eq!((x.prefill_chips, x.decode_chips), (p, d));
        assert_eq!(
            (x.prefill_replicas, x.decode_replicas),
            (p / 2, d / 2),
            "{}",
            r.plan
        );
        assert_eq!(r.tpot_p99_s, r.tpot_s);
        assert!((r.tpot_s - r.decode_step_s).abs() <= 1e-12 * r.tpot_s);
        assert!(r.tpot_p99_s < agg.tpot_p99_s);
        let sustained = x.prefill_requests_per_s.min(x.decode_requests_per_s);
        assert!((r.requests_per_s - sustained).abs() <= 1e-9 * sustained);
        assert!((r.output_tokens_per_s - sustained * 500.0).abs() <= 1e-6 * sustained);
        assert!(x.kv_transfer_s > 0.0 && r.ttft_s > x.kv_transfer_s);
        // More decode chips, more decode capacity (at the same plan).
        assert!(x.decode_requests_per_s > last_decode);
        last_decode = x.decode_requests_per_s;
    }
    // The flag, and the trace draws the two pools.
    let dir = common::tempdir();
    let trace = dir.path().join("t.json");
    let o = archsim([
        "serve",
        "--system",
        "dgx_h100_ib",
        "--model",
        "llama3_70b",
        "--chips",
        "8",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--plan",
        "tp=2",
        "--disaggregate",
        "2:6",
        "--trace",
        trace.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["disaggregated"]["decode_replicas"].as_u64(), Some(3));
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(t.contains("prefill replica 0") && t.contains("decode replica 3"));
    // Bad splits are refused naming the flag: a sum that is not the chips, an empty pool, a pool
    // no replica divides, and chunked prefill (the decode pool runs no prefill).
    for (split, extra) in [
        ("3:6", vec![]),
        ("0:8", vec![]),
        ("2-6", vec![]),
        ("3:5", vec!["--plan", "tp=2"]),
        ("4:4", vec!["--chunked-prefill", "256"]),
    ] {
        let mut args = vec![
            "serve",
            "--system",
            "dgx_h100_ib",
            "--model",
            "llama3_70b",
            "--chips",
            "8",
            "--input-len",
            "512",
            "--output-len",
            "128",
            "--disaggregate",
            split,
        ];
        args.extend(extra);
        let o = archsim(args);
        assert_eq!(o.status.code(), Some(2), "{split}");
        let e = common::stderr(&o);
        assert!(e.contains("--disaggregate"), "{split}: {e}");
    }
}
