//! The main job (`archsim --config CONFIG`) and `archsim compare`: workloads and model phases on
//! two machines, side by side, each compared on its own, with report.json, ops.csv, trace.json
//! and the plots written to a directory.

use crate::compare::{self, ModelCase, Report};
use crate::error::{Error, Location, Result};
use crate::fsio::{write_atomic, AtomicWriter};
use crate::machine::OpProfile;
use crate::registry::{self, LoadedConfig};
use crate::report::chrome_trace::{MachineTimeline, TraceWriter};
use crate::run::RunReport;
use crate::workload::model::lower::{Phase, RunSpec};
use crate::workload::{self, model, DType};
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
        .map(|k| load_capped(k))
        .collect::<Result<Vec<_>>>()?;
    compare::compare_all(a, b, &ws, models, progress)
}

/// Most ops of one workload in a comparison (the main job, `archsim compare`, the Python
/// `compare`): 10,000. A comparison keeps every op's profile on both machines for report.json,
/// the per-op verdict and the plots (about 20 KB per op in all), so this cap bounds its memory
/// (README, "Long topologies stream; memory bounds and input caps"); `archsim run` streams
/// instead and has no cap.
pub const MAX_COMPARE_OPS: usize = 10_000;

/// Load a workload for a comparison, refusing one of more than [`MAX_COMPARE_OPS`] ops. A
/// topology CSV is counted row by row (one op a row) before it is loaded, so a 10^6-row file is
/// refused in bounded memory.
fn load_capped(spec: &str) -> Result<workload::Workload> {
    let too_many = |file: &str, n: usize| {
        Error::input(
            Location::file(file).key("workload"),
            format!(
                "workload `{spec}` has {n} ops; a comparison (the main job, `archsim compare`) \
                 holds every op of both machines and takes at most {MAX_COMPARE_OPS} ops per \
                 workload. Split it, or run it on each machine with `archsim run` (streamed, \
                 bounded memory at any length)"
            ),
        )
    };
    let (text, file, ext) = workload::load_source(spec)?;
    if ext.as_deref() == Some("csv") {
        let n =
            workload::topology::for_each_layer(&text, &file, DType::Bf16, false, &mut |_| Ok(()))?;
        if n > MAX_COMPARE_OPS {
            return Err(too_many(&file, n));
        }
    }
    drop(text);
    let w = workload::load(spec, None)?;
    let n = w.ops().len();
    if n > MAX_COMPARE_OPS {
        return Err(too_many(&file, n));
    }
    Ok(w)
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
    let [report_json, ops_csv, trace_json] = OUTPUT_FILES.map(|(name, _)| name);
    // report.json serialized straight into its file (never held as one string).
    let p = dir.join(report_json);
    let mut f = AtomicWriter::create(&p)?;
    serde_json::to_writer_pretty(&mut f, r).map_err(|e| Error::internal(e.to_string()))?;
    f.commit()?;
    written.push(p);
    let p = dir.join(ops_csv);
    write_atomic(&p, &compare::ops_csv(r)?)?;
    written.push(p);
    let several = r.sections.len() > 1;
    if r.sections.is_empty() {
        return Ok(written);
    }
    // Every section's ops on one timeline per machine (the first section's report carries the
    // machine facts), op names prefixed by their section when there are several; the events are
    // written a batch of ops at a time (the bytes of `chrome_trace::render` over whole runs).
    let p = dir.join(trace_json);
    let mut f = AtomicWriter::create(&p)?;
    let mut tw = TraceWriter::default();
    f.write(TraceWriter::head(&[r.a_label.as_str(), r.b_label.as_str()])?.as_bytes())?;
    for side in 0..2 {
        fn run_of(c: &compare::Comparison, side: usize) -> &RunReport {
            if side == 0 {
                &c.a.run
            } else {
                &c.b.run
            }
        }
        let (label, kind) = (
            if side == 0 { &r.a_label } else { &r.b_label },
            run_of(&r.sections[0], side).machine.info.kind.as_str(),
        );
        let (mut timeline, ev) = MachineTimeline::start(side as u64 + 1, label, kind);
        f.write(tw.events(&ev)?.as_bytes())?;
        for c in &r.sections {
            let title = c.workloads.join(" + ");
            for batch in run_of(c, side).ops.chunks(crate::run::STREAM_BATCH_OPS) {
                let named: Vec<OpProfile>;
                let ops = if several {
                    named = batch
                        .iter()
                        .map(|p| OpProfile {
                            name: format!("{title}/{}", p.name),
                            ..p.clone()
                        })
                        .collect();
                    &named[..]
                } else {
                    batch
                };
                f.write(timeline.write_ops(&mut tw, ops)?.as_bytes())?;
            }
        }
        f.write(tw.events(&timeline.finish())?.as_bytes())?;
    }
    f.write(tw.tail().as_bytes())?;
    f.commit()?;
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
