//! Flags and handlers of `archsim sweep`, `archsim merge` (and the data side of
//! `archsim plot sweep`). `src/cli.rs` only dispatches here.

use super::{plot, table, RunOptions, Shard, Sweep};
use crate::config::SimMode;
use crate::error::{Error, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// `archsim sweep`: run a design-space sweep into one CSV row per point.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Base hardware config: archsim .toml (path or shipped name) or SCALE-Sim .cfg.
    #[arg(long, value_name = "BASE")]
    pub config: String,
    /// Sweep file: dotted config keys with value lists or {from, to, step|factor} ranges, and
    /// `workloads = [...]`.
    #[arg(long, value_name = "SWEEP.toml")]
    pub sweep: PathBuf,
    /// Output CSV (written atomically; an existing file is resumed: its points are kept and
    /// only the missing ones run).
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Run only shard I of N (0-based): the points with index % N == I.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Systolic model: native (default for .toml), scalesim (default for .cfg), pe.
    #[arg(long, value_enum)]
    pub mode: Option<SimMode>,
    /// Refuse sweeps with more points than this.
    #[arg(long, value_name = "N", default_value_t = super::spec::DEFAULT_MAX_POINTS)]
    pub max_points: u64,
    /// Overwrite an existing --out instead of resuming from it.
    #[arg(long)]
    pub no_resume: bool,
    /// Seconds between checkpoint rewrites of --out.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    pub checkpoint_s: f64,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `archsim merge`: join shard CSVs into one, sorted by point index.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Merged output CSV (written atomically).
    #[arg(value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Shard CSVs written by `archsim sweep --shard I/N`.
    #[arg(value_name = "SHARD.csv", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// Require exactly the points 0..N (the sweep's total), so a missing shard is an error.
    #[arg(long, value_name = "N")]
    pub points: Option<u64>,
    /// No summary line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `archsim plot ...`: the plot commands this module serves. To expose them, `src/cli.rs` adds a
/// variant `Plot(crate::sweep::cli::PlotArgs)` and the dispatch line
/// `Some(Command::Plot(a)) => crate::sweep::cli::cmd_plot(a)`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    #[command(subcommand)]
    pub what: PlotCommand,
}

/// What to plot.
#[derive(Debug, clap::Subcommand)]
pub enum PlotCommand {
    /// Heatmap of a metric over two swept keys, and the time-vs-energy Pareto front, from a
    /// sweep CSV.
    Sweep(PlotSweepArgs),
}

/// `archsim plot sweep`: arguments of the sweep plots (heatmap + Pareto front).
#[derive(Debug, Args)]
pub struct PlotSweepArgs {
    /// Sweep CSV written by `archsim sweep` or `archsim merge`.
    #[arg(value_name = "CSV")]
    pub csv: PathBuf,
    /// Column on the x axis (a swept key such as `array.rows`, or `workload`).
    #[arg(long)]
    pub x: String,
    /// Column on the y axis.
    #[arg(long)]
    pub y: String,
    /// Metric of the heatmap cells: time_s, energy_pj, utilization, tflops, pj_per_flop,
    /// hbm_bytes, cycles, ...
    #[arg(long, default_value = "time_s")]
    pub metric: String,
    /// Keep only rows with KEY=VALUE (repeatable); other swept keys are reduced to their best
    /// value per cell.
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "plots")]
    pub out: PathBuf,
}

/// Handler of `archsim sweep`.
pub fn cmd_sweep(a: &SweepArgs) -> Result<()> {
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    if !(a.checkpoint_s.is_finite() && a.checkpoint_s >= 0.0) {
        return Err(Error::flag("--checkpoint-s", "must be a number >= 0"));
    }
    let sweep = Sweep::prepare(&a.config, &a.sweep, a.mode, a.max_points)?;
    let opts = RunOptions {
        out: a.out.clone(),
        shard,
        resume: !a.no_resume,
        quiet: a.quiet,
        checkpoint: Duration::from_secs_f64(a.checkpoint_s),
    };
    let s = sweep.run(&opts)?;
    if !a.quiet {
        let secs = s.elapsed.as_secs_f64();
        eprintln!(
            "swept {} points{} ({} simulated, {} resumed) in {:.2} s ({} points/s, {} threads) -> {}",
            s.shard_points,
            shard
                .map(|sh| format!(" of {} (shard {}/{})", s.total_points, sh.index, sh.count))
                .unwrap_or_default(),
            s.simulated,
            s.resumed,
            secs,
            rate_text(s.simulated as f64 / secs.max(1e-9)),
            rayon::current_num_threads(),
            a.out.display()
        );
    }
    Ok(())
}

