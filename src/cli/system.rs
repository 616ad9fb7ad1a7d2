//! `archsim collective` and `archsim train`: the system layer's commands.

use super::write_stdout;
use archsim::error::{Error, Result};
use archsim::system;
use clap::Args;

/// Output format of the system commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SysFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CollectiveArgs {
    /// System: a shipped system (`dgx_h100_ib`, `tpu_v5p_pod`, ...; see `archsim list`), a system
    /// .toml, or a chip name (its shipped system).
    #[arg(long, value_name = "SYSTEM")]
    pub system: String,
    /// Ranks taking part (chips of the system).
    #[arg(long, value_name = "N")]
    pub chips: u64,
    /// TPU slice shape, e.g. 4x4x4 (default: the most cubic supported shape).
    #[arg(long, value_name = "AxBxC")]
    pub slice: Option<String>,
    /// all-reduce, all-gather, reduce-scatter, all-to-all or send-recv.
    #[arg(long, value_name = "OP")]
    pub op: String,
    /// Bytes, as nccl-tests' "size": the whole array (all-reduce, all-gather, reduce-scatter),
    /// the per-rank buffer (all-to-all, send-recv). Suffixes K, M, G (powers of 1024) allowed.
    #[arg(long, value_name = "B")]
    pub bytes: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SysFormat,
}

