//! The other chips of the debate (issue 15): AWS Trainium2/3 (systolic), AMD MI300X/MI325X/MI355X
//! and NVIDIA GB200 (per GPU) / B300 (SIMT).
//!
//! * every dense peak and HBM bandwidth of `tests/data/published_peaks.csv` (each row with its
//!   source) is matched within 2 % by the shipped config; the chip-page figures the Trainium
//!   configs deliberately do not match (the clock discrepancy, SPECS §6.1) sit where the configs
//!   say;
//! * each runs an 8192³ bf16 GEMM with finite figures and utilization in (0, 1];
//! * the new model features behave: named memory levels (SBUF/PSUM, LDS/L2/Infinity Cache),
//!   MFMA instruction shapes per CDNA generation, fp4/MX units where published;
//! * the measured rows of `tests/data/measured_gemm.csv` for these chips are a sanity check (not
//!   a calibration): printed against the model, bounded loosely;
//! * `archsim list` describes every machine and `archsim compare` runs between new and old ones;
//! * every source tag of every shipped config resolves in docs/SPECS.md.

mod common;

use archsim::fsio::CsvFile;
use archsim::machine::Machine;
use archsim::registry::load;
use archsim::run::simulate_op;
use archsim::workload::{DType, Gemm, Op};
use common::{archsim_in_tempdir, assert_ok, data_dir, repo_file, stdout};
use std::collections::BTreeSet;

/// The configs this issue ships.
const NEW: [&str; 7] = [
    "trn2", "trn3", "mi300x", "mi325x", "mi355x", "gb200", "b300",
];

fn machine(name: &str) -> Box<dyn Machine> {
    load(name).unwrap().build(None).unwrap()
}

/// One row of `tests/data/published_peaks.csv`.
struct Published {
    config: String,
    metric: String,
    dtype: String,
    value: f64,
    status: String,
    source: String,
}

fn published() -> Vec<Published> {
    let csv = CsvFile::read(&data_dir().join("published_peaks.csv")).unwrap();
    let col = |n: &str| csv.column(n).unwrap();
    let (c, m, d, v, s, src) = (
        col("config"),
        col("metric"),
        col("dtype"),
        col("published"),
        col("status"),
        col("source"),
    );
    csv.rows
        .iter()
        .map(|r| Published {
            config: r[c].clone(),
            metric: r[m].clone(),
            dtype: r[d].clone(),
            value: r[v].parse().unwrap(),
            status: r[s].clone(),
            source: r[src].clone(),
        })
        .collect()
}

/// The model's figure for a published row: dense peak (TFLOP/s) or HBM bandwidth (GB/s).
fn modelled(p: &Published) -> f64 {
    let m = machine(&p.config);
    match p.metric.as_str() {
        "peak_dense" => m.info().peak_flops(p.dtype.parse::<DType>().unwrap()) / 1e12,
        "hbm_bandwidth" => m.info().hbm_bandwidth_bytes_per_s() / 1e9,
        other => panic!("unknown metric {other}"),
    }
}

#[test]
fn peaks_and_hbm_bandwidth_within_2_percent_of_the_published_figures() {
    let rows = published();
    for name in NEW {
        assert!(
            rows.iter()
                .any(|r| r.config == name && r.metric == "hbm_bandwidth"),
            "{name}: no published HBM bandwidth row"
        );
        assert!(
            rows.iter()
                .any(|r| r.config == name && r.metric == "peak_dense" && r.dtype == "bf16"),
            "{name}: no published bf16 peak row"
        );
    }
    for r in &rows {
        assert!(!r.source.trim().is_empty(), "{}: no source", r.config);
        let got = modelled(r);
        let err = got / r.value - 1.0;
        println!(
            "{:7} {:13} {:6} published {:9.1} model {:9.1} ({:+.2}%)  [{}] {}",
            r.config,
            r.metric,
            r.dtype,
            r.value,
            got,
            err * 100.0,
            r.status,
            r.source
        );
        match r.status.as_str() {
            "published" | "recalled" => assert!(
                err.abs() <= 0.02,
                "{} {} {}: model {got} vs {} ({:+.2}%)",
                r.config,
                r.metric,
                r.dtype,
                r.value,
                err * 100.0
            ),
            // The Trainium chip-page figures imply 2.48-2.56 GHz, not the documented 2.4 GHz
            // (SPECS §6.1): the configs sit 3-7 % below them, by design.
            "chip_page_not_matched" => assert!(
                (-0.07..=-0.03).contains(&err),
                "{} {}: {:+.2}% is not the documented 3-7% gap",
                r.config,
                r.dtype,
                err * 100.0
            ),
            other => panic!("unknown status {other}"),
        }
    }
}

