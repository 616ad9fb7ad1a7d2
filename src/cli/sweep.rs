//! Flags and handlers of `archsim sweep`, `archsim merge` and `archsim plot sweep`: parse,
//! call [`archsim::jobs::sweep`], print. `cli/mod.rs` only dispatches here.

use super::progress;
use super::SimModeArg;
use archsim::error::{Error, Result};
use archsim::jobs::sweep::fleet::FleetSweep;
use archsim::jobs::sweep::plot::{plot_sweep, PlotSweepRequest};
use archsim::jobs::sweep::{merge_files, spec, PointSet, RunOptions, Shard, Sweep};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// `archsim sweep`: run a design-space sweep into one CSV row per point.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Base hardware config: archsim .toml (path or shipped name) or SCALE-Sim .cfg. Not
    /// used by a fleet sweep (`command = "train"|"serve"` in the sweep file).
    #[arg(long, value_name = "BASE")]
    pub config: Option<String>,
    /// Sweep file: dotted config keys with value lists or {from, to, step|factor} ranges, and
    /// `workloads = [...]`; or, with `command = "train"|"serve"`, system-layer parameters
    /// (system, chips, model, global_batch, seq, plan.<key>, ...: docs/SYSTEMS.md).
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
    pub mode: Option<SimModeArg>,
    /// Refuse sweeps with more points than this.
    #[arg(long, value_name = "N", default_value_t = spec::DEFAULT_MAX_POINTS)]
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

/// `archsim plot ...`: the plot commands.
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
    let checkpoint = Duration::try_from_secs_f64(a.checkpoint_s).map_err(|_| {
        Error::flag(
            "--checkpoint-s",
            format!("{}: must be a number of seconds >= 0", a.checkpoint_s),
        )
    })?;
    let sweep_spec = spec::SweepSpec::load(&a.sweep)?;
    let set: Box<dyn PointSet> = match (&sweep_spec.command, &a.config) {
        (Some((cmd, _)), Some(_)) => {
            return Err(Error::flag(
                "--config",
                format!("{} is a `command = \"{cmd}\"` fleet sweep: its systems are the sweep file's `system` key; drop --config", a.sweep.display()),
            ))
        }
        (Some(_), None) => {
            if a.mode.is_some() {
                return Err(Error::flag(
                    "--mode",
                    "a fleet sweep runs the systems' own chip models; drop --mode",
                ));
            }
            Box::new(FleetSweep::prepare(sweep_spec, a.max_points)?)
        }
        // The sweep file is read once: the spec loaded above goes on to the chip sweep.
        (None, Some(config)) => Box::new(Sweep::from_parts(
            sweep_spec,
            archsim::jobs::sweep::base::BaseConfig::load(config)?,
            a.mode.map(Into::into),
            a.max_points,
            a.sweep.parent(),
        )?),
        (None, None) => {
            return Err(Error::flag(
                "--config",
                "a sweep of chip-config keys needs --config BASE (or put `command = \"train\"` or \"serve\" in the sweep file for a fleet sweep)",
            ))
        }
    };
    let opts = RunOptions {
        out: a.out.clone(),
        shard,
        resume: !a.no_resume,
        checkpoint,
    };
    let bar = progress::SweepBar::new(a.quiet);
    let s = set.run_with_progress(&opts, &|p| bar.update(p))?;
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
    let m = merge_files(&a.out, &a.shards, a.points)?;
    if !a.quiet {
        eprintln!(
            "merged {} points from {} files -> {}",
            m.points,
            m.files,
            a.out.display()
        );
        if !m.gaps.is_empty() {
            eprintln!(
                "warning: {} point(s) missing below the largest index (first: {}); a shard is incomplete or missing",
                m.gaps.len(),
                m.gaps[0]
            );
        }
    }
    Ok(())
}

/// Handler of `archsim plot ...`.
pub fn cmd_plot(a: &PlotArgs) -> Result<()> {
    match &a.what {
        PlotCommand::Sweep(s) => {
            let written = plot_sweep(&PlotSweepRequest {
                csv: s.csv.clone(),
                x: s.x.clone(),
                y: s.y.clone(),
                metric: s.metric.clone(),
                filters: s.filters.clone(),
                out: s.out.clone(),
            })?;
            for p in &written {
                eprintln!("wrote {}", p.display());
            }
            Ok(())
        }
    }
}
