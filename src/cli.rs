//! Command-line interface (clap derive): a thin client of the library. Every command maps to a
//! library call; this file only parses flags, prints and sets the exit code.

use crate::config::{self, SimMode};
use crate::error::{Error, Result};
use crate::report::{self, Format};
use crate::workload::{self, DType, Gemm, Op, MAX_DIM};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// archsim — cycle-approximate TPU (systolic array) vs GPU (SIMT) simulator for ML workloads.
///
/// Units: time in seconds (s), cycles at the machine's clock, energy in picojoules (pJ),
/// bandwidth in GB/s (10^9 bytes/s), rates in TFLOP/s (10^12 FLOP/s; 1 MAC = 2 FLOPs),
/// utilizations as fractions 0..1 in JSON and % in tables.
///
/// `archsim --config tpu_v5.toml` runs the main job: the config's workloads on it and on its
/// comparison machine. Config names that are not paths resolve to the shipped configs.
#[derive(Debug, Parser)]
#[command(name = "archsim", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Main job: hardware config (path or shipped name, e.g. `tpu_v5`); runs its `[workload]`
    /// on it and on its `[compare] with` machine.
    #[arg(long, value_name = "CONFIG")]
    pub config: Option<String>,
    /// Main job: output directory for report.json, ops.csv, trace.json and plots.
    #[arg(long, value_name = "DIR", default_value = "plots")]
    pub out: PathBuf,
    /// Quiet: no progress bar, only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one machine over a workload and print a per-op report.
    Run(RunArgs),
    /// Run a workload on two machines and compare them side by side (the main job's engine).
    Compare(CompareArgs),
    /// Run every reference set under tests/data and print how close the models come.
    Validate(ValidateArgs),
    /// Plots from result files: `archsim plot sweep results.csv --x KEY --y KEY --metric M`
    /// (heatmap and time/energy Pareto front, PNG and SVG).
    Plot(crate::sweep::cli::PlotArgs),
    /// List the shipped hardware configs and workloads.
    List,
    /// Sweep config keys and workloads (cartesian product, parallel) into one CSV row per point.
    Sweep(crate::sweep::cli::SweepArgs),
    /// Merge shard CSVs of `archsim sweep --shard I/N` into one file, sorted by point index.
    Merge(crate::sweep::cli::MergeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Hardware config: an archsim .toml (path or shipped name such as `tpu_v5p`, `h100`) or a
    /// SCALE-Sim .cfg (selects SCALE-Sim compatible mode).
    #[arg(long, value_name = "CONFIG")]
    pub config: String,
    /// Workload: a kernels .toml (path or shipped name such as `gpt3_175b_layer`). Repeatable.
    #[arg(long, value_name = "WORKLOAD")]
    pub workload: Vec<String>,
    /// SCALE-Sim topology CSV (conv rows `name,H,W,Fh,Fw,C,filters,stride,` and GEMM rows
    /// `name,M,N,K,`). Repeatable.
    #[arg(long, value_name = "CSV")]
    pub topology: Vec<String>,
    /// A single GEMM C[M×N] = A[M×K]·B[K×N], as `M,N,K` or `M,N,K,BATCH`. Repeatable; ops come
    /// out in the order given.
    #[arg(long, value_name = "M,N,K")]
    pub gemm: Vec<String>,
    /// Operand dtype for every op (overrides the workload's). Default: the workload's, bf16
    /// for --gemm and topologies.
    #[arg(long, value_enum)]
    pub dtype: Option<DTypeArg>,
    /// Systolic model: native (default for .toml), scalesim (default for .cfg), pe (PE-level
    /// reference, small shapes only).
    #[arg(long, value_enum)]
    pub mode: Option<SimMode>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report file(s) into DIR instead of printing to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// First machine (config path or shipped name), e.g. `tpu_v5`.
    #[arg(long, value_name = "CONFIG")]
    pub config: String,
    /// Second machine; default: the first config's `[compare] with`.
    #[arg(long, value_name = "CONFIG")]
    pub vs: Option<String>,
    /// Workload(s) (kernels .toml / topology .csv, path or shipped name); default: the first
    /// config's `[workload] kernels`. Repeatable.
    #[arg(long, value_name = "WORKLOAD")]
    pub workload: Vec<String>,
    /// Output directory for report.json, ops.csv, trace.json and plots.
    #[arg(long, value_name = "DIR", default_value = "plots")]
    pub out: PathBuf,
    /// Quiet: no progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Directory holding the reference sets.
    #[arg(long, value_name = "DIR", default_value = "tests/data")]
    pub data: PathBuf,
    /// Print the tables as JSON.
    #[arg(long)]
    pub json: bool,
}

/// dtype flag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DTypeArg {
    Fp32,
    Bf16,
    Fp16,
    Fp8,
    Int8,
}

impl From<DTypeArg> for DType {
    fn from(d: DTypeArg) -> DType {
        match d {
            DTypeArg::Fp32 => DType::Fp32,
            DTypeArg::Bf16 => DType::Bf16,
            DTypeArg::Fp16 => DType::Fp16,
            DTypeArg::Fp8 => DType::Fp8,
            DTypeArg::Int8 => DType::Int8,
        }
    }
}

