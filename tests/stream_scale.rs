//! Streamed `archsim run` in the formats that write per-op files (SCALE-Sim reports, Chrome
//! trace) and a topology given as --workload: the CLI's bytes equal the library's whole-run
//! exporters' across a batch boundary (more than `run::STREAM_BATCH_OPS` ops) and whatever the
//! thread count; comparisons refuse a workload above their documented op cap (issue #17).

mod common;

use archsim::jobs::compare::MAX_COMPARE_OPS;
use archsim::jobs::run::{run, RunRequest};
use archsim::report::{exporter, Format};
use archsim::run::STREAM_BATCH_OPS;
use common::{
    archsim, archsim_threads, assert_input_error, assert_ok, path_str, repo, stderr, tempdir,
    write, SCALESIM_CFG,
};
use std::path::Path;

/// A topology of `rows` rows alternating conv and GEMM layers of varied sizes, unique names.
fn topology(rows: usize) -> String {
    let mut s = String::from("Layer name, H, W, Fh, Fw, C, filters, stride,\n");
    for i in 0..rows {
        if i % 2 == 0 {
            let h = 7 + (i % 23);
            s.push_str(&format!(
                "c{i}, {h}, {h}, {f}, {f}, {c}, {k}, 1,\n",
                f = 1 + 2 * (i % 2),
                c = 3 + i % 61,
                k = 8 + i % 77
            ));
        } else {
            s.push_str(&format!(
                "g{i}, {}, {}, {},\n",
                16 + i % 97,
                32 + i % 13,
                64 + i % 31
            ));
        }
    }
    s
}

/// The files the library's whole-run exporter writes for `req` in `format`.
fn whole_run(req: &RunRequest, format: Format) -> Vec<(String, Vec<u8>)> {
    let out = run(req).unwrap();
    exporter(format)
        .export(&out.report)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

fn assert_files_equal(dir: &Path, expect: &[(String, Vec<u8>)]) {
    let mut written: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut names: Vec<String> = expect.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    assert_eq!(written, names, "only the format's files, no temp files");
    for (name, bytes) in expect {
        let got = std::fs::read(dir.join(name)).unwrap();
        assert!(
            got == *bytes,
            "{name} differs from the whole-run exporter's"
        );
    }
}

/// SCALE-Sim's three reports and the trace, streamed over more than one batch, equal the
/// whole-run exporters' byte for byte, with 1 and 2 threads.
#[test]
fn streamed_scalesim_and_trace_equal_the_whole_run_exporters() {
    let rows = STREAM_BATCH_OPS + 7;
    let dir = tempdir();
    let topo = write(dir.path(), "t.csv", topology(rows));
    let cfg = path_str(&repo().join(SCALESIM_CFG)).to_string();
    for (config, format, flag) in [
        (cfg.as_str(), Format::Scalesim, "scalesim"),
        (cfg.as_str(), Format::Trace, "trace"),
        ("h100", Format::Trace, "trace"),
    ] {
        let mut req = RunRequest::new(config);
        req.topologies.push(path_str(&topo).to_string());
        let expect = whole_run(&req, format);
        for threads in ["1", "2"] {
            let out = dir
                .path()
                .join(format!("out_{flag}_{config}_{threads}").replace('/', "_"));
            let o = archsim_threads(
                [
                    "run",
                    "--config",
                    config,
                    "--topology",
                    path_str(&topo),
                    "--format",
                    flag,
                    "--out",
                    path_str(&out),
                ],
                threads,
            );
            assert_ok(&o);
            assert_files_equal(&out, &expect);
        }
    }
}

/// A topology CSV given as --workload streams too, and prints what --topology prints, which is
/// the whole-run exporter's output (table and JSON on stdout).
#[test]
fn topology_as_workload_streams_with_the_same_bytes() {
    let dir = tempdir();
    let topo = write(dir.path(), "t.csv", topology(STREAM_BATCH_OPS + 3));
    let t = path_str(&topo);
    for (flag, format) in [("table", Format::Table), ("json", Format::Json)] {
        let mut req = RunRequest::new("h100");
        req.workloads.push(t.to_string());
        req.gemms.push("100,200,300".into());
        let expect = whole_run(&req, format);
        let as_workload = archsim([
            "run",
            "--config",
            "h100",
            "--workload",
            t,
            "--gemm",
            "100,200,300",
            "--format",
            flag,
        ]);
        assert_ok(&as_workload);
        assert!(
            as_workload.stdout == expect[0].1,
            "{flag}: --workload x.csv"
        );
        let as_topology = archsim([
            "run",
            "--config",
            "h100",
            "--topology",
            t,
            "--gemm",
            "100,200,300",
            "--format",
            flag,
        ]);
        assert_ok(&as_topology);
        assert!(
            as_topology.stdout == as_workload.stdout,
            "{flag}: --topology"
        );
    }
}

/// Multi-file scalesim output without --out, and scalesim on a native machine, are refused
/// (exit 2) and leave no report file behind.
#[test]
fn streamed_scalesim_refusals() {
    let dir = tempdir();
    let topo = write(dir.path(), "t.csv", topology(5));
    let cfg = path_str(&repo().join(SCALESIM_CFG)).to_string();
    let o = archsim([
        "run",
        "--config",
        &cfg,
        "--topology",
        path_str(&topo),
        "--format",
        "scalesim",
    ]);
    let err = assert_input_error(&o);
    assert!(err.contains("give --out DIR"), "{err}");
    assert!(o.stdout.is_empty());
    let out = dir.path().join("o");
    let o = archsim([
        "run",
        "--config",
        "h100",
        "--topology",
        path_str(&topo),
        "--format",
        "scalesim",
        "--out",
        path_str(&out),
    ]);
    let err = assert_input_error(&o);
    assert!(err.contains("SCALE-Sim mode"), "{err}");
    let left = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no partial or temp report files");
}

/// `archsim compare` (and the main job) refuse a workload above the op cap before simulating,
/// naming the workload and the cap; at the cap it runs.
#[test]
fn compare_refuses_a_workload_above_the_op_cap() {
    let dir = tempdir();
    let topo = write(dir.path(), "big.csv", topology(MAX_COMPARE_OPS + 1));
    let out = dir.path().join("out");
    let o = archsim([
        "compare",
        "--config",
        "tpu_v5",
        "--vs",
        "h100",
        "--workload",
        path_str(&topo),
        "--out",
        path_str(&out),
        "-q",
    ]);
    let err = assert_input_error(&o);
    assert!(
        err.contains(&format!("has {} ops", MAX_COMPARE_OPS + 1))
            && err.contains(&format!("at most {MAX_COMPARE_OPS} ops"))
            && err.contains("big.csv"),
        "{err}"
    );
    assert!(!out.join("report.json").exists());
    // The main job reads its workload from the config: the same refusal.
    let cfg = write(
        dir.path(),
        "main.toml",
        common::shipped_src("tpu_v5")
            .lines()
            .map(|l| {
                if l.starts_with("kernels =") {
                    format!("kernels = [\"{}\"]", path_str(&topo))
                } else if l.starts_with("models =") {
                    "models = []".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let o = archsim(["--config", path_str(&cfg), "--out", path_str(&out), "-q"]);
    let err = assert_input_error(&o);
    assert!(
        err.contains("big.csv") && err.contains("at most"),
        "{}",
        stderr(&o)
    );
}
