//! Property tests of the PE-level reference: over random small shapes and arrays, the product
//! equals an ndarray matmul, the cycle count equals SCALE-Sim's per-fold formula, and the native
//! model's pipeline cycles equal the documented overlap rule (`pe::native_rule_cycles`) and the
//! cycles of the TPU-style PE grid (`pe::simulate_overlapped`) for WS and IS.
mod common;

use archsim::systolic::config::{Dataflow, SystolicConfig};
use archsim::systolic::native::NativeTpuMachine;
use archsim::systolic::pe::{self, SplitMix};
use archsim::{Gemm, Machine, Op};
use half::bf16;
use ndarray::Array2;
use proptest::prelude::*;

/// A `rows`×`cols` matrix of `next(rng)` values from a generator seeded with `seed`.
fn random(rows: usize, cols: usize, seed: u64, next: fn(&mut SplitMix) -> f32) -> Array2<f32> {
    let mut r = SplitMix(seed);
    Array2::from_shape_fn((rows, cols), |_| next(&mut r))
}

/// Integers in [-5, 5].
fn ints(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    random(rows, cols, seed, |r| r.next_int(5))
}

fn floats(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    random(rows, cols, seed, SplitMix::next_f32)
}

fn dataflow() -> impl Strategy<Value = Dataflow> {
    prop_oneof![Just(Dataflow::Os), Just(Dataflow::Ws), Just(Dataflow::Is)]
}

