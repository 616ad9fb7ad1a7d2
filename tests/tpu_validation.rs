//! The native TPU model against measured TPU GEMM times (tests/data/tpu_measured.csv): fit the
//! general parameters on the calibration rows, assert the error on every split and regime.
mod common;

use archsim::jobs::validate::tpu;
use common::{data_dir, systolic};

fn group<'a>(v: &'a tpu::TpuValidation, name: &str) -> &'a archsim::jobs::validate::SummaryRow {
    v.tables[0]
        .summary
        .iter()
        .find(|r| r.group == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

#[test]
fn tpu_validation_errors() {
    let v = tpu::validate(data_dir())
        .unwrap()
        .expect("tests/data/tpu_measured.csv present");
    for t in &v.tables {
        println!("{}", t.render());
    }
    println!("{:?}", v.params);
    assert_eq!(v.rows.len(), 43);
    // (group, bound on its MAPE %)
    let mean_bounds = [
        // Target: MAPE <= 10% on device-timed rows. Achieved ~3%.
        ("device-timed (trace)", 5.0),
        ("evaluation, device-timed", 5.0),
        // Host-timed v5e rows share the fitted default power-state clock with 7x (see report).
        ("host-timed (incl. dispatch)", 10.0),
        ("all rows", 7.0),
        ("calibration", 6.0),
        ("evaluation", 7.0),
        ("compute-bound", 7.0),
        ("memory-bound", 13.0),
        ("small", 5.0),
        // Fitting only what the brief names (overheads by timing scope, the MAC rate) and keeping
        // the nominal clocks still meets the 10% target on device-timed rows (~8.5%).
        ("device-timed, nominal clock", 10.0),
        ("all rows, nominal clock", 10.0),
    ];
    for (name, bound) in mean_bounds {
        let e = group(&v, name).mean_err_pct;
        assert!(e <= bound, "{name}: MAPE {e}% > {bound}%");
    }
    assert!(group(&v, "all rows").max_err_pct <= 25.0);
    assert_eq!(v.nominal_clock_params.mac_rate_256, 2.0);
    // SPECS §1.3: the 256x256 chips need 2 MACs/PE/cycle (or 4 arrays) to reach their peaks.
    assert_eq!(v.params.mac_rate_256, 2.0);
    // p_state 7 runs faster than the default DVFS state (SPECS §1.4).
    assert!(v.params.clock_fraction_p_state_7 > v.params.clock_fraction_default);
}

#[test]
fn shipped_configs_carry_the_fitted_parameters() {
    // Shipped configs run at the default-state clock fraction (`chip.kernel_efficiency`), so
    // they carry the overhead fitted jointly with it.
    let v = tpu::validate(data_dir()).unwrap().unwrap();
    for name in ["tpu_v4", "tpu_v5e", "tpu_v5p", "tpu_v5", "tpu_v6e", "tpu7x"] {
        let c = systolic(name);
        assert!(
            (c.chip.dispatch_overhead_us - v.params.device_overhead_us).abs() < 0.005,
            "{name}: config {} vs fitted {}",
            c.chip.dispatch_overhead_us,
            v.params.device_overhead_us
        );
        assert!(
            (c.chip.kernel_efficiency - v.params.clock_fraction_default).abs() < 0.0051,
            "{name}: kernel_efficiency {} vs fitted clock fraction {}",
            c.chip.kernel_efficiency,
            v.params.clock_fraction_default
        );
        if c.array.rows == 256 {
            assert_eq!(c.array.mac_rate, v.params.mac_rate_256, "{name}");
        }
    }
}
