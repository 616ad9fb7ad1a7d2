//! Plots and the Chrome trace from synthetic TPU and GPU reports: every file is written, PNGs are
//! PNGs, SVGs are SVG with the title text in them (so text rendered), and the trace is valid JSON
//! with both machines. Set `ARCHSIM_PLOT_DIR=dir` to keep the plots for a look.

mod common;

use archsim::energy::EnergyTable;
use archsim::machine::{
    Counters, MachineInfo, MachineKind, MachineReport, MemoryLevel, OpProfile, TimeBreakdown,
};
use archsim::plot::{self, Heatmap, ParetoPoint, PlotOptions, Roof};
use archsim::report::chrome_trace;
use archsim::run::apply_energy;
use archsim::DType;
use archsim::{RunReport, Total};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A tiny deterministic generator (no dependency on rand).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Spec {
    name: String,
    gemm: Option<(u64, u64, u64, u64)>,
    elements: u64,
}

/// A transformer-ish op list: `layers` blocks of 10 ops (20 ops for 2 layers).
fn transformer_ops(layers: usize) -> Vec<Spec> {
    let (t, d, h) = (2048u64, 4096u64, 16384u64);
    let mut v = Vec::new();
    for l in 0..layers {
        let g = |n: &str, m, nn, k, b| Spec {
            name: format!("layer{l}.{n}"),
            gemm: Some((m, nn, k, b)),
            elements: 0,
        };
        let e = |n: &str, el| Spec {
            name: format!("layer{l}.{n}"),
            gemm: None,
            elements: el,
        };
        v.push(e("input_layernorm", t * d));
        v.push(g("attention.qkv_projection", t, 3 * d, d, 1));
        v.push(g("attention.scores_qk", t, t, 128, 32));
        v.push(e("attention.softmax", 32 * t * t));
        v.push(g("attention.context_av", t, 128, t, 32));
        v.push(g("attention.output_projection", t, d, d, 1));
        v.push(e("post_attention_layernorm", t * d));
        v.push(g("mlp.up_projection", t, h, d, 1));
        v.push(e("mlp.gelu", t * h));
        v.push(g("mlp.down_projection", t, d, h, 1));
    }
    v
}

/// A ResNet-ish conv list (as GEMMs) of `n` layers with long names.
fn resnet_ops(n: usize) -> Vec<Spec> {
    (0..n)
        .map(|i| {
            let stage = i / 14;
            let hw = 56u64 >> stage.min(3);
            let c = 64u64 << stage.min(3);
            Spec {
                name: format!(
                    "resnet50.stage{}.block{}.conv{}_{}x{}",
                    stage + 1,
                    i % 14,
                    i % 3 + 1,
                    3,
                    3
                ),
                gemm: Some((8 * hw * hw, c, c * 9, 1)),
                elements: 0,
            }
        })
        .collect()
}

struct Hw {
    name: &'static str,
    kind: &'static str,
    peak_tflops: f64,
    hbm_gbps: f64,
    overhead_s: f64,
    eff: f64,
}

