//! Fleet sweeps: the system layer's `archsim train` and `archsim serve` over axes of systems,
//! chip counts, models, batches, sequence lengths and plan keys, one CSV row per point, with the
//! same point order, `--shard I/N` (Slurm job arrays), resume, checkpoints, lock, provenance and
//! `archsim merge` as chip sweeps ([`super::PointSet`]).
//!
//! ```toml
//! command = "train"                       # or "serve"
//! system = ["tpu_v5p_pod", "dgx_h100_ib"] # shipped names or system .toml paths
//! model = "llama3_70b"                    # shipped card, maxtext_<S>, card .toml, HF config.json
//! chips = {from = 256, to = 4096, factor = 2}
//! global_batch = 1024                     # train: sequences per step (required)
//! seq = [4096, 8192]
//! plan.recompute = "full"                 # any `--plan` key: dp fsdp tp pp vp cp ep mbs dcn_dp
//! plan.tp_overlap = [0, 1]                # recompute, tp_overlap, dp_overlap, sp
//! ```
//!
//! Keys of `command = "train"`: `system`, `model`, `chips`, `global_batch` (required), `seq`
//! (default 2048), `dtype` (default: the card's), `tokens` (time and cost to train),
//! `slice` (`"16x16x16"`), `fused_attention` (default true), `plan.<key>`.
//! Keys of `command = "serve"`: `system`, `model`, `chips`, `input_len`, `output_len`
//! (required), `scenario` (`"offline"` default, or `"server"`), `ttft_ms` (2000), `tpot_ms` (50),
//! `rate` (requests/s; replaces the scenario), `dtype`, `kv_dtype`, `chunked_prefill` (tokens),
//! `plan.tp`, `plan.pp`, `plan.ep`. Defaults are the CLI's.
//!
//! Every value is checked when the sweep is prepared (an unknown key, a system or model that does
//! not load, a number out of range: `error:` naming the sweep file, line and key, exit 2). A
//! point whose model cannot be planned on its chips (no plan fits HBM, a forced plan key that does
//! not divide) is a result, not an error: its row says `infeasible: ...` in `status` and leaves
//! the figures empty.

// CSV text of a swept value, as chip sweeps write it.
use super::spec::value_text as text;
use super::spec::{Axis, SweepSpec};
use super::{PointSet, Provenance, Shard};
use crate::error::{Error, Result};
use crate::system::config::SystemConfig;
use crate::system::serve::{serve, Scenario, ServeSpec};
use crate::system::train::{train, PlanConstraints, TrainSpec};
use crate::workload::model::ModelCard;
use crate::workload::DType;
use std::collections::BTreeMap;

/// What a fleet sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetKind {
    Train,
    Serve,
}

/// Result columns of a train sweep, after the swept values (the `archsim train --format json`
/// keys of the best plan).
pub const TRAIN_COLUMNS: [&str; 14] = [
    "status",
    "plan",
    "step_time_s",
    "mfu",
    "hfu",
    "model_tflops_per_chip",
    "tokens_per_s",
    "time_to_train_s",
    "memory_per_chip_bytes",
    "power_w",
    "energy_j_per_token",
    "cost_usd_per_step",
    "cost_usd",
    "chips_per_gw",
];

/// Result columns of a serve sweep (the `archsim serve --format json` keys).
pub const SERVE_COLUMNS: [&str; 18] = [
    "status",
    "plan",
    "tp",
    "pp",
    "ep",
    "replicas",
    "batch",
    "output_tokens_per_s",
    "output_tokens_per_s_per_chip",
    "total_tokens_per_s",
    "ttft_s",
    "ttft_p99_s",
    "tpot_s",
    "tpot_p99_s",
    "power_w",
    "j_per_token",
    "usd_per_million_tokens",
    "feasible",
];

