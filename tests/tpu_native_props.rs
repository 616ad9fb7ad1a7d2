//! Properties of the native TPU model over random GEMMs and machines: it never panics, its time
//! breakdown adds up, it respects the roofline, it moves at least the minimum bytes, and more
//! bandwidth never makes it slower, and an output tile's write overlaps only the steps after it.
use archsim::systolic::config::SystolicConfig;
use archsim::systolic::native::{CoreSplit, LoopOrder, NativeTpuMachine, Tiling};
use archsim::workload::{VectorKind, VectorOp};
use archsim::{DType, Gemm, Machine, Op};
use proptest::prelude::*;

fn machine(
    r: u64,
    c: u64,
    mxus: u64,
    cores: u64,
    vmem_mib: f64,
    bw: f64,
    cmem: f64,
) -> NativeTpuMachine {
    let src = format!(
        "kind = \"systolic\"\n[array]\nrows = {r}\ncols = {c}\nmxus = {mxus}\n[chip]\ncores = {cores}\nclock_mhz = 1000\ndispatch_overhead_us = 0.5\n[sram]\nvmem_mib = {vmem_mib}\ncmem_mib = {cmem}\ncmem_bandwidth_gbps = 4000\n[hbm]\nbandwidth_gbps = {bw}\nlatency_ns = 300\nefficiency = 0.9\n"
    );
    NativeTpuMachine::new(SystolicConfig::from_toml(&src, "p.toml").unwrap(), "p")
}

fn dtype() -> impl Strategy<Value = DType> {
    proptest::sample::select(vec![
        DType::Bf16,
        DType::Fp32,
        DType::Int8,
        DType::Fp8,
        DType::Fp4,
        DType::Mxfp4,
    ])
}