fn simulate(hw: &Hw, specs: &[Spec], seed: u64) -> RunReport {
    let mut rng = Lcg(seed);
    let table = EnergyTable::default();
    let mut ops = Vec::new();
    for s in specs {
        let mut p = OpProfile {
            name: s.name.clone(),
            dtype: DType::Bf16,
            ..Default::default()
        };
        let (flops, hbm, vec_flops) = match s.gemm {
            Some((m, n, k, b)) => {
                p.op = "gemm".into();
                (p.m, p.n, p.k, p.batch) = (m, n, k, b);
                p.macs = (m * n * k * b) as u128;
                let bytes = 2.0 * b as f64 * (m * k + k * n + m * n) as f64;
                (2.0 * p.macs as f64, bytes * (1.0 + rng.next()), 0.0)
            }
            None => {
                p.op = "vector".into();
                (p.m, p.n, p.k, p.batch) = (s.elements, 1, 1, 1);
                let f = 8.0 * s.elements as f64;
                (f, 4.0 * s.elements as f64, f)
            }
        };
        p.flops = flops;
        let eff = if s.gemm.is_some() {
            hw.eff * (0.55 + 0.45 * rng.next())
        } else {
            0.05
        };
        let compute = flops / (hw.peak_tflops * 1e12 * eff) * eff.min(0.9);
        let memory = hbm / (hw.hbm_gbps * 1e9);
        let fill = compute * 0.08 * rng.next();
        let tail = compute * 0.15 * rng.next();
        let stall = (memory - compute).max(0.0);
        p.time_breakdown_s = TimeBreakdown {
            compute_s: compute,
            fill_drain_s: fill,
            memory_stall_s: stall,
            tail_s: tail,
            overhead_s: hw.overhead_s,
            clock_throttle_s: 0.0,
            kernel_efficiency_s: 0.0,
        };
        p.time_s = p.time_breakdown_s.total_s();
        p.tflops = flops / p.time_s / 1e12;
        p.utilization = (p.tflops / hw.peak_tflops).clamp(0.0, 1.0);
        p.mapping_efficiency = 0.8 + 0.2 * rng.next();
        p.main_stall = p.time_breakdown_s.main_stall().to_string();
        p.counters = Counters {
            macs: p.macs,
            vector_flops: vec_flops,
            reg_bytes: 4.0 * p.macs as f64,
            sram_read_bytes: hbm * 6.0,
            sram_write_bytes: hbm,
            l2_read_bytes: if hw.kind == "simt" { hbm * 3.0 } else { 0.0 },
            l2_write_bytes: if hw.kind == "simt" { hbm } else { 0.0 },
            hbm_read_bytes: hbm * 0.8,
            hbm_write_bytes: hbm * 0.2,
            interconnect_bytes: hbm * 0.5,
            // counters added later (links of a multi-chip system) stay zero
            ..Default::default()
        };
        apply_energy(&table, &mut p);
        p.plan = json!({"tile": [128, 128, 64]});
        ops.push(p);
    }
    let mut t = Total {
        ops: ops.len(),
        ..Default::default()
    };
    for p in &ops {
        t.macs += p.macs;
        t.flops += p.flops;
        t.time_s += p.time_s;
        t.energy_pj += p.energy_pj;
        t.time_breakdown_s.add(&p.time_breakdown_s);
        t.counters.add(&p.counters);
        t.energy.add(p.energy.as_ref().unwrap());
    }
    t.tflops = t.flops / t.time_s / 1e12;
    t.utilization = t.tflops / hw.peak_tflops;
    t.pj_per_flop = t.energy_pj / t.flops;
    t.pj_per_mac = t.energy_pj / t.macs as f64;
    t.tflops_per_w = t.flops / (t.energy_pj * 1e-12) / 1e12;
    t.main_stall = t.time_breakdown_s.main_stall().to_string();
    RunReport {
        machine: MachineReport {
            info: MachineInfo {
                peak_flops: vec![
                    (DType::Bf16, hw.peak_tflops * 1e12),
                    (DType::Fp8, 2.0 * hw.peak_tflops * 1e12),
                ],
                memory: vec![MemoryLevel::new("hbm", None, Some(hw.hbm_gbps * 1e9))],
                ..MachineInfo::new(
                    hw.name,
                    if hw.kind == "simt" {
                        MachineKind::Simt
                    } else {
                        MachineKind::Systolic
                    },
                )
            },
            main_dtype: DType::Bf16,
        },
        ops,
        total: t,
        model: None,
    }
}

const TPU: Hw = Hw {
    name: "tpu_v5p",
    kind: "systolic",
    peak_tflops: 459.0,
    hbm_gbps: 2765.0,
    overhead_s: 2e-6,
    eff: 0.9,
};
const GPU: Hw = Hw {
    name: "h100",
    kind: "simt",
    peak_tflops: 989.0,
    hbm_gbps: 3350.0,
    overhead_s: 5e-6,
    eff: 0.7,
};

fn out_dir(name: &str) -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("ARCHSIM_PLOT_DIR") {
        Some(d) => {
            let p = Path::new(&d).join(name);
            std::fs::create_dir_all(&p).unwrap();
            (None, p)
        }
        None => {
            let t = common::tempdir();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn check_png(p: &Path) {
    let b = std::fs::read(p).unwrap();
    assert!(
        b.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]),
        "{} is not a PNG",
        p.display()
    );
    assert!(b.len() > 2000, "{} is suspiciously small", p.display());
}