/// The value type a key takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    /// A system config (name or path).
    System,
    /// A model card.
    Model,
    /// A whole number in `1..=max`.
    Count(u64),
    /// A finite number in `[lo, hi]`.
    Num(f64, f64),
    Dtype,
    Slice,
    Bool,
    Scenario,
    /// A `--plan` key (checked by [`PlanConstraints::parse`]).
    Plan,
}

const TRAIN_KEYS: &[(&str, Ty)] = &[
    ("system", Ty::System),
    ("model", Ty::Model),
    ("chips", Ty::Count(1 << 24)),
    ("global_batch", Ty::Count(1 << 24)),
    ("seq", Ty::Count(1 << 20)),
    ("dtype", Ty::Dtype),
    ("tokens", Ty::Num(1.0, 1e18)),
    ("slice", Ty::Slice),
    ("fused_attention", Ty::Bool),
];
const TRAIN_REQUIRED: &[&str] = &["system", "model", "chips", "global_batch"];
const TRAIN_PLAN_KEYS: &[&str] = &[
    "dp",
    "fsdp",
    "tp",
    "pp",
    "vp",
    "cp",
    "ep",
    "mbs",
    "dcn_dp",
    "recompute",
    "tp_overlap",
    "dp_overlap",
    "sp",
];

const SERVE_KEYS: &[(&str, Ty)] = &[
    ("system", Ty::System),
    ("model", Ty::Model),
    ("chips", Ty::Count(1 << 24)),
    ("input_len", Ty::Count(1 << 24)),
    ("output_len", Ty::Count(1 << 24)),
    ("scenario", Ty::Scenario),
    ("ttft_ms", Ty::Num(1e-3, 1e7)),
    ("tpot_ms", Ty::Num(1e-3, 1e7)),
    ("rate", Ty::Num(1e-6, 1e9)),
    ("dtype", Ty::Dtype),
    ("kv_dtype", Ty::Dtype),
    ("chunked_prefill", Ty::Count(1 << 24)),
];
const SERVE_REQUIRED: &[&str] = &["system", "model", "chips", "input_len", "output_len"];
const SERVE_PLAN_KEYS: &[&str] = &["tp", "pp", "ep"];

/// A prepared fleet sweep.
pub struct FleetSweep {
    pub spec: SweepSpec,
    pub kind: FleetKind,
    /// Systems and model cards named on the axes, loaded once.
    systems: BTreeMap<String, SystemConfig>,
    models: BTreeMap<String, ModelCard>,
    radix: Vec<usize>,
    points: u64,
}

impl FleetSweep {
    /// Check every axis of a `command = "train" | "serve"` sweep file and load its systems and
    /// models.
    pub fn prepare(spec: SweepSpec, max_points: u64) -> Result<FleetSweep> {
        let (cmd, line) = spec.command.clone().ok_or_else(|| {
            Error::input(
                spec.loc("command", None),
                "not a fleet sweep: add `command = \"train\"` or `command = \"serve\"`",
            )
        })?;
        let kind = if cmd == "train" {
            FleetKind::Train
        } else {
            FleetKind::Serve
        };
        if !spec.workloads.is_empty() {
            return Err(Error::input(
                spec.loc("workloads", spec.workloads_line),
                format!(
                    "a `command = \"{cmd}\"` sweep has no workloads: its model is the `model` key"
                ),
            ));
        }
        let (keys, plan_keys, required) = match kind {
            FleetKind::Train => (TRAIN_KEYS, TRAIN_PLAN_KEYS, TRAIN_REQUIRED),
            FleetKind::Serve => (SERVE_KEYS, SERVE_PLAN_KEYS, SERVE_REQUIRED),
        };
        for r in required {
            if !spec.axes.iter().any(|a| a.key == *r) {
                return Err(Error::input(
                    spec.loc(r, line),
                    format!("a `command = \"{cmd}\"` sweep needs `{r}` (a value or a list)"),
                ));
            }
        }
        let mut systems = BTreeMap::new();
        let mut models = BTreeMap::new();
        for a in &spec.axes {
            let ty = match a.key.strip_prefix("plan.") {
                Some(k) if plan_keys.contains(&k) => Ty::Plan,
                Some(k) => {
                    return Err(Error::input(
                        spec.loc(&a.key, a.line),
                        format!(
                            "unknown plan key `{k}` for `command = \"{cmd}\"`; expected one of {}",
                            plan_keys.join(", ")
                        ),
                    ))
                }
                None => match keys.iter().find(|(k, _)| *k == a.key) {
                    Some((_, t)) => *t,
                    None => {
                        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
                        return Err(Error::input(
                            spec.loc(&a.key, a.line),
                            format!(
                                "unknown key for `command = \"{cmd}\"`; expected one of {}, or plan.<key>",
                                names.join(", ")
                            ),
                        ));
                    }
                },
            };
            for v in &a.values {
                check_value(&spec, a, ty, v, &mut systems, &mut models)?;
            }
        }
        let points = spec.point_count(1, max_points)?;
        let radix = spec.axes.iter().map(|a| a.values.len()).collect();
        Ok(FleetSweep {
            spec,
            kind,
            systems,
            models,
            radix,
            points,
        })
    }

