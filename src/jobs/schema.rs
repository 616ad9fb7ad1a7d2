//! JSON Schemas (draft 2020-12) of archsim's input files and of its outputs (the `run`, `train`,
//! `serve` and `collective` JSON, the main job's report.json, the per-op CSV files), derived
//! with schemars from the serde types the files are read into and the outputs are written from
//! (doc comments become descriptions) or, for the CSV files, from the column lists the writer
//! uses ([`crate::report::csv`]), and the Markdown reference pages of `docs/reference/`
//! generated from them, so the reference cannot drift from the code (`tests/schema_docs.rs`
//! fails when the committed pages differ).
//!
//! Units: every key carries its unit in its name (`_s`, `_bytes`, `_gbps`, `_pj`, `_w`, ...);
//! [`unit_of`] reads it from the name and the schema's description of such a key says it, so the
//! unit is in the description even where the doc comment leaves it to the name.

use crate::error::Result;
use crate::fsio::OutputFile;
use crate::report::csv::{compare_columns, run_columns, Column, COMPARE_LEAD};
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
    /// The main job's and `archsim compare`'s `report.json`.
    Compare,
    /// The `archsim collective --format json` document.
    Collective,
    /// One row of `archsim run --format csv` (`ops.csv` of `run --out`), as a tuple in column
    /// order.
    OpsCsv,
    /// One row of the main job's and `archsim compare`'s `ops.csv`, as a tuple in column order.
    CompareCsv,
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
        Which::Report => {
            return finish(
                "archsim run --format json report",
                report_root::<RunReport>(),
                &[],
            )
        }
        Which::Compare => {
            return finish(
                "archsim compare / main job report.json",
                report_root::<crate::compare::Report>(),
                &[],
            )
        }
        Which::Collective => (
            "archsim collective --format json",
            settings()
                .into_generator()
                .into_root_schema_for::<crate::system::collective::CollectiveJson>(),
            &[],
        ),
        Which::OpsCsv => {
            let columns: Vec<&Column> = run_columns().collect();
            return csv_schema(
                "archsim run --format csv: one row",
                "One row of the CSV `archsim run --format csv` prints (`ops.csv` under --out): \
                 one row per op, then a `TOTAL` row whose cells are blank where a total means \
                 nothing (`x-total: false`). A header row names the columns; cells parse as \
                 the item's type.",
                &[],
                &columns,
            );
        }
        Which::CompareCsv => {
            let columns: Vec<&Column> = compare_columns().collect();
            return csv_schema(
                "archsim compare / main job ops.csv: one row",
                "One row of the main job's and `archsim compare`'s `ops.csv`: one row per op, \
                 machine and section (no totals row). A header row names the columns; cells \
                 parse as the item's type.",
                &COMPARE_LEAD,
                &columns,
            );
        }
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

/// The root schema of an output holding run reports, with the report's `machine` object typed:
/// its `MachineReport` definition gets a `oneOf` of the three models' own key sets (each titled;
/// told apart by their required keys), which the machine layer cannot name.
fn report_root<T: schemars::JsonSchema>() -> Value {
    let mut g = settings().into_generator();
    let kinds = [
        (
            "systolic machine, native or pe mode (an archsim .toml)",
            g.subschema_for::<crate::systolic::native::SystolicParams>(),
        ),
        (
            "systolic machine, scalesim mode (a SCALE-Sim .cfg)",
            g.subschema_for::<crate::systolic::scalesim::ScaleSimParams>(),
        ),
        (
            "SIMT machine (GPU)",
            g.subschema_for::<crate::simt::SimtParams>(),
        ),
    ];
    let mut root = g.into_root_schema_for::<T>().to_value();
    let one_of: Vec<Value> = kinds
        .into_iter()
        .map(|(title, s)| {
            let mut v = s.to_value();
            if let Some(o) = v.as_object_mut() {
                o.insert("title".into(), title.into());
            }
            v
        })
        .collect();
    if let Some(m) = root
        .pointer_mut("/$defs/MachineReport")
        .and_then(Value::as_object_mut)
    {
        m.insert("oneOf".into(), one_of.into());
    }
    root
}

