//! Each shipped machine config carries its validation status (`[validation]`): the rows,
//! dtypes and evaluation MAPE `archsim validate` measures for it. This test recomputes them from
//! the reference data, so the configs cannot drift from what validation reports; a chip without
//! measured rows must say so (no rows, no MAPE) and name where its parameters come from.

mod common;

use archsim::config::{shipped_names, ValidationStatus};
use archsim::jobs::validate::gpu;
use archsim::registry::{self, HardwareConfig};
use common::data_dir as data;

fn status(name: &str) -> ValidationStatus {
    match registry::load(name).unwrap().hw {
        HardwareConfig::Simt(c) => c.validation.clone(),
        HardwareConfig::Systolic(c) => c.validation.clone(),
        _ => panic!("{name}: unexpected config kind"),
    }
}

fn is_gpu(name: &str) -> bool {
    matches!(registry::load(name).unwrap().hw, HardwareConfig::Simt(_))
}

/// What the `[validation]` section of a GPU config must say, as TOML (printed on failure so
/// the section can be regenerated).
fn toml_of(s: &ValidationStatus) -> String {
    let mut t = format!(
        "[validation]\nrows = {}\nevaluation_rows = {}\ndtypes = {:?}\n",
        s.rows, s.evaluation_rows, s.dtypes
    );
    if let Some(m) = s.mape_pct {
        t += &format!("mape_pct = {m:.1}\n");
    }
    if let Some(m) = s.mape_ge_10gflop_pct {
        t += &format!("mape_ge_10gflop_pct = {m:.1}\n");
    }
    t += &format!("source = {:?}\n", s.source);
    t
}

#[test]
fn gpu_configs_carry_the_status_validate_measures() {
    let results = gpu::evaluate(data()).unwrap();
    let mut fails = Vec::new();
    for name in shipped_names() {
        if !is_gpu(name) {
            continue;
        }
        let want = gpu::validation_status(&results, name);
        let got = status(name);
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 0.051,
            (None, None) => true,
            _ => false,
        };
        let ok = got.rows == want.rows
            && got.evaluation_rows == want.evaluation_rows
            && got.dtypes == want.dtypes
            && close(got.mape_pct, want.mape_pct)
            && close(got.mape_ge_10gflop_pct, want.mape_ge_10gflop_pct)
            && (want.rows == 0 || got.source == want.source);
        if !ok {
            fails.push(format!(
                "{name}: config has {got:?}\nexpected\n{}",
                toml_of(&want)
            ));
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn a_chip_without_rows_says_so_and_names_its_sources() {
    for name in shipped_names() {
        let s = status(name);
        if s.unvalidated() {
            assert!(s.mape_pct.is_none(), "{name}: a MAPE without rows");
            assert!(
                !s.note.is_empty(),
                "{name}: no note on where its parameters come from"
            );
            assert!(s.summary().starts_with("no measured rows"), "{name}");
        } else {
            assert!(s.mape_pct.is_some(), "{name}: rows but no MAPE");
            assert!(s.summary().starts_with("validated on"), "{name}");
        }
    }
    // The main job's chip has no measured rows; the TPU with rows is v5e.
    assert!(status("tpu_v5p").unvalidated());
    assert!(!status("tpu_v5e").unvalidated());
}

#[test]
fn tpu_v5e_status_counts_the_measured_rows() {
    let text = std::fs::read_to_string(data().join("tpu_measured.csv")).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("TPU v5e,"))
        .count() as u64;
    let s = status("tpu_v5e");
    assert_eq!(s.rows, rows);
    assert_eq!(s.source, "tests/data/tpu_measured.csv");
}
