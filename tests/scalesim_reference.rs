//! Every row of `tests/data/scalesim/reference_runs.csv` (SCALE-Sim 3.0.0 runs) through
//! archsim's SCALE-Sim mode, plus the ResNet-50 network row of `network_runs.csv`.
//!
//! Exact equality is required for total cycles, stall cycles (CALC), mapping efficiency,
//! compute util, overall util (to 1e-6) and the SRAM counts. DRAM counts, the cycles including
//! prefetch and the access start/stop cycles: exact where the model is exact, otherwise the
//! error summary is printed and a bound asserted so regressions fail.

mod common;

use archsim::systolic::scalesim::{simulate_layer, Layer, LayerResult};
use archsim::systolic::scalesim_cfg::{BandwidthMode, ScaleSimConfig};
use archsim::workload::Conv2d;
use archsim::DType;
use std::collections::HashMap;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    common::data_dir().join("scalesim")
}

/// The seeded random cross-check set (`scripts/scalesim_crosscheck.py`): its own configs,
/// topologies and `runs.csv` in the reference columns.
fn crosscheck_dir() -> PathBuf {
    data_dir().join("crosscheck")
}

fn config(name: &str) -> ScaleSimConfig {
    config_in(&data_dir(), name)
}

fn config_in(dir: &std::path::Path, name: &str) -> ScaleSimConfig {
    let p = dir.join("configs").join(format!("{name}.cfg"));
    let src = std::fs::read_to_string(&p).unwrap();
    ScaleSimConfig::parse(&src, &p.display().to_string()).unwrap()
}

/// Minimal SCALE-Sim topology reader: header skipped, trailing comma, conv rows have 8 fields
/// (name,H,W,Fh,Fw,C,NumFilter,Stride), GEMM rows 4 (name,M,N,K).
fn topology(name: &str) -> Vec<Layer> {
    topology_in(&data_dir(), name)
}

fn topology_in(dir: &std::path::Path, name: &str) -> Vec<Layer> {
    let p = dir.join("topologies").join(format!("{name}.csv"));
    let src = std::fs::read_to_string(&p).unwrap();
    let mut out = Vec::new();
    for line in src.lines().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let f: Vec<&str> = f.into_iter().filter(|s| !s.is_empty()).collect();
        if f.is_empty() {
            continue;
        }
        let v: Vec<u64> = f[1..].iter().map(|x| x.parse().unwrap()).collect();
        match v.len() {
            7 => {
                // Through the workload front-end's conv lowering (ceil convention, no padding).
                let g = Conv2d {
                    name: f[0].to_string(),
                    batch: 1,
                    in_h: v[0],
                    in_w: v[1],
                    kernel_h: v[2],
                    kernel_w: v[3],
                    in_c: v[4],
                    filters: v[5],
                    stride: v[6],
                    padding: 0,
                    dtype: DType::Int8,
                    scalesim_ceil: true,
                }
                .to_gemm();
                let (l, copies) = Layer::from_gemm(&g).unwrap();
                assert_eq!(copies, 1);
                out.push(l);
            }
            3 => out.push(Layer::gemm(v[0], v[1], v[2]).unwrap()),
            n => panic!("{name}: row with {n} numeric fields"),
        }
    }
    out
}

type Row = HashMap<String, String>;

fn rows() -> Vec<Row> {
    rows_in(&data_dir().join("reference_runs.csv"))
}

fn rows_in(path: &std::path::Path) -> Vec<Row> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    rd.deserialize().map(|r| r.unwrap()).collect()
}

fn num(r: &Row, k: &str) -> f64 {
    r[k].parse().unwrap_or_else(|_| panic!("{k} = {}", r[k]))
}

fn run(r: &Row) -> (ScaleSimConfig, LayerResult) {
    run_in(&data_dir(), r)
}

fn run_in(dir: &std::path::Path, r: &Row) -> (ScaleSimConfig, LayerResult) {
    let cfg = config_in(dir, &r["cfg_name"]);
    let layers = topology_in(dir, &r["layer_name"]);
    assert_eq!(layers.len(), 1);
    let res = simulate_layer(&cfg, &layers[0]);
    (cfg, res)
}