pub fn cmd_collective(a: &CollectiveArgs) -> Result<()> {
    let out =
        archsim::jobs::collective::run(&a.system, a.chips, a.slice.as_deref(), &a.op, &a.bytes)?;
    match a.format {
        SysFormat::Json => {
            let text = serde_json::to_string_pretty(&out.to_json())
                .map_err(|e| Error::internal(e.to_string()))?;
            write_stdout(format!("{text}\n").as_bytes())
        }
        SysFormat::Table => {
            let shape = out
                .slice
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("x");
            write_stdout(
                format!(
                    "{} on {} ({} chips, {} x {}): {} bytes\n  time {}   algbw {:.1} GB/s   busbw {:.1} GB/s   algorithm: {}\n",
                    out.cost.op.as_str(),
                    out.system,
                    out.chips,
                    out.slices,
                    shape,
                    out.bytes,
                    archsim::units::fmt_time(out.cost.time_s),
                    out.cost.algbw_gbps,
                    out.cost.busbw_gbps,
                    out.cost.algorithm
                )
                .as_bytes(),
            )
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// System (shipped name, system .toml, or a chip name).
    #[arg(long, value_name = "SYSTEM")]
    pub system: String,
    /// Model card (shipped name, maxtext_<S>, card .toml or HF config.json).
    #[arg(long, value_name = "MODEL")]
    pub model: String,
    /// Chips (with --power-mw: derived from the budget instead).
    #[arg(long, value_name = "N")]
    pub chips: Option<u64>,
    /// Compare with a second system on the same model and token budget (equal chip count, or
    /// equal power with --power-mw).
    #[arg(long, value_name = "SYSTEM")]
    pub compare: Option<String>,
    /// With --compare: a facility power budget in MW (all-in chip power × PUE); each system gets
    /// the largest chip count it feeds that can be planned.
    #[arg(long, value_name = "MW")]
    pub power_mw: Option<f64>,
    /// Scaling study: the best plan at each chip count (comma-separated, e.g. 8,64,512,4096),
    /// weak scaling from --global-batch at the first count; writes scaling.csv and the tokens/s
    /// and MFU plots into --out (with --compare, both systems).
    #[arg(long, value_name = "N1,N2,...")]
    pub scaling: Option<String>,
    /// Output directory of --scaling.
    #[arg(long, value_name = "DIR", default_value = "plots/scaling")]
    pub out: std::path::PathBuf,
    /// Write a Chrome trace of one step (a track per pipeline stage) to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// Sequences per optimizer step (all chips).
    #[arg(long, value_name = "B")]
    pub global_batch: u64,
    /// Tokens per sequence.
    #[arg(long, value_name = "L", default_value_t = 2048)]
    pub seq: u64,
    /// Force a plan, e.g. `tp=8,pp=16,dp=64` (keys dp, fsdp, tp, pp, vp, cp, ep, mbs, dcn_dp,
    /// recompute=full|selective|none, tp_overlap=1|0 (async TP), dp_overlap=1|0, sp=1|0); unset keys
    /// are searched.
    #[arg(long, value_name = "k=v,...")]
    pub plan: Option<String>,
    /// TPU slice shape, e.g. 16x16x16.
    #[arg(long, value_name = "AxBxC")]
    pub slice: Option<String>,
    /// Compute dtype (default bf16).
    #[arg(long, value_enum)]
    pub dtype: Option<super::DTypeArg>,
    /// Run attention unfused (score matrix through HBM) instead of FlashAttention-style.
    #[arg(long)]
    pub unfused_attention: bool,
    /// Training tokens, for time_to_train_s.
    #[arg(long, value_name = "T")]
    pub tokens: Option<f64>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SysFormat,
}

pub fn cmd_train(a: &TrainArgs) -> Result<()> {
    use archsim::jobs::train::{execute, prepare, TrainRequest, TrainResult};
    use archsim::system::train::TrainSpec;
    if let Some(t) = &a.trace {
        if t.is_dir() {
            return Err(Error::flag(
                "--trace",
                format!("`{}` is a directory", t.display()),
            ));
        }
    }
    let job = prepare(
        &TrainRequest {
            system: a.system.clone(),
            model: a.model.clone(),
            chips: a.chips,
            compare: a.compare.clone(),
            power_mw: a.power_mw,
            global_batch: a.global_batch,
            seq: a.seq,
            plan: a.plan.clone(),
            slice: a.slice.clone(),
            dtype: a.dtype.map(Into::into),
            fused_attention: !a.unfused_attention,
            tokens: a.tokens,
        },
        a.scaling.is_some(),
    )?;
    if let Some(list) = &a.scaling {
        let counts: Vec<u64> = list
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| (1..=1 << 24).contains(&n))
                    .ok_or_else(|| {
                        Error::flag(
                            "--scaling",
                            format!("`{x}` is not a chip count from 1 to 2^24"),
                        )
                    })
            })
            .collect::<Result<_>>()?;
        if a.out.exists() && !a.out.is_dir() {
            return Err(Error::flag(
                "--out",
                format!("`{}` is not a directory", a.out.display()),
            ));
        }
        let sys_b = a.compare.as_deref().map(system::config::load).transpose()?;
        let mut systems = vec![&job.system];
        if let Some(b) = &sys_b {
            systems.push(b);
        }
        let (points, files) = archsim::jobs::scaling::scaling(
            &systems,
            &TrainSpec {
                chips: counts[0],
                ..job.spec.clone()
            },
            &counts,
            &job.forced,
            &a.out,
        )?;
        let mut s = String::from(
            "system          chips  global_batch   step time    tokens/s    MFU  plan\n",
        );
        for p in &points {
            if p.error.is_empty() {
                s.push_str(&format!(
                    "{:<14} {:>7} {:>13} {:>11} {:>11.3e} {:>5.1}%  {}\n",
                    p.system,
                    p.chips,
                    p.global_batch,
                    archsim::units::fmt_time(p.step_time_s),
                    p.tokens_per_s,
                    p.mfu * 100.0,
                    p.plan
                ));
            } else {
                s.push_str(&format!(
                    "{:<14} {:>7} {:>13}  no plan: {}\n",
                    p.system, p.chips, p.global_batch, p.error
                ));
            }
        }
        write_stdout(s.as_bytes())?;
        for f in files {
            eprintln!("wrote {}", f.display());
        }
        return Ok(());
    }
    let result = execute(&job, a.compare.as_deref())?;
    if let Some(t) = &a.trace {
        archsim::fsio::write_atomic(t, &system::trace::step_trace(&result.best_reports())?)?;
        eprintln!("wrote {}", t.display());
    }
    match a.format {
        SysFormat::Json => {
            let text = serde_json::to_string_pretty(&result)
                .map_err(|e| Error::internal(e.to_string()))?;
            write_stdout(format!("{text}\n").as_bytes())
        }
        SysFormat::Table => write_stdout(
            match &result {
                TrainResult::Single(out) => render_train(out),
                TrainResult::Compare(c) => {
                    let mut s = render_train(&c.a);
                    s.push('\n');
                    s.push_str(&render_train(&c.b));
                    s.push_str(&format!("\nverdict: {}\n", c.verdict));
                    s
                }
            }
            .as_bytes(),
        ),
    }
}

