//! Command-line interface (clap derive), on the bin side: a thin client of the library. Every
//! command maps to a library call; this folder parses flags, prints, draws progress bars and
//! sets the exit code. The library prints nothing.

mod progress;
mod sweep;
mod system;

use archsim::config::{self, SimMode};
use archsim::error::{Error, Result};
use archsim::fsio;
use archsim::report::{self, Format};
use archsim::workload::model::lower::Phase;
use archsim::workload::{self, parse_gemm_spec, DType, Op};
use archsim::{jobs, registry, run};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `archsim --version`: the crate version and the git commit it was built from (build.rs sets
/// `ARCHSIM_GIT_COMMIT`; "unknown commit" when not built from a git checkout).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ARCHSIM_GIT_COMMIT"),
    ")"
);

/// archsim — cycle-approximate TPU (systolic array) vs GPU (SIMT) simulator for ML workloads.
///
/// Units: time in seconds (s), cycles at the machine's clock, energy in picojoules (pJ),
/// bandwidth in GB/s (10^9 bytes/s), rates in TFLOP/s (10^12 FLOP/s; 1 MAC = 2 FLOPs),
/// utilizations as fractions 0..1 in JSON and % in tables.
///
/// `archsim --config tpu_v5.toml` runs the main job: the config's workloads on it and on its
/// comparison machine. Config names that are not paths resolve to the shipped configs.
#[derive(Debug, Parser)]
#[command(name = "archsim", version = VERSION, about, long_about, propagate_version = true)]
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
    Plot(sweep::PlotArgs),
    /// List the shipped hardware configs, workloads, models and systems, each with a description.
    List,
    /// Print the JSON Schema (draft 2020-12) of an input or output file, or write the reference
    /// pages generated from the schemas (`archsim schema --docs docs/reference`).
    Schema(SchemaArgs),
    /// Sweep config keys and workloads (cartesian product, parallel) into one CSV row per point.
    Sweep(sweep::SweepArgs),
    /// Merge shard CSVs of `archsim sweep --shard I/N` into one file, sorted by point index.
    Merge(sweep::MergeArgs),
    /// Cost one collective on a system: time, algbw and busbw (nccl-tests definitions) and the
    /// algorithm chosen.
    Collective(system::CollectiveArgs),
    /// Train a model on a system of N chips: plan search (or --plan), step time, MFU, memory,
    /// power, energy and cost.
    Train(system::TrainArgs),
    /// Serve a model on a system: continuous batching bounded by the KV cache, offline or at
    /// TTFT/TPOT targets; tokens/s, latency, power and cost per token.
    Serve(system::ServeArgs),
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
    /// A whole LLM: a shipped model card (`llama3_405b`, `deepseek_v3`, ...; see `archsim
    /// list`), `maxtext_<S>`, a card .toml, or a Hugging Face config.json (llama, mixtral,
    /// deepseek_v3). Runs one --phase of every layer; not combined with other workloads.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Phase of a --model run: prefill (batch × seq prompt tokens), decode (one step per
    /// sequence over --context cached tokens) or train (forward + backward + AdamW).
    #[arg(long, value_enum, default_value = "prefill")]
    pub phase: PhaseArg,
    /// --model: sequences processed together.
    #[arg(long, value_name = "B", default_value_t = 1)]
    pub batch: u64,
    /// --model: tokens per sequence (prefill, train).
    #[arg(long, value_name = "S", default_value_t = 2048)]
    pub seq: u64,
    /// --model: tokens already in the KV cache (decode).
    #[arg(long, value_name = "L", default_value_t = 2048)]
    pub context: u64,
    /// --model: run attention as three unfused kernels (Q·Kᵀ, softmax through HBM, P·V)
    /// instead of one FlashAttention-style kernel.
    #[arg(long)]
    pub unfused_attention: bool,
    /// --model train: recompute every layer's forward in the backward pass (full activation
    /// checkpointing) instead of storing activations.
    #[arg(long)]
    pub recompute: bool,
    /// Operand dtype for every op (overrides the workload's). Default: the workload's, bf16
    /// for --gemm and topologies, the card's for --model.
    #[arg(long, value_enum)]
    pub dtype: Option<DTypeArg>,
    /// Systolic model: native (default for .toml), scalesim (default for .cfg), pe (PE-level
    /// reference, small shapes only).
    #[arg(long, value_enum)]
    pub mode: Option<SimModeArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
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
    /// Model(s) compared in prefill and decode (shipped card, `maxtext_<S>`, card .toml or HF
    /// config.json), with the first config's `[workload] batch/seq/context` (default 1, 2048,
    /// 2048). Repeatable. --workload and --model replace the config's defaults.
    #[arg(long, value_name = "MODEL")]
    pub model: Vec<String>,
    /// Output directory for report.json, ops.csv, trace.json and plots.
    #[arg(long, value_name = "DIR", default_value = "plots")]
    pub out: PathBuf,
    /// Quiet: no progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema: `config` (systolic and SIMT machine configs), `system` (system configs),
    /// `model` (model cards), `report` (the `run --format json` document), `compare` (the main
    /// job's report.json), `train`/`serve`/`collective` (those commands' JSON), `ops-csv` (a
    /// row of `run --format csv`) or `compare-csv` (a row of the main job's ops.csv).
    #[arg(value_enum, required_unless_present = "docs")]
    pub which: Option<SchemaArg>,
    /// Write one Markdown reference page per config kind and per output into DIR instead.
    #[arg(long, value_name = "DIR", conflicts_with = "which")]
    pub docs: Option<PathBuf>,
}