/// A single-core, single-MXU machine with memory so fast it never stalls and no overhead.
fn ideal_native(r: u64, c: u64, df: Dataflow) -> NativeTpuMachine {
    let src = format!(
        "kind = \"systolic\"\n[array]\nrows = {r}\ncols = {c}\ndataflow = \"{df}\"\n[chip]\nclock_mhz = 1.0\n[sram]\nvmem_mib = 1024\n[hbm]\nbandwidth_gbps = 1e8\nlatency_ns = 0\n"
    );
    NativeTpuMachine::new(
        SystolicConfig::from_toml(&src, "ideal.toml").unwrap(),
        "ideal",
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn f32_integer_product_is_exact_and_cycles_match_scalesim(
        m in 1usize..24, n in 1usize..24, k in 1usize..24,
        r in 1u64..10, c in 1u64..10, df in dataflow(), seed in any::<u64>(),
    ) {
        let a = ints(m, k, seed);
        let b = ints(k, n, seed ^ 0xABCD);
        let res = pe::simulate(&a, &b, r, c, df).unwrap();
        prop_assert_eq!(&res.product, &a.dot(&b));
        prop_assert_eq!(res.cycles, pe::scalesim_cycles(m as u64, n as u64, k as u64, r, c, df));
        prop_assert_eq!(res.folds, pe::folds(m as u64, n as u64, k as u64, r, c, df));
    }

    #[test]
    fn bf16_product_within_rounding(
        m in 1usize..16, n in 1usize..16, k in 1usize..32,
        r in 1u64..8, c in 1u64..8, df in dataflow(), seed in any::<u64>(),
    ) {
        let a = floats(m, k, seed);
        let b = floats(k, n, seed ^ 0x1234);
        let ah = a.mapv(bf16::from_f32);
        let bh = b.mapv(bf16::from_f32);
        let res = pe::simulate(&ah, &bh, r, c, df).unwrap();
        // Same operand values: equal up to f32 accumulation order.
        let a32 = ah.mapv(|x| x.to_f32());
        let b32 = bh.mapv(|x| x.to_f32());
        pe::check_against_ndarray(&a32, &b32, &res.product).unwrap();
        // Against the unrounded f32 operands: within bf16 rounding (2^-8 relative per operand).
        let exact = a.dot(&b);
        let bound = a.mapv(f32::abs).dot(&b.mapv(f32::abs)) * (2.0 * 2f32.powi(-8) + 1e-5);
        for ((x, y), e) in res.product.iter().zip(exact.iter()).zip(bound.iter()) {
            prop_assert!((x - y).abs() <= *e + 1e-6, "{} vs {} (bound {})", x, y, e);
        }
    }

    #[test]
    fn overlapped_pe_agrees_with_the_native_model(
        m in 1usize..40, n in 1usize..40, k in 1usize..40,
        r in 1u64..12, c in 1u64..12, ws in any::<bool>(), seed in any::<u64>(),
    ) {
        // The TPU-style PE grid (double-buffered weights, accumulators) stepped cycle by cycle
        // takes exactly the native model's pipeline cycles, and computes the exact product.
        let df = if ws { Dataflow::Ws } else { Dataflow::Is };
        let a = ints(m, k, seed);
        let b = ints(k, n, seed ^ 0x5555);
        let res = pe::simulate_overlapped(&a, &b, r, c, df).unwrap();
        prop_assert_eq!(&res.product, &a.dot(&b));
        let native = ideal_native(r, c, df);
        let p = native.simulate(&Op::Gemm(Gemm::new("g", m as u64, n as u64, k as u64))).unwrap();
        let tb = &p.time_breakdown_s;
        let native_cycles = (tb.compute_s + tb.fill_drain_s + tb.tail_s) * 1e6;
        prop_assert!((native_cycles - res.cycles as f64).abs() < 1e-6 * native_cycles,
            "native {} vs PE {}", native_cycles, res.cycles);
    }

    #[test]
    fn native_pipeline_cycles_follow_the_overlap_rule(
        m in 1u64..64, n in 1u64..64, k in 1u64..64,
        r in 1u64..16, c in 1u64..16, df in dataflow(),
    ) {
        let native = ideal_native(r, c, df);
        let p = native.simulate(&Op::Gemm(Gemm::new("g", m, n, k))).unwrap();
        let tb = &p.time_breakdown_s;
        // clock = 1 MHz: one cycle = 1 µs.
        let pipeline_cycles = (tb.compute_s + tb.fill_drain_s + tb.tail_s) * 1e6;
        let rule = pe::native_rule_cycles(m, n, k, r, c, df) as f64;
        prop_assert!((pipeline_cycles - rule).abs() < 1e-6 * rule.max(1.0),
            "native {} vs rule {} (scalesim {})", pipeline_cycles, rule, pe::scalesim_cycles(m, n, k, r, c, df));
        // The overlap can only save cycles, and saves none for a single fold.
        let ss = pe::scalesim_cycles(m, n, k, r, c, df);
        prop_assert!(rule <= ss as f64);
        if pe::folds(m, n, k, r, c, df) == 1 {
            prop_assert_eq!(rule as u64, ss);
        }
    }
}

#[test]
fn pe_machine_runs_and_verifies() {
    let src = "kind = \"systolic\"\n[array]\nrows = 16\ncols = 16\n[chip]\nclock_mhz = 1000\n[sram]\nvmem_mib = 16\n[hbm]\nbandwidth_gbps = 1000\n";
    let cfg = SystolicConfig::from_toml(src, "pe.toml").unwrap();
    let m = archsim::systolic::build(&cfg, "pe16", archsim::SimMode::Pe).unwrap();
    for dt in [
        archsim::DType::Fp32,
        archsim::DType::Bf16,
        archsim::DType::Int8,
    ] {
        let g = Gemm::new("g", 64, 64, 64).with_dtype(dt).with_batch(2);
        let p = m.simulate(&Op::Gemm(g)).unwrap();
        assert_eq!(
            p.cycles,
            2 * pe::scalesim_cycles(64, 64, 64, 16, 16, Dataflow::Ws)
        );
        assert_eq!(p.plan["verified_against_ndarray"], true);
        assert!((p.time_breakdown_s.total_s() - p.time_s).abs() < 1e-15);
    }
    // Too big for PE mode: a clear input error, not a hang.
    let e = m
        .simulate(&Op::Gemm(Gemm::new("big", 4096, 4096, 4096)))
        .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("native"), "{e}");
}

#[test]
fn pe_mode_refuses_big_arrays_and_scalesim_mode_on_toml() {
    let cfg = common::systolic("tpu_v6e");
    // 256×256 is the limit: accepted; a 512 array is not.
    assert!(archsim::systolic::build(&cfg, "v6e", archsim::SimMode::Pe).is_ok());
    let mut big = cfg.clone();
    big.array.rows = 512;
    let e = archsim::systolic::build(&big, "big", archsim::SimMode::Pe)
        .err()
        .unwrap();
    assert_eq!(e.exit_code(), 2);
    let e = archsim::systolic::build(&cfg, "v6e", archsim::SimMode::Scalesim)
        .err()
        .unwrap();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains(".cfg"), "{e}");
}
