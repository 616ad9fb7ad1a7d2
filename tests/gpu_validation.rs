//! The SIMT model against real-GPU GEMM measurements (tests/data/gpu_*.csv).
use archsim::validate::gpu;
use std::path::Path;

fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// Prints every row (run with `--ignored --nocapture` to inspect).
#[test]
#[ignore]
fn print_rows() {
    let rs = gpu::evaluate(data()).unwrap();
    let filt = std::env::var("ROWS").unwrap_or_default();
    for r in &rs {
        let line = format!(
            "{:5} {:12} {:11} {:?} {:?} {:5} b={:<3} {:>6}x{:>6}x{:>6} meas {:>10.2} pred {:>10.2} err {:>+7.1}%",
            r.row.config, r.row.set, format!("{:?}", r.regime), r.row.split, r.row.scope,
            format!("{}{}", r.row.dtype, if r.row.dtype == archsim::DType::Fp32 { r.row.fp32_math.as_str() } else { "" }),
            r.row.batch, r.row.m, r.row.n, r.row.k, r.row.time_us, r.predicted_us,
            (r.predicted_us / r.row.time_us - 1.0) * 100.0
        );
        if filt.is_empty() || filt.split(',').all(|f| line.contains(f)) {
            println!("{line}");
        }
    }
    for t in gpu::tables(&rs, data()) {
        println!("{}", t.render());
    }
}

#[test]
#[ignore]
fn print_calibration() {
    for c in ["h100", "a100", "b200"] {
        println!("{:?}", gpu::calibrate(data(), c).unwrap());
    }
}