fn check_svg(p: &Path, must_contain: &[&str]) {
    let s = std::fs::read_to_string(p).unwrap();
    let head = s.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{} does not start like SVG",
        p.display()
    );
    assert!(s.contains("</svg>"), "{} is not closed", p.display());
    for t in must_contain {
        assert!(s.contains(t), "{} lacks text {t:?}", p.display());
    }
}

fn check_pair(files: &[PathBuf], stem: &str, texts: &[&str]) {
    let png = files
        .iter()
        .find(|p| p.file_name().unwrap() == format!("{stem}.png").as_str())
        .unwrap_or_else(|| panic!("{stem}.png not returned"));
    let svg = files
        .iter()
        .find(|p| p.file_name().unwrap() == format!("{stem}.svg").as_str())
        .unwrap_or_else(|| panic!("{stem}.svg not returned"));
    assert!(png.exists() && svg.exists());
    check_png(png);
    check_svg(svg, texts);
}

/// The column variants, 3.5 in wide at 300 dpi (1050 px), and the dashboard's double-column
/// variant, 7.16 in wide (2148 px), widths read from the PNG header; every SVG font at least
/// 7 pt at that size (7 / 72 × 300 = 29.17 px em), and the title in the SVG.
fn check_column_variants(files: &[PathBuf], title: &str) {
    assert_eq!(plot::COLUMN_PX.0, 1050);
    assert_eq!(plot::DOUBLE_COLUMN_PX.0, 2148);
    for (stem, px) in [
        ("time_by_cause_column", 1050),
        ("energy_by_group_column", 1050),
        ("utilization_by_group_column", 1050),
        ("roofline_column", 1050),
        ("dashboard_double_column", 2148),
    ] {
        check_pair(files, stem, &[title]);
        let png = files
            .iter()
            .find(|p| p.file_name().unwrap() == format!("{stem}.png").as_str())
            .unwrap();
        let b = std::fs::read(png).unwrap();
        let width = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        assert_eq!(width, px, "{stem}: PNG width");
        let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
        let sizes: Vec<f64> = svg
            .split("font-size=\"")
            .skip(1)
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert!(!sizes.is_empty(), "{stem}: no text");
        let min_pt = sizes.iter().cloned().fold(f64::INFINITY, f64::min) / 300.0 * 72.0;
        assert!(
            min_pt >= 7.0,
            "{stem}: smallest font {min_pt:.2} pt at 300 dpi"
        );
    }
}

fn pareto_point(label: String, time_s: f64, energy_j: f64) -> ParetoPoint {
    ParetoPoint::new(label, time_s, energy_j)
}

/// Writes `heatmap.{png,svg}` (with `heatmap_texts` in the SVG) and `pareto.{png,svg}` (titled
/// `pareto_title`) to `dir` and checks them.
fn check_sweep_plots(
    dir: &Path,
    heatmap: &Heatmap,
    heatmap_texts: &[&str],
    pts: &[ParetoPoint],
    pareto_title: &str,
) {
    let files = plot::sweep_heatmap(heatmap, dir, "heatmap").unwrap();
    check_pair(&files, "heatmap", heatmap_texts);
    let files = plot::pareto_front(pts, pareto_title, dir, "pareto").unwrap();
    check_pair(&files, "pareto", &[pareto_title]);
}

