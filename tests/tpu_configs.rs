//! Shipped TPU configs: they load, their peaks match SPECS.md §1.1, every value carries a source
//! comment, and bad values are input errors naming the file, line and key.
mod common;

use archsim::registry;
use archsim::DType;
use common::{line_starting, load_file, shipped_src, systolic as cfg};

const TPUS: [&str; 6] = ["tpu_v4", "tpu_v5e", "tpu_v5p", "tpu_v5", "tpu_v6e", "tpu7x"];

fn close(a: f64, b: f64, rel: f64) -> bool {
    ((a - b) / b).abs() <= rel
}

#[test]
fn peaks_match_specs() {
    // (config, bf16 TF, int8 TOPS, fp8 TF) per chip, SPECS §1.1.
    let want = [
        ("tpu_v4", 275.0, 275.0),
        ("tpu_v5e", 197.0, 394.0),
        ("tpu_v5p", 459.0, 918.0),
        ("tpu_v5", 459.0, 918.0),
        ("tpu_v6e", 918.0, 1836.0),
        ("tpu7x", 2307.0, 2307.0),
    ];
    for (name, bf16, int8) in want {
        let m = registry::load(name).unwrap().build(None).unwrap();
        assert!(
            close(m.peak_flops(DType::Bf16) / 1e12, bf16, 0.01),
            "{name} bf16 {}",
            m.peak_flops(DType::Bf16) / 1e12
        );
        assert!(
            close(m.peak_flops(DType::Int8) / 1e12, int8, 0.01),
            "{name} int8"
        );
    }
    let m = registry::load("tpu7x").unwrap().build(None).unwrap();
    assert!(close(m.peak_flops(DType::Fp8) / 1e12, 4614.0, 0.01));
}

#[test]
fn tpu_v5_is_the_main_job_config() {
    let l = registry::load("tpu_v5").unwrap();
    assert_eq!(l.compare_with(), Some("h100"));
    assert_eq!(l.default_workloads(), vec!["resnet50"]);
    let w = l.workload_section().unwrap();
    assert_eq!(w.models, vec!["llama3_8b", "gpt3_175b"]);
    let cost = l.cost().expect("tpu_v5 has [cost]");
    assert!(cost.usd_per_chip_hour > 0.0 && !cost.source.is_empty());
    // Same machine as tpu_v5p.
    let (a, b) = (cfg("tpu_v5"), cfg("tpu_v5p"));
    assert_eq!(
        (a.array, a.chip, a.sram, a.hbm),
        (b.array, b.chip, b.sram, b.hbm)
    );
}

#[test]
fn every_value_has_a_source_comment() {
    for name in TPUS {
        let src = shipped_src(name);
        let mut section = String::new();
        for (i, line) in src.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t.to_string();
                continue;
            }
            if t.is_empty() || t.starts_with('#') || !t.contains('=') {
                continue;
            }
            let top = section.is_empty() || section == "[compare]" || section == "[workload]";
            let key = t.split('=').next().unwrap().trim();
            if top || key == "source" {
                continue;
            }
            assert!(
                t.contains('#'),
                "{name}.toml:{}: `{t}` has no source comment",
                i + 1
            );
        }
    }
}

#[test]
fn sweep_keys_exist() {
    for name in TPUS {
        let src = shipped_src(name);
        for key in ["array.rows", "array.cols", "hbm.bandwidth_gbps"] {
            assert!(
                archsim::config::toml_key_line(src, key).is_some(),
                "{name}: {key}"
            );
        }
    }
}

#[test]
fn bad_values_are_input_errors_with_line_and_key() {
    let src = shipped_src("tpu_v5p");
    let cases = [
        ("rows = 128 ", "rows = 0   ", "array.rows"),
        ("cores = 2 ", "cores = 0 ", "chip.cores"),
        (
            "bandwidth_gbps = 2765.0",
            "bandwidth_gbps = -1.0",
            "hbm.bandwidth_gbps",
        ),
        ("clock_mhz = 1750.0", "clock_mhz = 1e12", "chip.clock_mhz"),
        ("vmem_mib = 64.0", "vmem_mib = 0.0", "sram.vmem_mib"),
        ("static_w = 90.0", "static_w = -3.0", "energy.static_w"),
    ];
    for (from, to, key) in cases {
        assert!(src.contains(from), "{from}");
        let bad = src.replacen(from, to, 1);
        let line = line_starting(&bad, to.trim_end());
        let e = load_file("bad.toml", &bad).unwrap_err();
        let s = e.to_string();
        assert_eq!(e.exit_code(), 2, "{s}");
        assert!(s.contains(&format!("bad.toml:{line}")), "{key}: {s}");
        assert!(s.contains(key), "{key}: {s}");
    }
    // Unknown key and wrong type.
    let unknown = src.replacen("mxus = 4", "mxus = 4\nmxu_count = 4", 1);
    let s = load_file("bad.toml", unknown).unwrap_err().to_string();
    assert!(s.contains("mxu_count"), "{s}");
    let wrong_type = src.replacen("cores = 2 ", "cores = \"two\" ", 1);
    let e = load_file("bad.toml", wrong_type).unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn transformer_layer_is_costed_whole_and_quickly() {
    use archsim::workload::{VectorKind, VectorOp};
    use archsim::{Gemm, Op};
    let m = registry::load("tpu_v5").unwrap().build(None).unwrap();
    let ops = vec![
        Op::Gemm(Gemm::new("qkv", 2048, 36864, 12288)),
        Op::Gemm(Gemm::new("qk_t", 2048, 2048, 128).with_batch(96)),
        Op::Vector(VectorOp {
            name: "softmax".into(),
            kind: VectorKind::Softmax,
            elements: 96 * 2048 * 2048,
            dtype: DType::Bf16,
        }),
        Op::Gemm(Gemm::new("av", 2048, 128, 2048).with_batch(96)),
        Op::Gemm(Gemm::new("ffn_up", 2048, 49152, 12288)),
        Op::Vector(VectorOp {
            name: "gelu".into(),
            kind: VectorKind::Gelu,
            elements: 2048 * 49152,
            dtype: DType::Bf16,
        }),
        Op::Gemm(Gemm::new("decode_qkv", 1, 36864, 12288)),
    ];
    let r = archsim::simulate_ops(m.as_ref(), &ops).unwrap();
    for p in &r.ops {
        let tb = &p.time_breakdown_s;
        assert!(
            (tb.total_s() - p.time_s).abs() <= 1e-9 * p.time_s,
            "{}",
            p.name
        );
        assert!(p.energy_pj > 0.0, "{}", p.name);
        assert!(p.utilization >= 0.0 && p.utilization <= 1.0);
    }
    // Big prefill GEMMs are compute-bound near peak; the softmax and decode GEMM are memory-bound.
    // (0.850 of peak since the shipped TPU configs carry the v5e kernel efficiency.)
    assert!(r.ops[0].utilization > 0.8, "{}", r.ops[0].utilization);
    assert_eq!(r.ops[2].main_stall, "memory_stall");
    let decode = &r.ops[6];
    let weight_bytes = 36864.0 * 12288.0 * 2.0;
    assert!(decode.counters.hbm_read_bytes >= weight_bytes);
    assert!(decode.time_s >= weight_bytes / 2765e9);
    // The JSON plan names the mapper's choice.
    assert!(r.ops[0].plan["tile_m"].as_u64().is_some());
    assert!(r.ops[0].plan["core_split"].is_string());
}