/// (name, reference, simulated) of the metrics that must be exact for every row.
fn exact_metrics(r: &Row, s: &LayerResult, calc: bool) -> Vec<(&'static str, f64, f64)> {
    let mut v = vec![
        (
            "total_cycles",
            num(r, "total_cycles"),
            s.total_cycles as f64,
        ),
        (
            "mapping_eff_pct",
            num(r, "mapping_eff_pct"),
            s.mapping_efficiency_pct,
        ),
        (
            "compute_util_pct",
            num(r, "compute_util_pct"),
            s.compute_util_pct,
        ),
        (
            "overall_util_pct",
            num(r, "overall_util_pct"),
            s.overall_util_pct,
        ),
        (
            "sram_ifmap_reads",
            num(r, "sram_ifmap_reads"),
            s.sram_ifmap_reads as f64,
        ),
        (
            "sram_filter_reads",
            num(r, "sram_filter_reads"),
            s.sram_filter_reads as f64,
        ),
        (
            "sram_ofmap_writes",
            num(r, "sram_ofmap_writes"),
            s.sram_ofmap_writes as f64,
        ),
    ];
    if calc {
        v.push((
            "stall_cycles",
            num(r, "stall_cycles"),
            s.stall_cycles as f64,
        ));
    }
    v
}