fn render_train(o: &archsim::system::train::TrainOutcome) -> String {
    use archsim::units::fmt_time;
    use std::fmt::Write as _;
    let r = &o.best;
    let mut s = String::new();
    let shape = r
        .slice
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("x");
    let _ = writeln!(
        s,
        "train {} on {} ({} x {} chips: {} x {}), global batch {} x {} tokens, {}",
        r.model, r.system, r.chips, r.chip, r.slices, shape, r.global_batch, r.seq, r.dtype
    );
    let _ = writeln!(
        s,
        "plan: {}  ({} micro-batches; best of {} feasible plans)",
        r.plan.describe(),
        r.microbatches,
        o.plans_evaluated
    );
    let _ = writeln!(
        s,
        "step time {}   MFU {:.1}%   HFU {:.1}%   {:.1} model TFLOP/s per chip   {:.0} tokens/s",
        fmt_time(r.step_time_s),
        r.mfu * 100.0,
        r.hfu * 100.0,
        r.model_tflops_per_chip,
        r.tokens_per_s
    );
    let b = &r.breakdown_s;
    let comm: Vec<String> = b
        .exposed_comm
        .iter()
        .map(|(k, v)| format!("{k} {}", fmt_time(*v)))
        .collect();
    let _ = writeln!(
        s,
        "  compute {}   exposed comm [{}]   bubble {}   optimizer {}",
        fmt_time(b.compute),
        if comm.is_empty() {
            "none".to_string()
        } else {
            comm.join(", ")
        },
        fmt_time(b.bubble),
        fmt_time(b.overhead)
    );
    let gib = |x: u64| x as f64 / (1u64 << 30) as f64;
    let _ = writeln!(
        s,
        "  memory per chip {:.1} GiB of {}",
        gib(r.memory_per_chip_bytes),
        r.memory_capacity_bytes
            .map_or("unknown".into(), |c| format!("{:.1} GiB", gib(c)))
    );
    let _ = writeln!(
        s,
        "  power {:.2} MW   energy {:.3} MJ/step, {:.3} J/token   {}   chips per GW {:.0}",
        r.power_w / 1e6,
        r.energy_j_per_step / 1e6,
        r.energy_j_per_token,
        r.cost_usd_per_step
            .map_or("no price".to_string(), |c| format!("USD {c:.2}/step")),
        r.chips_per_gw
    );
    if let Some(t) = r.time_to_train_s {
        let _ = writeln!(
            s,
            "  time to train {:.2} days{}",
            t / 86400.0,
            r.cost_usd
                .map_or(String::new(), |c| format!(", USD {:.3e}", c))
        );
    }
    if !o.runners_up.is_empty() {
        let _ = writeln!(s, "runners-up:");
        for u in &o.runners_up {
            let _ = writeln!(
                s,
                "  {}   step {}   MFU {:.1}%",
                u.plan,
                fmt_time(u.step_time_s),
                u.mfu * 100.0
            );
        }
    }
    s
}

