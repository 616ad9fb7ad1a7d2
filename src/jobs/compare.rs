//! The main job (`archsim --config CONFIG`) and `archsim compare`: workloads and model phases on
//! two machines, side by side, each compared on its own, with report.json, ops.csv, trace.json
//! and the plots written to a directory.

use crate::compare::{self, ModelCase, Report};
use crate::error::{Error, Location, Result};
use crate::fsio::write_atomic;
use crate::registry::{self, LoadedConfig};
use crate::run::RunReport;
use crate::workload::model::lower::{Phase, RunSpec};
use crate::workload::{self, model};
use std::path::{Path, PathBuf};

/// What a comparison job produced: the report (data), its side-by-side tables and verdicts as
/// text, and the files written.
#[derive(Debug, Clone)]
pub struct CompareOutcome {
    pub report: Report,
    /// [`compare::render_report`] of the report: what the CLI prints.
    pub table: String,
    pub files: Vec<PathBuf>,
}

/// The main job: like [`compare_job`] with the config's own `[compare] with` and `[workload]`
/// (`kernels`, `models` in prefill and decode).
pub fn main_job(
    config_spec: &str,
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    compare_job(config_spec, None, &[], &[], out_dir, progress)
}

/// `archsim compare`: run workloads (`workloads`, else the config's `[workload] kernels`) and
/// models (`models`, else the config's `[workload] models`; prefill and decode each) on the
/// machine and on its comparison machine (`[compare] with`, or `vs`), and write report.json,
/// ops.csv, trace.json and plots to `out_dir`. Explicit workloads or models replace both
/// defaults.
pub fn compare_job(
    config_spec: &str,
    vs: Option<&str>,
    workloads: &[String],
    models: &[String],
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    let report = compare_report(config_spec, vs, workloads, models, progress)?;
    finish(report, out_dir)
}

