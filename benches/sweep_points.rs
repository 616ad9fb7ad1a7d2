//! Sweep throughput: a 1,000-point SCALE-Sim-mode sweep of ResNet-50 (54 conv layers) on the
//! CALC 128×128 WS config (array height × width × ifmap SRAM, 10 × 10 × 10), end to end through
//! the library: per point the .cfg rewrite + parse, machine build, 54 layer simulations, totals,
//! and the atomic CSV write. Uses rayon's global pool (all cores).
//!
//! `cargo bench --bench sweep_points -- --quick`

use archsim::jobs::sweep::base::BaseConfig;
use archsim::jobs::sweep::spec::SweepSpec;
use archsim::jobs::sweep::{RunOptions, Sweep};
use criterion::{criterion_group, criterion_main, Criterion};

const SWEEP_1000: &str = r#"
workloads = ["kernels/resnet50.csv"]
architecture_presets.ArrayHeight = {from = 16, to = 160, step = 16}
architecture_presets.ArrayWidth = {from = 16, to = 160, step = 16}
architecture_presets.IfmapSramSzkB = {from = 64, to = 640, step = 64}
"#;

fn bench(c: &mut Criterion) {
    let cfg = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/scalesim/configs/calc_128x128_ws.cfg"
    );
    let spec = SweepSpec::parse(SWEEP_1000, "sweep_1000.toml").expect("sweep file");
    let base = BaseConfig::load(cfg).expect("base config");
    let sweep = Sweep::from_parts(spec, base, None, 1000, None).expect("sweep");
    assert_eq!(sweep.len(), 1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = RunOptions::new(dir.path().join("sweep.csv"));
    opts.resume = false;
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.bench_function("scalesim_resnet50_1000_points_to_csv", |b| {
        b.iter(|| sweep.run(&opts).expect("sweep runs"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