#[test]
fn each_runs_an_8192_cubed_bf16_gemm_with_sane_figures() {
    let op = Op::Gemm(Gemm::new("g", 8192, 8192, 8192).with_dtype(DType::Bf16));
    for name in NEW {
        let m = machine(name);
        let p = simulate_op(m.as_ref(), &op).unwrap();
        let e = p.energy.as_ref().unwrap();
        let power = e.total_pj * 1e-12 / p.time_s;
        println!(
            "{name:7} {:8.3} ms {:8.1} TFLOP/s util {:5.1}% power {:6.0} W  main stall {}",
            p.time_s * 1e3,
            p.tflops,
            p.utilization * 100.0,
            power,
            p.main_stall
        );
        assert!(p.time_s.is_finite() && p.time_s > 0.0, "{name}");
        assert!(
            p.utilization > 0.5 && p.utilization <= 1.0,
            "{name}: {}",
            p.utilization
        );
        assert!(p.tflops * 1e12 <= m.info().peak_flops(DType::Bf16) * (1.0 + 1e-9));
        assert!(power.is_finite() && power > 0.0, "{name}: {power} W");
        if let Some(tdp) = m.info().tdp_w {
            // The TDP-scaling energy rule of the GPU configs lands within 20 % of the TDP.
            assert!(
                (power / tdp - 1.0).abs() < 0.2,
                "{name}: {power} W vs {tdp} W"
            );
        }
        assert_eq!(p.math_dtype, DType::Bf16);
        assert!(p.note.is_none());
    }
}

#[test]
fn memory_levels_are_named_as_the_chips_name_them() {
    let names = |c: &str| -> Vec<String> {
        machine(c)
            .info()
            .memory
            .iter()
            .map(|l| l.name.clone())
            .collect()
    };
    assert_eq!(names("trn2"), ["hbm", "sbuf", "psum"]);
    assert_eq!(names("trn3"), ["hbm", "sbuf", "psum"]);
    for amd in ["mi300x", "mi325x", "mi355x"] {
        assert_eq!(names(amd), ["hbm", "infinity_cache", "l2", "lds"], "{amd}");
    }
    for nv in ["gb200", "b300", "h100"] {
        assert_eq!(names(nv), ["hbm", "l2", "smem"], "{nv}");
    }
    assert_eq!(names("tpu_v5p"), ["hbm", "vmem"]);
    assert_eq!(names("tpu_v4"), ["hbm", "cmem", "vmem"]);
    // Capacities of the whole chip: SBUF 8 x 28 MiB, PSUM 8 x 2 MiB; LDS 304 x 64 KiB.
    let trn2 = machine("trn2");
    let cap = |n: &str| trn2.info().memory_level(n).unwrap().capacity_bytes.unwrap();
    assert_eq!(cap("sbuf"), 224 << 20);
    assert_eq!(cap("psum"), 16 << 20);
    let mi = machine("mi300x");
    let lds = mi.info().memory_level("lds").unwrap();
    assert_eq!(lds.capacity_bytes, Some(304 * 65536));
    let ic = mi.info().memory_level("infinity_cache").unwrap();
    assert_eq!(ic.capacity_bytes, Some(256 << 20));
}

#[test]
fn trainium_output_tiles_fit_psum() {
    for name in ["trn2", "trn3"] {
        let m = machine(name);
        for dt in [DType::Bf16, DType::Fp8] {
            let p = m
                .simulate(&Op::Gemm(Gemm::new("g", 8192, 8192, 8192).with_dtype(dt)))
                .unwrap();
            let (tm, tn) = (
                p.plan["tile_m"].as_u64().unwrap(),
                p.plan["tile_n"].as_u64().unwrap(),
            );
            assert!(tm * tn * 4 <= 2 << 20, "{name} {dt}: {tm}x{tn} f32 > PSUM");
        }
    }
}