/// Metrics reported with an error summary (exact where the model is exact).
fn other_metrics(r: &Row, s: &LayerResult) -> Vec<(&'static str, f64, f64)> {
    let a = s.access_cycles;
    vec![
        (
            "dram_ifmap_reads",
            num(r, "dram_ifmap_reads"),
            s.dram_ifmap_reads as f64,
        ),
        (
            "dram_filter_reads",
            num(r, "dram_filter_reads"),
            s.dram_filter_reads as f64,
        ),
        (
            "dram_ofmap_writes",
            num(r, "dram_ofmap_writes"),
            s.dram_ofmap_writes as f64,
        ),
        (
            "total_cycles_incl_prefetch",
            num(r, "total_cycles_incl_prefetch"),
            s.total_cycles_incl_prefetch as f64,
        ),
        (
            "stall_cycles",
            num(r, "stall_cycles"),
            s.stall_cycles as f64,
        ),
        (
            "sram_ifmap_start_cycle",
            num(r, "sram_ifmap_start_cycle"),
            a[0].0 as f64,
        ),
        (
            "sram_ifmap_stop_cycle",
            num(r, "sram_ifmap_stop_cycle"),
            a[0].1 as f64,
        ),
        (
            "sram_filter_start_cycle",
            num(r, "sram_filter_start_cycle"),
            a[1].0 as f64,
        ),
        (
            "sram_filter_stop_cycle",
            num(r, "sram_filter_stop_cycle"),
            a[1].1 as f64,
        ),
        (
            "sram_ofmap_start_cycle",
            num(r, "sram_ofmap_start_cycle"),
            a[2].0 as f64,
        ),
        (
            "sram_ofmap_stop_cycle",
            num(r, "sram_ofmap_stop_cycle"),
            a[2].1 as f64,
        ),
        (
            "dram_ifmap_start_cycle",
            num(r, "dram_ifmap_start_cycle"),
            a[3].0 as f64,
        ),
        (
            "dram_ifmap_stop_cycle",
            num(r, "dram_ifmap_stop_cycle"),
            a[3].1 as f64,
        ),
        (
            "dram_filter_start_cycle",
            num(r, "dram_filter_start_cycle"),
            a[4].0 as f64,
        ),
        (
            "dram_filter_stop_cycle",
            num(r, "dram_filter_stop_cycle"),
            a[4].1 as f64,
        ),
        (
            "dram_ofmap_start_cycle",
            num(r, "dram_ofmap_start_cycle"),
            a[5].0 as f64,
        ),
        (
            "dram_ofmap_stop_cycle",
            num(r, "dram_ofmap_stop_cycle"),
            a[5].1 as f64,
        ),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

#[test]
fn every_reference_row_is_exact_on_cycles_utils_and_sram_counts() {
    let rows = rows();
    assert!(rows.len() >= 100, "{} rows", rows.len());
    let mut failures = Vec::new();
    for r in &rows {
        let (cfg, s) = run(r);
        let calc = cfg.bw_mode == BandwidthMode::Calc;
        for (name, want, got) in exact_metrics(r, &s, calc) {
            if !close(want, got) {
                failures.push(format!(
                    "{} {}: {name} SCALE-Sim {want} archsim {got}",
                    r["cfg_name"], r["layer_name"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Per-metric summary: (rows, exact, max abs relative error %).
fn summarize(calc_only: Option<bool>) -> Vec<(String, usize, usize, f64)> {
    let mut agg: Vec<(String, usize, usize, f64)> = Vec::new();
    for r in &rows() {
        let (cfg, s) = run(r);
        let calc = cfg.bw_mode == BandwidthMode::Calc;
        if calc_only.is_some_and(|c| c != calc) {
            continue;
        }
        for (name, want, got) in other_metrics(r, &s) {
            let i = match agg.iter().position(|a| a.0 == name) {
                Some(i) => i,
                None => {
                    agg.push((name.to_string(), 0, 0, 0.0));
                    agg.len() - 1
                }
            };
            agg[i].1 += 1;
            if close(want, got) {
                agg[i].2 += 1;
            } else {
                let err = if want == 0.0 {
                    100.0
                } else {
                    ((got - want) / want).abs() * 100.0
                };
                agg[i].3 = agg[i].3.max(err);
                if std::env::var("SCALESIM_VERBOSE").is_ok() {
                    eprintln!(
                        "  {} {}: {name} SCALE-Sim {want} archsim {got}",
                        r["cfg_name"], r["layer_name"]
                    );
                }
            }
        }
    }
    agg
}

/// Prints the summary of the CALC (`calc`) or USER rows and asserts that every metric is exact
/// on every row.
fn assert_every_row_exact(calc: bool) {
    let label = if calc { "CALC" } else { "USER" };
    let agg = summarize(Some(calc));
    eprintln!("{label} rows: metric, rows, exact, max err %");
    for a in &agg {
        eprintln!("  {:<28} {:>4} {:>4} {:>9.4}%", a.0, a.1, a.2, a.3);
    }
    assert!(!agg.is_empty(), "no {label} rows");
    for a in &agg {
        assert_eq!(
            a.1, a.2,
            "{label} {} is not exact on every row ({} of {})",
            a.0, a.2, a.1
        );
    }
}

#[test]
fn calc_dram_counts_and_prefetch_cycles() {
    assert_every_row_exact(true);
}

/// The USER walk ports SCALE-Sim's read/write buffers exactly: every metric matches.
#[test]
fn user_rows_dram_stalls_and_access_cycles() {
    assert_every_row_exact(false);
}

/// The seeded random cross-check set: 300 SCALE-Sim 3.0.0 runs of configs and layers the stock
/// reference rows do not cover (non-square arrays of 4–128 PEs a side, 1–256 kB SRAMs that
/// overflow, CALC and USER with odd bandwidths, strided and overlapping conv windows). Every
/// reported number must match: cycles, utilizations, SRAM and DRAM counts, every access
/// start/stop cycle.
#[test]
fn crosscheck_set_is_exact_on_every_metric() {
    let (calc, user) = crosscheck_exact(&crosscheck_dir());
    assert!(calc >= 100 && user >= 100, "{calc} CALC, {user} USER rows");
}

/// Stock-size conv layers in CALC OS/IS whose ifmaps overflow the chunk
/// (`tests/data/scalesim/crosscheck_large`, `scripts/scalesim_crosscheck.py --large`: 30–94 ×
/// 10–88 ifmaps, 3–7 filters, 16–256 kB SRAMs; up to 68 s a run in SCALE-Sim). The window jumps
/// (`window_walk.rs`) must make every number exact, DRAM reads included; the closed-form
/// estimate had 7 of the 10 ifmap DRAM read counts wrong (0.85× to 2.81×).
#[test]
fn stock_size_convs_are_exact_on_every_metric() {
    let (calc, user) = crosscheck_exact(&data_dir().join("crosscheck_large"));
    assert!(calc >= 10 && user == 0, "{calc} CALC, {user} USER rows");
}

/// Every metric of every row of a cross-check set exact; (CALC rows, USER rows).
fn crosscheck_exact(dir: &std::path::Path) -> (usize, usize) {
    let rows = rows_in(&dir.join("runs.csv"));
    let mut failures = Vec::new();
    let (mut calc, mut user, mut flagged) = (0, 0, 0);
    for r in &rows {
        let (cfg, s) = run_in(dir, r);
        let is_calc = cfg.bw_mode == BandwidthMode::Calc;
        if is_calc {
            calc += 1;
        } else {
            user += 1;
        }
        let mut metrics = exact_metrics(r, &s, is_calc);
        metrics.extend(other_metrics(r, &s));
        for (name, want, got) in metrics {
            if !close(want, got) {
                failures.push(format!(
                    "{} ({} {}): {name} SCALE-Sim {want} archsim {got}",
                    r["cfg_name"], r["bw_mode"], r["layer_type"]
                ));
            }
        }
        flagged += usize::from(!s.dram_reads_exact);
    }
    eprintln!(
        "cross-check {}: {calc} CALC + {user} USER rows, every metric exact; {flagged} flagged \
         as estimated DRAM reads (beyond the CALC walk limit) that came out exact anyway",
        dir.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (calc, user)
}

#[test]
fn resnet50_network_total_cycles() {
    let mut rd = csv::Reader::from_path(data_dir().join("network_runs.csv")).unwrap();
    let rows: Vec<Row> = rd.deserialize().map(|r| r.unwrap()).collect();
    let r = rows.iter().find(|r| r["network"] == "resnet50").unwrap();
    let cfg = config(&r["cfg_name"]);
    let layers = topology("resnet50");
    assert_eq!(layers.len() as f64, num(r, "num_layers"));
    let t0 = std::time::Instant::now();
    let res: Vec<LayerResult> = layers.iter().map(|l| simulate_layer(&cfg, l)).collect();
    let wall = t0.elapsed().as_secs_f64();
    let total: u128 = res.iter().map(|x| x.total_cycles).sum();
    let stalls: u128 = res.iter().map(|x| x.stall_cycles).sum();
    let incl: i128 = res.iter().map(|x| x.total_cycles_incl_prefetch).sum();
    let macs: u128 = res.iter().map(|x| x.macs).sum();
    eprintln!(
        "resnet50: total {total} (SCALE-Sim {}), incl prefetch {incl} (SCALE-Sim {}), {wall:.6} s \
         in-process vs SCALE-Sim {} s",
        r["total_cycles"], r["total_cycles_incl_prefetch"], r["scalesim_wall_s"]
    );
    assert_eq!(total as f64, num(r, "total_cycles"));
    assert_eq!(total, 876_832);
    assert_eq!(stalls as f64, num(r, "stall_cycles"));
    assert_eq!(macs as f64, num(r, "macs"));
    assert_eq!(incl as f64, num(r, "total_cycles_incl_prefetch"));
}

/// CALC DRAM reads: the closed-form pass model (what layers beyond the walk limit get) against
/// an exact address walk of SCALE-Sim's estimate buffer, on every ResNet-50 layer in all three
/// dataflows (128×128, 512 kB, and a 64 kB variant that forces re-streaming). GEMM-like
/// operands must be exact; conv ifmaps with overlapping windows that overflow a chunk are
/// estimates, bounded here. A run (`simulate_layer`) walks them and is exact, except WS
/// layers beyond the address-walk limit.
#[test]
fn calc_dram_reads_vs_exact_walk_on_resnet50() {
    use archsim::systolic::scalesim::calc_dram::walk_reads;
    use archsim::systolic::scalesim::{simulate_layer_analytic, Mapping};
    use archsim::systolic::scalesim_cfg::Dataflow;
    let base = config("net_calc_128x128_ws");
    let layers = topology("resnet50");
    use archsim::systolic::scalesim::MAX_CALC_WALK;
    let mut worst: f64 = 0.0;
    let (mut n, mut exact, mut flagged, mut walkable) = (0, 0, 0, 0);
    for kb in [512u64, 64] {
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            let mut cfg = base.clone();
            cfg.dataflow = df;
            cfg.ifmap_sram_kb = kb;
            cfg.filter_sram_kb = kb;
            for l in &layers {
                let s = simulate_layer_analytic(&cfg, l);
                let map = Mapping::new(l, df, cfg.array_rows, cfg.array_cols);
                let (wi, _) = walk_reads(l, &map, true, 1024 * kb as u128);
                let (wf, _) = walk_reads(l, &map, false, 1024 * kb as u128);
                assert_eq!(s.dram_filter_reads, wf, "{df:?} {kb} kB filter {l:?}");
                // What a run reports: an exact walk's count (the address walk within the CALC
                // walk limit, or OS/IS window jumps within their budget), the closed form
                // otherwise, flagged.
                let run = simulate_layer(&cfg, l);
                let visits = run.sram_ifmap_reads + map.folds() * map.cycles_per_fold();
                if run.dram_reads_exact {
                    walkable += 1;
                    assert_eq!(run.dram_ifmap_reads, wi, "{df:?} {kb} kB ifmap {l:?}");
                } else {
                    assert!(visits > MAX_CALC_WALK, "{df:?} {kb} kB {l:?}");
                    assert_eq!(df, Dataflow::Ws, "OS/IS conv ifmaps are walked: {l:?}");
                    assert_eq!(
                        run.dram_ifmap_reads, s.dram_ifmap_reads,
                        "{df:?} {kb} kB {l:?}"
                    );
                }
                assert_eq!(run.dram_filter_reads, wf, "{df:?} {kb} kB filter {l:?}");
                n += 1;
                if s.dram_ifmap_reads == wi {
                    exact += 1;
                } else {
                    assert_ne!(kb, 512, "512 kB rows fit a chunk and must be exact: {l:?}");
                    assert!(
                        !s.dram_reads_exact,
                        "flagged exact but differs: {df:?} {l:?}"
                    );
                    flagged += 1;
                    let err = (s.dram_ifmap_reads as f64 - wi as f64).abs() / wi as f64 * 100.0;
                    worst = worst.max(err);
                    eprintln!(
                        "  {df:?} {kb} kB {}x{}x{} f{}x{} s{}: ifmap DRAM analytic {} walk {} ({err:.2}%)",
                        l.ifmap_h, l.ifmap_w, l.channels, l.filter_h, l.filter_w, l.stride,
                        s.dram_ifmap_reads, wi
                    );
                }
            }
        }
    }
    eprintln!(
        "CALC ifmap DRAM reads (closed form): {exact}/{n} exact, {flagged} estimated, worst \
         {worst:.2}%; runs: {walkable}/{n} exact (walked or closed form exact)"
    );
    // Measured: 297/324 exact (all 162 at 512 kB). The 27 estimated ones are 3×3/7×7 conv
    // ifmaps larger than a 64 kB chunk: WS within 8% (per-fold distinct model), OS/IS 56×56
    // within 0.6% (slice-overlap model); 28×28 and 14×14 (slices near or above a chunk)
    // undercount SCALE-Sim's in-slice re-fetch by 38% and 84%. Runs: 314/324 exact; the 10
    // left are 64 kB WS layers beyond the address-walk limit whose folds repeat channels (OS/IS
    // all walked by jumps).
    assert!(exact >= 297, "{exact} exact");
    assert!(walkable >= 314, "{walkable} runs exact");
    assert!(worst < 84.0, "worst conv-ifmap estimate error {worst:.2}%");
}