    fn digits(&self, index: u64) -> Vec<usize> {
        super::digits(&self.radix, index)
    }

    /// The point's values by key.
    fn values(&self, index: u64) -> BTreeMap<&str, &toml::Value> {
        self.spec
            .axes
            .iter()
            .zip(self.digits(index))
            .map(|(a, i)| (a.key.as_str(), &a.values[i]))
            .collect()
    }

    /// The `--plan` text of a point's `plan.*` values.
    fn plan_text(v: &BTreeMap<&str, &toml::Value>) -> String {
        v.iter()
            .filter_map(|(k, x)| k.strip_prefix("plan.").map(|k| format!("{k}={}", text(x))))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn train_row(&self, v: &BTreeMap<&str, &toml::Value>) -> Result<Vec<String>> {
        let card = self.models[&text(v["model"])].clone();
        let int = |k: &str, d: u64| {
            v.get(k)
                .and_then(|x| x.as_integer())
                .map_or(d, |i| i as u64)
        };
        let spec = TrainSpec {
            dtype: v
                .get("dtype")
                .map(|d| text(d).parse::<DType>().expect("checked"))
                .unwrap_or(card.dtype),
            chips: int("chips", 1),
            global_batch: int("global_batch", 1),
            seq: int("seq", 2048),
            tokens: v.get("tokens").map(|x| number(x).expect("checked")),
            slice: v
                .get("slice")
                .map(|s| crate::system::config::parse_slice(&text(s)).expect("checked")),
            fused_attention: v
                .get("fused_attention")
                .is_none_or(|b| b.as_bool() == Some(true)),
            card,
        };
        let forced = PlanConstraints::parse(&Self::plan_text(v))?;
        let sys = &self.systems[&text(v["system"])];
        let r = match train(sys, &spec, &forced) {
            Ok(o) => o.best,
            Err(e) if e.exit_code() == 2 => return Ok(infeasible(&e, TRAIN_COLUMNS.len())),
            Err(e) => return Err(e),
        };
        let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        Ok(vec![
            "ok".to_string(),
            r.plan.describe(),
            r.step_time_s.to_string(),
            r.mfu.to_string(),
            r.hfu.to_string(),
            r.model_tflops_per_chip.to_string(),
            r.tokens_per_s.to_string(),
            opt(r.time_to_train_s),
            r.memory_per_chip_bytes.to_string(),
            r.power_w.to_string(),
            r.energy_j_per_token.to_string(),
            opt(r.cost_usd_per_step),
            opt(r.cost_usd),
            r.chips_per_gw.to_string(),
        ])
    }

    fn serve_row(&self, v: &BTreeMap<&str, &toml::Value>) -> Result<Vec<String>> {
        let card = self.models[&text(v["model"])].clone();
        let num = |k: &str, d: f64| v.get(k).map_or(d, |x| number(x).expect("checked"));
        let int = |k: &str| v.get(k).and_then(|x| x.as_integer()).map(|i| i as u64);
        let scenario = match (v.get("rate"), v.get("scenario").map(|s| text(s))) {
            (Some(r), _) => Scenario::Rate {
                requests_per_s: number(r).expect("checked"),
            },
            (None, Some(s)) if s == "server" => Scenario::Server {
                ttft_s: num("ttft_ms", 2000.0) * 1e-3,
                tpot_s: num("tpot_ms", 50.0) * 1e-3,
            },
            _ => Scenario::Offline,
        };
        let dtype = v
            .get("dtype")
            .map(|d| text(d).parse::<DType>().expect("checked"))
            .unwrap_or(card.dtype);
        let spec = ServeSpec {
            kv_dtype: v
                .get("kv_dtype")
                .map(|d| text(d).parse::<DType>().expect("checked"))
                .unwrap_or(dtype),
            dtype,
            chips: int("chips").unwrap_or(1),
            scenario,
            input_len: int("input_len").unwrap_or(1),
            output_len: int("output_len").unwrap_or(1),
            tp: int("plan.tp"),
            pp: int("plan.pp"),
            ep: int("plan.ep"),
            disaggregate: None,
            chunk_tokens: int("chunked_prefill"),
            card,
        };
        let sys = &self.systems[&text(v["system"])];
        let r = match serve(sys, &spec) {
            Ok(r) => r,
            Err(e) if e.exit_code() == 2 => return Ok(infeasible(&e, SERVE_COLUMNS.len())),
            Err(e) => return Err(e),
        };
        Ok(vec![
            "ok".to_string(),
            r.plan.clone(),
            r.tp.to_string(),
            r.pp.to_string(),
            r.ep.to_string(),
            r.replicas.to_string(),
            r.batch.to_string(),
            r.output_tokens_per_s.to_string(),
            r.output_tokens_per_s_per_chip.to_string(),
            r.total_tokens_per_s.to_string(),
            r.ttft_s.to_string(),
            r.ttft_p99_s.to_string(),
            r.tpot_s.to_string(),
            r.tpot_p99_s.to_string(),
            r.power_w.to_string(),
            r.j_per_token.to_string(),
            r.usd_per_million_tokens
                .map(|x| x.to_string())
                .unwrap_or_default(),
            r.feasible.to_string(),
        ])
    }
}

/// A row for a point that cannot be planned: the reason, empty figures.
fn infeasible(e: &Error, width: usize) -> Vec<String> {
    let mut row = vec![format!("infeasible: {e}")];
    row.resize(width, String::new());
    row
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Check one value of an axis (and load the systems and models it names).
fn check_value(
    spec: &SweepSpec,
    a: &Axis,
    ty: Ty,
    v: &toml::Value,
    systems: &mut BTreeMap<String, SystemConfig>,
    models: &mut BTreeMap<String, ModelCard>,
) -> Result<()> {
    let bad = |msg: String| Err(Error::input(spec.loc(&a.key, a.line), msg));
    let string = |what: &str| -> Result<String> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            Error::input(
                spec.loc(&a.key, a.line),
                format!("{what}, not {} `{v}`", v.type_str()),
            )
        })
    };
    // An error from loading a named file or config, re-told at the sweep key.
    let at_key = |e: Error| match e.exit_code() {
        2 => Error::input(spec.loc(&a.key, a.line), e.to_string()),
        _ => e,
    };
    match ty {
        Ty::System => {
            let s = string("a system name or path")?;
            if let std::collections::btree_map::Entry::Vacant(e) = systems.entry(s) {
                let cfg = crate::system::config::load(e.key()).map_err(at_key)?;
                e.insert(cfg);
            }
        }
        Ty::Model => {
            let s = string("a model card name or path")?;
            if let std::collections::btree_map::Entry::Vacant(e) = models.entry(s) {
                let card = crate::workload::model::load(e.key()).map_err(at_key)?;
                e.insert(card);
            }
        }
        Ty::Count(max) => match v.as_integer() {
            Some(i) if i >= 1 && i as u64 <= max => {}
            _ => return bad(format!("`{v}`: expected a whole number from 1 to {max}")),
        },
        Ty::Num(lo, hi) => match number(v) {
            Some(x) if x.is_finite() && (lo..=hi).contains(&x) => {}
            _ => return bad(format!("`{v}`: expected a number from {lo} to {hi}")),
        },
        Ty::Dtype => {
            let s = string("a dtype name (bf16, fp8, ...)")?;
            if let Err(e) = s.parse::<DType>() {
                return bad(e);
            }
        }
        Ty::Slice => {
            let s = string("a slice shape such as \"16x16x16\"")?;
            if crate::system::config::parse_slice(&s).is_none() {
                return bad(format!(
                    "`{s}`: expected a slice shape like \"4x4x4\" (each axis 1 to 1024)"
                ));
            }
        }
        Ty::Bool => {
            if v.as_bool().is_none() {
                return bad(format!("`{v}`: expected true or false"));
            }
        }
        Ty::Scenario => {
            let s = string("\"offline\" or \"server\"")?;
            if s != "offline" && s != "server" {
                return bad(format!("`{s}`: expected \"offline\" or \"server\""));
            }
        }
        Ty::Plan => {
            let k = a.key.trim_start_matches("plan.");
            let overlap = k == "tp_overlap" || k == "dp_overlap" || k == "sp";
            let ok = match v {
                toml::Value::Integer(_) => true,
                toml::Value::Boolean(_) => k == "recompute" || overlap,
                toml::Value::String(_) => k == "recompute",
                _ => false,
            };
            if !ok {
                return bad(format!(
                    "`{v}`: plan.{k} takes {}",
                    if k == "recompute" {
                        "\"full\" or \"none\""
                    } else if overlap {
                        "1, 0, true or false"
                    } else {
                        "a whole number"
                    }
                ));
            }
            if let Err(e) = PlanConstraints::parse(&format!("{k}={}", text(v))) {
                return bad(e.to_string());
            }
        }
    }
    Ok(())
}

