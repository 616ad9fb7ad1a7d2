//! `archsim train`: a model on a system of N chips (plan search or a forced plan), or on two
//! systems at equal chips or equal power. The CLI and the Python bindings both build a
//! [`TrainRequest`]; [`prepare`] checks it and loads its inputs, [`execute`] runs it. The
//! scaling study (`--scaling`) and the step trace (`--trace`) write files and stay on the CLI.

use crate::error::{Error, Result};
use crate::system::config::SystemConfig;
use crate::system::train::{
    compare, train, Basis, PlanConstraints, TrainComparison, TrainOutcome, TrainReport, TrainSpec,
};
use crate::workload::DType;
use serde::Serialize;

/// The settings of `archsim train` (each field is the flag of the same name).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    /// System: shipped name, system .toml, or a chip name.
    pub system: String,
    /// Model card: shipped name, `maxtext_<S>`, card .toml or HF config.json.
    pub model: String,
    /// Chips (None: derived from `power_mw`, or 1 for a scaling study).
    pub chips: Option<u64>,
    /// A second system on the same model and token budget.
    pub compare: Option<String>,
    /// With `compare`: a facility power budget, MW (all-in chip power × PUE).
    pub power_mw: Option<f64>,
    /// Sequences per optimizer step (all chips).
    pub global_batch: u64,
    /// Tokens per sequence.
    pub seq: u64,
    /// A forced plan, `tp=8,pp=16,dp=64` (unset keys are searched).
    pub plan: Option<String>,
    /// TPU slice shape, `16x16x16`.
    pub slice: Option<String>,
    /// Compute dtype (None: bf16).
    pub dtype: Option<DType>,
    /// FlashAttention-style fused attention (true) or unfused.
    pub fused_attention: bool,
    /// Training tokens, for `time_to_train_s`.
    pub tokens: Option<f64>,
}

impl TrainRequest {
    /// A request with the CLI's defaults (seq 2048, bf16, fused attention, plan searched).
    pub fn new(system: impl Into<String>, model: impl Into<String>, global_batch: u64) -> Self {
        TrainRequest {
            system: system.into(),
            model: model.into(),
            chips: None,
            compare: None,
            power_mw: None,
            global_batch,
            seq: 2048,
            plan: None,
            slice: None,
            dtype: None,
            fused_attention: true,
            tokens: None,
        }
    }
}

/// A checked request with its inputs loaded.
#[derive(Debug, Clone)]
pub struct TrainJob {
    pub system: SystemConfig,
    pub spec: TrainSpec,
    pub forced: PlanConstraints,
    pub basis: Basis,
}

/// One system or two: what `archsim train --format json` prints (the outcome, or the
/// comparison with `basis`, `a`, `b`, `verdict`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TrainResult {
    Single(Box<TrainOutcome>),
    Compare(Box<TrainComparison>),
}

impl TrainResult {
    /// The best plan of each system (one per track of the step trace).
    pub fn best_reports(&self) -> Vec<&TrainReport> {
        match self {
            TrainResult::Single(o) => vec![&o.best],
            TrainResult::Compare(c) => vec![&c.a.best, &c.b.best],
        }
    }
}

/// Parse a TPU slice shape `4x4x4` (each axis 1 to 1024) given as `--slice`.
pub fn parse_slice(s: &str) -> Result<Vec<u64>> {
    crate::system::config::parse_slice(s).ok_or_else(|| {
        Error::flag(
            "--slice",
            format!("`{s}`: expected axes like 4x4x4 (each 1 to 1024)"),
        )
    })
}

/// Check a request and load its system and model. `scaling`: the request is the base of a
/// scaling study (its chip count may be left out).
pub fn prepare(req: &TrainRequest, scaling: bool) -> Result<TrainJob> {
    let forced = match &req.plan {
        Some(p) => PlanConstraints::parse(p)?,
        None => PlanConstraints::default(),
    };
    let slice = req.slice.as_deref().map(parse_slice).transpose()?;
    if let Some(t) = req.tokens {
        if !t.is_finite() || !(1.0..=1e18).contains(&t) {
            return Err(Error::flag(
                "--tokens",
                format!("{t}: must be from 1 to 1e18"),
            ));
        }
    }
    let basis = match (req.power_mw, &req.compare) {
        (Some(p), Some(_)) => {
            if !p.is_finite() || !(1e-3..=1e6).contains(&p) {
                return Err(Error::flag(
                    "--power-mw",
                    format!("{p}: must be from 0.001 to 1e6 MW"),
                ));
            }
            if req.chips.is_some() {
                return Err(Error::flag(
                    "--chips",
                    "give --chips or --power-mw, not both",
                ));
            }
            Basis::EqualPower { watts: p * 1e6 }
        }
        (Some(_), None) => {
            return Err(Error::flag(
                "--power-mw",
                "a power budget matches two systems: add --compare SYSTEM",
            ))
        }
        (None, _) => Basis::EqualChips,
    };
    let chips = match (req.chips, basis) {
        (Some(c), _) => c,
        (None, Basis::EqualPower { .. }) => 1,
        (None, Basis::EqualChips) if scaling => 1,
        (None, Basis::EqualChips) => {
            return Err(Error::flag(
                "--chips",
                "give --chips N (or --compare with --power-mw)",
            ))
        }
    };
    let system = crate::system::config::load(&req.system)?;
    let card = crate::workload::model::load(&req.model)?;
    let spec = TrainSpec {
        dtype: req.dtype.unwrap_or(DType::Bf16),
        card,
        chips,
        global_batch: req.global_batch,
        seq: req.seq,
        tokens: req.tokens,
        slice,
        fused_attention: req.fused_attention,
    };
    Ok(TrainJob {
        system,
        spec,
        forced,
        basis,
    })
}

/// Run a prepared job: the best plan on the system, or on both systems with `compare`.
pub fn execute(job: &TrainJob, compare_with: Option<&str>) -> Result<TrainResult> {
    match compare_with {
        Some(other) => {
            let sys_b = crate::system::config::load(other)?;
            Ok(TrainResult::Compare(Box::new(compare(
                &job.system,
                &sys_b,
                &job.spec,
                &job.forced,
                job.basis,
            )?)))
        }
        None => Ok(TrainResult::Single(Box::new(train(
            &job.system,
            &job.spec,
            &job.forced,
        )?))),
    }
}

/// [`prepare`] and [`execute`] a request.
pub fn run(req: &TrainRequest) -> Result<TrainResult> {
    execute(&prepare(req, false)?, req.compare.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_shapes_parse_and_bad_ones_name_the_flag() {
        assert_eq!(parse_slice("4x4X2").unwrap(), vec![4, 4, 2]);
        for bad in ["", "4x0", "4xa", "2000"] {
            assert!(parse_slice(bad)
                .unwrap_err()
                .to_string()
                .contains("--slice"));
        }
    }

    #[test]
    fn chips_are_required_without_a_power_budget() {
        let r = TrainRequest::new("dgx_h100_ib", "llama3_8b", 8);
        let e = prepare(&r, false).unwrap_err();
        assert!(e.to_string().contains("--chips"), "{e}");
        assert_eq!(prepare(&r, true).unwrap().spec.chips, 1);
    }

    #[test]
    fn power_budget_needs_a_second_system() {
        let mut r = TrainRequest::new("dgx_h100_ib", "llama3_8b", 8);
        r.power_mw = Some(1.0);
        assert!(prepare(&r, false)
            .unwrap_err()
            .to_string()
            .contains("--compare"));
    }
}