/// The schema of one row of a per-op CSV: an array whose items are the columns in order
/// (`prefixItems`, each titled by its column name, typed, described; `x-total`: whether the
/// `TOTAL` row has a cell there), `lead` columns (name, meaning; strings) first.
fn csv_schema(title: &str, description: &str, lead: &[(&str, &str)], columns: &[&Column]) -> Value {
    let mut items: Vec<Value> = lead
        .iter()
        .map(|(name, doc)| serde_json::json!({"title": name, "type": "string", "description": doc}))
        .collect();
    items.extend(columns.iter().map(|c| {
        let desc = match unit_of(c.name) {
            Some(u) => format!("{}. Unit: {u}.", c.doc),
            None => format!("{}.", c.doc),
        };
        serde_json::json!({
            "title": c.name,
            "type": c.ty,
            "description": desc,
            "x-total": c.total.is_some(),
        })
    }));
    let n = items.len();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "array",
        "prefixItems": items,
        "items": false,
        "minItems": n,
    })
}

/// The column names of a CSV row schema ([`Which::OpsCsv`], [`Which::CompareCsv`]), in order.
pub fn csv_column_names(schema: &Value) -> Vec<String> {
    schema
        .get("prefixItems")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("title").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A Markdown reference page of a CSV row schema: one table row per column, in column order.
fn csv_markdown(title: &str, intro: &str, schema: &Value, totals: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {title}\n");
    let _ = writeln!(
        s,
        "<!-- Generated by `archsim schema --docs docs/reference` from the column list of \
         src/report/csv.rs; do not edit: tests/schema_docs.rs checks it. -->\n"
    );
    let _ = writeln!(s, "{intro}\n");
    if totals {
        let _ = writeln!(
            s,
            "| # | column | type | unit | TOTAL row | meaning |\n|---|---|---|---|---|---|"
        );
    } else {
        let _ = writeln!(
            s,
            "| # | column | type | unit | meaning |\n|---|---|---|---|---|"
        );
    }
    let items = schema
        .get("prefixItems")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, it) in items.iter().enumerate() {
        let name = it.get("title").and_then(Value::as_str).unwrap_or("");
        let ty = it.get("type").and_then(Value::as_str).unwrap_or("");
        let unit = unit_of(name).unwrap_or("");
        let desc = it.get("description").and_then(Value::as_str).unwrap_or("");
        let desc = desc
            .trim_end_matches(&format!(" Unit: {unit}."))
            .trim_end_matches('.');
        let total = match it.get("x-total").and_then(Value::as_bool) {
            Some(true) => "the total",
            _ => "blank",
        };
        if totals {
            let _ = writeln!(
                s,
                "| {} | `{name}` | {ty} | {} | {total} | {} |",
                i + 1,
                cell(unit),
                cell(desc)
            );
        } else {
            let _ = writeln!(
                s,
                "| {} | `{name}` | {ty} | {} | {} |",
                i + 1,
                cell(unit),
                cell(desc)
            );
        }
    }
    s
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
        ("_hz", "Hz"),
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
    if key == "bytes" {
        return Some("bytes");
    }
    if key == "tflops" {
        return Some("TFLOP/s (10^12 FLOP/s)");
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
    // `allOf` first: an object made of a common part and one of several variants (the
    // report's `machine`) is its common part here; [`variants_of`] gives the variants.
    for k in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = s.get(k) {
            if let Some(o) = alts.iter().find_map(|a| object_of(root, a)) {
                return Some(o);
            }
        }
    }
    None
}