impl PointSet for FleetSweep {
    fn points(&self) -> u64 {
        self.points
    }

    fn header(&self) -> Vec<String> {
        let mut h = vec!["index".to_string()];
        h.extend(self.spec.axes.iter().map(|a| a.key.clone()));
        let cols: &[&str] = match self.kind {
            FleetKind::Train => &TRAIN_COLUMNS,
            FleetKind::Serve => &SERVE_COLUMNS,
        };
        h.extend(cols.iter().map(|s| s.to_string()));
        h
    }

    fn point_values(&self, index: u64) -> Vec<String> {
        self.spec
            .axes
            .iter()
            .zip(self.digits(index))
            .map(|(a, i)| text(&a.values[i]))
            .collect()
    }

    fn eval(&self, index: u64) -> Result<Vec<String>> {
        let v = self.values(index);
        let figures = match self.kind {
            FleetKind::Train => self.train_row(&v)?,
            FleetKind::Serve => self.serve_row(&v)?,
        };
        let mut row = vec![index.to_string()];
        row.extend(self.point_values(index));
        row.extend(figures);
        Ok(row)
    }

    fn provenance(&self, shard: Option<Shard>) -> Provenance {
        Provenance {
            archsim_version: env!("CARGO_PKG_VERSION").to_string(),
            // A fleet sweep has no base config: its systems and models are axes of the file.
            base_config: String::new(),
            base_config_fnv64: String::new(),
            sweep_file: self.spec.file.clone(),
            sweep_file_fnv64: format!("{:016x}", self.spec.content_hash),
            mode: None,
            points: self.points,
            shard: shard.map(|s| format!("{}/{}", s.index, s.count)),
        }
    }
}
