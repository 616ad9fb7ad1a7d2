//! `archsim serve`: a model served on a system (continuous batching bounded by the KV cache),
//! offline, at latency targets or at a fixed arrival rate, optionally beside a second system.
//! The CLI and the Python bindings both build a [`ServeRequest`] and call [`run`]; the CLI
//! also draws the throughput-vs-latency plot and writes the trace.

use crate::error::{Error, Result};
use crate::system::serve::{serve, Scenario, ServeReport, ServeSpec};
use crate::workload::DType;
use std::str::FromStr;

/// `--scenario` without `--rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioName {
    /// Infinite request rate, no latency bound: maximum throughput.
    Offline,
    /// The highest load meeting the TTFT and TPOT targets.
    Server,
}

impl FromStr for ScenarioName {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "offline" => Ok(ScenarioName::Offline),
            "server" => Ok(ScenarioName::Server),
            _ => Err(format!(
                "unknown scenario `{s}`; expected offline or server"
            )),
        }
    }
}

/// The settings of `archsim serve` (each field is the flag of the same name).
#[derive(Debug, Clone, PartialEq)]
pub struct ServeRequest {
    /// System: shipped name, system .toml, or a chip name (one node of that chip).
    pub system: String,
    /// Model card: shipped name, `maxtext_<S>`, card .toml or HF config.json.
    pub model: String,
    /// Chips serving.
    pub chips: u64,
    pub scenario: ScenarioName,
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// Server scenario: mean time-to-first-token target, ms.
    pub ttft_ms: f64,
    /// Server scenario: mean time-per-output-token target, ms.
    pub tpot_ms: f64,
    /// Weights/activations dtype (None: the card's).
    pub dtype: Option<DType>,
    /// KV-cache dtype (None: the weights').
    pub kv_dtype: Option<DType>,
    /// A fixed Poisson arrival rate for the whole system, requests/s (replaces the scenario).
    pub rate: Option<f64>,
    /// Chunked prefill: chunks of this many tokens.
    pub chunked_prefill: Option<u64>,
    /// Forced plan per replica: `tp=8`, `tp=4,pp=2`, `tp=1,ep=8` (keys left out are searched).
    pub plan: Option<String>,
    /// A second system serving the same model on the same number of chips.
    pub compare: Option<String>,
    /// Disaggregated prefill: `P:D` chips prefilling and decoding (P + D = chips).
    pub disaggregate: Option<String>,
}

impl ServeRequest {
    /// A request with the CLI's defaults (offline; server targets 2000 ms TTFT, 50 ms TPOT).
    pub fn new(
        system: impl Into<String>,
        model: impl Into<String>,
        chips: u64,
        input_len: u64,
        output_len: u64,
    ) -> Self {
        ServeRequest {
            system: system.into(),
            model: model.into(),
            chips,
            scenario: ScenarioName::Offline,
            input_len,
            output_len,
            ttft_ms: 2000.0,
            tpot_ms: 50.0,
            dtype: None,
            kv_dtype: None,
            rate: None,
            chunked_prefill: None,
            plan: None,
            compare: None,
            disaggregate: None,
        }
    }
}

/// A parsed serving `--plan`: each key forced, or None (searched).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServePlan {
    pub tp: Option<u64>,
    pub pp: Option<u64>,
    pub ep: Option<u64>,
}

/// Parse a serving `--plan`: `tp=T,pp=P,ep=E` (any key may be left out: searched).
pub fn parse_serve_plan(p: &str) -> Result<ServePlan> {
    let bad = || {
        Error::flag(
            "--plan",
            format!("`{p}`: serving plans take tp=T, pp=P and ep=E (e.g. tp=8, tp=4,pp=2 or tp=1,ep=8), each from 1 to 2^24"),
        )
    };
    let mut plan = ServePlan::default();
    for part in p.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(bad)?;
        let v: u64 = v
            .trim()
            .parse()
            .ok()
            .filter(|v| (1..=1 << 24).contains(v))
            .ok_or_else(bad)?;
        let slot = match k.trim() {
            "tp" => &mut plan.tp,
            "pp" => &mut plan.pp,
            "ep" => &mut plan.ep,
            _ => return Err(bad()),
        };
        if slot.replace(v).is_some() {
            return Err(bad());
        }
    }
    if plan == ServePlan::default() {
        return Err(bad());
    }
    Ok(plan)
}

/// Parse `--disaggregate P:D`: P chips prefilling and D decoding, both at least 1, P + D =
/// `chips`.
pub fn parse_disaggregate(text: &str, chips: u64) -> Result<(u64, u64)> {
    let bad = |why: String| Error::flag("--disaggregate", format!("`{text}`: {why}"));
    let (p, d) = text
        .split_once(':')
        .and_then(|(p, d)| Some((p.trim().parse::<u64>().ok()?, d.trim().parse::<u64>().ok()?)))
        .ok_or_else(|| bad("expected P:D, the chips prefilling and decoding (e.g. 2:6)".into()))?;
    if p == 0 || d == 0 || p.checked_add(d) != Some(chips) {
        return Err(bad(format!(
            "both pools need at least one chip and P + D must be the {chips} chips"
        )));
    }
    Ok((p, d))
}