/// The variants of an object made of a common part (`allOf`) and one of several key sets
/// (`oneOf`), each with its title: the report's `machine` object (common keys, then the
/// systolic, SCALE-Sim mode or SIMT model's own keys). Empty for any other schema.
pub fn variants_of<'a>(root: &'a Value, s: &'a Value) -> Vec<(&'a str, &'a Value)> {
    let s = resolve(root, s);
    let (Some(Value::Array(_)), Some(Value::Array(alts))) = (s.get("allOf"), s.get("oneOf")) else {
        return Vec::new();
    };
    alts.iter()
        .filter_map(|a| {
            let title = a.get("title").and_then(Value::as_str).unwrap_or("");
            object_of(root, a).map(|o| (title, o))
        })
        .collect()
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
/// properties hold: (table path, variant title or "", key, type, unit, default or "required",
/// description). An object with variants ([`variants_of`]) gets its common table, then one per
/// variant under the same path.
fn rows(root: &Value, obj: &Value, path: &str, variant: &str, out: &mut Vec<[String; 7]>) {
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
            variant.to_string(),
            key.clone(),
            type_name(root, p),
            unit_of(key).unwrap_or("").to_string(),
            default,
            desc.to_string(),
        ]);
        if let Some(o) = object_of(root, p) {
            nested.push((key.clone(), "", o));
            for (title, v) in variants_of(root, p) {
                nested.push((key.clone(), title, v));
            }
        } else if let Some(items) = resolve(root, p).get("items") {
            if let Some(o) = object_of(root, items) {
                nested.push((format!("{key}[]"), "", o));
            }
        }
    }
    for (key, title, o) in nested {
        let sub = if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        };
        rows(root, o, &sub, title, out);
    }
}

