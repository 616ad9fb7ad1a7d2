//! The energy model against board power measured on a real H100 and H200
//! (tests/data/gpu_power_*.csv), and the chip-level check against TDP / published power:
//! the shipped energy parameters are the documented fit / rules (src/jobs/validate/energy.rs), and
//! the errors stay within what the model achieves.
mod common;

use archsim::config;
use archsim::energy::EnergyTable;
use archsim::jobs::validate::energy::{self as ev, PowerResult};
use archsim::jobs::validate::gpu::Split;
use archsim::registry::{self, HardwareConfig};
use common::data_dir as data;

fn table(name: &str) -> EnergyTable {
    match registry::load(name).unwrap().hw {
        HardwareConfig::Simt(c) => c.energy.clone(),
        HardwareConfig::Systolic(c) => c.energy.clone(),
        HardwareConfig::ScaleSim(_) => panic!("{name}"),
    }
}

fn mape(rs: &[&PowerResult], f: fn(&PowerResult) -> f64) -> f64 {
    rs.iter().map(|r| f(r).abs()).sum::<f64>() / rs.len().max(1) as f64
}

/// Every row, the fit, the expected parameters and the tables
/// (`cargo test --release --test energy_validation -- --ignored --nocapture`).
#[test]
#[ignore]
fn print_rows() {
    let f = ev::fit(data()).unwrap();
    println!("fit: {f:?}");
    for p in ev::expected_params(data()).unwrap() {
        let s = table(&p.config);
        println!(
            "{:8} static_w {:8.3} (shipped {:8.3})  active_w {:8.3} (shipped {:8.3})  mac_scale {:6.4} (shipped {:6.4})  {}",
            p.config, p.static_w, s.static_w, p.active_w, s.active_w, p.mac_scale, s.mac_scale, p.rule
        );
    }
    for r in ev::evaluate(data()).unwrap() {
        let e = &r.breakdown;
        println!(
            "{:5} {:11} {:28} time {:9.2} vs {:9.2} us ({:+6.1}%)  power {:6.1} vs {:6.1} W ({:+6.1}%)  energy {:11.1} vs {:11.1} uJ ({:+6.1}%)  static+active {:4.1}% compute {:4.1}% hbm {:4.1}%",
            r.row.config,
            r.row.split.as_str(),
            r.row.workload,
            r.time_us,
            r.row.time_us,
            r.time_err_pct(),
            r.power_w,
            r.row.power_w,
            r.power_err_pct(),
            r.energy_uj,
            r.row.energy_uj,
            r.energy_err_pct(),
            e.static_pj / e.total_pj * 100.0,
            e.compute_pj / e.total_pj * 100.0,
            e.hbm_pj / e.total_pj * 100.0,
        );
    }
    for t in ev::run(data()).unwrap() {
        println!("{}", t.render());
    }
}

/// The shipped `static_w`, `active_w` and `mac_scale` of every config are the fit / rule of
/// src/jobs/validate/energy.rs (to the rounding written in the configs: 0.1 W, 0.001).
#[test]
fn shipped_energy_parameters_are_the_fit() {
    let f = ev::fit(data()).unwrap();
    println!(
        "H100 fit on {:?}: idle {:.2} W, active_w {:.2} W, mac_scale {:.4}",
        f.rows, f.idle_w, f.active_w, f.mac_scale
    );
    assert_eq!(f.rows.len(), 2);
    // Physically meaningful: a positive baseline below TDP, MACs dearer than the isolated units.
    assert!(f.active_w > 0.0 && f.active_w < 700.0, "{f:?}");
    assert!(f.mac_scale > 1.0 && f.mac_scale < 10.0, "{f:?}");
    let want = ev::expected_params(data()).unwrap();
    let names: Vec<&str> = want.iter().map(|p| p.config.as_str()).collect();
    for c in config::shipped_names() {
        assert!(names.contains(&c), "{c} has no energy rule");
    }
    for p in &want {
        let s = table(&p.config);
        println!(
            "{:8} static_w {:8.3} active_w {:8.3} mac_scale {:.4}  ({})",
            p.config, p.static_w, p.active_w, p.mac_scale, p.rule
        );
        for (key, shipped, fitted, tolerance) in [
            ("static_w", s.static_w, p.static_w, 0.051),
            ("active_w", s.active_w, p.active_w, 0.051),
            ("mac_scale", s.mac_scale, p.mac_scale, 0.00051),
        ] {
            assert!(
                (shipped - fitted).abs() <= tolerance,
                "{}: {key} {shipped} vs {fitted}",
                p.config
            );
        }
    }
}