/// Serve the request: one report, or two with `compare` (the second system gets the same spec
/// with its plan searched).
pub fn run(req: &ServeRequest) -> Result<Vec<ServeReport>> {
    let plan = match &req.plan {
        Some(p) => parse_serve_plan(p)?,
        None => ServePlan::default(),
    };
    let scenario = match (req.rate, req.scenario) {
        (Some(r), _) => {
            if !r.is_finite() || !(1e-6..=1e9).contains(&r) {
                return Err(Error::flag(
                    "--rate",
                    format!("{r}: must be from 1e-6 to 1e9 requests/s"),
                ));
            }
            Scenario::Rate { requests_per_s: r }
        }
        (None, ScenarioName::Offline) => Scenario::Offline,
        (None, ScenarioName::Server) => {
            for (flag, v) in [("--ttft-ms", req.ttft_ms), ("--tpot-ms", req.tpot_ms)] {
                if !v.is_finite() || !(1e-3..=1e7).contains(&v) {
                    return Err(Error::flag(
                        flag,
                        format!("{v}: must be from 0.001 to 1e7 ms"),
                    ));
                }
            }
            Scenario::Server {
                ttft_s: req.ttft_ms * 1e-3,
                tpot_s: req.tpot_ms * 1e-3,
            }
        }
    };
    if req.chips == 0 || req.chips > 1 << 24 {
        return Err(Error::flag(
            "--chips",
            format!("{}: must be from 1 to 2^24", req.chips),
        ));
    }
    let sys = crate::system::config::load(&req.system)?;
    let card = crate::workload::model::load(&req.model)?;
    let dtype = req.dtype.unwrap_or(card.dtype);
    let spec = ServeSpec {
        kv_dtype: req.kv_dtype.unwrap_or(dtype),
        dtype,
        card,
        chips: req.chips,
        scenario,
        input_len: req.input_len,
        output_len: req.output_len,
        tp: plan.tp,
        pp: plan.pp,
        ep: plan.ep,
        disaggregate: match &req.disaggregate {
            Some(d) => Some(parse_disaggregate(d, req.chips)?),
            None => None,
        },
        chunk_tokens: match req.chunked_prefill {
            Some(0) => {
                return Err(Error::flag(
                    "--chunked-prefill",
                    "0: a chunk needs at least 1 token",
                ))
            }
            other => other,
        },
    };
    let mut reports = vec![serve(&sys, &spec)?];
    if let Some(other) = &req.compare {
        let sys_b = crate::system::config::load(other)?;
        let card_b = crate::workload::model::load(&req.model)?;
        reports.push(serve(
            &sys_b,
            &ServeSpec {
                card: card_b,
                tp: None,
                pp: None,
                ep: None,
                ..spec.clone()
            },
        )?);
    }
    Ok(reports)
}

/// What `archsim serve --format json` prints: the report, or the list of both with `compare`.
pub fn reports_json(reports: &[ServeReport]) -> Result<serde_json::Value> {
    if reports.len() == 1 {
        serde_json::to_value(&reports[0])
    } else {
        serde_json::to_value(reports)
    }
    .map_err(|e| Error::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_parse() {
        assert_eq!("server".parse::<ScenarioName>(), Ok(ScenarioName::Server));
        assert!("online".parse::<ScenarioName>().is_err());
    }

    #[test]
    fn serve_plans_parse() {
        let p = parse_serve_plan("tp=4, pp=2").unwrap();
        assert_eq!((p.tp, p.pp, p.ep), (Some(4), Some(2), None));
        let p = parse_serve_plan("pp=8").unwrap();
        assert_eq!((p.tp, p.pp, p.ep), (None, Some(8), None));
    }

    #[test]
    fn disaggregate_splits_parse() {
        assert_eq!(parse_disaggregate("2:6", 8).unwrap(), (2, 6));
        assert_eq!(parse_disaggregate(" 4 : 4 ", 8).unwrap(), (4, 4));
        for bad in ["2:5", "0:8", "8:0", "2", "a:b", "2:6:1", ""] {
            let e = parse_disaggregate(bad, 8).unwrap_err().to_string();
            assert!(e.contains("--disaggregate"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_settings_are_refused_before_any_work() {
        let mut r = ServeRequest::new("h100", "llama3_8b", 0, 128, 128);
        assert!(run(&r).unwrap_err().to_string().contains("--chips"));
        r.chips = 8;
        for bad in ["xp=2", "pp=0", "tp=2,tp=4", "pp=two", ""] {
            r.plan = Some(bad.into());
            assert!(run(&r).unwrap_err().to_string().contains("--plan"), "{bad}");
        }
        r.plan = None;
        r.chunked_prefill = Some(0);
        assert!(run(&r)
            .unwrap_err()
            .to_string()
            .contains("--chunked-prefill"));
    }
}
