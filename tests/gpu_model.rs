//! Behaviour of the SIMT GPU model on known cases.
mod common;

use archsim::jobs::validate::gpu::machine;
use archsim::machine::Machine;
use archsim::registry::{load, HardwareConfig};
use archsim::simt::config::SimtConfig;
use archsim::workload::{DType, Gemm, Op, VectorKind, VectorOp};

fn run(cfg: &str, m: u64, n: u64, k: u64, dtype: DType) -> archsim::OpProfile {
    let mach = machine(cfg).unwrap();
    mach.simulate(&Op::Gemm(Gemm::new("g", m, n, k).with_dtype(dtype)))
        .unwrap()
}

/// Prints one GEMM's profile: `GEMM=h100,8192,8192,8192,bf16 cargo test --test gpu_model -- --ignored`.
#[test]
#[ignore]
fn print_plans() {
    let spec = std::env::var("GEMM").unwrap_or("h100,8192,8192,8192,bf16".into());
    let v: Vec<&str> = spec.split(',').collect();
    let p = run(
        v[0],
        v[1].parse().unwrap(),
        v[2].parse().unwrap(),
        v[3].parse().unwrap(),
        v[4].parse().unwrap(),
    );
    println!("{}", serde_json::to_string_pretty(&p).unwrap());
}

#[test]
fn shipped_configs_load_and_peaks_match_specs() {
    // SPECS.md §2.1 dense peaks (TFLOP/s) at the vendor's clock.
    for (cfg, dtype, tf) in [
        ("a100", DType::Bf16, 312.0),
        ("h100", DType::Bf16, 989.4),
        ("h100", DType::Fp8, 1978.9),
        ("h200", DType::Bf16, 989.4),
        ("b200", DType::Bf16, 2250.0),
        ("b200", DType::Fp8, 4500.0),
        ("h100", DType::Fp32, 66.9), // CUDA cores at 1,980 MHz (default fp32 math)
    ] {
        let m = machine(cfg).unwrap();
        let got = m.peak_flops(dtype) / 1e12;
        assert!(
            (got / tf - 1.0).abs() < 0.01,
            "{cfg} {dtype}: {got} vs {tf}"
        );
    }
}

#[test]
fn fp8_on_ampere_is_an_input_error() {
    let m = machine("a100").unwrap();
    let e = m
        .simulate(&Op::Gemm(
            Gemm::new("g", 1024, 1024, 1024).with_dtype(DType::Fp8),
        ))
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("fp8"), "{e}");
}

#[test]
fn breakdown_sums_to_time_and_plan_is_reported() {
    for (cfg, dt) in [
        ("a100", DType::Bf16),
        ("h100", DType::Bf16),
        ("h100", DType::Fp32),
        ("b200", DType::Fp8),
        ("h200", DType::Int8),
        ("mi300x", DType::Bf16),
        ("mi355x", DType::Fp8),
        ("mi325x", DType::Fp32),
        ("gb200", DType::Bf16),
    ] {
        for (m, n, k) in [
            (8192, 8192, 8192),
            (3000, 3000, 3000),
            (64, 12288, 12288),
            (1, 4096, 4096),
        ] {
            let p = run(cfg, m, n, k, dt);
            let t = &p.time_breakdown_s;
            assert!(
                (t.total_s() - p.time_s).abs() <= 1e-9 * p.time_s.max(1e-6),
                "{cfg} {m}"
            );
            for v in [
                t.compute_s,
                t.memory_stall_s,
                t.fill_drain_s,
                t.tail_s,
                t.overhead_s,
            ] {
                assert!(v >= 0.0 && v.is_finite(), "{cfg} {m}x{n}x{k}: {t:?}");
            }
            assert!(p.utilization > 0.0 && p.utilization <= 1.0);
            for key in [
                "cta_tile",
                "warp_tile",
                "stages",
                "split_k",
                "ctas",
                "ctas_per_sm",
                "waves",
                "occupancy",
            ] {
                assert!(p.plan.get(key).is_some(), "plan lacks {key}: {}", p.plan);
            }
            assert_eq!(p.counters.macs, (m * n * k) as u128);
            assert!(
                p.counters.hbm_read_bytes
                    >= ((m * k + k * n) as f64 * dt.bytes_per_element()) * 0.999
            );
        }
    }
}

#[test]
fn big_gemm_is_compute_bound_and_efficient() {
    let p = run("h100", 8192, 8192, 8192, DType::Bf16);
    // Measured 748–798 TFLOP/s (tests/data: gpu_sweep_h100, workplace).
    assert!(p.tflops > 650.0 && p.tflops < 900.0, "{}", p.tflops);
    // Tensor cores busy (at the peak clock, plus the slower sustained clock) most of the time.
    let t = &p.time_breakdown_s;
    assert!(t.compute_s + t.clock_throttle_s > 0.8 * p.time_s);
    assert!(t.clock_throttle_s > 0.0 && t.clock_throttle_s < 0.35 * p.time_s);
}

