//! `archsim train --scaling N1,N2,...`: the best plan of one or two systems at each chip count
//! (weak scaling: the global batch grows with the chips from `--global-batch` at the first
//! count), written as `scaling.csv` and the tokens/s and MFU plots.

use crate::error::{Error, Result};
use crate::fsio::write_atomic;
use crate::plot::{scaling_plots, ScalingSeries};
use crate::system::train::{train, PlanConstraints, TrainSpec};
use crate::system::SystemConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One (system, chips) point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingPoint {
    pub system: String,
    pub chips: u64,
    pub global_batch: u64,
    pub plan: String,
    pub step_time_s: f64,
    pub tokens_per_s: f64,
    pub mfu: f64,
    /// Why the point has no plan (empty when it has one).
    pub error: String,
}

/// Run every point, write `scaling.csv` and the plots into `out_dir`.
pub fn scaling(
    systems: &[&SystemConfig],
    spec: &TrainSpec,
    chips: &[u64],
    forced: &PlanConstraints,
    out_dir: &Path,
) -> Result<(Vec<ScalingPoint>, Vec<PathBuf>)> {
    let Some(&first) = chips.first() else {
        return Err(Error::setting("scaling", "give at least one chip count"));
    };
    let mut points = Vec::new();
    let mut series = Vec::new();
    for sys in systems {
        let mut s = ScalingSeries {
            label: format!("{} ({})", sys.name, sys.chip.name),
            points: Vec::new(),
        };
        for &n in chips {
            let gb = (spec.global_batch as u128 * n as u128).div_ceil(first as u128) as u64;
            let point = TrainSpec {
                chips: n,
                global_batch: gb,
                ..spec.clone()
            };
            match train(sys, &point, forced) {
                Ok(o) => {
                    let r = &o.best;
                    s.points.push((n, r.tokens_per_s, r.mfu));
                    points.push(ScalingPoint {
                        system: sys.name.clone(),
                        chips: n,
                        global_batch: gb,
                        plan: r.plan.describe(),
                        step_time_s: r.step_time_s,
                        tokens_per_s: r.tokens_per_s,
                        mfu: r.mfu,
                        error: String::new(),
                    });
                }
                Err(e) => points.push(ScalingPoint {
                    system: sys.name.clone(),
                    chips: n,
                    global_batch: gb,
                    plan: String::new(),
                    step_time_s: 0.0,
                    tokens_per_s: 0.0,
                    mfu: 0.0,
                    error: e.to_string(),
                }),
            }
        }
        series.push(s);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in &points {
        w.serialize(p)
            .map_err(|e| Error::internal(format!("CSV writing failed: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::internal(format!("CSV writing failed: {e}")))?;
    let mut files = Vec::new();
    let csv_path = out_dir.join("scaling.csv");
    write_atomic(&csv_path, &bytes)?;
    files.push(csv_path);
    if series.iter().any(|s| !s.points.is_empty()) {
        let title = format!(
            "{}, weak scaling from {} sequences at {first} chips",
            spec.card.name, spec.global_batch
        );
        files.extend(scaling_plots(&series, &title, out_dir)?);
    }
    Ok((points, files))
}
