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
            "swept {} points{} ({} simulated, {} resumed) in {:.2} s ({:.0} points/s, {} threads) -> {}",
            s.shard_points,
            shard
                .map(|sh| format!(" of {} (shard {}/{})", s.total_points, sh.index, sh.count))
                .unwrap_or_default(),
            s.simulated,
            s.resumed,
            secs,
            s.simulated as f64 / secs.max(1e-9),
            rayon::current_num_threads(),
            a.out.display()
        );
    }
    Ok(())
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
