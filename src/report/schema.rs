//! JSON Schemas (draft 2020-12) of archsim's input files and of the `run --format json` report,
//! derived with schemars from the serde types the files are read into and the report is written
//! from (doc comments become descriptions), and the Markdown reference pages of
//! `docs/reference/` generated from them, so the reference cannot drift from the code
//! (`tests/schema_docs.rs` fails when the committed pages differ).
//!
//! Units: every key carries its unit in its name (`_s`, `_bytes`, `_gbps`, `_pj`, `_w`, ...);
//! [`unit_of`] reads it from the name and the schema's description of such a key says it, so the
//! unit is in the description even where the doc comment leaves it to the name.

use crate::error::Result;
use crate::fsio::OutputFile;
use crate::run::RunReport;
use crate::simt::config::SimtConfig;
use crate::systolic::config::SystolicConfig;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Which document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// A machine config: `kind = "systolic"` or `kind = "simt"`.
    Config,
    /// A system config (`configs/systems/*.toml`).
    System,
    /// A model card (`kernels/models/*.toml`).
    Model,
    /// The `archsim run --format json` report.
    Report,
    /// The `archsim train --format json` document (one system; `--compare` prints
    /// `{basis, a, b, verdict}` with one of these in `a` and `b`).
    Train,
    /// The `archsim serve --format json` document (one system; `--compare` prints a list).
    Serve,
}

/// A machine config of either kind (the schema's `anyOf`; `kind` tells them apart).
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum MachineConfig {
    Systolic(SystolicConfig),
    Simt(SimtConfig),
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
}

/// The JSON Schema of a document, as JSON.
pub fn schema(which: Which) -> Value {
    let (title, root, kinds): (_, _, &[(&str, &str)]) = match which {
        Which::Config => (
            "archsim machine config (systolic or SIMT)",
            settings()
                .into_generator()
                .into_root_schema_for::<MachineConfig>(),
            &[
                ("/$defs/SystolicConfig/properties/kind", "systolic"),
                ("/$defs/SimtConfig/properties/kind", "simt"),
            ],
        ),
        Which::System => (
            "archsim system config",
            crate::system::config::file_schema(settings()),
            &[("/properties/kind", "system")],
        ),
        Which::Model => (
            "archsim model card",
            crate::workload::model::file_schema(settings()),
            &[],
        ),
        Which::Report => (
            "archsim run --format json report",
            settings()
                .into_generator()
                .into_root_schema_for::<RunReport>(),
            &[],
        ),
        Which::Train => (
            "archsim train --format json",
            settings()
                .into_generator()
                .into_root_schema_for::<crate::system::train::TrainOutcome>(),
            &[],
        ),
        Which::Serve => (
            "archsim serve --format json",
            settings()
                .into_generator()
                .into_root_schema_for::<crate::system::serve::ServeReport>(),
            &[],
        ),
    };
    finish(title, root.to_value(), kinds)
}

/// The schema of one machine config kind alone (for its reference page).
fn kind_schema(kind: &str) -> Value {
    let root = match kind {
        "systolic" => settings()
            .into_generator()
            .into_root_schema_for::<SystolicConfig>(),
        _ => settings()
            .into_generator()
            .into_root_schema_for::<SimtConfig>(),
    };
    finish(
        &format!("archsim {kind} machine config"),
        root.to_value(),
        &[("/properties/kind", kind)],
    )
}

/// Title, `kind` constants (each a JSON pointer to a `kind` property and its value) and units
/// in descriptions.
fn finish(title: &str, mut v: Value, kinds: &[(&str, &str)]) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("title".into(), title.into());
    }
    for (pointer, kind) in kinds {
        if let Some(k) = v.pointer_mut(pointer).and_then(Value::as_object_mut) {
            k.insert("const".into(), (*kind).into());
        }
    }
    add_units(&mut v);
    v
}

