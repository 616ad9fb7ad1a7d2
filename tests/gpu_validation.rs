//! The SIMT model against real-GPU GEMM measurements (tests/data/gpu_*.csv): asserts the errors
//! the model achieves (see the table printed by `print_rows`) and that the shipped calibrated
//! parameters are the fit of the named calibration rows.
use archsim::jobs::validate::gpu::{self, Regime, RowResult, Split};
use std::path::Path;

fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn mape<'a>(rs: impl Iterator<Item = &'a RowResult>) -> (usize, f64) {
    let v: Vec<f64> = rs.map(|r| r.err_pct()).collect();
    (v.len(), v.iter().sum::<f64>() / v.len().max(1) as f64)
}

/// Prints every row and the tables (`ROWS=h100,sweep cargo test --test gpu_validation -- --ignored --nocapture`).
#[test]
#[ignore]
fn print_rows() {
    let rs = gpu::evaluate(data()).unwrap();
    let filt = std::env::var("ROWS").unwrap_or_default();
    for r in &rs {
        let line = format!(
            "{:5} {:14} {:12} {:11} {:6} {:8} b={:<3} {:>6}x{:>6}x{:>6} meas {:>10.2} pred {:>10.2} err {:>+7.1}%",
            r.row.config,
            r.row.set,
            format!("{:?}", r.regime),
            r.row.split.as_str(),
            format!("{:?}", r.row.scope),
            format!("{}{}", r.row.dtype, if r.row.dtype == archsim::DType::Fp32 { r.row.fp32_math.as_str() } else { "" }),
            r.row.batch,
            r.row.m,
            r.row.n,
            r.row.k,
            r.row.time_us,
            r.predicted_us,
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
fn achieved_errors() {
    let rs = gpu::evaluate(data()).unwrap();
    assert!(rs.len() > 1000, "{} rows", rs.len());
    let sel =
        |cfg: &'static str, split: Option<Split>, regime: Option<Regime>, no_set: &'static str| {
            let rs = &rs;
            mape(rs.iter().filter(move |r| {
                r.row.config == cfg
                    && split.is_none_or(|s| r.row.split == s)
                    && regime.is_none_or(|g| r.regime == g)
                    && r.row.set != no_set
            }))
        };
    let cb = Some(Regime::ComputeBound);
    let ev = Some(Split::Evaluation);
    // (what, (rows, MAPE %), bound %): bounds are what the model achieves, rounded up.
    let all = mape(rs.iter());
    let all_cb = mape(rs.iter().filter(|r| r.regime == Regime::ComputeBound));
    let checks = [
        ("all devices, all rows", all, 15.0),
        ("all devices, compute-bound", all_cb, 10.5),
        ("a100 all", sel("a100", None, None, ""), 3.5),
        (
            "a100 evaluation compute-bound",
            sel("a100", ev, cb, ""),
            4.0,
        ),
        (
            "b200 evaluation compute-bound",
            sel("b200", ev, cb, ""),
            5.0,
        ),
        ("b200 all", sel("b200", None, None, ""), 7.0),
        (
            "h100 cuBLAS sweep",
            sel("h100", None, None, "xla_ptable"),
            10.0,
        ),
        (
            "h100 evaluation compute-bound",
            sel("h100", ev, cb, ""),
            14.0,
        ),
        (
            "h200 (all evaluation) compute-bound",
            sel("h200", ev, cb, ""),
            11.0,
        ),
        ("h200 all", sel("h200", None, None, ""), 10.5),
        (
            "h100 all incl. XLA table",
            sel("h100", None, None, ""),
            21.0,
        ),
    ];
    let mut fails = Vec::new();
    for (what, (n, e), bound) in checks {
        println!("{what:40} rows {n:4}  MAPE {e:6.2}%  (bound {bound}%)");
        if n == 0 || e > bound {
            fails.push(format!("{what}: {e:.2}% > {bound}%"));
        }
    }
    assert!(fails.is_empty(), "{fails:?}");
}

#[test]
fn shipped_parameters_are_the_calibration_fit() {
    for cfg in ["h100", "a100", "b200"] {
        let fit = gpu::calibrate(data(), cfg).unwrap();
        let m = gpu::machine(cfg).unwrap();
        let c = m.config();
        println!("{fit:?}");
        assert!(
            (fit.sustained_fraction - c.clock.sustained_fraction).abs() < 0.01,
            "{fit:?}"
        );
        let f8 = c
            .clock
            .sustained_fraction_8bit
            .unwrap_or(c.clock.sustained_fraction);
        assert!((fit.sustained_fraction_8bit - f8).abs() < 0.01, "{fit:?}");
        assert!(
            (fit.kernel_fixed_us - c.kernel.kernel_fixed_us).abs() < 0.11,
            "{fit:?}"
        );
        assert!(
            (fit.host_sync_overhead_us - c.kernel.host_sync_overhead_us).abs() < 0.6,
            "{fit:?}"
        );
    }
}