/// `archsim schema` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaArg {
    /// Machine configs: `kind = "systolic"` or `kind = "simt"`.
    Config,
    /// System configs (`configs/systems/*.toml`).
    System,
    /// Model cards (`kernels/models/*.toml`).
    Model,
    /// The `archsim run --format json` report.
    Report,
    /// The `archsim train --format json` document.
    Train,
    /// The `archsim serve --format json` document.
    Serve,
    /// The main job's and `archsim compare`'s report.json.
    Compare,
    /// The `archsim collective --format json` document.
    Collective,
    /// One row of `archsim run --format csv` (ops.csv under `run --out`).
    OpsCsv,
    /// One row of the main job's and `archsim compare`'s ops.csv.
    CompareCsv,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Directory holding the reference sets.
    #[arg(long, value_name = "DIR", default_value = "tests/data")]
    pub data: PathBuf,
    /// Print the tables as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write every GPU GEMM row (measured vs predicted µs, signed and absolute error %)
    /// to this CSV, for residual plots.
    #[arg(long, value_name = "FILE.csv")]
    pub gpu_rows: Option<PathBuf>,
}

/// dtype flag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DTypeArg {
    Fp32,
    Bf16,
    Fp16,
    Fp8,
    Int8,
    /// NVFP4: 4-bit E2M1 elements + one E4M3 scale per 16 (4.5 bits/element).
    #[value(alias = "nvfp4", alias = "e2m1")]
    Fp4,
    /// MXFP4 (OCP MX): 4-bit E2M1 elements + one E8M0 scale per 32 (4.25 bits/element).
    Mxfp4,
}

impl From<DTypeArg> for DType {
    fn from(d: DTypeArg) -> DType {
        match d {
            DTypeArg::Fp32 => DType::Fp32,
            DTypeArg::Bf16 => DType::Bf16,
            DTypeArg::Fp16 => DType::Fp16,
            DTypeArg::Fp8 => DType::Fp8,
            DTypeArg::Int8 => DType::Int8,
            DTypeArg::Fp4 => DType::Fp4,
            DTypeArg::Mxfp4 => DType::Mxfp4,
        }
    }
}

/// `--phase` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PhaseArg {
    Prefill,
    Decode,
    Train,
}

impl From<PhaseArg> for Phase {
    fn from(p: PhaseArg) -> Phase {
        match p {
            PhaseArg::Prefill => Phase::Prefill,
            PhaseArg::Decode => Phase::Decode,
            PhaseArg::Train => Phase::Train,
        }
    }
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimModeArg {
    /// TPU-faithful model (default for archsim .toml configs).
    Native,
    /// SCALE-Sim 3.0.0 compatible (default for SCALE-Sim .cfg files).
    Scalesim,
    /// PE-level reference: steps the grid cycle by cycle with real values (small shapes only).
    Pe,
}

impl From<SimModeArg> for SimMode {
    fn from(m: SimModeArg) -> SimMode {
        match m {
            SimModeArg::Native => SimMode::Native,
            SimModeArg::Scalesim => SimMode::Scalesim,
            SimModeArg::Pe => SimMode::Pe,
        }
    }
}

/// `--format` values of `archsim run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Human-readable per-op table (default).
    Table,
    /// One JSON document: {"machine", "ops", "total"}.
    Json,
    /// One CSV row per op.
    Csv,
    /// SCALE-Sim 3.0.0 reports: COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
    /// DETAILED_ACCESS_REPORT.csv.
    Scalesim,
    /// Chrome trace event format (trace.json), opens in Perfetto / chrome://tracing.
    Trace,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Scalesim => Format::Scalesim,
            FormatArg::Trace => Format::Trace,
        }
    }
}