/// Errors of energy per call and average power, calibration vs evaluation, per device: bounds
/// are what the model achieves, rounded up (see `print_rows` for the rows).
#[test]
fn achieved_errors() {
    let rs = ev::evaluate(data()).unwrap();
    let sel = |cfg: &str, split: Split| -> Vec<&PowerResult> {
        rs.iter()
            .filter(|r| r.row.config == cfg && r.row.split == split)
            .collect()
    };
    let (cal, h100, h200) = (
        sel("h100", Split::Calibration),
        sel("h100", Split::Evaluation),
        sel("h200", Split::Evaluation),
    );
    assert_eq!((cal.len(), h100.len(), h200.len()), (2, 7, 9));
    let e = |r: &PowerResult| r.energy_err_pct();
    let p = |r: &PowerResult| r.power_err_pct();
    let checks = [
        // The fit matches the calibration rows' power exactly (up to the config's rounding);
        // their energy error is the time model's.
        ("h100 calibration power", mape(&cal, p), 0.1),
        ("h100 calibration energy", mape(&cal, e), 5.5),
        ("h100 evaluation energy", mape(&h100, e), 11.0),
        ("h100 evaluation power", mape(&h100, p), 5.5),
        ("h200 evaluation energy", mape(&h200, e), 13.5),
        ("h200 evaluation power", mape(&h200, p), 8.5),
    ];
    for (what, got, bound) in checks {
        println!("{what}: MAPE {got:.2}% (bound {bound}%)");
        assert!(got <= bound, "{what}: MAPE {got:.2}% > {bound}%");
    }
    // The breakdown still sums to the total on every row.
    for r in &rs {
        let b = &r.breakdown;
        let sum = b.compute_pj
            + b.vector_pj
            + b.reg_pj
            + b.sram_pj
            + b.l2_pj
            + b.hbm_pj
            + b.interconnect_pj
            + b.static_pj;
        assert!((sum - b.total_pj).abs() <= 1e-9 * b.total_pj);
    }
}

/// Chip-level check: modelled power of an 8192^3 bf16 GEMM vs TDP / published power.
#[test]
fn chip_level_power() {
    let rows = ev::chip_level().unwrap();
    let get = |c: &str| rows.iter().find(|r| r.config == c).unwrap();
    for r in &rows {
        let s = table(&r.config);
        assert!(
            r.power_w.is_finite() && r.power_w > s.static_w + s.active_w,
            "{r:?}"
        );
        assert!((r.energy_j - r.power_w * r.time_s).abs() <= 1e-9 * r.energy_j);
    }
    // (config, |modelled / reference - 1| bound): what the model achieves, rounded up. TPU v4 is
    // calibrated to it; on the GPUs this 8192^3 GEMM is power-limited, so the governor holds it
    // at the TDP and the reported energy is the one it assumed (src/energy/mod.rs): modelled
    // power = TDP to the governor's clock tolerance (1e-6 of nominal: a few parts in 10^6 of
    // power, never above; not an independent check; the check of the power model is the
    // governed clock and the measured rows of gpu_power_*.csv).
    for (c, bound) in [
        ("h100", 1e-4),
        ("h200", 1e-4),
        ("tpu_v4", 0.005),
        ("a100", 1e-4),
        ("b200", 1e-4),
    ] {
        let r = get(c);
        let w = r.reference_w.unwrap();
        let err = (r.power_w / w - 1.0).abs();
        assert!(err <= bound, "{c}: {:.1} W vs {w} W", r.power_w);
    }
    let t = ev::chip_level_table(&rows);
    assert_eq!(t.summary.len(), rows.len());
}

/// `active_w` and `mac_scale` are validated like every other energy key.
#[test]
fn bad_energy_values_are_input_errors() {
    let src = common::shipped_src("h100");
    for (from, to, key) in [
        ("active_w = 359.9", "active_w = -1.0", "energy.active_w"),
        ("mac_scale = 2.751", "mac_scale = -2.0", "energy.mac_scale"),
    ] {
        assert!(src.contains(from), "{from}");
        let e = common::load_file("bad.toml", src.replacen(from, to, 1)).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(key), "{key}: {e}");
    }
}
