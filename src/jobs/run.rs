//! `archsim run`: one machine over a workload (kernel files, SCALE-Sim topologies, single GEMMs)
//! or over one phase of a whole model. The CLI and the Python bindings both build a
//! [`RunRequest`] and call [`run`]; they differ only in how they present the [`RunReport`]
//! (`report::exporter` for the CLI's formats, the same JSON for Python).

use crate::config::SimMode;
use crate::error::{Error, Result};
use crate::registry::{self, LoadedConfig};
use crate::run::{self, RunReport};
use crate::workload::model::lower::{Phase, RunSpec};
use crate::workload::{self, parse_gemm_spec, DType, Op};

/// What to run: the settings of `archsim run` (each field is the flag of the same name).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// Hardware config: path or shipped name of an archsim .toml, or a SCALE-Sim .cfg.
    pub config: String,
    /// Kernel .toml files (path or shipped name), in order.
    pub workloads: Vec<String>,
    /// SCALE-Sim topology CSVs, in order.
    pub topologies: Vec<String>,
    /// Single GEMMs as `M,N,K` or `M,N,K,BATCH` (the `--gemm` syntax), in order.
    pub gemms: Vec<String>,
    /// A whole model (shipped card, `maxtext_<S>`, card .toml or HF config.json); not combined
    /// with workloads, topologies or GEMMs.
    pub model: Option<String>,
    /// Phase of a model run.
    pub phase: Phase,
    /// Model run: sequences processed together.
    pub batch: u64,
    /// Model run: tokens per sequence (prefill, train).
    pub seq: u64,
    /// Model run: tokens already in the KV cache (decode).
    pub context: u64,
    /// Model run: one FlashAttention-style kernel (true) or three unfused kernels.
    pub fused_attention: bool,
    /// Model train run: recompute every layer's forward in the backward pass.
    pub recompute: bool,
    /// Operand dtype of every op (None: the workload's; bf16 for GEMMs and topologies; the
    /// card's for a model).
    pub dtype: Option<DType>,
    /// Systolic model override (None: native for .toml, scalesim for .cfg).
    pub mode: Option<SimMode>,
}

impl RunRequest {
    /// A request on `config` with the CLI's defaults (prefill, batch 1, seq 2048, context 2048,
    /// fused attention) and nothing to simulate yet.
    pub fn new(config: impl Into<String>) -> RunRequest {
        RunRequest {
            config: config.into(),
            workloads: Vec::new(),
            topologies: Vec::new(),
            gemms: Vec::new(),
            model: None,
            phase: Phase::Prefill,
            batch: 1,
            seq: 2048,
            context: 2048,
            fused_attention: true,
            recompute: false,
            dtype: None,
            mode: None,
        }
    }
}

/// What a run produced: the config it ran on and the report (`--format json` serializes
/// `report`).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub config: LoadedConfig,
    pub report: RunReport,
}

impl RunOutcome {
    /// For a model run that does not fit in one chip's HBM: the warning the CLI prints on
    /// stderr (the times are still those of a chip that could hold it).
    pub fn fit_warning(&self) -> Option<String> {
        let m = self.report.model.as_ref()?;
        if m.memory.fits != Some(false) {
            return None;
        }
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        Some(format!(
            "{} ({}, batch {}) needs {:.1} GiB per chip but {} has {:.1} GiB of HBM: it does not fit on one chip; the times are for a chip that could hold it",
            m.name,
            m.phase.as_str(),
            m.batch,
            gib(m.memory.needed_bytes),
            self.config.name,
            gib(m.memory.capacity_bytes.unwrap_or(0)),
        ))
    }

    /// The report as the JSON text of `archsim run --format json` (pretty, newline-terminated).
    pub fn to_json(&self) -> Result<String> {
        let files = crate::report::exporter(crate::report::Format::Json).export(&self.report)?;
        let bytes = files
            .into_iter()
            .next()
            .map(|f| f.bytes)
            .unwrap_or_default();
        String::from_utf8(bytes).map_err(|e| Error::internal(e.to_string()))
    }
}

/// Collect the ops of a run: workloads, then topologies, then GEMMs, each in order.
pub fn collect_ops(req: &RunRequest) -> Result<Vec<Op>> {
    let dtype = req.dtype;
    let mut ops = Vec::new();
    for w in &req.workloads {
        ops.extend(workload::load(w, dtype)?.ops());
    }
    for t in &req.topologies {
        let lower = t.to_ascii_lowercase();
        if !lower.ends_with(".csv") {
            return Err(Error::flag(
                "--topology",
                format!("`{t}` is not a .csv file; SCALE-Sim topologies are CSV (use --workload for kernel .toml files)"),
            ));
        }
        ops.extend(workload::load(t, dtype)?.ops());
    }
    for (i, g) in req.gemms.iter().enumerate() {
        ops.push(Op::Gemm(parse_gemm_spec(
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

/// Run a request: load the config, build the machine and simulate the ops or the model phase.
pub fn run(req: &RunRequest) -> Result<RunOutcome> {
    let cfg = registry::load(&req.config)?;
    let report = match &req.model {
        Some(m) => {
            if !req.workloads.is_empty() || !req.topologies.is_empty() || !req.gemms.is_empty() {
                return Err(Error::flag(
                    "--model",
                    "a --model run simulates the model alone; drop --workload/--topology/--gemm",
                ));
            }
            let card = workload::model::load(m)?;
            let mut spec = RunSpec::new(req.phase, &card);
            spec.batch = req.batch;
            spec.seq = req.seq;
            spec.context = req.context;
            spec.fused_attention = req.fused_attention;
            spec.recompute = req.recompute;
            if let Some(d) = req.dtype {
                spec.dtype = d;
            }
            if req.recompute && spec.phase != Phase::Train {
                return Err(Error::flag(
                    "--recompute",
                    "only a --phase train run recomputes activations",
                ));
            }
            let machine = cfg.build(req.mode)?;
            run::model::simulate_model(machine.as_ref(), &card, &spec)?
        }
        None => {
            let ops = collect_ops(req)?;
            let machine = cfg.build(req.mode)?;
            run::simulate_ops(machine.as_ref(), &ops)?
        }
    };
    Ok(RunOutcome {
        config: cfg,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_request_is_refused_naming_the_flag() {
        let e = run(&RunRequest::new("h100")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("nothing to simulate"), "{e}");
    }

    #[test]
    fn gemm_request_gives_one_op_and_json_with_the_contract_keys() {
        let mut r = RunRequest::new("h100");
        r.gemms.push("256,512,128".into());
        let out = run(&r).unwrap();
        assert_eq!(out.report.ops.len(), 1);
        assert!(out.fit_warning().is_none());
        let v: serde_json::Value = serde_json::from_str(&out.to_json().unwrap()).unwrap();
        assert_eq!(v["ops"][0]["m"], 256);
        assert!(v["total"]["time_s"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn model_with_gemm_is_refused() {
        let mut r = RunRequest::new("h100");
        r.gemms.push("1,1,1".into());
        r.model = Some("llama3_8b".into());
        assert!(run(&r).unwrap_err().to_string().contains("--model"));
    }
}
