//! The JSON Schemas of `archsim schema` and the reference pages generated from them:
//! * every schema is valid JSON, draft 2020-12, and names every key: each key of every shipped
//!   machine config, system config and model card, and of real `run`, `collective`, `train`,
//!   `serve` JSON and main-job `report.json` outputs (`--model` runs included; the report's
//!   `machine` object against the one model key set it matches), is a property of the schema
//!   at its place;
//! * the per-op CSV outputs (`run --format csv`, the main job's `ops.csv`) have exactly the
//!   columns of their row schemas, in order, each cell of the declared type, and the main job
//!   writes exactly the files its reference page lists;
//! * the committed `docs/reference/*.md` equal what `archsim schema --docs` generates now
//!   (set `ARCHSIM_UPDATE_DOCS=1` to rewrite them, or run `archsim schema --docs docs/reference`).

mod common;

use archsim::jobs::schema::{self, properties, variants_of, Which};
use common::{archsim, assert_ok, repo, stdout};
use serde_json::{Map, Value};

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
    let Some(common_props) = properties(root, obj) else {
        panic!("{path}: no object schema for {doc}");
    };
    // An object with variants (the report's `machine`): its common keys and those of the one
    // variant it matches (every key it has outside the common ones is in the variant, every key
    // the variant requires is there).
    let mut props: Map<String, Value> = common_props.clone();
    let variants = variants_of(root, obj);
    if !variants.is_empty() {
        let matching: Vec<&(&str, &Value)> = variants
            .iter()
            .filter(|(_, v)| {
                let vp = v["properties"].as_object().unwrap();
                let required: Vec<&str> = v["required"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                map.keys()
                    .all(|k| common_props.contains_key(k) || vp.contains_key(k))
                    && required.iter().all(|k| map.contains_key(*k))
            })
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{path}: {:?} match {} of the variants, not one",
            map.keys(),
            matching.len()
        );
        props.extend(matching[0].1["properties"].as_object().unwrap().clone());
    }
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
    if let Some(o) = schema::object_of(root, p) {
        if o.get("items").is_some() {
            return resolve_items(root, o);
        }
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
        // A chip with a scratchpad of its own name and PSUM (optional systolic keys), and a
        // CDNA GPU (wavefront 64, Infinity Cache: optional SIMT keys).
        &[
            "run",
            "--config",
            "trn2",
            "--gemm",
            "512,512,512",
            "--format",
            "json",
        ][..],
        &[
            "run",
            "--config",
            "mi300x",
            "--gemm",
            "512,512,512",
            "--format",
            "json",
        ][..],
    ] {
        let o = archsim(args);
        assert_ok(&o);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        // `plan` is machine-specific; `machine` is checked against its model's key set.
        let n = check_keys(&s, &s, &doc, "", &["ops[].plan"]);
        assert!(n > 75, "{args:?}: only {n} keys checked");
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

/// Every machine object of a run report has all the keys of its model's key set in the schema
/// (nothing listed that the model does not print, optional keys aside), for every shipped
/// machine config and a SCALE-Sim `.cfg`.
#[test]
fn every_machine_prints_every_required_key_of_its_model() {
    let s = printed("report");
    let machine = &s["properties"]["machine"];
    let variants = variants_of(&s, machine);
    assert_eq!(variants.len(), 3, "{variants:?}");
    let mut configs: Vec<String> = std::fs::read_dir(repo().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    configs.sort();
    configs.push("tests/data/scalesim/configs/calc_256x256_ws.cfg".into());
    let mut seen = std::collections::BTreeSet::new();
    for c in &configs {
        let o = archsim([
            "run", "--config", c, "--gemm", "64,64,64", "--format", "json",
        ]);
        assert_ok(&o);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let m = doc["machine"].as_object().unwrap();
        let (title, v) = variants
            .iter()
            .find(|(_, v)| {
                v["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|k| m.contains_key(k.as_str().unwrap()))
            })
            .unwrap_or_else(|| panic!("{c}: no key set has all of {:?}", m.keys()));
        // Every key the machine prints is a common key or one of its set's.
        let common = properties(&s, machine).unwrap();
        for k in m.keys() {
            assert!(
                common.contains_key(k) || v["properties"].get(k).is_some(),
                "{c}: `machine.{k}` is in no table of {title}"
            );
        }
        seen.insert(title.to_string());
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

/// The column names, types and `TOTAL` cells of a CSV row schema.
fn csv_columns(s: &Value) -> Vec<(String, String, bool)> {
    s["prefixItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["title"].as_str().unwrap().to_string(),
                c["type"].as_str().unwrap().to_string(),
                c["x-total"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// A CSV cell reads as the JSON type its column declares.
fn cell_is(ty: &str, cell: &str) -> bool {
    match ty {
        "string" => true,
        "integer" => cell.parse::<u128>().is_ok(),
        "number" => cell.parse::<f64>().is_ok_and(f64::is_finite),
        t => panic!("unknown column type {t}"),
    }
}

/// Check a CSV text against its row schema: the header is the columns in order; every row has
/// a cell per column of the declared type (the `TOTAL` row, if any: blank where the schema says
/// so). Returns the data rows.
fn check_csv(s: &Value, text: &str, has_total: bool) -> Vec<csv::StringRecord> {
    let cols = csv_columns(s);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let names: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
    assert_eq!(header, names);
    assert_eq!(schema::csv_column_names(s), names);
    let mut rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty());
    if has_total {
        let total = rows.pop().unwrap();
        assert_eq!(&total[0], "TOTAL");
        for ((name, ty, in_total), cell) in cols.iter().zip(total.iter()) {
            if *in_total {
                assert!(
                    cell_is(ty, cell),
                    "TOTAL row: `{name}` = {cell:?} is not {ty}"
                );
            } else {
                assert_eq!(cell, "", "TOTAL row: `{name}` should be blank");
            }
        }
    }
    for row in &rows {
        assert_eq!(row.len(), cols.len());
        for ((name, ty, _), cell) in cols.iter().zip(row.iter()) {
            assert!(cell_is(ty, cell), "`{name}` = {cell:?} is not {ty}");
        }
    }
    rows
}

#[test]
fn run_csv_has_the_columns_of_its_schema() {
    let s = printed("ops-csv");
    for (config, what, arg) in [
        ("h100", "--workload", "smoke"),
        ("tpu_v5p", "--workload", "smoke"),
        (
            "tests/data/scalesim/configs/calc_256x256_ws.cfg",
            "--topology",
            "kernels/resnet50.csv",
        ),
    ] {
        let o = archsim(["run", "--config", config, what, arg, "--format", "csv"]);
        assert_ok(&o);
        let rows = check_csv(&s, &stdout(&o), true);
        assert!(rows.len() > 1, "{config}");
    }
}

/// The main job writes exactly the files `docs/reference/compare.md` lists; its report.json has
/// the keys of `archsim schema compare` and its ops.csv the columns of `archsim schema
/// compare-csv`.
#[test]
fn main_job_outputs_match_their_reference() {
    let dir = common::tempdir();
    let o = archsim([
        "--config",
        "tpu_v5.toml",
        "--out",
        common::path_str(dir.path()),
        "-q",
    ]);
    assert_ok(&o);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let sections = report["sections"].as_array().unwrap();
    assert!(sections.len() > 1);
    // The files: OUTPUT_FILES at the top, the plots in one directory per section.
    let mut want: Vec<String> = archsim::jobs::compare::OUTPUT_FILES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let mut sub_dirs = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            sub_dirs += 1;
            let mut got: Vec<String> = std::fs::read_dir(e.path())
                .unwrap()
                .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            got.sort();
            let mut plots: Vec<String> = archsim::plot::COMPARISON_PLOTS
                .iter()
                .flat_map(|(stem, _)| [format!("{stem}.png"), format!("{stem}.svg")])
                .collect();
            plots.sort();
            assert_eq!(got, plots, "{}", e.path().display());
        }
    }
    assert_eq!(sub_dirs, sections.len());
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    want.sort();
    assert_eq!(top, want);

    let s = printed("compare");
    let n = check_keys(
        &s,
        &s,
        &report,
        "",
        &["sections[].a.run.ops[].plan", "sections[].b.run.ops[].plan"],
    );
    assert!(n > 500, "only {n} keys checked");

    let s = printed("compare-csv");
    let text = std::fs::read_to_string(dir.path().join("ops.csv")).unwrap();
    let rows = check_csv(&s, &text, false);
    let ops: usize = sections
        .iter()
        .map(|c| {
            c["a"]["run"]["ops"].as_array().unwrap().len()
                + c["b"]["run"]["ops"].as_array().unwrap().len()
        })
        .sum();
    assert_eq!(rows.len(), ops);
}

#[test]
fn collective_schema_covers_every_key_it_prints() {
    let s = printed("collective");
    for args in [
        [
            "--system",
            "dgx_h100_ib",
            "--chips",
            "16",
            "--op",
            "all-reduce",
        ],
        [
            "--system",
            "tpu_v5p_pod",
            "--chips",
            "64",
            "--op",
            "all-gather",
        ],
    ] {
        let mut a = vec!["collective"];
        a.extend(args);
        a.extend(["--bytes", "64M", "--format", "json"]);
        let o = archsim(&a);
        assert_ok(&o);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let n = check_keys(&s, &s, &doc, "", &[]);
        let required = s["required"].as_array().unwrap().len();
        assert_eq!(n, required, "{args:?}: every key is required and printed");
        assert_eq!(n, 10);
    }
}
