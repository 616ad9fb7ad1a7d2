//! The main job (`archsim --config CONFIG`) and `archsim compare`: one workload on two machines,
//! side by side, with report.json, ops.csv, trace.json and the plots written to a directory.

use crate::compare::{self, Comparison};
use crate::error::{Error, Location, Result};
use crate::fsio::write_atomic;
use crate::registry::{self, LoadedConfig};
use crate::workload;
use std::path::{Path, PathBuf};

/// What a comparison job produced: the comparison (data), its side-by-side table and verdict as
/// text, and the files written.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    pub comparison: Comparison,
    /// [`compare::render_table`] of the comparison: what the CLI prints.
    pub table: String,
    pub files: Vec<PathBuf>,
}

/// The main job: like [`compare_job`] with the config's own `[compare] with` and `[workload]
/// kernels`.
pub fn main_job(
    config_spec: &str,
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    compare_job(config_spec, None, &[], out_dir, progress)
}

/// `archsim compare`: run the config's default workloads (`[workload] kernels`, or `workloads`
/// when given) on the machine and on its comparison machine (`[compare] with`, or `vs`), and
/// write report.json, ops.csv, trace.json and plots to `out_dir`.
pub fn compare_job(
    config_spec: &str,
    vs: Option<&str>,
    workloads: &[String],
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    let cfg = registry::load(config_spec)?;
    let kernels = if workloads.is_empty() {
        cfg.default_workloads()
    } else {
        workloads.to_vec()
    };
    if kernels.is_empty() {
        return Err(Error::input(
            Location::file(cfg.source.clone()).key("workload.kernels"),
            "the config names no default workload; add [workload] kernels = [...] or give `archsim compare --workload`",
        ));
    }
    let Some(other) = vs.or(cfg.compare_with()) else {
        return Err(Error::input(
            Location::file(cfg.source.clone()).key("compare.with"),
            "the config names no comparison machine; add [compare] with = \"h100\" or give `archsim compare --vs`",
        ));
    };
    let other = registry::load(other)?;
    run_comparison(&cfg, &other, &kernels, out_dir, progress)
}

/// Compare two loaded configs on named workloads and write the outputs.
pub fn run_comparison(
    a: &LoadedConfig,
    b: &LoadedConfig,
    workloads: &[String],
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    let ws = workloads
        .iter()
        .map(|k| workload::load(k, None))
        .collect::<Result<Vec<_>>>()?;
    let c = compare::compare(a, b, &ws, progress)?;
    let table = compare::render_table(&c);
    let files = write_outputs(&c, out_dir)?;
    Ok(CompareOutcome {
        comparison: c,
        table,
        files,
    })
}

/// Write report.json, ops.csv, trace.json (Chrome trace event format, opens in Perfetto) and
/// the comparison plots (PNG + SVG) into `dir`.
pub fn write_outputs(c: &Comparison, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let json = serde_json::to_vec_pretty(c).map_err(|e| Error::internal(e.to_string()))?;
    let p = dir.join("report.json");
    write_atomic(&p, &json)?;
    written.push(p);
    let p = dir.join("ops.csv");
    write_atomic(&p, &compare::ops_csv(c)?)?;
    written.push(p);
    let runs = [
        (c.a.label.as_str(), &c.a.run),
        (c.b.label.as_str(), &c.b.run),
    ];
    let p = dir.join("trace.json");
    write_atomic(&p, &crate::report::chrome_trace::render(&runs)?)?;
    written.push(p);
    written.extend(crate::plot::comparison_plots(
        &runs,
        dir,
        &c.workloads.join(" + "),
    )?);
    Ok(written)
}