/// Where a run's ops come from: ops already built (workloads, `--gemm`), or a topology CSV
/// read row by row ([`workload::topology::for_each_layer`]) each time the ops are walked.
enum OpSource {
    Ops(Vec<Op>),
    Topology {
        text: std::borrow::Cow<'static, str>,
        file: String,
        dtype: DType,
    },
}

/// Hand every op of the sources to `f`, in order (workloads, topologies, `--gemm`s).
/// `check_duplicates`: refuse a topology layer name used twice (the validation pass).
fn for_each_op(
    sources: &[OpSource],
    check_duplicates: bool,
    f: &mut dyn FnMut(Op) -> Result<()>,
) -> Result<()> {
    for s in sources {
        match s {
            OpSource::Ops(ops) => {
                for op in ops {
                    f(op.clone())?;
                }
            }
            OpSource::Topology { text, file, dtype } => {
                workload::topology::for_each_layer(
                    text,
                    file,
                    *dtype,
                    check_duplicates,
                    &mut |l| match l {
                        workload::Layer::Gemm(g) => f(Op::Gemm(g)),
                        workload::Layer::Conv2d(c) => f(Op::Gemm(c.to_gemm())),
                        other => {
                            let w = workload::Workload {
                                name: String::new(),
                                layers: vec![other],
                                tokens: Default::default(),
                            };
                            w.ops().into_iter().try_for_each(&mut *f)
                        }
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// Standard output held back until it passes this size (8 MiB): a run that fails early prints
/// nothing, as an unstreamed one; a longer run streams its output.
const STDOUT_HOLD_BYTES: usize = 8 << 20;

/// A non-model `run`, streamed in every format: the ops are read and checked once (a bad row is
/// refused before anything is simulated), then read again and simulated batch by batch
/// ([`run::Streamer`]), each batch written out as it is done, so memory stays bounded at any
/// topology length (a 10^6-row topology CSV, given as --topology or --workload, is never held as
/// ops or profiles). The output equals the unstreamed exporters'.
fn run_streamed(args: &RunArgs, cfg: &registry::LoadedConfig, format: Format) -> Result<()> {
    let dtype = args.dtype.map(DType::from);
    let mut sources = Vec::new();
    for w in &args.workload {
        // A topology CSV given as a workload is read row by row too, never held as layers.
        let (text, file, ext) = workload::load_source(w)?;
        if ext.as_deref() == Some("csv") {
            sources.push(OpSource::Topology {
                text,
                file,
                dtype: dtype.unwrap_or(DType::Bf16),
            });
        } else {
            sources.push(OpSource::Ops(workload::load(w, dtype)?.ops()));
        }
    }
    for t in &args.topology {
        check_topology_flag(t)?;
        let (text, file, _) = workload::load_source(t)?;
        sources.push(OpSource::Topology {
            text,
            file,
            dtype: dtype.unwrap_or(DType::Bf16),
        });
    }
    let mut gemms = Vec::new();
    for (i, g) in args.gemm.iter().enumerate() {
        gemms.push(Op::Gemm(parse_gemm_spec(
            g,
            i + 1,
            dtype.unwrap_or(DType::Bf16),
        )?));
    }
    sources.push(OpSource::Ops(gemms));
    // Pass 1: check every row; the op column's width and the main dtype.
    let (mut count, mut longest) = (0usize, None::<usize>);
    let mut flops = run::DTypeFlops::default();
    for_each_op(&sources, true, &mut |op| {
        count += 1;
        longest = longest.max(Some(op.name().len()));
        flops.add(&op);
        Ok(())
    })?;
    if count == 0 {
        return Err(Error::flag(
            "--workload",
            "nothing to simulate: give --workload, --topology or --gemm",
        ));
    }
    let w = report::table::name_width(longest.into_iter());
    let mut ex = report::stream::stream_exporter(format, w);
    let names = ex.file_names();
    if args.out.is_none() && names.len() > 1 {
        return Err(Error::flag(
            "--out",
            format!(
                "format writes {} files ({}); give --out DIR",
                names.len(),
                names.join(", ")
            ),
        ));
    }
    let machine = cfg.build(args.mode.map(Into::into))?;
    let mut outs = Vec::new();
    for n in names {
        outs.push(match &args.out {
            Some(dir) => StreamOut::File(fsio::AtomicWriter::create(&dir.join(n))?),
            None => StreamOut::Stdout(Vec::new()),
        });
    }
    let write = |outs: &mut Vec<StreamOut>, chunks: report::stream::Chunks| -> Result<()> {
        for (o, c) in outs.iter_mut().zip(chunks) {
            o.write(&c)?;
        }
        Ok(())
    };
    let machine_report = archsim::machine::MachineReport {
        info: machine.info().clone(),
        main_dtype: flops.main(),
    };
    write(&mut outs, ex.begin(&machine_report)?)?;
    let mut sink = |ps: &[archsim::machine::OpProfile]| -> Result<()> {
        let chunks = ex.ops(ps)?;
        write(&mut outs, chunks)
    };
    let mut streamer = run::stream(machine.as_ref(), &mut sink);
    for_each_op(&sources, false, &mut |op| streamer.push(op))?;
    let total = streamer.finish()?;
    write(&mut outs, ex.end(&total)?)?;
    for (o, n) in outs.into_iter().zip(names) {
        match o {
            StreamOut::File(f) => {
                f.commit()?;
                if let Some(dir) = &args.out {
                    eprintln!("wrote {}", dir.join(n).display());
                }
            }
            StreamOut::Stdout(held) => write_stdout(&held)?,
        }
    }
    Ok(())
}

/// Where a streamed run writes: a file under `--out` (put in place when the run succeeds) or
/// standard output (held until [`STDOUT_HOLD_BYTES`]).
enum StreamOut {
    File(fsio::AtomicWriter),
    Stdout(Vec<u8>),
}

impl StreamOut {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            StreamOut::File(f) => f.write(bytes),
            StreamOut::Stdout(held) => {
                held.extend_from_slice(bytes);
                if held.len() >= STDOUT_HOLD_BYTES {
                    write_stdout(held)?;
                    held.clear();
                }
                Ok(())
            }
        }
    }
}

/// `--topology` takes a .csv file.
fn check_topology_flag(t: &str) -> Result<()> {
    if !t.to_ascii_lowercase().ends_with(".csv") {
        return Err(Error::flag(
            "--topology",
            format!("`{t}` is not a .csv file; SCALE-Sim topologies are CSV (use --workload for kernel .toml files)"),
        ));
    }
    Ok(())
}

fn cmd_run(args: &RunArgs) -> Result<()> {
    if let Some(dir) = &args.out {
        check_out_dir(dir)?;
    }
    // Runs of workloads, topologies and GEMMs stream in every format (bounded memory at any
    // topology length); a --model run (a card's layers: a few thousand ops at most) goes through
    // the library's run, which adds the whole-model summary.
    if args.model.is_none() {
        let cfg = registry::load(&args.config)?;
        return run_streamed(args, &cfg, args.format.into());
    }
    let outcome = jobs::run::run(&jobs::run::RunRequest {
        config: args.config.clone(),
        workloads: args.workload.clone(),
        topologies: args.topology.clone(),
        gemms: args.gemm.clone(),
        model: args.model.clone(),
        phase: args.phase.into(),
        batch: args.batch,
        seq: args.seq,
        context: args.context,
        fused_attention: !args.unfused_attention,
        recompute: args.recompute,
        dtype: args.dtype.map(DType::from),
        mode: args.mode.map(Into::into),
    })?;
    if let Some(w) = outcome.fit_warning() {
        eprintln!("warning: {w}");
    }
    let run = outcome.report;
    let files = report::exporter(args.format.into()).export(&run)?;
    match &args.out {
        Some(dir) => {
            fsio::write_all(dir, &files)?;
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
            for f in &files {
                write_stdout(&f.bytes)?;
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
    // Opened before any work, so a bad path fails fast.
    let rows_out = match &args.gpu_rows {
        Some(path) => Some(fsio::AtomicWriter::create(path)?),
        None => None,
    };
    let (tables, gpu_rows) = jobs::validate::run_all_with_gpu_rows(&args.data)?;
    if let Some(mut w) = rows_out {
        w.write(&jobs::validate::gpu::rows_csv(&gpu_rows)?)?;
        w.commit()?;
    }
    if args.json {
        let json =
            serde_json::to_string_pretty(&tables).map_err(|e| Error::internal(e.to_string()))?;
        write_stdout(format!("{json}\n").as_bytes())?;
    } else {
        for t in &tables {
            write_stdout(format!("{}\n", t.render()).as_bytes())?;
        }
        if tables.is_empty() {
            let msg = format!("no reference sets found under {}\n", args.data.display());
            write_stdout(msg.as_bytes())?;
        }
    }
    Ok(())
}

fn cmd_compare(args: &CompareArgs) -> Result<()> {
    check_out_dir(&args.out)?;
    let mut bar = progress::CompareBar::new(args.quiet);
    let outcome = jobs::compare::compare_job(
        &args.config,
        args.vs.as_deref(),
        &args.workload,
        &args.model,
        &args.out,
        &mut |p| bar.update(p),
    )?;
    print_comparison(&outcome, args.quiet)
}

/// The main job (`archsim --config CONFIG`).
fn cmd_main_job(config: &str, out: &std::path::Path, quiet: bool) -> Result<()> {
    check_out_dir(out)?;
    let mut bar = progress::CompareBar::new(quiet);
    let outcome = jobs::compare::main_job(config, out, &mut |p| bar.update(p))?;
    print_comparison(&outcome, quiet)
}

/// The side-by-side table and verdict on stdout; the files written on stderr.
fn print_comparison(outcome: &jobs::compare::CompareOutcome, quiet: bool) -> Result<()> {
    write_stdout(outcome.table.as_bytes())?;
    if !quiet {
        for f in &outcome.files {
            eprintln!("wrote {}", f.display());
        }
    }
    Ok(())
}

fn cmd_list() -> Result<()> {
    let mut s = String::from(
        "shipped hardware configs (use --config NAME; archsim compare --config A --vs B works between any two):\n",
    );
    let names = config::shipped_names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    for n in names {
        let loaded = registry::load(n)?;
        let machine = loaded.build(None)?;
        let info = machine.info();
        s.push_str(&format!(
            "  {n:<width$}  {:<8} {} [bf16 {:.0} TF dense, HBM {:.2} TB/s]\n",
            info.kind.as_str(),
            loaded.description(),
            info.peak_flops(DType::Bf16) / 1e12,
            info.hbm_bandwidth_bytes_per_s() / 1e12,
        ));
    }
    s.push_str("shipped workloads (use --workload NAME, or --topology kernels/NAME.csv):\n");
    let kernels = config::embedded::kernels();
    let width = kernels.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (n, text) in kernels {
        s.push_str(&format!("  {n:<width$}  {}\n", kernel_description(n, text)));
    }
    s.push_str(
        "shipped models (use archsim run --model NAME; also maxtext_<S> for S = 1, 2, 4, ...):\n",
    );
    let models = workload::model::shipped_names();
    let width = models.iter().map(|n| n.len()).max().unwrap_or(0);
    for n in models {
        let card = workload::model::load(n)?;
        s.push_str(&format!("  {n:<width$}  {}\n", card.description));
    }
    s.push_str("shipped systems (use archsim collective/train/serve --system NAME):\n");
    let systems = archsim::system::config::shipped_names();
    let width = systems.iter().map(|n| n.len()).max().unwrap_or(0);
    for n in systems {
        let sys = archsim::system::config::load(n)?;
        s.push_str(&format!("  {n:<width$}  {}\n", sys.description));
    }
    write_stdout(s.as_bytes())
}

/// A shipped workload's one-line description: a kernels .toml's `description`, or for a
/// SCALE-Sim topology CSV its layer count.
fn kernel_description(name: &str, text: &str) -> String {
    if name.ends_with(".csv") {
        let layers = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count();
        return format!("SCALE-Sim topology CSV, {layers} layers");
    }
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("description")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `archsim schema`: one JSON Schema on stdout, or the reference pages under `--docs DIR`.
fn cmd_schema(args: &SchemaArgs) -> Result<()> {
    use archsim::jobs::schema;
    if let Some(dir) = &args.docs {
        let pages = schema::reference_pages()?;
        fsio::write_all(dir, &pages)?;
        for p in &pages {
            eprintln!("wrote {}", dir.join(&p.name).display());
        }
        return Ok(());
    }
    let which = match args.which {
        Some(SchemaArg::Config) => schema::Which::Config,
        Some(SchemaArg::System) => schema::Which::System,
        Some(SchemaArg::Model) => schema::Which::Model,
        Some(SchemaArg::Report) | None => schema::Which::Report,
        Some(SchemaArg::Train) => schema::Which::Train,
        Some(SchemaArg::Serve) => schema::Which::Serve,
        Some(SchemaArg::Compare) => schema::Which::Compare,
        Some(SchemaArg::Collective) => schema::Which::Collective,
        Some(SchemaArg::OpsCsv) => schema::Which::OpsCsv,
        Some(SchemaArg::CompareCsv) => schema::Which::CompareCsv,
    };
    let json = serde_json::to_string_pretty(&schema::schema(which))
        .map_err(|e| Error::internal(e.to_string()))?;
    write_stdout(format!("{json}\n").as_bytes())
}

/// Dispatch a parsed command line.
fn dispatch(cli: &Cli) -> Result<()> {
    if cli.command.is_some() && cli.config.is_some() {
        return Err(Error::flag(
            "--config",
            "a --config before the command belongs to the main job; put it after the command \
             (`archsim run --config C ...`)",
        ));
    }
    match &cli.command {
        Some(Command::Run(a)) => cmd_run(a),
        Some(Command::Compare(a)) => cmd_compare(a),
        Some(Command::Validate(a)) => cmd_validate(a),
        Some(Command::Plot(a)) => sweep::cmd_plot(a),
        Some(Command::List) => cmd_list(),
        Some(Command::Schema(a)) => cmd_schema(a),
        Some(Command::Sweep(a)) => sweep::cmd_sweep(a),
        Some(Command::Merge(a)) => sweep::cmd_merge(a),
        Some(Command::Collective(a)) => system::cmd_collective(a),
        Some(Command::Train(a)) => system::cmd_train(a),
        Some(Command::Serve(a)) => system::cmd_serve(a),
        None => match &cli.config {
            Some(c) => cmd_main_job(c, &cli.out, cli.quiet),
            None => Err(Error::flag(
                "--config",
                "give a command (run, compare, validate, list) or --config CONFIG for the main job; see archsim --help",
            )),
        },
    }
}

/// Write to stdout. A reader that stopped reading (`archsim list | head -1`) ends the program
/// quietly with exit 0, as a pipeline expects; any other failure (`> /dev/full`) is an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::Output(format!("writing stdout: {e}"))),
    }
}

/// `--out DIR` must be a directory (or not exist yet): checked before any work is done.
fn check_out_dir(dir: &std::path::Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::flag(
            "--out",
            format!("`{}` exists and is not a directory", dir.display()),
        ));
    }
    Ok(())
}

/// Entry point of the binary: parse, run, print `error: ...` and return the exit code
/// (0 success, 2 bad input, 1 internal failure).
pub fn main() -> i32 {
    // A bare `archsim` (no arguments at all): the help, as the answer to "what is this?".
    if std::env::args_os().len() <= 1 {
        let help = <Cli as clap::CommandFactory>::command().render_help();
        return match write_stdout(format!("{help}\n").as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e}");
                e.exit_code()
            }
        };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(&cli).map_err(jobs::setting_as_flag) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(snip) = error_snippet(&e) {
                eprintln!("{snip}");
            }
            e.exit_code()
        }
    }
}

/// The offending line of an input error with a caret under the key or value
/// ([`archsim::error::snippet`]), below the unchanged `error: FILE:LINE...` line: the text comes
/// from the shipped file for `<builtin:DIR/NAME>`, else from the file on disk (nothing when it
/// cannot be read again).
fn error_snippet(e: &Error) -> Option<String> {
    let Error::Input { loc, .. } = e else {
        return None;
    };
    let line = loc.line?;
    let text = match loc
        .file
        .strip_prefix("<builtin:")
        .and_then(|f| f.strip_suffix('>'))
    {
        Some(builtin) => {
            let (dir, name) = builtin.rsplit_once('/')?;
            let files = match dir {
                "configs" => config::embedded::configs(),
                "configs/systems" => config::embedded::systems(),
                "kernels" => config::embedded::kernels(),
                "kernels/models" => config::embedded::models(),
                _ => return None,
            };
            files.iter().find(|(n, _)| *n == name)?.1.to_string()
        }
        None => fsio::read_input_file(std::path::Path::new(&loc.file)).ok()?,
    };
    archsim::error::snippet(&text, line, loc.column, loc.key.as_deref())
}