#[test]
fn skinny_gemm_is_memory_bound() {
    // M = 1 decode GEMV-like GEMM: HBM-bound (weights 12288² bf16 = 302 MB).
    let p = run("h100", 1, 12288, 12288, DType::Bf16);
    let bytes = 12288.0 * 12288.0 * 2.0;
    let floor = bytes / (3350e9 * 0.9);
    assert!(
        p.time_s >= floor && p.time_s < 1.6 * floor,
        "{} vs {}",
        p.time_s,
        floor
    );
    assert_eq!(p.main_stall, "memory_stall");
}

#[test]
fn split_k_for_small_mn_large_k() {
    let p = run("a100", 128, 128, 65536, DType::Bf16);
    assert!(p.plan["split_k"].as_u64().unwrap() > 1, "{}", p.plan);
}

#[test]
fn newer_gpus_are_faster() {
    let t = |c| run(c, 8192, 8192, 8192, DType::Bf16).time_s;
    assert!(t("a100") > t("h100") && t("h100") > t("b200"));
    // H200 = H100 die with faster HBM: a memory-bound GEMM is faster on it.
    let m = |c| run(c, 16, 12288, 12288, DType::Bf16).time_s;
    assert!(m("h200") < m("h100"));
}

#[test]
fn vector_op_is_memory_bound() {
    let mach = machine("h100").unwrap();
    let v = VectorOp {
        name: "ln".into(),
        kind: VectorKind::Layernorm,
        elements: 1 << 26,
        dtype: DType::Bf16,
    };
    let p = mach.simulate(&Op::Vector(v.clone())).unwrap();
    let floor = v.bytes() / (3350e9 * 0.9);
    assert!(p.time_s >= floor && p.time_s < 1.2 * floor + 10e-6);
    assert_eq!(p.counters.hbm_bytes(), v.bytes());
}

#[test]
fn deterministic() {
    let a = run("b200", 2048, 36864, 12288, DType::Bf16);
    let b = run("b200", 2048, 36864, 12288, DType::Bf16);
    assert_eq!(a, b);
}

fn h100_src() -> String {
    common::repo_file("configs/h100.toml")
}

#[test]
fn config_errors_name_key_and_line() {
    let src = h100_src().replace("count = 132 ", "count = 0 ");
    let e = SimtConfig::from_toml(&src, "bad.toml").unwrap_err();
    let line = common::line_starting(&src, "count = 0");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("bad.toml:{line}")) && msg.contains("sm.count"),
        "{msg}"
    );

    let src = h100_src().replace("hbm_efficiency = 0.90", "hbm_efficiency = 1.7");
    let msg = SimtConfig::from_toml(&src, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("memory.hbm_efficiency"), "{msg}");

    let src = h100_src().replace("[power]", "[power]\nwatts = 3");
    let msg = SimtConfig::from_toml(&src, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("watts"), "{msg}");

    let src = h100_src().replace("arch = \"hopper\"", "arch = \"volta\"");
    assert!(SimtConfig::from_toml(&src, "bad.toml").is_err());
}

#[test]
fn config_kind_simt_builds_a_gpu_machine() {
    let c = load("h100").unwrap();
    assert!(matches!(c.hw, HardwareConfig::Simt(_)));
    let m = c.build(None).unwrap();
    assert_eq!(m.name(), "h100");
    assert_eq!(m.info().details["arch"], "hopper");
}

#[test]
fn zero_dimension_is_an_input_error() {
    let m = machine("h100").unwrap();
    let e = m.simulate(&Op::Gemm(Gemm::new("g", 0, 8, 8))).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let big = 1u64 << 32;
    let e = m
        .simulate(&Op::Gemm(Gemm::new("g", big, big, big).with_batch(big)))
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn extreme_shapes_do_not_panic() {
    let big = 1u64 << 32;
    for cfg in ["a100", "h100", "b200"] {
        let m = machine(cfg).unwrap();
        for (mm, n, k, b) in [
            (1, 1, 1, 1),
            (big, 1, 1, 1),
            (1, 1, big, 1),
            (1, big, 1, 1),
            (1 << 20, 1 << 20, 1 << 20, 1 << 10),
            (big, big, big, 1),
            (100, 37, 53, 7),
        ] {
            for dt in [DType::Fp32, DType::Bf16, DType::Int8] {
                let g = Gemm::new("x", mm, n, k).with_dtype(dt).with_batch(b);
                let p = m.simulate(&Op::Gemm(g)).unwrap();
                assert!(
                    p.time_s.is_finite() && p.time_s > 0.0,
                    "{cfg} {mm} {n} {k} {b}"
                );
            }
        }
    }
}

/// Rough speed check of the plan search + simulation (the bench measures it properly).
#[test]
#[ignore]
fn time_per_gemm() {
    let m = machine("h100").unwrap();
    for (mm, n, k, b) in [
        (8192, 8192, 8192, 1),
        (2048, 36864, 12288, 1),
        (2048, 2048, 128, 96),
    ] {
        let op = Op::Gemm(Gemm::new("x", mm, n, k).with_batch(b));
        let t0 = std::time::Instant::now();
        let reps = 50;
        for _ in 0..reps {
            std::hint::black_box(m.simulate(&op).unwrap());
        }
        println!(
            "{mm}x{n}x{k} b{b}: {:.3} ms",
            t0.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    }
}
