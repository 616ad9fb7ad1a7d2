//! Fleet sweeps (`command = "train" | "serve"` sweep files): each row equals the single
//! `archsim train` / `archsim serve` run of its point, shards merge into the unsharded bytes, a
//! killed run resumes to the same bytes, unplannable points are rows saying so, and bad sweep
//! files are refused naming their key and line.

mod common;
use common::*;

const TRAIN: &str = r#"command = "train"
system = ["dgx_h100_ib", "tpu_v5p_pod"]
model = "llama3_8b"
chips = [8, 16]
global_batch = 32
seq = 2048
"#;

/// The number under the top-level `"key":` of pretty-printed JSON text (indented two spaces, so
/// a nested object's key of the same name, such as a serve report's candidates, is not taken),
/// parsed by Rust's correctly rounded `f64` parser (serde_json's default float parsing may differ
/// from it in the last bit).
fn json_f64(text: &str, key: &str) -> f64 {
    let pat = format!("\n  \"{key}\":");
    let i = text
        .find(&pat)
        .unwrap_or_else(|| panic!("{key} not in {text}"))
        + pat.len();
    let rest = text[i..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

fn csv_rows(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

fn header(text: &str) -> Vec<String> {
    csv::Reader::from_reader(text.as_bytes())
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

fn col(h: &[String], name: &str) -> usize {
    h.iter().position(|c| c == name).unwrap()
}

#[test]
fn train_rows_equal_single_runs_and_shards_merge_to_the_same_bytes() {
    let d = tempdir();
    let spec = write(d.path(), "fleet.toml", TRAIN);
    let out = d.path().join("all.csv");
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]);
    assert_ok(&o);
    let text = std::fs::read_to_string(&out).unwrap();
    let h = header(&text);
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 4);
    // Product order: system outermost, chips fastest.
    assert_eq!(&rows[1][col(&h, "system")], "dgx_h100_ib");
    assert_eq!(&rows[1][col(&h, "chips")], "16");
    assert_eq!(&rows[2][col(&h, "system")], "tpu_v5p_pod");
    for r in &rows {
        assert_eq!(&r[col(&h, "status")], "ok", "{r:?}");
        let o = archsim([
            "train",
            "--system",
            &r[col(&h, "system")],
            "--model",
            "llama3_8b",
            "--chips",
            &r[col(&h, "chips")],
            "--global-batch",
            "32",
            "--seq",
            "2048",
            "--format",
            "json",
        ]);
        assert_ok(&o);
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let step: f64 = r[col(&h, "step_time_s")].parse().unwrap();
        assert_eq!(step, json_f64(&stdout(&o), "step_time_s"), "{r:?}");
        let mfu: f64 = r[col(&h, "mfu")].parse().unwrap();
        assert_eq!(mfu, json_f64(&stdout(&o), "mfu"));
        assert_eq!(
            r[col(&h, "memory_per_chip_bytes")].parse::<u64>().unwrap(),
            j["memory_per_chip_bytes"].as_u64().unwrap()
        );
    }
    // Two shards, merged: the same bytes.
    let mut parts = Vec::new();
    for i in 0..2 {
        let p = d.path().join(format!("s{i}.csv"));
        let o = archsim([
            "sweep",
            "--sweep",
            path_str(&spec),
            "--out",
            path_str(&p),
            "--shard",
            &format!("{i}/2"),
            "-q",
        ]);
        assert_ok(&o);
        parts.push(p);
    }
    let merged = d.path().join("merged.csv");
    let o = archsim([
        "merge",
        path_str(&merged),
        path_str(&parts[0]),
        path_str(&parts[1]),
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), text);
    // A run killed after two rows and a half: the rerun ends with the same bytes.
    let cut: String = text.lines().take(3).collect::<Vec<_>>().join("\n") + "\n0,dgx";
    std::fs::write(&out, cut).unwrap();
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]);
    assert_ok(&o);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn unplannable_points_are_rows_and_serve_rows_equal_single_runs() {
    let d = tempdir();
    let spec = write(
        d.path(),
        "f.toml",
        "command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_405b\"\nchips = 8\nglobal_batch = 8\n",
    );
    let out = d.path().join("f.csv");
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]);
    assert_ok(&o);
    let text = std::fs::read_to_string(&out).unwrap();
    let h = header(&text);
    let r = &csv_rows(&text)[0];
    assert!(r[col(&h, "status")].starts_with("infeasible: "), "{r:?}");
    assert!(r[col(&h, "status")].contains("HBM"), "{r:?}");
    assert_eq!(&r[col(&h, "step_time_s")], "");

    let spec = write(
        d.path(),
        "s.toml",
        "command = \"serve\"\nsystem = [\"h100\", \"tpu_v6e\"]\nmodel = \"llama3_8b\"\nchips = 8\ninput_len = 1024\noutput_len = [128, 1024]\n",
    );
    let out = d.path().join("s.csv");
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]);
    assert_ok(&o);
    let text = std::fs::read_to_string(&out).unwrap();
    let h = header(&text);
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let o = archsim([
            "serve",
            "--system",
            &r[col(&h, "system")],
            "--model",
            "llama3_8b",
            "--chips",
            "8",
            "--input-len",
            "1024",
            "--output-len",
            &r[col(&h, "output_len")],
            "--format",
            "json",
        ]);
        assert_ok(&o);
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let tps: f64 = r[col(&h, "output_tokens_per_s")].parse().unwrap();
        assert_eq!(tps, json_f64(&stdout(&o), "output_tokens_per_s"), "{r:?}");
        assert_eq!(
            r[col(&h, "batch")].parse::<u64>().unwrap(),
            j["batch"].as_u64().unwrap()
        );
    }
}