/// The unit of a key from its name's suffix (the project's naming rule), in words.
pub fn unit_of(key: &str) -> Option<&'static str> {
    const SUFFIXES: &[(&str, &str)] = &[
        ("_per_clk_per_sm", "per clock cycle per SM"),
        ("_pj_per_byte", "pJ per byte"),
        ("_bytes_per_token", "bytes per token"),
        ("_flops_per_token", "FLOPs per token"),
        ("_w_per_chip", "W per chip"),
        ("_per_cycle", "per clock cycle"),
        ("tokens_per_s", "tokens per second"),
        ("_per_clk", "per clock cycle"),
        ("_per_chip_hour", "USD per chip-hour"),
        ("_pj", "pJ (picojoules)"),
        ("_cycles", "clock cycles"),
        ("_bytes_per_s", "bytes/s"),
        ("_bytes", "bytes"),
        ("_gib", "GiB (2^30 bytes)"),
        ("_mib", "MiB (2^20 bytes)"),
        ("_kib", "KiB (2^10 bytes)"),
        ("_gbps", "GB/s (10^9 bytes/s)"),
        ("_tflops", "TFLOP/s (10^12 FLOP/s)"),
        ("_tops", "TOP/s (10^12 operations/s)"),
        ("_mhz", "MHz"),
        ("_ghz", "GHz"),
        ("_ns", "ns"),
        ("_us", "µs"),
        ("_ms", "ms"),
        ("_s", "s (seconds)"),
        ("_w", "W"),
        ("_pct", "percent"),
        ("_usd", "USD"),
    ];
    if key == "cycles" {
        return Some("clock cycles");
    }
    let base = key.strip_suffix("_per_core").unwrap_or(key);
    SUFFIXES
        .iter()
        .find(|(s, _)| base.ends_with(s))
        .map(|(_, u)| *u)
}

/// Append "Unit: U." to the description of every property whose name has a unit suffix.
fn add_units(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get_mut("properties") {
                for (key, p) in props.iter_mut() {
                    let (Some(unit), Some(p)) = (unit_of(key), p.as_object_mut()) else {
                        continue;
                    };
                    let d = p.get("description").and_then(Value::as_str).unwrap_or("");
                    let d = if d.is_empty() {
                        format!("Unit: {unit}.")
                    } else {
                        format!("{d} Unit: {unit}.")
                    };
                    p.insert("description".into(), d.into());
                }
            }
            for (_, x) in o.iter_mut() {
                add_units(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(add_units),
        _ => {}
    }
}

/// Follow a `$ref` (`#/$defs/NAME`) against the root.
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .unwrap_or(s),
        None => s,
    }
}

/// The object schema a property holds, if it is one (directly, by `$ref`, or as the non-null
/// branch of an `Option`).
pub fn object_of<'a>(root: &'a Value, s: &'a Value) -> Option<&'a Value> {
    let s = resolve(root, s);
    if s.get("properties").is_some() {
        return Some(s);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(alts)) = s.get(k) {
            if let Some(o) = alts.iter().find_map(|a| object_of(root, a)) {
                return Some(o);
            }
        }
    }
    None
}