#[test]
fn comparison_plots_for_a_transformer() {
    let ops = transformer_ops(2);
    let tpu = simulate(&TPU, &ops, 1);
    let gpu = simulate(&GPU, &ops, 2);
    let (_keep, dir) = out_dir("transformer");
    let files = plot::comparison_plots(
        &[("TPU v5p", &tpu), ("H100", &gpu)],
        &dir,
        "GPT layer x2, seq 2048, bf16",
    )
    .unwrap();
    assert_eq!(files.len(), 2 * plot::COMPARISON_PLOTS.len());
    let title = "GPT layer x2, seq 2048, bf16";
    check_column_variants(&files, title);
    check_pair(
        &files,
        "utilization_by_group",
        &["Utilization by op group", title, "TPU v5p", "FFN / experts"],
    );
    // Energy in joules per op group, stacked by level, with pJ/FLOP written after each bar.
    check_pair(
        &files,
        "energy_by_group",
        &[
            "Energy by op group",
            "HBM",
            "static",
            "pJ/FLOP",
            "attention · H100",
        ],
    );
    check_pair(
        &files,
        "roofline",
        &["Roofline", "ridge", "matrix peak 459", "vector roof"],
    );
    // Time by cause: every cause of the breakdown that has time, and the speedup.
    check_pair(
        &files,
        "time_by_cause",
        &[
            "Time by cause",
            "compute",
            "memory",
            "whole workload",
            "faster",
        ],
    );
    check_pair(&files, "dashboard", &["archsim summary", title, "H100"]);
    // One colour-blind-safe palette: the machines in Okabe–Ito blue and vermillion, and none of
    // the old Tableau colours.
    for stem in ["utilization_by_group", "time_by_cause", "dashboard"] {
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("#0072B2"), "{stem}: no Okabe–Ito blue");
        assert!(!svg.contains("#1F77B4"), "{stem}: Tableau blue left");
    }
    let svg = std::fs::read_to_string(dir.join("utilization_by_group.svg")).unwrap();
    assert!(svg.contains("#D55E00"), "no Okabe–Ito vermillion");
    // No temporary files left behind.
    for e in std::fs::read_dir(&dir).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(!n.starts_with('.'), "leftover {n}");
    }
}

#[test]
fn comparison_plots_for_many_ops_with_long_names() {
    let mut ops = resnet_ops(54);
    ops.extend(transformer_ops(2));
    let tpu = simulate(&TPU, &ops, 3);
    let gpu = simulate(&GPU, &ops, 4);
    let (_keep, dir) = out_dir("resnet_plus_transformer");
    let files =
        plot::comparison_plots(&[("TPU v5p", &tpu), ("H100", &gpu)], &dir, "74 ops").unwrap();
    assert_eq!(files.len(), 2 * plot::COMPARISON_PLOTS.len());
    check_pair(&files, "utilization_by_group", &["74 ops"]);
    check_pair(&files, "dashboard", &["74 ops"]);
    // The 74 ops are drawn as their groups, not one bar each.
    check_pair(
        &files,
        "time_by_cause",
        &["convolutions · TPU v5p", "QKV / out proj · H100"],
    );
    let svg = std::fs::read_to_string(dir.join("time_by_cause.svg")).unwrap();
    assert!(
        !svg.contains("block0"),
        "per-op names belong in the CSV, not the figure"
    );
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let (_keep, dir) = out_dir("degenerate");
    // No runs: an error, not a panic.
    assert!(plot::comparison_plots(&[], &dir, "x").is_err());
    // A run without ops, and one with zero/NaN values and no energy, no machine keys.
    let empty = RunReport {
        machine: MachineReport::unknown("", MachineKind::Systolic),
        ops: vec![],
        total: Total::default(),
        model: None,
    };
    let mut bad = simulate(&GPU, &transformer_ops(1), 5);
    bad.machine = MachineReport::unknown("weird", MachineKind::Simt);
    bad.ops[0].time_s = 0.0;
    bad.ops[1].time_s = f64::NAN;
    bad.ops[2].utilization = f64::NAN;
    bad.ops[3].flops = 0.0;
    bad.ops[4].counters = Counters::default();
    for p in &mut bad.ops {
        p.energy = None;
    }
    bad.total.energy = Default::default();
    bad.total.energy_pj = 0.0;
    let files = plot::comparison_plots(&[("empty", &empty)], &dir.join("empty"), "").unwrap();
    assert_eq!(files.len(), 2 * plot::COMPARISON_PLOTS.len());
    let files = plot::comparison_plots_with(
        &[("weird", &bad), ("empty", &empty)],
        &dir.join("bad"),
        &PlotOptions {
            workload_title: "bad".into(),
            roofs: vec![Some(Roof {
                peak_tflops: 100.0,
                hbm_gbps: None,
                vector_tflops: None,
                peak_derived: false,
            })],
        },
    )
    .unwrap();
    assert_eq!(files.len(), 2 * plot::COMPARISON_PLOTS.len());
    for f in &files {
        assert!(f.exists());
    }
    // Sweep plots: empty input is an error, NaN cells are gray.
    let h = Heatmap {
        title: "empty",
        x_key: "x",
        y_key: "y",
        metric: "m",
        rows: &[],
    };
    assert!(plot::sweep_heatmap(&h, &dir, "empty_heatmap").is_err());
    let rows = vec![
        ("1".to_string(), "a".to_string(), f64::NAN),
        ("2".to_string(), "a".to_string(), 1.0),
    ];
    let h = Heatmap { rows: &rows, ..h };
    plot::sweep_heatmap(&h, &dir, "nan_heatmap").unwrap();
    assert!(plot::pareto_front(&[], "none", &dir, "empty_pareto").is_err());
}