/// A Markdown reference page of a schema: its description, then one table per object (the top
/// level, then each table / nested object by its dotted path), leaving out the tables of the
/// objects at `skip` paths and below (documented on another page).
pub fn markdown(
    title: &str,
    intro: &str,
    schema: &Value,
    table_word: &str,
    skip: &[&str],
) -> String {
    let mut all = Vec::new();
    rows(schema, schema, "", "", &mut all);
    all.retain(|r| {
        !skip
            .iter()
            .any(|k| r[0] == *k || r[0].starts_with(&format!("{k}.")))
    });
    let mut s = String::new();
    let _ = writeln!(s, "# {title}\n");
    let _ = writeln!(
        s,
        "<!-- Generated by `archsim schema --docs docs/reference` from the JSON Schema of \
         `archsim schema`; do not edit: tests/schema_docs.rs checks it. -->\n"
    );
    let _ = writeln!(s, "{intro}\n");
    let mut current: Option<(String, String)> = None;
    for [path, variant, key, ty, unit, default, desc] in all {
        let here = (path.clone(), variant.clone());
        if current.as_ref() != Some(&here) {
            let heading = match (path.is_empty(), variant.is_empty()) {
                (true, _) => "Top level".to_string(),
                (false, true) => format!("{table_word} `{path}`"),
                (false, false) => format!("{table_word} `{path}`, {variant}: its own keys"),
            };
            let _ = writeln!(
                s,
                "{}## {heading}\n\n| key | type | unit | default | meaning |\n|---|---|---|---|---|",
                if current.is_some() { "\n" } else { "" }
            );
            current = Some(here);
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

/// The main job's outputs as a Markdown list (file, what it holds), from the list the job
/// writes by ([`crate::jobs::compare::OUTPUT_FILES`], [`crate::plot::COMPARISON_PLOTS`]).
fn compare_outputs_text() -> String {
    let mut s = String::from(
        "`archsim --config CONFIG [--out DIR]` (the main job) and `archsim compare` write into \
         DIR (default `plots/`):\n\n",
    );
    for (name, what) in crate::jobs::compare::OUTPUT_FILES {
        let _ = writeln!(s, "- `{name}`: {what};");
    }
    let _ = writeln!(
        s,
        "- per section, in DIR for a single section and in `DIR/<section>/` for several \
         (`<section>`: the section's title, `llama3_8b prefill` → `llama3_8b_prefill`), each \
         plot as `STEM.png` and `STEM.svg`:"
    );
    for (stem, what) in crate::plot::COMPARISON_PLOTS {
        let _ = writeln!(s, "  - `{stem}`: {what};");
    }
    s.push_str(
        "\nThe tables below are `report.json` (schema: `archsim schema compare`). Each \
         section's `a.run` and `b.run` are `archsim run --format json` reports of that \
         section's ops on that machine: their keys are in [report-json.md](report-json.md), \
         not repeated here.",
    );
    s
}

/// A reference page of an object schema: file name, title, intro, schema, the word for its
/// nested objects (`table` for TOML inputs, `object` for JSON outputs), and the paths whose
/// tables another page holds.
type ObjectPage = (
    &'static str,
    &'static str,
    String,
    Value,
    &'static str,
    &'static [&'static str],
);

/// The pages of `docs/reference/`: one per config kind (systolic, SIMT, system, model card) and
/// one per output (the `run`, `train`, `serve` and `collective` JSON, the main job's
/// report.json, the two per-op CSV files), plus an index.
pub fn reference_pages() -> Result<Vec<OutputFile>> {
    const RUNS: &[&str] = &["sections[].a.run", "sections[].b.run"];
    let object_pages: [ObjectPage; 9] = [
        (
            "config-systolic.md",
            "Systolic machine config (`kind = \"systolic\"`)",
            "A TPU-style chip: `configs/tpu_v5.toml`, `configs/trn2.toml`, ... \
             Schema: `archsim schema config` (the `SystolicConfig` branch). Unknown keys are \
             refused."
                .into(),
            kind_schema("systolic"),
            "table",
            &[],
        ),
        (
            "config-simt.md",
            "SIMT machine config (`kind = \"simt\"`)",
            "A GPU: `configs/h100.toml`, `configs/mi300x.toml`, ... Schema: `archsim schema \
             config` (the `SimtConfig` branch). Unknown keys are refused."
                .into(),
            kind_schema("simt"),
            "table",
            &[],
        ),
        (
            "system.md",
            "System config (`kind = \"system\"`)",
            "Chips and their networks: `configs/systems/*.toml` (docs/SYSTEMS.md). Schema: \
             `archsim schema system`. Unknown keys are refused."
                .into(),
            schema(Which::System),
            "table",
            &[],
        ),
        (
            "model-card.md",
            "Model card",
            "A whole LLM: `kernels/models/*.toml` (docs/MODELS.md). Schema: `archsim schema \
             model`. Unknown keys are refused."
                .into(),
            schema(Which::Model),
            "table",
            &[],
        ),
        (
            "report-json.md",
            "Report: `archsim run --format json`",
            "The JSON document `archsim run --format json` prints (`report.json` under --out). \
             Schema: `archsim schema report`. The `machine` object has the keys every machine \
             has, then the keys of its model: one of the three tables `machine, ...: its own \
             keys` (systolic native/pe, SCALE-Sim mode, SIMT); `plan` is the machine-specific \
             mapping or kernel plan."
                .into(),
            schema(Which::Report),
            "object",
            &[],
        ),
        (
            "compare.md",
            "Main job and `archsim compare`: outputs and `report.json`",
            compare_outputs_text(),
            schema(Which::Compare),
            "object",
            RUNS,
        ),
        (
            "report-train.md",
            "Report: `archsim train --format json`",
            "The best plan's figures with its runners-up (one system). With `--compare` the \
             document is `{basis, a, b, verdict}`, `a` and `b` each one of these. Schema: \
             `archsim schema train`."
                .into(),
            schema(Which::Train),
            "object",
            &[],
        ),
        (
            "report-serve.md",
            "Report: `archsim serve --format json`",
            "One system's serving figures; with `--compare` a list of two. Schema: `archsim \
             schema serve`."
                .into(),
            schema(Which::Serve),
            "object",
            &[],
        ),
        (
            "collective.md",
            "Report: `archsim collective --format json`",
            "One collective on a system, bandwidths by the nccl-tests definitions. Schema: \
             `archsim schema collective`."
                .into(),
            schema(Which::Collective),
            "object",
            &[],
        ),
    ];
    let csv_pages: [(&str, &str, &str, Value, bool); 2] = [
        (
            "ops-csv.md",
            "CSV: `archsim run --format csv`",
            "The per-op CSV `archsim run --format csv` prints (`ops.csv` under --out): a \
             header, one row per op in run order, then a `TOTAL` row (`name` = `TOTAL`) whose \
             cells are the run's totals or blank. Floats in exponent form (`1.5e-3`) or fixed \
             decimals; fractions 0..1. Schema of a row: `archsim schema ops-csv`.",
            schema(Which::OpsCsv),
            true,
        ),
        (
            "compare-csv.md",
            "CSV: the main job's `ops.csv`",
            "The `ops.csv` the main job and `archsim compare` write: a header, then one row per \
             op, machine and section (each section's ops on the first machine, then on the \
             second), no totals row. A model's repeated layer ops appear once with their \
             `repeat`. Schema of a row: `archsim schema compare-csv`.",
            schema(Which::CompareCsv),
            false,
        ),
    ];
    let mut out = Vec::new();
    let mut index = String::from(
        "# Reference\n\n<!-- Generated by `archsim schema --docs docs/reference`; do not edit: \
         tests/schema_docs.rs checks it. -->\n\nEvery key of every input file and output \
         document and every column of the CSV outputs, generated from the JSON Schemas that \
         `archsim schema config|system|model|report|compare|train|serve|collective|ops-csv|\
         compare-csv` prints (derived from the code's serde types and CSV column lists):\n\n",
    );
    for (name, title, intro, schema, word, skip) in object_pages {
        let _ = writeln!(index, "- [{title}]({name})");
        out.push(OutputFile {
            name: name.to_string(),
            bytes: markdown(title, &intro, &schema, word, skip).into_bytes(),
        });
    }
    for (name, title, intro, schema, totals) in csv_pages {
        let _ = writeln!(index, "- [{title}]({name})");
        out.push(OutputFile {
            name: name.to_string(),
            bytes: csv_markdown(title, intro, &schema, totals).into_bytes(),
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
    rows(schema, schema, "", "", &mut all);
    all.into_iter()
        .map(|[path, _, key, ..]| {
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
    fn the_machine_object_has_a_titled_key_set_per_model_in_both_reports() {
        for which in [Which::Report, Which::Compare] {
            let r = schema(which);
            let m = &r["$defs"]["MachineReport"];
            let v = variants_of(&r, m);
            let titles: Vec<&str> = v.iter().map(|(t, _)| *t).collect();
            assert_eq!(titles.len(), 3, "{which:?}: {titles:?}");
            assert!(titles.iter().all(|t| !t.is_empty()));
            // The common keys come first (allOf), the variants' own keys are disjoint from them.
            let common = object_of(&r, m).unwrap()["properties"].as_object().unwrap();
            assert!(common.contains_key("peak_tflops"));
            for (t, o) in v {
                for k in o["properties"].as_object().unwrap().keys() {
                    assert!(!common.contains_key(k), "{t}: {k} is also a common key");
                }
            }
        }
    }

    #[test]
    fn csv_row_schemas_name_the_writer_columns_in_order() {
        let names = csv_column_names(&schema(Which::OpsCsv));
        assert_eq!(names, crate::report::csv::header());
        let names = csv_column_names(&schema(Which::CompareCsv));
        assert_eq!(&names[..2], ["machine", "section"]);
        assert_eq!(names.len(), 2 + compare_columns().count());
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
