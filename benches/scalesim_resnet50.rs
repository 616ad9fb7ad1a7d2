//! SCALE-Sim mode speed: ResNet-50 (54 layers, `tests/data/scalesim/topologies/resnet50.csv`)
//! on `net_calc_128x128_ws.cfg`, whole network in-process, against SCALE-Sim 3.0.0's 143.32 s
//! for the same run (`network_runs.csv`).
//!
//! Two ids:
//! * `scalesim_mode/resnet50_net_calc_128x128_ws`: simulate the 54 parsed layers;
//! * `scalesim_mode/resnet50_net_calc_128x128_ws_with_parsing`: read and parse the .cfg and the
//!   topology CSV from disk too (what a process does besides start-up).
//!
//! Before criterion runs, a quick timing prints the cycle total (must be 876,832, SCALE-Sim's)
//! and the speed ratio vs SCALE-Sim.

use archsim::jobs::validate::scalesim::load_topology;
use archsim::systolic::scalesim::{simulate_layer, Layer};
use archsim::systolic::scalesim_cfg::ScaleSimConfig;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// SCALE-Sim 3.0.0 wall time for this run (network_runs.csv, `scalesim_wall_s`).
const SCALESIM_WALL_S: f64 = 143.32;
const SCALESIM_TOTAL_CYCLES: u128 = 876_832;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scalesim")
}

fn load() -> (ScaleSimConfig, Vec<Layer>) {
    let cfg_path = data().join("configs/net_calc_128x128_ws.cfg");
    let cfg_src = std::fs::read_to_string(&cfg_path).expect("config");
    let cfg = ScaleSimConfig::parse(&cfg_src, &cfg_path.display().to_string()).expect("cfg");
    let topo = std::fs::read_to_string(data().join("topologies/resnet50.csv")).expect("topology");
    let layers = load_topology(&topo)
        .expect("topology parses")
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    (cfg, layers)
}

fn network_cycles(cfg: &ScaleSimConfig, layers: &[Layer]) -> u128 {
    layers
        .iter()
        .map(|l| simulate_layer(cfg, l).total_cycles)
        .sum()
}

fn bench(c: &mut Criterion) {
    let (cfg, layers) = load();
    // Quick in-process timing and the ratio vs SCALE-Sim.
    let total = network_cycles(&cfg, &layers);
    assert_eq!(
        total, SCALESIM_TOTAL_CYCLES,
        "cycles must equal SCALE-Sim's"
    );
    let reps = 200;
    let t0 = Instant::now();
    for _ in 0..reps {
        black_box(network_cycles(&cfg, black_box(&layers)));
    }
    let per_run = t0.elapsed().as_secs_f64() / reps as f64;
    eprintln!(
        "scalesim_mode resnet50 (net_calc_128x128_ws): {total} cycles (SCALE-Sim {SCALESIM_TOTAL_CYCLES}), \
         {:.1} µs per network in-process, {:.0}x faster than SCALE-Sim's {SCALESIM_WALL_S} s",
        per_run * 1e6,
        SCALESIM_WALL_S / per_run
    );
    let mut g = c.benchmark_group("scalesim_mode");
    g.bench_function("resnet50_net_calc_128x128_ws", |b| {
        b.iter(|| network_cycles(black_box(&cfg), black_box(&layers)))
    });
    g.bench_function("resnet50_net_calc_128x128_ws_with_parsing", |b| {
        b.iter(|| {
            let (cfg, layers) = load();
            network_cycles(&cfg, &layers)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