#[test]
fn bad_fleet_sweeps_name_the_key_and_line() {
    let d = tempdir();
    let cases: &[(&str, &str, &str)] = &[
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 8\nchipz = 4\n", ":6:", "chipz"),
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = [8, 0]\nglobal_batch = 8\n", ":4:", "chips"),
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\n", "", "global_batch"),
        ("command = \"train\"\nsystem = \"no_such_system\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 8\n", ":2:", "system"),
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 8\nplan.tq = 2\n", ":6:", "plan.tq"),
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 8\ntokens = nan\n", ":6:", "tokens"),
        ("command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 8\nplan.tp_overlap = [0, 2]\n", ":6:", "plan.tp_overlap"),
        ("command = \"serve\"\nsystem = \"h100\"\nmodel = \"llama3_8b\"\nchips = 8\ninput_len = 8\noutput_len = 8\nscenario = \"online\"\n", ":7:", "scenario"),
        ("command = \"fly\"\n", ":1:", "command"),
        ("command = \"serve\"\nworkloads = [\"resnet50\"]\n", ":2:", "workloads"),
    ];
    for (src, line, key) in cases {
        let spec = write(d.path(), "bad.toml", src);
        let o = archsim([
            "sweep",
            "--sweep",
            path_str(&spec),
            "--out",
            path_str(&d.path().join("x.csv")),
        ]);
        let err = assert_input_error(&o);
        assert!(err.contains(line) && err.contains(key), "{src}\n{err}");
        assert!(!d.path().join("x.csv").exists(), "{src}");
    }
    // A fleet sweep with --config, a chip sweep without.
    let spec = write(d.path(), "ok.toml", TRAIN);
    let o = archsim([
        "sweep",
        "--config",
        "h100",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&d.path().join("y.csv")),
    ]);
    assert!(assert_input_error(&o).contains("--config"));
    let chip = write(
        d.path(),
        "chip.toml",
        "sm.count = [66, 132]\nworkloads = [\"smoke\"]\n",
    );
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&chip),
        "--out",
        path_str(&d.path().join("z.csv")),
    ]);
    assert!(assert_input_error(&o).contains("--config"));
}

/// A serve sweep over `plan.pp`: each row is the single `archsim serve --plan tp=2,pp=P` run, its
/// `plan`/`pp` columns name the stages, and a pp that does not divide the layers is an
/// infeasible row naming the plan.
#[test]
fn serve_sweeps_take_a_plan_pp_axis() {
    let d = tempdir();
    let spec = write(
        d.path(),
        "pp.toml",
        "command = \"serve\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_70b\"\nchips = 8\ninput_len = 512\noutput_len = 256\ndtype = \"fp8\"\nplan.tp = 2\nplan.pp = [1, 2, 3]\n",
    );
    let out = d.path().join("pp.csv");
    let o = archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]);
    assert_ok(&o);
    let text = std::fs::read_to_string(&out).unwrap();
    let h = header(&text);
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 3);
    for (r, pp) in rows.iter().take(2).zip(["1", "2"]) {
        assert_eq!(&r[col(&h, "pp")], pp, "{r:?}");
        assert_eq!(&r[col(&h, "plan")], &format!("tp=2,pp={pp}"));
        let o = archsim([
            "serve",
            "--system",
            "dgx_h100_ib",
            "--model",
            "llama3_70b",
            "--chips",
            "8",
            "--input-len",
            "512",
            "--output-len",
            "256",
            "--dtype",
            "fp8",
            "--plan",
            &format!("tp=2,pp={pp}"),
            "--format",
            "json",
        ]);
        assert_ok(&o);
        let tps: f64 = r[col(&h, "output_tokens_per_s")].parse().unwrap();
        assert_eq!(tps, json_f64(&stdout(&o), "output_tokens_per_s"), "{r:?}");
    }
    let bad = &rows[2][col(&h, "status")];
    assert!(
        bad.starts_with("infeasible: ") && bad.contains("pp=3"),
        "{bad}"
    );
}

/// `plan.tp_overlap` is a sweep axis like any plan key: each row equals the single run with
/// `--plan tp=8,tp_overlap=V`, and the async-TP row is never slower.
#[test]
fn plan_tp_overlap_is_a_sweep_axis() {
    let d = tempdir();
    let spec = write(
        d.path(),
        "fleet.toml",
        "command = \"train\"\nsystem = \"dgx_h100_ib\"\nmodel = \"llama3_8b\"\nchips = 8\nglobal_batch = 32\nseq = 2048\nplan.tp = 8\nplan.tp_overlap = [0, 1]\n",
    );
    let out = d.path().join("o.csv");
    assert_ok(&archsim([
        "sweep",
        "--sweep",
        path_str(&spec),
        "--out",
        path_str(&out),
        "-q",
    ]));
    let text = std::fs::read_to_string(&out).unwrap();
    let h = header(&text);
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 2);
    let step = |r: &csv::StringRecord| r[col(&h, "step_time_s")].parse::<f64>().unwrap();
    assert!(!rows[0][col(&h, "plan")].contains("tp_overlap=1"));
    assert!(rows[1][col(&h, "plan")].contains("tp_overlap=1"));
    assert!(step(&rows[1]) <= step(&rows[0]));
    for (r, v) in rows.iter().zip(["0", "1"]) {
        let o = archsim([
            "train",
            "--system",
            "dgx_h100_ib",
            "--model",
            "llama3_8b",
            "--chips",
            "8",
            "--global-batch",
            "32",
            "--seq",
            "2048",
            "--plan",
            &format!("tp=8,tp_overlap={v}"),
            "--format",
            "json",
        ]);
        assert_ok(&o);
        assert_eq!(json_f64(&stdout(&o), "step_time_s"), step(r));
    }
}