#[test]
fn cdna_kernels_use_wavefront_64_mfma_shapes() {
    let plan = |c: &str, dt: DType| {
        let p = machine(c)
            .simulate(&Op::Gemm(Gemm::new("g", 4096, 4096, 4096).with_dtype(dt)))
            .unwrap();
        assert_eq!(p.math_dtype, dt, "{c} {dt}");
        p.plan
    };
    // CDNA 3: 32x32x8 bf16, 32x32x16 fp8; CDNA 4: 32x32x16 bf16, 32x32x64 fp8 and fp4.
    for (c, dt, k) in [
        ("mi300x", DType::Bf16, 8),
        ("mi300x", DType::Fp8, 16),
        ("mi325x", DType::Int8, 16),
        ("mi355x", DType::Bf16, 16),
        ("mi355x", DType::Fp8, 64),
        ("mi355x", DType::Mxfp4, 64),
    ] {
        let p = plan(c, dt);
        assert_eq!(
            p["mma_shape"],
            serde_json::json!([32, 32, k]),
            "{c} {dt}: {p}"
        );
        assert!(p["kernel"].as_str().unwrap().contains("v_mfma"), "{c}: {p}");
        assert!(p["math"].as_str().unwrap().contains("matrix core"), "{p}");
    }
    // NVIDIA keeps its kernels.
    let p = plan("gb200", DType::Bf16);
    assert!(p["kernel"].as_str().unwrap().contains("tcgen05"), "{p}");
    // The machine object reports the wavefront and the Infinity Cache; NVIDIA's does not.
    let j = machine("mi300x").info().to_json(DType::Bf16);
    assert_eq!(j["warp_size"], 64);
    assert_eq!(j["infinity_cache_bytes"], 256u64 << 20);
    let j = machine("h100").info().to_json(DType::Bf16);
    assert!(j.get("warp_size").is_none() && j.get("infinity_cache_bytes").is_none());
}

#[test]
fn fp4_and_mx_units_where_published_fallback_elsewhere() {
    let run = |c: &str, dt: DType| {
        machine(c)
            .simulate(&Op::Gemm(Gemm::new("g", 8192, 8192, 8192).with_dtype(dt)))
            .unwrap()
    };
    // Native fp4: MI355X (MXFP4), Trainium3 (MXFP4), GB200 and B300 (NVFP4/MXFP4).
    for c in ["mi355x", "trn3", "gb200", "b300"] {
        let p = run(c, DType::Mxfp4);
        assert_eq!(p.math_dtype, DType::Mxfp4, "{c}");
        assert!(p.note.is_none(), "{c}");
        let fp8 = run(c, DType::Fp8);
        assert!(p.time_s <= fp8.time_s * 1.0001, "{c}: fp4 slower than fp8");
    }
    // No fp4 units: MI300X/MI325X and Trainium2 fall back to fp8 (faster than their bf16).
    for c in ["mi300x", "mi325x", "trn2"] {
        let p = run(c, DType::Fp4);
        assert_eq!(p.math_dtype, DType::Fp8, "{c}");
        assert!(p.note.as_deref().unwrap().contains("no fp4 units"), "{c}");
    }
}

/// A device name of `measured_gemm.csv` → the shipped config modelling it (these chips only).
fn config_for(device: &str) -> Option<&'static str> {
    match device {
        "MI300X" => Some("mi300x"),
        "MI325X" => Some("mi325x"),
        "MI355X" => Some("mi355x"),
        "GB200 (per GPU)" => Some("gb200"),
        "B300" => Some("b300"),
        _ => None,
    }
}