/// Parse a `--gemm M,N,K[,BATCH]` value.
pub fn parse_gemm_flag(s: &str, index: usize, dtype: DType) -> Result<Gemm> {
    let parts: Vec<&str> = s.split(',').map(|p| p.trim()).collect();
    if parts.len() != 3 && parts.len() != 4 {
        return Err(Error::flag(
            "--gemm",
            format!("`{s}`: expected M,N,K or M,N,K,BATCH (e.g. --gemm 4096,4096,4096)"),
        ));
    }
    let mut v = [1u64; 4];
    for (i, p) in parts.iter().enumerate() {
        let key = ["M", "N", "K", "BATCH"][i];
        let x: i128 = p.parse().map_err(|_| {
            Error::flag("--gemm", format!("`{s}`: {key} = `{p}` is not an integer"))
        })?;
        if x <= 0 {
            return Err(Error::flag(
                "--gemm",
                format!("`{s}`: {key} = {x} must be at least 1"),
            ));
        }
        if x as u128 > MAX_DIM as u128 {
            return Err(Error::flag(
                "--gemm",
                format!("`{s}`: {key} = {x} is larger than the supported maximum 2^32"),
            ));
        }
        v[i] = x as u64;
    }
    let name = if parts.len() == 4 {
        format!("gemm{index}_{}x{}x{}x{}", v[0], v[1], v[2], v[3])
    } else {
        format!("gemm{index}_{}x{}x{}", v[0], v[1], v[2])
    };
    Ok(Gemm {
        batch: v[3],
        dtype,
        ..Gemm::new(name, v[0], v[1], v[2])
    })
}

/// Collect the ops of a `run`: workloads, then topologies, then --gemm flags, each in order.
pub fn collect_ops(args: &RunArgs) -> Result<Vec<Op>> {
    let dtype = args.dtype.map(DType::from);
    let mut ops = Vec::new();
    for w in &args.workload {
        ops.extend(workload::load(w, dtype)?.ops());
    }
    for t in &args.topology {
        let lower = t.to_ascii_lowercase();
        if !lower.ends_with(".csv") {
            return Err(Error::flag(
                "--topology",
                format!("`{t}` is not a .csv file; SCALE-Sim topologies are CSV (use --workload for kernel .toml files)"),
            ));
        }
        ops.extend(workload::load(t, dtype)?.ops());
    }
    for (i, g) in args.gemm.iter().enumerate() {
        ops.push(Op::Gemm(parse_gemm_flag(
            g,
            i + 1,
            dtype.unwrap_or(DType::Bf16),
        )?));
    }
    if ops.is_empty() {
        return Err(Error::flag(
            "--workload",
            "nothing to simulate: give --workload, --topology or --gemm",
        ));
    }
    Ok(ops)
}

fn cmd_run(args: &RunArgs) -> Result<()> {
    let cfg = config::load(&args.config)?;
    let ops = collect_ops(args)?;
    let machine = cfg.build(args.mode)?;
    let run = crate::simulate_ops(machine.as_ref(), &ops)?;
    let files = report::exporter(args.format).export(&run)?;
    match &args.out {
        Some(dir) => {
            report::write_all(dir, &files)?;
            for f in &files {
                eprintln!("wrote {}", dir.join(&f.name).display());
            }
        }
        None => {
            if files.len() > 1 {
                return Err(Error::flag(
                    "--out",
                    format!(
                        "format writes {} files ({}); give --out DIR",
                        files.len(),
                        files
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for f in &files {
                out.write_all(&f.bytes)
                    .map_err(|e| Error::internal(format!("writing stdout: {e}")))?;
            }
        }
    }
    Ok(())
}

fn cmd_validate(args: &ValidateArgs) -> Result<()> {
    if !args.data.is_dir() {
        return Err(Error::InputFile {
            path: args.data.clone(),
            msg: "reference data directory not found (run from the repository root or pass --data)"
                .into(),
        });
    }
    let tables = crate::validate::run_all(&args.data)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&tables).map_err(|e| Error::internal(e.to_string()))?
        );
    } else {
        for t in &tables {
            println!("{}", t.render());
        }
        if tables.is_empty() {
            println!("no reference sets found under {}", args.data.display());
        }
    }
    Ok(())
}

fn cmd_compare(args: &CompareArgs) -> Result<()> {
    crate::compare_job(
        &args.config,
        args.vs.as_deref(),
        &args.workload,
        &args.out,
        args.quiet,
    )
}

fn cmd_list() -> Result<()> {
    println!("shipped hardware configs (use --config NAME):");
    for n in config::shipped_names() {
        println!("  {n}");
    }
    println!("shipped workloads (use --workload NAME, or --topology kernels/NAME.csv):");
    for (n, _) in config::embedded::kernels() {
        println!("  {n}");
    }
    Ok(())
}

/// Dispatch a parsed command line.
pub fn dispatch(cli: &Cli) -> Result<()> {
    match &cli.command {
        Some(Command::Run(a)) => cmd_run(a),
        Some(Command::Compare(a)) => cmd_compare(a),
        Some(Command::Validate(a)) => cmd_validate(a),
        Some(Command::Plot(a)) => crate::sweep::cli::cmd_plot(a),
        Some(Command::List) => cmd_list(),
        Some(Command::Sweep(a)) => crate::sweep::cli::cmd_sweep(a),
        Some(Command::Merge(a)) => crate::sweep::cli::cmd_merge(a),
        None => match &cli.config {
            Some(c) => crate::main_job(c, &cli.out, cli.quiet),
            None => Err(Error::flag(
                "--config",
                "give a command (run, compare, validate, list) or --config CONFIG for the main job; see archsim --help",
            )),
        },
    }
}

/// Entry point of the binary: parse, run, print `error: ...` and return the exit code
/// (0 success, 2 bad input, 1 internal failure).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(&cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