#[test]
fn sweep_heatmap_and_pareto_front() {
    let (_keep, dir) = out_dir("sweep");
    let sizes = [32, 64, 128, 256, 512];
    let bws = [819, 1228, 1640, 2765, 4800];
    let mut rows = Vec::new();
    let mut pts = Vec::new();
    for s in sizes {
        for b in bws {
            let t = 1e-3 * (128.0 / s as f64).powf(1.2) * (2765.0 / b as f64).powf(0.4);
            let e = 5e-3 * (s as f64 / 128.0).powf(0.5) * (b as f64 / 2765.0).powf(0.3);
            rows.push((format!("{s}"), format!("{b}"), t * 1e3));
            pts.push(pareto_point(format!("{s}x{s} @ {b} GB/s"), t, e));
        }
    }
    let h = Heatmap {
        title: "Sweep: GPT layer time",
        x_key: "array size (rows = cols)",
        y_key: "HBM bandwidth (GB/s)",
        metric: "time (ms)",
        rows: &rows,
    };
    let texts = ["Sweep: GPT layer time", "HBM bandwidth"];
    check_sweep_plots(&dir, &h, &texts, &pts, "Pareto: time vs energy");
    let front = plot::pareto_indices(&pts);
    assert!(!front.is_empty());
    for w in front.windows(2) {
        assert!(pts[w[0]].time_s <= pts[w[1]].time_s);
        assert!(pts[w[0]].energy_j > pts[w[1]].energy_j);
    }
}

#[test]
fn chrome_trace_has_both_machines_ops_children_and_counters() {
    let ops = transformer_ops(2);
    let tpu = simulate(&TPU, &ops, 1);
    let gpu = simulate(&GPU, &ops, 2);
    let bytes = chrome_trace::render(&[("TPU v5p", &tpu), ("H100", &gpu)]).unwrap();
    assert_eq!(
        bytes,
        chrome_trace::render(&[("TPU v5p", &tpu), ("H100", &gpu)]).unwrap(),
        "trace is not deterministic"
    );
    if let Some(d) = std::env::var_os("ARCHSIM_PLOT_DIR") {
        std::fs::write(Path::new(&d).join("trace.json"), &bytes).unwrap();
    }
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let ev = v["traceEvents"].as_array().unwrap();
    let names: Vec<&str> = ev
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["TPU v5p (systolic)", "H100 (simt)"]);
    for (pid, run) in [(1, &tpu), (2, &gpu)] {
        let spans: Vec<&Value> = ev
            .iter()
            .filter(|e| e["pid"] == pid && e["ph"] == "X" && e["cat"] == "op")
            .collect();
        assert_eq!(spans.len(), run.ops.len());
        // End to end, in op order, with the op's duration.
        let mut t = 0.0;
        for (s, p) in spans.iter().zip(&run.ops) {
            assert_eq!(s["name"], p.name.as_str());
            let ts = s["ts"].as_f64().unwrap();
            let dur = s["dur"].as_f64().unwrap();
            assert!((ts - t).abs() < 1e-3, "gap before {}", p.name);
            assert!((dur - p.time_s * 1e6).abs() < 1e-3);
            for k in ["shape", "tflops", "utilization_pct", "energy_pj", "power_w"] {
                assert!(!s["args"][k].is_null(), "missing arg {k}");
            }
            t = ts + dur;
        }
        let children: Vec<&Value> = ev
            .iter()
            .filter(|e| e["pid"] == pid && e["ph"] == "X" && e["cat"] == "breakdown")
            .collect();
        assert!(children.iter().any(|c| c["name"] == "compute"));
        assert!(children.iter().any(|c| c["name"] == "overhead"));
        let counters = ev
            .iter()
            .filter(|e| e["pid"] == pid && e["ph"] == "C")
            .count();
        assert_eq!(counters, 2 * run.ops.len() + 2);
        assert!(ev.iter().any(|e| e["pid"] == pid
            && e["ph"] == "C"
            && e["args"]["power_w"].as_f64() > Some(0.0)));
    }
}