/// A short type name: `integer`, `number or null`, `"ws" | "os" | "is"`, `array of integer`,
/// `table`.
fn type_name(root: &Value, s: &Value) -> String {
    let s = resolve(root, s);
    if let Some(c) = s.get("const") {
        return c.to_string();
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        return e
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = s.get(k) {
            let mut names: Vec<String> = Vec::new();
            for a in alts {
                let n = type_name(root, a);
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            return names.join(" or ");
        }
    }
    let base = match s.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => vec![if s.get("properties").is_some() {
            "object".into()
        } else {
            "any".into()
        }],
    };
    base.iter()
        .map(
            |t| match (t.as_str(), s.get("items"), s.get("prefixItems")) {
                ("array", Some(items), _) => format!("array of {}", type_name(root, items)),
                ("array", None, Some(Value::Array(p))) => format!(
                    "array of [{}]",
                    p.iter()
                        .map(|x| type_name(root, x))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ("object", _, _) if s.get("additionalProperties").is_some() => {
                    match s.get("additionalProperties") {
                        Some(ap) if ap.is_object() => format!("map of {}", type_name(root, ap)),
                        _ => "object".into(),
                    }
                }
                _ => t.clone(),
            },
        )
        .collect::<Vec<_>>()
        .join(" or ")
}

/// One line of Markdown table text: newlines to spaces, pipes escaped.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The rows of the reference table of an object schema and, depth first, of the objects its
/// properties hold: (table path, key, type, unit, default or "required", description).
fn rows(root: &Value, obj: &Value, path: &str, out: &mut Vec<[String; 6]>) {
    let Some(Value::Object(props)) = obj.get("properties") else {
        return;
    };
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut nested = Vec::new();
    for (key, p) in props {
        let desc = p
            .get("description")
            .or_else(|| resolve(root, p).get("description"))
            .or_else(|| object_of(root, p).and_then(|o| o.get("description")))
            .and_then(Value::as_str)
            .unwrap_or("");
        // The unit has its own column.
        let desc = match unit_of(key) {
            Some(u) => desc.trim_end_matches(&format!("Unit: {u}.")).trim_end(),
            None => desc,
        };
        let default = match p.get("default") {
            Some(Value::Object(_)) => "see its table".into(),
            Some(d) => format!("`{d}`"),
            None if required.contains(&key.as_str()) => "required".into(),
            None => "optional".into(),
        };
        out.push([
            path.to_string(),
            key.clone(),
            type_name(root, p),
            unit_of(key).unwrap_or("").to_string(),
            default,
            desc.to_string(),
        ]);
        if let Some(o) = object_of(root, p) {
            nested.push((key.clone(), o));
        } else if let Some(items) = resolve(root, p).get("items") {
            if let Some(o) = object_of(root, items) {
                nested.push((format!("{key}[]"), o));
            }
        }
    }
    for (key, o) in nested {
        let sub = if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        };
        rows(root, o, &sub, out);
    }
}

/// A Markdown reference page of a schema: its description, then one table per object (the top
/// level, then each table / nested object by its dotted path).
pub fn markdown(title: &str, intro: &str, schema: &Value, table_word: &str) -> String {
    let mut all = Vec::new();
    rows(schema, schema, "", &mut all);
    let mut s = String::new();
    let _ = writeln!(s, "# {title}\n");
    let _ = writeln!(
        s,
        "<!-- Generated by `archsim schema --docs docs/reference` from the JSON Schema of \
         `archsim schema`; do not edit: tests/schema_docs.rs checks it. -->\n"
    );
    let _ = writeln!(s, "{intro}\n");
    let mut current: Option<String> = None;
    for [path, key, ty, unit, default, desc] in all {
        if current.as_deref() != Some(path.as_str()) {
            let heading = if path.is_empty() {
                "Top level".to_string()
            } else {
                format!("{table_word} `{path}`")
            };
            let _ = writeln!(
                s,
                "{}## {heading}\n\n| key | type | unit | default | meaning |\n|---|---|---|---|---|",
                if current.is_some() { "\n" } else { "" }
            );
            current = Some(path.clone());
        }
        let _ = writeln!(
            s,
            "| `{key}` | {} | {} | {} | {} |",
            cell(&ty),
            cell(&unit),
            cell(&default),
            cell(&desc)
        );
    }
    s
}