/// A rate with 3 significant digits at least (`1654`, `2.75`, `0.183`).
fn rate_text(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 1.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    }
}

/// Handler of `archsim merge`.
pub fn cmd_merge(a: &MergeArgs) -> Result<()> {
    let inputs: Vec<&std::path::Path> = a.shards.iter().map(|p| p.as_path()).collect();
    let merged = table::merge(&inputs, a.points)?;
    crate::report::write_atomic(&a.out, &merged.to_bytes())?;
    if !a.quiet {
        let gaps = table::gaps(&merged);
        eprintln!(
            "merged {} points from {} files -> {}",
            merged.rows.len(),
            a.shards.len(),
            a.out.display()
        );
        if !gaps.is_empty() {
            eprintln!(
                "warning: {} point(s) missing below the largest index (first: {}); a shard is incomplete or missing",
                gaps.len(),
                gaps[0]
            );
        }
    }
    Ok(())
}

/// Handler of `archsim plot ...`.
pub fn cmd_plot(a: &PlotArgs) -> Result<()> {
    match &a.what {
        PlotCommand::Sweep(s) => cmd_plot_sweep(s).map(|_| ()),
    }
}

/// Handler of `archsim plot sweep`: writes `sweep_heatmap_<metric>.{png,svg}` and
/// `sweep_pareto.{png,svg}` under `--out` and returns their paths.
pub fn cmd_plot_sweep(a: &PlotSweepArgs) -> Result<Vec<PathBuf>> {
    let data = plot_sweep_data(a)?;
    let file = a
        .csv
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("sweep");
    let reduce = if plot::higher_is_better(&a.metric) {
        "max"
    } else {
        "min"
    };
    let others: Vec<&str> = data
        .swept
        .iter()
        .filter(|k| {
            **k != a.x && **k != a.y && !a.filters.iter().any(|f| f.starts_with(&format!("{k}=")))
        })
        .map(String::as_str)
        .collect();
    let title = if others.is_empty() {
        format!("{file}: {}", a.metric)
    } else {
        format!("{file}: {} ({reduce} over {})", a.metric, others.join(", "))
    };
    let heat = crate::plot::Heatmap {
        title: &title,
        x_key: &a.x,
        y_key: &a.y,
        metric: &a.metric,
        rows: &data.cells,
    };
    let mut written =
        crate::plot::sweep_heatmap(&heat, &a.out, &format!("sweep_heatmap_{}", a.metric))?;
    let points: Vec<crate::plot::ParetoPoint> = data
        .pareto
        .iter()
        .map(|(label, t, e)| crate::plot::ParetoPoint {
            label: label.clone(),
            time_s: *t,
            energy_j: *e,
        })
        .collect();
    written.extend(crate::plot::pareto_front(
        &points,
        &format!("{file}: time vs energy ({} points)", points.len()),
        &a.out,
        "sweep_pareto",
    )?);
    for p in &written {
        eprintln!("wrote {}", p.display());
    }
    Ok(written)
}

/// Data side of `archsim plot sweep`: read the CSV and extract the heatmap cells and Pareto
/// points. The drawing is done by the caller with `crate::plot::sweep_heatmap` and
/// `crate::plot::pareto_front` (see [`plot::SweepPlotData`]).
pub fn plot_sweep_data(a: &PlotSweepArgs) -> Result<plot::SweepPlotData> {
    let q = plot::PlotQuery {
        x: a.x.clone(),
        y: a.y.clone(),
        metric: a.metric.clone(),
        filters: plot::parse_filters(&a.filters)?,
    };
    plot::extract(&a.csv, &q)
}