/// `--scenario` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioArg {
    /// Infinite request rate, no latency bound: maximum throughput.
    Offline,
    /// The highest load meeting --ttft-ms and --tpot-ms.
    Server,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// System (shipped name, system .toml, or a chip name: one node of that chip).
    #[arg(long, value_name = "SYSTEM")]
    pub system: String,
    /// Model card (shipped name, maxtext_<S>, card .toml or HF config.json).
    #[arg(long, value_name = "MODEL")]
    pub model: String,
    /// Chips serving (replicas of tp·ep chips each).
    #[arg(long, value_name = "N")]
    pub chips: u64,
    #[arg(long, value_enum, default_value = "offline")]
    pub scenario: ScenarioArg,
    /// Prompt tokens per request.
    #[arg(long, value_name = "I")]
    pub input_len: u64,
    /// Generated tokens per request.
    #[arg(long, value_name = "O")]
    pub output_len: u64,
    /// Server scenario: mean time-to-first-token target, ms.
    #[arg(long, value_name = "T", default_value_t = 2000.0)]
    pub ttft_ms: f64,
    /// Server scenario: mean time-per-output-token target, ms.
    #[arg(long, value_name = "P", default_value_t = 50.0)]
    pub tpot_ms: f64,
    /// Weights/activations dtype (default: the card's).
    #[arg(long, value_enum)]
    pub dtype: Option<super::DTypeArg>,
    /// KV-cache dtype (default: the weights').
    #[arg(long, value_enum)]
    pub kv_dtype: Option<super::DTypeArg>,
    /// A fixed Poisson arrival rate for the whole system, requests/s: the smallest batch that
    /// keeps up and the latencies at that load (instead of --scenario).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Chunked prefill: split prompts into chunks of C tokens, one per decode step.
    #[arg(long, value_name = "C")]
    pub chunked_prefill: Option<u64>,
    /// Force the tensor and pipeline parallelism (and, for MoE models, the expert parallelism)
    /// per replica: `tp=8`, `tp=4,pp=2`, `tp=1,ep=8`; a key left out is searched.
    #[arg(long, value_name = "tp=T,pp=P,ep=E")]
    pub plan: Option<String>,
    /// Disaggregated prefill: P chips prefill prompts and D chips decode (P + D = --chips, each
    /// a multiple of the replica), the KV cache sent between them over the network.
    #[arg(long, value_name = "P:D")]
    pub disaggregate: Option<String>,
    /// A second system serving the same model on the same number of chips: both reports and the
    /// throughput-vs-latency plot (serving_pareto.png/.svg in --out).
    #[arg(long, value_name = "SYSTEM")]
    pub compare: Option<String>,
    /// Output directory of the --compare plot.
    #[arg(long, value_name = "DIR", default_value = "plots/serving")]
    pub out: std::path::PathBuf,
    /// Write a Chrome trace of one serving cycle per replica (prefill, decode steps) to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SysFormat,
}

