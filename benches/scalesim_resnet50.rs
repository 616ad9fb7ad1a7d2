//! SCALE-Sim mode speed: ResNet-50 (54 layers, `tests/data/scalesim/topologies/resnet50.csv`)
//! on `net_calc_128x128_ws.cfg`, whole network in-process, against SCALE-Sim 3.0.0's 143.32 s
//! for the same run (`network_runs.csv`).
//!
//! Two ids:
//! * `scalesim_mode/resnet50_net_calc_128x128_ws`: simulate the 54 parsed layers through the
//!   engine (`run::simulate_sequential`, one thread);
//! * `scalesim_mode/resnet50_net_calc_128x128_ws_with_parsing`: read and parse the .cfg and the
//!   topology CSV from disk too (what a process does besides start-up).
//!
//! Before criterion runs, a quick timing prints the cycle total (must be 876,832, SCALE-Sim's)
//! and the speed ratio vs SCALE-Sim.

use archsim::workload::{self, Op};
use archsim::{registry, run, Machine};
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

/// The machine and the ops as `archsim run --config CFG --workload CSV` gets them: the `.cfg`
/// through the registry, the topology through the workload loader.
fn load() -> (Box<dyn Machine>, Vec<Op>) {
    let cfg_path = data().join("configs/net_calc_128x128_ws.cfg");
    let machine = registry::load(cfg_path.to_str().expect("utf-8 path"))
        .expect("cfg")
        .build(None)
        .expect("SCALE-Sim machine");
    let topo = data().join("topologies/resnet50.csv");
    let ops = workload::load(topo.to_str().expect("utf-8 path"), None)
        .expect("topology parses")
        .ops();
    (machine, ops)
}

/// Simulate every layer through the engine, one after another on this thread (as SCALE-Sim
/// does), and sum SCALE-Sim's `Total Cycles` from the profiles' SCALE-Sim reports.
fn network_cycles(machine: &dyn Machine, ops: &[Op]) -> u128 {
    let (profiles, _) = run::simulate_sequential(machine, ops).expect("simulates");
    profiles
        .iter()
        .map(|p| p.scalesim.as_ref().expect("SCALE-Sim report").total_cycles as u128)
        .sum()
}

fn bench(c: &mut Criterion) {
    let (machine, ops) = load();
    let machine = machine.as_ref();
    // Quick in-process timing and the ratio vs SCALE-Sim.
    let total = network_cycles(machine, &ops);
    assert_eq!(
        total, SCALESIM_TOTAL_CYCLES,
        "cycles must equal SCALE-Sim's"
    );
    let reps = 200;
    let t0 = Instant::now();
    for _ in 0..reps {
        black_box(network_cycles(machine, black_box(&ops)));
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
        b.iter(|| network_cycles(black_box(machine), black_box(&ops)))
    });
    g.bench_function("resnet50_net_calc_128x128_ws_with_parsing", |b| {
        b.iter(|| {
            let (machine, ops) = load();
            network_cycles(machine.as_ref(), &ops)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
