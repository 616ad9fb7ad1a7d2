//! The main job end to end on a small workload: every output file exists and parses, both
//! machines appear, and the energy invariants hold.

mod common;

use common::{archsim, archsim_in_tempdir, assert_input_error, assert_ok, stdout, SCALESIM_CFG};

#[test]
fn compare_writes_every_output_and_energy_is_consistent() {
    let (dir, o) = archsim_in_tempdir(&[
        "compare",
        "--config",
        "tpu_v5",
        "--vs",
        "h100",
        "--workload",
        "smoke",
        "--out",
        "{d}",
        "-q",
    ]);
    assert_ok(&o);
    let stdout = stdout(&o);
    assert!(
        stdout.contains("tpu_v5") && stdout.contains("h100"),
        "{stdout}"
    );
    assert!(stdout.contains("verdict:"), "{stdout}");

    // report.json: both machines, per op, with plans; energy invariants
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["sections"].as_array().unwrap().len(), 1);
    let section = &json["sections"][0];
    assert_eq!(section["scope"], "workload");
    for side in ["a", "b"] {
        let run = &section[side]["run"];
        let ops = run["ops"].as_array().unwrap();
        assert_eq!(ops.len(), 6, "smoke lowers to 6 ops");
        let mut sum = 0.0;
        for op in ops {
            let e = op["energy_pj"].as_f64().unwrap();
            assert!(e > 0.0, "{side}: {op}");
            let b = &op["energy"];
            let parts: f64 = [
                "compute_pj",
                "vector_pj",
                "reg_pj",
                "sram_pj",
                "l2_pj",
                "hbm_pj",
                "interconnect_pj",
                "static_pj",
            ]
            .iter()
            .map(|k| b[k].as_f64().unwrap())
            .sum();
            assert!(
                (parts - e).abs() <= 1e-9 * e,
                "{side}: breakdown {parts} vs {e}"
            );
            sum += e;
            if op["op"] == "gemm" {
                assert!(op["plan"].is_object(), "gemm ops carry their plan");
            }
        }
        let total = run["total"]["energy_pj"].as_f64().unwrap();
        assert!((sum - total).abs() <= 1e-9 * total);
    }
    assert_eq!(section["a"]["label"], "tpu_v5");
    assert_eq!(section["b"]["label"], "h100");
    assert_eq!(json["a_label"], "tpu_v5");

    // ops.csv: header + one row per op per machine
    let mut rdr = csv::Reader::from_path(dir.path().join("ops.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().any(|r| &r[0] == "tpu_v5") && rows.iter().any(|r| &r[0] == "h100"));

    // trace.json: Chrome trace events, a track per machine
    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("trace.json")).unwrap()).unwrap();
    let events = trace
        .get("traceEvents")
        .and_then(|e| e.as_array())
        .or_else(|| trace.as_array())
        .expect("trace events");
    let text = serde_json::to_string(&trace).unwrap();
    assert!(events.iter().any(|e| e["ph"] == "X"), "complete spans");
    assert!(events.iter().any(|e| e["ph"] == "C"), "counters");
    assert!(text.contains("tpu_v5") && text.contains("h100"));

    // plots: PNG signature and SVG documents with their titles rendered as text
    for stem in [
        "time_by_cause",
        "energy_by_group",
        "utilization_by_group",
        "roofline",
        "dashboard",
    ] {
        let png = std::fs::read(dir.path().join(format!("{stem}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{stem}.png signature"
        );
        assert!(png.len() > 10_000, "{stem}.png is not empty");
        let svg = std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg"
        );
        assert!(svg.contains("<text"), "{stem}.svg has text");
    }
}

#[test]
fn more_hbm_traffic_never_less_energy() {
    use archsim::energy::{energy, EnergyTable};
    use archsim::{Counters, DType};
    let t = EnergyTable::default();
    let mut c = Counters {
        macs: 1 << 30,
        hbm_read_bytes: 1e8,
        ..Default::default()
    };
    let mut last = 0.0;
    for _ in 0..5 {
        let e = energy(&t, &c, DType::Bf16, 1e-3).total_pj;
        assert!(e >= last);
        last = e;
        c.hbm_read_bytes *= 1.5;
    }
}

#[test]
fn main_job_needs_a_comparison_machine() {
    let o = archsim(["--config", SCALESIM_CFG]);
    assert!(assert_input_error(&o).contains("error:"));
}

/// The main job compares each workload and each model phase on its own: ResNet-50 apart from
/// the LLMs, a model that fits one chip whole, one that does not per layer (and says so).
#[test]
fn main_job_has_a_section_per_workload_and_model_phase() {
    let (dir, o) = archsim_in_tempdir(&["--config", "tpu_v5", "--out", "{d}", "-q"]);
    assert_ok(&o);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let sections = json["sections"].as_array().unwrap();
    let titles: Vec<String> = sections
        .iter()
        .map(|s| {
            format!(
                "{} [{}]",
                s["workloads"][0].as_str().unwrap(),
                s["scope"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        titles,
        [
            "resnet50 [workload]",
            "llama3_8b prefill [whole model]",
            "llama3_8b decode [whole model]",
            "gpt3_175b prefill [per layer]",
            "gpt3_175b decode [per layer]"
        ]
    );
    for s in sections {
        assert!(!s["verdict"].as_str().unwrap().is_empty());
        // Each section's totals are its own: the sum of its ops × repeats.
        for side in ["a", "b"] {
            let run = &s[side]["run"];
            let sum: f64 = run["ops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["time_s"].as_f64().unwrap() * p["repeat"].as_f64().unwrap_or(1.0))
                .sum();
            let total = run["total"]["time_s"].as_f64().unwrap();
            assert!((sum - total).abs() <= 1e-9 * total, "{sum} vs {total}");
        }
    }
    // The whole model runs every layer: 32 llama3_8b layers.
    let llama = &sections[1]["a"]["run"];
    assert!(llama["ops"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["repeat"] == 32));
    assert_eq!(llama["model"]["tokens"], 2048);
    // GPT-3 does not fit one chip: one layer, labelled, with the reason.
    let gpt = &sections[3];
    assert!(gpt["scope_note"].as_str().unwrap().contains("does not fit"));
    assert!(gpt["a"]["run"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["repeat"].is_null()));
    let text = common::stdout(&o);
    assert!(
        text.contains("(per layer)") && text.contains("tok/s per layer"),
        "{text}"
    );
    // Plots per section.
    for sub in ["resnet50", "llama3_8b_prefill", "gpt3_175b_decode"] {
        assert!(
            dir.path().join(sub).join("dashboard.png").is_file(),
            "{sub}"
        );
    }
}