pub fn cmd_serve(a: &ServeArgs) -> Result<()> {
    use archsim::jobs::serve::{reports_json, run, ScenarioName, ServeRequest};
    if a.compare.is_some() && a.out.exists() && !a.out.is_dir() {
        return Err(Error::flag(
            "--out",
            format!("`{}` is not a directory", a.out.display()),
        ));
    }
    let reports = run(&ServeRequest {
        system: a.system.clone(),
        model: a.model.clone(),
        chips: a.chips,
        scenario: match a.scenario {
            ScenarioArg::Offline => ScenarioName::Offline,
            ScenarioArg::Server => ScenarioName::Server,
        },
        input_len: a.input_len,
        output_len: a.output_len,
        ttft_ms: a.ttft_ms,
        tpot_ms: a.tpot_ms,
        dtype: a.dtype.map(Into::into),
        kv_dtype: a.kv_dtype.map(Into::into),
        rate: a.rate,
        chunked_prefill: a.chunked_prefill,
        plan: a.plan.clone(),
        compare: a.compare.clone(),
        disaggregate: a.disaggregate.clone(),
    })?;
    if a.compare.is_some() {
        let series: Vec<archsim::plot::XySeries> = reports
            .iter()
            .map(|r| archsim::plot::XySeries {
                label: format!("{} ({} x {}, {})", r.system, r.chips, r.chip, r.plan),
                points: r.curve.iter().map(|c| (c.1 * 1e3, c.2)).collect(),
            })
            .collect();
        let files = archsim::plot::xy_plot(
            &series,
            &format!(
                "{}: {} in / {} out tokens — throughput vs latency as the batch grows",
                a.model, a.input_len, a.output_len
            ),
            &archsim::plot::XyAxes {
                x_desc: "time per output token (ms, log)".into(),
                y_desc: "output tokens/s per chip (log)".into(),
                log_x: true,
                log_y: true,
            },
            &a.out,
            "serving_pareto",
        )?;
        for f in files {
            eprintln!("wrote {}", f.display());
        }
    }
    if let Some(t) = &a.trace {
        let refs: Vec<&archsim::system::serve::ServeReport> = reports.iter().collect();
        archsim::fsio::write_atomic(t, &system::trace::serve_trace(&refs)?)?;
        eprintln!("wrote {}", t.display());
    }
    match a.format {
        SysFormat::Json => {
            let v = reports_json(&reports)?;
            let text =
                serde_json::to_string_pretty(&v).map_err(|e| Error::internal(e.to_string()))?;
            write_stdout(format!("{text}\n").as_bytes())
        }
        SysFormat::Table => {
            let mut s = String::new();
            for r in &reports {
                s.push_str(&render_serve(r));
            }
            write_stdout(s.as_bytes())
        }
    }
}

fn render_serve(r: &archsim::system::serve::ServeReport) -> String {
    use archsim::units::fmt_time;
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let mut s =
        format!(
        "serve {} on {} ({} x {}: {} replicas of {}), {} in / {} out tokens, {} weights, {} KV\n",
        r.model, r.system, r.chips, r.chip, r.replicas, r.plan,
        r.input_len, r.output_len, r.dtype, r.kv_dtype
    );
    s.push_str(&format!(
        "  batch {} per replica (KV holds {})   {:.1} output tokens/s ({:.1} per chip)   {:.1} total tokens/s   {:.2} requests/s\n",
        r.batch, r.kv_capacity_batch, r.output_tokens_per_s, r.output_tokens_per_s_per_chip, r.total_tokens_per_s, r.requests_per_s
    ));
    s.push_str(&format!(
        "  TTFT {} (p99 {})   TPOT {} (p99 {})   KV cache {:.2} GiB per request, {:.1} GiB in total   weights {:.1} GiB per chip\n",
        fmt_time(r.ttft_s), fmt_time(r.ttft_p99_s), fmt_time(r.tpot_s), fmt_time(r.tpot_p99_s),
        gib(r.kv_cache_bytes_per_request), gib(r.kv_cache_bytes_total), gib(r.weights_bytes_per_chip)
    ));
    s.push_str(&format!(
        "  power {:.1} kW   {:.3} J per output token   {}\n",
        r.power_w / 1e3,
        r.j_per_token,
        r.usd_per_million_tokens
            .map_or("no price".to_string(), |u| format!(
                "USD {u:.3} per million output tokens"
            ))
    ));
    if let Some(d) = &r.disaggregated {
        s.push_str(&format!(
            "  disaggregated: {} chips prefill ({} replicas, {:.2} requests/s), {} chips decode ({} replicas, {:.2} requests/s), KV hand-over {}\n",
            d.prefill_chips, d.prefill_replicas, d.prefill_requests_per_s,
            d.decode_chips, d.decode_replicas, d.decode_requests_per_s, fmt_time(d.kv_transfer_s)
        ));
    }
    if !r.feasible {
        s.push_str(&format!("  INFEASIBLE: {}\n", r.note));
    }
    s
}