/// Dimensions from 1 to 2^20 with a bias to small and power-of-two-ish sizes.
fn dim() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..300,
        (0u32..21).prop_map(|e| 1u64 << e),
        1u64..(1 << 20)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Rule 4 (Pallas pipelining, JAX-MM): an output tile's write starts when its last k-step
    /// ends and overlaps only later steps, so on one core a GEMM takes at least the first
    /// step's loads, the first step's useful MXU time and every output write, one after the
    /// other (plus dispatch). Forced tilings with arbitrary M tiles give edge tiles of any size,
    /// the case where a small last step hid the previous tile's write.
    #[test]
    fn output_writes_overlap_only_later_steps(
        m in 1u64..5000, n in 1u64..5000, k in prop_oneof![1u64..64, 1u64..700],
        tm in 1u64..2100, tn in prop_oneof![Just(128u64), Just(512), Just(2048)],
        tk in prop_oneof![Just(128u64), Just(512)], m_outer in any::<bool>(),
    ) {
        let (r, bw_gbps) = (128u64, 1000.0);
        let mach = machine(r, r, 1, 1, 64.0, bw_gbps, 0.0);
        let g = Gemm::new("g", m, n, k).with_dtype(DType::Bf16);
        let order = if m_outer { LoopOrder::MOuter } else { LoopOrder::NOuter };
        let t = Tiling { tm, tn, tk, order, split: CoreSplit::None };
        // A tiling that does not fit the VMEM is an input error, not a case.
        let Ok(p) = mach.simulate_gemm(&g, Some(t)) else { return Ok(()) };
        let (tm1, tn1, tk1) = (tm.min(m) as f64, tn.min(n) as f64, tk.min(k) as f64);
        let bw = bw_gbps * 1e9 * 0.9; // hbm.efficiency 0.9, one core
        let first_loads_s = (tm1 * tk1 + tk1 * tn1) * 2.0 / bw;
        let first_compute_s = tm1 * tn1 * tk1 / (r * r) as f64 / 1e9; // 1 GHz, 1 MXU
        let writes_s = (m * n) as f64 * 2.0 / bw;
        let bound = 0.5e-6 + first_loads_s + first_compute_s + writes_s;
        prop_assert!(p.time_s >= bound * (1.0 - 1e-9), "{} < {}", p.time_s, bound);
    }

    #[test]
    fn gemm_profile_is_consistent(
        m in dim(), n in dim(), k in dim(), batch in 1u64..8, shared in any::<bool>(),
        dt in dtype(), r in prop_oneof![Just(128u64), Just(256u64), 4u64..64],
        mxus in 1u64..5, cores in 1u64..3, bw in 100.0f64..10000.0,
    ) {
        let mach = machine(r, r, mxus, cores, 64.0, bw, 0.0);
        let mut g = Gemm::new("g", m, n, k).with_dtype(dt).with_batch(batch);
        g.shared_b = shared;
        let p = mach.simulate(&Op::Gemm(g.clone())).unwrap();
        let tb = &p.time_breakdown_s;
        prop_assert!(p.time_s.is_finite() && p.time_s > 0.0);
        prop_assert!((tb.total_s() - p.time_s).abs() <= 1e-9 * p.time_s);
        for part in [tb.compute_s, tb.fill_drain_s, tb.memory_stall_s, tb.tail_s, tb.overhead_s] {
            prop_assert!(part >= 0.0);
        }
        // Roofline: never faster than peak compute or than the minimum HBM traffic.
        // The peak the dtype runs at (fp4 has no units here: its bf16 fallback's).
        let peak = mach.info().effective_peak_flops(dt);
        prop_assert!(p.time_s >= g.flops() / peak * (1.0 - 1e-9));
        prop_assert!(p.time_s >= g.min_bytes() / (bw * 1e9) * (1.0 - 1e-9));
        prop_assert!(p.utilization <= 1.0 && p.mapping_efficiency <= 1.0 + 1e-12);
        // Bytes: A and B read at least once, C written exactly once.
        let e = dt.bytes_per_element();
        let c_bytes = e * (batch * m) as f64 * n as f64;
        prop_assert!((p.counters.hbm_write_bytes - c_bytes).abs() <= 1e-9 * c_bytes);
        prop_assert!(p.counters.hbm_read_bytes >= (g.min_bytes() - c_bytes) * (1.0 - 1e-9));
        prop_assert_eq!(p.cycles, p.compute_cycles + p.stall_cycles);
        // Twice the bandwidth is never slower.
        let fast = machine(r, r, mxus, cores, 64.0, 2.0 * bw, 0.0);
        let q = fast.simulate(&Op::Gemm(g)).unwrap();
        prop_assert!(q.time_s <= p.time_s * (1.0 + 1e-9), "{} > {}", q.time_s, p.time_s);
    }

    #[test]
    fn vector_ops_are_bandwidth_bound(elements in 1u64..(1 << 28), bw in 100.0f64..10000.0) {
        let mach = machine(128, 128, 4, 2, 64.0, bw, 0.0);
        for kind in [VectorKind::Softmax, VectorKind::Gelu, VectorKind::Add] {
            let v = VectorOp { name: "v".into(), kind, elements, dtype: DType::Bf16 };
            let p = mach.simulate(&Op::Vector(v.clone())).unwrap();
            prop_assert!(p.time_s >= v.bytes() / (bw * 1e9));
            prop_assert!((p.time_breakdown_s.total_s() - p.time_s).abs() <= 1e-12 + 1e-9 * p.time_s);
            prop_assert_eq!(p.counters.hbm_read_bytes + p.counters.hbm_write_bytes, v.bytes());
        }
    }
}

#[test]
fn cmem_absorbs_restreaming() {
    // Small VMEM forces re-streaming; a 128 MiB CMEM (TPU v4) serves the re-reads.
    let g = Gemm::new("g", 4096, 4096, 4096);
    let without = machine(128, 128, 4, 2, 2.0, 1200.0, 0.0)
        .simulate(&Op::Gemm(g.clone()))
        .unwrap();
    let with = machine(128, 128, 4, 2, 2.0, 1200.0, 128.0)
        .simulate(&Op::Gemm(g))
        .unwrap();
    assert!(with.counters.hbm_read_bytes < without.counters.hbm_read_bytes);
    assert!(with.time_s <= without.time_s);
}

#[test]
fn conv_reads_the_ifmap_not_the_im2col_matrix() {
    use archsim::workload::Conv2d;
    let conv = Conv2d {
        name: "conv3x3".into(),
        batch: 8,
        in_h: 56,
        in_w: 56,
        in_c: 64,
        filters: 64,
        kernel_h: 3,
        kernel_w: 3,
        stride: 1,
        padding: 1,
        dtype: DType::Bf16,
        scalesim_ceil: false,
    };
    let g = conv.to_gemm();
    let mach = machine(128, 128, 4, 2, 64.0, 2765.0, 0.0);
    let p = mach.simulate(&Op::Gemm(g.clone())).unwrap();
    let im2col = (g.m * g.k * 2) as f64;
    assert!(
        p.counters.hbm_read_bytes < im2col,
        "{} vs {}",
        p.counters.hbm_read_bytes,
        im2col
    );
}