/// The single MAMF rows of `measured_gemm.csv` for the new GPUs: a sanity check, not a
/// calibration (nothing is fitted on them). Each is the best shape of a brute-force sweep
/// (selection-biased upward) timed with CUDA events on the vendor stack of its day. The model
/// must land within a factor of two of them and never above its own peak; the printout is the
/// README's sanity table.
#[test]
fn measured_rows_are_a_sanity_check() {
    let csv = CsvFile::read(&data_dir().join("measured_gemm.csv")).unwrap();
    let col = |n: &str| csv.column(n).unwrap();
    let (dev, dt, m, n, k, tf, pk) = (
        col("device"),
        col("dtype"),
        col("M"),
        col("N"),
        col("K"),
        col("measured_tflops"),
        col("peak_tflops_used"),
    );
    let mut seen = BTreeSet::new();
    for r in &csv.rows {
        let Some(cfg) = config_for(&r[dev]) else {
            continue;
        };
        let dtype: DType = r[dt].trim_end_matches("_e4m3").parse().unwrap();
        let (mm, nn, kk): (u64, u64, u64) = (
            r[m].parse().unwrap(),
            r[n].parse().unwrap(),
            r[k].parse().unwrap(),
        );
        let measured: f64 = r[tf].parse().unwrap();
        let mach = machine(cfg);
        let p = mach
            .simulate(&Op::Gemm(Gemm::new("g", mm, nn, kk).with_dtype(dtype)))
            .unwrap();
        let ratio = p.tflops / measured;
        println!(
            "{cfg:7} {dtype:5} {mm}x{nn}x{kk}: measured {measured:7.1} TF ({:.1}% of {} quoted) | archsim {:7.1} TF ({:.1}% of {:.0}) | archsim/measured {ratio:.2}",
            measured / r[pk].parse::<f64>().unwrap() * 100.0,
            r[pk],
            p.tflops,
            p.utilization * 100.0,
            mach.info().peak_flops(dtype) / 1e12,
        );
        assert!(p.utilization > 0.0 && p.utilization <= 1.0);
        assert!((0.5..=2.0).contains(&ratio), "{cfg} {dtype}: x{ratio:.2}");
        seen.insert(cfg);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["b300", "gb200", "mi300x", "mi325x", "mi355x"]
    );
}

#[test]
fn list_describes_every_machine_and_compare_runs_between_any_two() {
    let (_d, o) = archsim_in_tempdir(&["list"]);
    assert_ok(&o);
    let out = stdout(&o);
    for name in archsim::config::shipped_names() {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
        let kind = if name.starts_with("tpu") || name.starts_with("trn") {
            "systolic"
        } else {
            "simt"
        };
        assert!(line.contains(kind), "{line}");
        assert!(line.contains("TF dense") && line.len() > 40, "{line}");
    }
    assert!(out.contains("AWS Trainium2") && out.contains("AMD Instinct MI355X"));
    // New against new, new against old, across kinds.
    for (a, b) in [
        ("trn2", "mi300x"),
        ("trn3", "gb200"),
        ("mi355x", "b300"),
        ("mi325x", "tpu7x"),
        ("h100", "trn2"),
    ] {
        let (_d, o) = archsim_in_tempdir(&[
            "compare",
            "--config",
            a,
            "--vs",
            b,
            "--workload",
            "smoke",
            "--out",
            "{d}",
            "-q",
        ]);
        assert_ok(&o);
        let s = stdout(&o);
        assert!(
            s.contains(a) && s.contains(b) && s.contains("verdict:"),
            "{s}"
        );
    }
}

#[test]
fn every_config_source_tag_resolves_in_specs_md() {
    let specs = repo_file("docs/SPECS.md");
    let sources = &specs[specs.find("## Sources (tag").expect("Sources section")..];
    let tags = |text: &str| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(i) = rest.find('[') {
            rest = &rest[i + 1..];
            let Some(j) = rest.find(']') else { break };
            let t = &rest[..j];
            let tag_like = t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if tag_like {
                out.insert(t.to_string());
            }
        }
        out
    };
    let defined = tags(sources);
    for (file, src) in archsim::config::embedded::configs() {
        let missing: Vec<String> = tags(src).difference(&defined).cloned().collect();
        assert!(
            missing.is_empty(),
            "{file}: {missing:?} not in docs/SPECS.md Sources"
        );
    }
    for name in NEW {
        let src = archsim::config::shipped(name).unwrap().1;
        assert!(tags(src).len() >= 5, "{name}: too few sources");
    }
}
