//! The JSON Schemas of `archsim schema` and the reference pages generated from them:
//! * every schema is valid JSON, draft 2020-12, and names every key: each key of every shipped
//!   machine config, system config and model card, and of a real `run --format json` report
//!   (`--model` run included), is a property of the schema at its place;
//! * the committed `docs/reference/*.md` equal what `archsim schema --docs` generates now
//!   (set `ARCHSIM_UPDATE_DOCS=1` to rewrite them, or run `archsim schema --docs docs/reference`).

mod common;

use archsim::report::schema::{self, properties, Which};
use common::{archsim, assert_ok, repo, stdout};
use serde_json::Value;

/// The schema `archsim schema WHICH` prints, parsed.
fn printed(which: &str) -> Value {
    let o = archsim(["schema", which]);
    assert_ok(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("archsim schema prints JSON");
    assert_eq!(
        v["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "{which}"
    );
    v
}

/// Every key of `doc` (a TOML table or JSON object as JSON) is a property of `obj` in `root`;
/// nested tables and arrays of objects are checked against the property's schema. `skip`: paths
/// whose object is free-form (the machine model's own keys). Returns the keys checked.
fn check_keys(root: &Value, obj: &Value, doc: &Value, path: &str, skip: &[&str]) -> usize {
    let Some(map) = doc.as_object() else { return 0 };
    let Some(props) = properties(root, obj) else {
        panic!("{path}: no object schema for {doc}");
    };
    let mut n = 0;
    for (k, v) in map {
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let Some(p) = props.get(k) else {
            if skip.contains(&path) {
                continue;
            }
            panic!(
                "key `{here}` is not in the schema (has: {:?})",
                props.keys()
            );
        };
        n += 1;
        if skip.contains(&here.as_str()) {
            continue;
        }
        match v {
            Value::Object(_) if schema::object_of(root, p).is_some() => {
                n += check_keys(root, p, v, &here, skip);
            }
            Value::Array(items) => {
                if let Some(is) = resolve_items(root, p) {
                    for it in items {
                        n += check_keys(root, &is, it, &format!("{here}[]"), skip);
                    }
                }
            }
            _ => {}
        }
    }
    n
}

/// The item schema of an array property (direct or behind `$ref` / `Option`).
fn resolve_items(root: &Value, p: &Value) -> Option<Value> {
    let p = match p.get("$ref").and_then(Value::as_str) {
        Some(r) => root.pointer(r.strip_prefix('#')?)?,
        None => p,
    };
    if let Some(items) = p.get("items") {
        return schema::object_of(root, items).map(|_| items.clone());
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = p.get(k) {
            if let Some(x) = alts.iter().find_map(|a| resolve_items(root, a)) {
                return Some(x);
            }
        }
    }
    None
}

fn toml_files(dir: &str) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no TOML files in {dir}");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let t: toml::Table = text.parse().unwrap();
            (p.display().to_string(), serde_json::to_value(t).unwrap())
        })
        .collect()
}

#[test]
fn config_schema_covers_every_key_of_every_shipped_machine_config() {
    let s = printed("config");
    let mut kinds = std::collections::BTreeSet::new();
    for (file, doc) in toml_files("configs") {
        let kind = doc["kind"].as_str().unwrap().to_string();
        let def = match kind.as_str() {
            "systolic" => &s["$defs"]["SystolicConfig"],
            "simt" => &s["$defs"]["SimtConfig"],
            k => panic!("{file}: kind {k}"),
        };
        assert_eq!(def["properties"]["kind"]["const"], kind.as_str());
        let n = check_keys(&s, def, &doc, "", &[]);
        assert!(n > 15, "{file}: only {n} keys checked");
        kinds.insert(kind);
    }
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    // The schema is what the parser enforces: it refuses what the schema does not list.
    assert_eq!(s["$defs"]["SystolicConfig"]["additionalProperties"], false);
}

#[test]
fn system_and_model_schemas_cover_every_shipped_file() {
    let s = printed("system");
    for (file, doc) in toml_files("configs/systems") {
        let n = check_keys(&s, &s, &doc, "", &[]);
        assert!(n > 10, "{file}: only {n} keys checked");
    }
    let s = printed("model");
    for (file, doc) in toml_files("kernels/models") {
        let n = check_keys(&s, &s, &doc, "", &[]);
        assert!(n > 8, "{file}: only {n} keys checked");
    }
}