/// The pages of `docs/reference/`: one per config kind (systolic, SIMT, system, model card) and
/// one per output (the `run --format json` report), plus an index.
pub fn reference_pages() -> Result<Vec<OutputFile>> {
    let pages: [(&str, &str, &str, Value, &str); 7] = [
        (
            "config-systolic.md",
            "Systolic machine config (`kind = \"systolic\"`)",
            "A TPU-style chip: `configs/tpu_v5.toml`, `configs/trn2.toml`, ... \
             Schema: `archsim schema config` (the `SystolicConfig` branch). Unknown keys are \
             refused.",
            kind_schema("systolic"),
            "table",
        ),
        (
            "config-simt.md",
            "SIMT machine config (`kind = \"simt\"`)",
            "A GPU: `configs/h100.toml`, `configs/mi300x.toml`, ... Schema: `archsim schema \
             config` (the `SimtConfig` branch). Unknown keys are refused.",
            kind_schema("simt"),
            "table",
        ),
        (
            "system.md",
            "System config (`kind = \"system\"`)",
            "Chips and their networks: `configs/systems/*.toml` (docs/SYSTEMS.md). Schema: \
             `archsim schema system`. Unknown keys are refused.",
            schema(Which::System),
            "table",
        ),
        (
            "model-card.md",
            "Model card",
            "A whole LLM: `kernels/models/*.toml` (docs/MODELS.md). Schema: `archsim schema \
             model`. Unknown keys are refused.",
            schema(Which::Model),
            "table",
        ),
        (
            "report-json.md",
            "Report: `archsim run --format json`",
            "The JSON document `archsim run --format json` prints (`report.json` under --out). \
             Schema: `archsim schema report`. The `machine` object also carries the machine \
             model's own parameters (config values that differ between the systolic, SCALE-Sim \
             and SIMT models), which are not listed here; `plan` is the machine-specific mapping \
             or kernel plan.",
            schema(Which::Report),
            "object",
        ),
        (
            "report-train.md",
            "Report: `archsim train --format json`",
            "The best plan's figures with its runners-up (one system). With `--compare` the \
             document is `{basis, a, b, verdict}`, `a` and `b` each one of these. Schema: \
             `archsim schema train`.",
            schema(Which::Train),
            "object",
        ),
        (
            "report-serve.md",
            "Report: `archsim serve --format json`",
            "One system's serving figures; with `--compare` a list of two. Schema: `archsim \
             schema serve`.",
            schema(Which::Serve),
            "object",
        ),
    ];
    let mut out = Vec::new();
    let mut index = String::from(
        "# Reference\n\n<!-- Generated by `archsim schema --docs docs/reference`; do not edit: \
         tests/schema_docs.rs checks it. -->\n\nEvery key of every input file and output \
         document, generated from the JSON Schemas that `archsim schema config|system|model|report` \
         prints (derived from the code's serde types):\n\n",
    );
    for (name, title, intro, schema, word) in pages {
        let _ = writeln!(index, "- [{title}]({name})");
        out.push(OutputFile {
            name: name.to_string(),
            bytes: markdown(title, intro, &schema, word).into_bytes(),
        });
    }
    out.push(OutputFile {
        name: "README.md".into(),
        bytes: index.into_bytes(),
    });
    Ok(out)
}

/// Dotted paths of every key an object schema allows, tables included (`array`, `array.rows`),
/// for coverage checks.
pub fn key_paths(schema: &Value) -> Vec<String> {
    let mut all = Vec::new();
    rows(schema, schema, "", &mut all);
    all.into_iter()
        .map(|[path, key, ..]| {
            if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            }
        })
        .collect()
}

/// The properties map of an object schema (resolving `$ref` / `Option`).
pub fn properties<'a>(root: &'a Value, s: &'a Value) -> Option<&'a Map<String, Value>> {
    object_of(root, s)?.get("properties")?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_from_names() {
        assert_eq!(unit_of("time_s"), Some("s (seconds)"));
        assert_eq!(unit_of("bandwidth_gbps"), Some("GB/s (10^9 bytes/s)"));
        assert_eq!(unit_of("vmem_mib_per_core"), Some("MiB (2^20 bytes)"));
        assert_eq!(unit_of("energy_pj"), Some("pJ (picojoules)"));
        assert_eq!(unit_of("rows"), None);
    }

    #[test]
    fn schemas_are_draft_2020_12_with_kind_constants() {
        let c = schema(Which::Config);
        assert_eq!(
            c["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{c}"
        );
        assert_eq!(
            c["$defs"]["SystolicConfig"]["properties"]["kind"]["const"],
            "systolic"
        );
        assert_eq!(
            c["$defs"]["SimtConfig"]["properties"]["kind"]["const"],
            "simt"
        );
        assert_eq!(kind_schema("simt")["properties"]["kind"]["const"], "simt");
        assert_eq!(
            schema(Which::System)["properties"]["kind"]["const"],
            "system"
        );
    }

    #[test]
    fn unit_lands_in_the_description() {
        let r = schema(Which::Report);
        let time = &r["$defs"]["Total"]["properties"]["time_s"]["description"];
        assert!(
            time.as_str().unwrap().contains("Unit: s (seconds)."),
            "{time}"
        );
    }
}