/// The comparison of [`compare_job`] as data, writing nothing (the Python bindings' `compare`;
/// report.json is this report serialized).
pub fn compare_report(
    config_spec: &str,
    vs: Option<&str>,
    workloads: &[String],
    models: &[String],
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<Report> {
    let cfg = registry::load(config_spec)?;
    let section = cfg.workload_section().cloned().unwrap_or_default();
    let (kernels, model_names) = if workloads.is_empty() && models.is_empty() {
        (section.kernels.clone(), section.models.clone())
    } else {
        (workloads.to_vec(), models.to_vec())
    };
    if kernels.is_empty() && model_names.is_empty() {
        return Err(Error::input(
            Location::file(cfg.source.clone()).key("workload.kernels"),
            "the config names no default workload; add [workload] kernels = [...] or models = [...], or give `archsim compare --workload` / `--model`",
        ));
    }
    let Some(other) = vs.or(cfg.compare_with()) else {
        return Err(Error::input(
            Location::file(cfg.source.clone()).key("compare.with"),
            "the config names no comparison machine; add [compare] with = \"h100\" or give `archsim compare --vs`",
        ));
    };
    let other = registry::load(other)?;
    let mut cases = Vec::new();
    for name in &model_names {
        let card = model::load(name)?;
        for phase in [Phase::Prefill, Phase::Decode] {
            let mut spec = RunSpec::new(phase, &card);
            spec.batch = section.batch;
            spec.seq = section.seq;
            spec.context = section.context;
            cases.push(ModelCase {
                card: card.clone(),
                spec,
            });
        }
    }
    compare_loaded(&cfg, &other, &kernels, &cases, progress)
}

/// Compare two loaded configs on named workloads and model phases and write the outputs.
pub fn run_comparison(
    a: &LoadedConfig,
    b: &LoadedConfig,
    workloads: &[String],
    models: &[ModelCase],
    out_dir: &Path,
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<CompareOutcome> {
    let report = compare_loaded(a, b, workloads, models, progress)?;
    finish(report, out_dir)
}

/// Compare two loaded configs on named workloads and model phases (data only).
pub fn compare_loaded(
    a: &LoadedConfig,
    b: &LoadedConfig,
    workloads: &[String],
    models: &[ModelCase],
    progress: &mut dyn FnMut(compare::Progress),
) -> Result<Report> {
    let ws = workloads
        .iter()
        .map(|k| workload::load(k, None))
        .collect::<Result<Vec<_>>>()?;
    compare::compare_all(a, b, &ws, models, progress)
}

/// Render a report's tables and write its outputs to `out_dir`.
fn finish(report: Report, out_dir: &Path) -> Result<CompareOutcome> {
    let table = compare::render_report(&report);
    let files = write_outputs(&report, out_dir)?;
    Ok(CompareOutcome {
        report,
        table,
        files,
    })
}

/// A file-name-safe form of a section title ("llama3_8b prefill" → "llama3_8b_prefill").
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The files the main job and `archsim compare` write into `--out DIR` before the plots, in
/// the order written: (name, what it holds). The plots ([`crate::plot::COMPARISON_PLOTS`], PNG
/// and SVG) follow, in `DIR` for a single section and in `DIR/<section>/` for several
/// (`<section>`: the section's title with every character but ASCII letters, digits, `-` and
/// `_` replaced by `_`).
pub const OUTPUT_FILES: [(&str, &str); 3] = [
    (
        "report.json",
        "the comparison as JSON: `{a_label, b_label, sections}`, every section with both \
         machines' `run --format json` reports, per-op ratios and the verdict \
         (`archsim schema compare`)",
    ),
    (
        "ops.csv",
        "one row per op, machine and section (`archsim schema compare-csv`)",
    ),
    (
        "trace.json",
        "Chrome trace event format (opens in https://ui.perfetto.dev): one process per \
         machine, every section's ops end to end as spans (`ts`/`dur` in µs, op names \
         prefixed by their section when there are several) with child spans for where each \
         op's time goes, and counter tracks for utilization and power",
    ),
];

/// Write report.json, ops.csv (every section, a `section` column), trace.json (Chrome trace
/// event format, opens in Perfetto; every section on one timeline, op names prefixed by their
/// section when there are several) and the comparison plots (PNG + SVG) of each section — in
/// `dir` for a single section, in `dir/<section>/` for several, so no plot sums unrelated
/// workloads.
pub fn write_outputs(r: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let json = serde_json::to_vec_pretty(r).map_err(|e| Error::internal(e.to_string()))?;
    let [report_json, ops_csv, trace_json] = OUTPUT_FILES.map(|(name, _)| name);
    let p = dir.join(report_json);
    write_atomic(&p, &json)?;
    written.push(p);
    let p = dir.join(ops_csv);
    write_atomic(&p, &compare::ops_csv(r)?)?;
    written.push(p);
    let several = r.sections.len() > 1;
    // Every section's ops on one timeline per machine (the first section's report carries the
    // machine facts), op names prefixed by their section when there are several.
    let timeline = |side: usize| -> RunReport {
        fn run_of(c: &compare::Comparison, side: usize) -> &RunReport {
            if side == 0 {
                &c.a.run
            } else {
                &c.b.run
            }
        }
        let mut all = run_of(&r.sections[0], side).clone();
        all.ops = r
            .sections
            .iter()
            .flat_map(|c| {
                let title = c.workloads.join(" + ");
                run_of(c, side).ops.iter().map(move |p| {
                    let mut p = p.clone();
                    if several {
                        p.name = format!("{title}/{}", p.name);
                    }
                    p
                })
            })
            .collect();
        all
    };
    if r.sections.is_empty() {
        return Ok(written);
    }
    let (ta, tb) = (timeline(0), timeline(1));
    let p = dir.join(trace_json);
    write_atomic(
        &p,
        &crate::report::chrome_trace::render(&[
            (r.a_label.as_str(), &ta),
            (r.b_label.as_str(), &tb),
        ])?,
    )?;
    written.push(p);
    for c in &r.sections {
        let title = c.workloads.join(" + ");
        let sub = if several {
            dir.join(slug(&title))
        } else {
            dir.to_path_buf()
        };
        let runs = [
            (c.a.label.as_str(), &c.a.run),
            (c.b.label.as_str(), &c.b.run),
        ];
        let label = if c.scope == "per layer" {
            format!("{title} (per layer)")
        } else {
            title
        };
        written.extend(crate::plot::comparison_plots(&runs, &sub, &label)?);
    }
    Ok(written)
}