#[test]
fn report_schema_covers_every_key_of_a_run_report() {
    let s = printed("report");
    for args in [
        &[
            "run",
            "--config",
            "h100",
            "--workload",
            "smoke",
            "--format",
            "json",
        ][..],
        &[
            "run",
            "--config",
            "tpu_v5p",
            "--workload",
            "smoke",
            "--format",
            "json",
        ][..],
        &[
            "run",
            "--config",
            "h100",
            "--model",
            "llama3_8b",
            "--format",
            "json",
        ][..],
        &[
            "run",
            "--config",
            "tests/data/scalesim/configs/calc_256x256_ws.cfg",
            "--gemm",
            "64,64,64",
            "--format",
            "json",
        ][..],
    ] {
        let o = archsim(args);
        assert_ok(&o);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        // `machine` also carries the model's own parameters; `plan` is machine-specific.
        let n = check_keys(&s, &s, &doc, "", &["machine", "ops[].plan"]);
        assert!(n > 60, "{args:?}: only {n} keys checked");
    }
}

#[test]
fn every_numeric_config_key_with_a_unit_suffix_says_its_unit() {
    for which in [Which::Config, Which::System, Which::Report] {
        let s = schema::schema(which);
        let text = s.to_string();
        for (name, unit) in [
            ("clock_mhz", "MHz"),
            ("time_s", "s (seconds)"),
            ("bandwidth_gbps", "GB/s"),
        ] {
            if text.contains(&format!("\"{name}\"")) {
                assert!(text.contains(&format!("Unit: {unit}")), "{which:?}: {name}");
            }
        }
    }
}

#[test]
fn reference_docs_match_the_schemas() {
    let dir = repo().join("docs/reference");
    let pages = schema::reference_pages().unwrap();
    if std::env::var_os("ARCHSIM_UPDATE_DOCS").is_some() {
        archsim::fsio::write_all(&dir, &pages).unwrap();
    }
    let mut stale = Vec::new();
    for p in &pages {
        let committed = std::fs::read(dir.join(&p.name)).unwrap_or_default();
        if committed != p.bytes {
            stale.push(p.name.clone());
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut generated: Vec<String> = pages.iter().map(|p| p.name.clone()).collect();
    generated.sort();
    assert_eq!(
        on_disk, generated,
        "docs/reference has pages the schemas do not generate"
    );
    assert!(
        stale.is_empty(),
        "docs/reference is out of date ({stale:?}): run `archsim schema --docs docs/reference` \
         or `ARCHSIM_UPDATE_DOCS=1 cargo test --release --test schema_docs`"
    );
    // Every key of every page's schema has a row.
    let systolic = std::fs::read_to_string(dir.join("config-systolic.md")).unwrap();
    for key in [
        "`rows`",
        "`clock_mhz`",
        "`bandwidth_gbps`",
        "`usd_per_chip_hour`",
        "`mac_bf16_pj`",
    ] {
        assert!(
            systolic.contains(key),
            "{key} missing from config-systolic.md"
        );
    }
}

/// Every key `archsim train --format json` and `archsim serve --format json` print is in their
/// schemas (`archsim schema train|serve`), plan and runners-up included.
#[test]
fn train_and_serve_schemas_cover_every_key_they_print() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "train",
            &[
                "train",
                "--system",
                "dgx_h100_ib",
                "--model",
                "llama3_8b",
                "--chips",
                "8",
                "--global-batch",
                "16",
                "--seq",
                "2048",
                "--tokens",
                "1e9",
                "--format",
                "json",
            ],
        ),
        (
            "serve",
            &[
                "serve",
                "--system",
                "dgx_h100_ib",
                "--model",
                "mixtral_8x7b",
                "--chips",
                "8",
                "--input-len",
                "512",
                "--output-len",
                "128",
                "--format",
                "json",
            ],
        ),
    ];
    for (which, args) in cases {
        let s = printed(which);
        let o = archsim(args);
        assert_ok(&o);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let n = check_keys(&s, &s, &doc, "", &[]);
        assert!(n > 20, "{which}: only {n} keys checked");
    }
}