#[test]
fn sweep_plots_with_categorical_keys_and_many_points() {
    let (_keep, dir) = out_dir("sweep_many");
    let mut rows = Vec::new();
    let mut pts = Vec::new();
    let mut rng = Lcg(9);
    for df in ["os", "ws", "is"] {
        for s in [8, 16, 32, 64, 128, 256, 512, 1024] {
            let v = rng.next() * 100.0;
            rows.push((format!("{s}"), df.to_string(), v));
        }
    }
    for i in 0..120 {
        let t = 1e-4 * (1.0 + 30.0 * rng.next());
        let e = 1e-3 * (1.0 + 5.0 * rng.next()) / (t * 1e4).sqrt();
        pts.push(pareto_point(
            format!("design point number {i} with a long name"),
            t,
            e,
        ));
    }
    let h = Heatmap {
        title: "Sweep: utilization by dataflow",
        x_key: "array rows",
        y_key: "dataflow",
        metric: "utilization (%)",
        rows: &rows,
    };
    check_sweep_plots(&dir, &h, &["dataflow", "ws"], &pts, "Pareto: 120 designs");
}

#[test]
fn heatmap_colour_scale_is_log_only_when_the_range_is_wide() {
    let (_keep, dir) = out_dir("heatmap_scale");
    let rows = |span: f64| -> Vec<(String, String, f64)> {
        (0..4)
            .flat_map(|i| {
                (0..3).map(move |j| {
                    let v = span.powf((i * 3 + j) as f64 / 11.0);
                    (format!("{i}"), format!("{j}"), v)
                })
            })
            .collect()
    };
    for (span, log) in [(2.0, false), (25.0, false), (1000.0, true)] {
        let r = rows(span);
        let h = Heatmap {
            title: "scale where workload=w",
            x_key: "x",
            y_key: "y",
            metric: "time (ms)",
            rows: &r,
        };
        let stem = format!("h{span}");
        let files = plot::sweep_heatmap(&h, &dir, &stem).unwrap();
        check_pair(&files, &stem, &["scale where workload=w"]);
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert_eq!(svg.contains("(log scale)"), log, "range {span}×");
    }
}

#[test]
fn pareto_with_costs_has_a_cost_panel_and_a_three_objective_front() {
    let (_keep, dir) = out_dir("pareto_cost");
    // Bigger arrays: faster, less energy (shorter static time), dearer dies.
    let pts: Vec<ParetoPoint> = [16.0, 32.0, 64.0, 128.0, 256.0]
        .iter()
        .flat_map(|&s: &f64| {
            [1.0, 2.0].map(move |sram: f64| ParetoPoint {
                label: format!("{s}x{s} sram {sram}"),
                time_s: 1e-3 * 64.0 / s / sram.sqrt(),
                energy_j: 1e-2 * (1.0 + 16.0 / s),
                cost_usd: s * s * 1e-3 + sram,
            })
        })
        .collect();
    let front = plot::pareto_indices(&pts);
    assert!(front.len() > 1, "{front:?}");
    let files = plot::pareto_front(&pts, "array sweep", &dir, "pareto").unwrap();
    check_pair(
        &files,
        "pareto",
        &["array sweep", "Die cost", "time, energy and die cost"],
    );
}
