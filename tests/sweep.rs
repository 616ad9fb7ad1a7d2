//! `archsim sweep` / `archsim merge` end to end: determinism across thread counts, shards +
//! merge == unsharded, resume == uninterrupted, and bad sweep files → exit 2 with file/line/key.

mod common;

use common::{archsim_threads, assert_input_error, assert_ok as ok, command, path_str as s, write};
use std::path::Path;
use std::process::Output;

/// A small native-TPU sweep: 2 workloads × 2 × 2 × 3 = 24 points.
const SWEEP: &str = r#"# test sweep
workloads = ["smoke", "resnet50"]
array.rows = [64, 128]
array.dataflow = ["ws", "os"]
hbm.bandwidth_gbps = {from = 800, to = 2400, step = 800}
"#;
const POINTS: usize = 24;

/// `archsim sweep --config CONFIG --sweep SWEEP --out OUT EXTRA...` on `threads` threads.
fn run_sweep(config: &str, sweep: &Path, out: &Path, extra: &[&str], threads: &str) -> Output {
    let mut args = vec![
        "sweep",
        "--config",
        config,
        "--sweep",
        s(sweep),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    archsim_threads(&args, threads)
}

/// A successful quiet tpu_v5e sweep into `dir/out`; returns the file's bytes.
fn sweep(dir: &Path, sweep: &Path, out: &str, extra: &[&str], threads: &str) -> Vec<u8> {
    let out = dir.join(out);
    let mut args = vec!["-q"];
    args.extend_from_slice(extra);
    ok(&run_sweep("tpu_v5e", sweep, &out, &args, threads));
    std::fs::read(&out).unwrap()
}

#[test]
fn rows_are_in_product_order_whatever_the_thread_count() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let one = sweep(d.path(), &sw, "t1.csv", &[], "1");
    let two = sweep(d.path(), &sw, "t2.csv", &[], "2");
    assert_eq!(
        one, two,
        "RAYON_NUM_THREADS=1 and 2 must give identical bytes"
    );
    let text = String::from_utf8(one).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), POINTS + 1);
    assert_eq!(
        lines[0],
        "index,workload,array.rows,array.dataflow,hbm.bandwidth_gbps,time_s,cycles,utilization,tflops,energy_pj,pj_per_flop,hbm_read_bytes,hbm_write_bytes,hbm_bytes,main_stall,area_mm2,die_cost_usd"
    );
    // workload outermost, last key fastest
    assert!(lines[1].starts_with("0,smoke,64,ws,800,"), "{}", lines[1]);
    assert!(lines[2].starts_with("1,smoke,64,ws,1600,"), "{}", lines[2]);
    assert!(lines[4].starts_with("3,smoke,64,os,800,"), "{}", lines[4]);
    assert!(
        lines[13].starts_with("12,resnet50,64,ws,800,"),
        "{}",
        lines[13]
    );
    // every row has finite, positive time and energy
    for l in &lines[1..] {
        let f: Vec<&str> = l.split(',').collect();
        let t: f64 = f[5].parse().unwrap();
        let e: f64 = f[9].parse().unwrap();
        assert!(t > 0.0 && e > 0.0, "{l}");
    }
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let full = sweep(d.path(), &sw, "full.csv", &[], "2");
    let mut shards = Vec::new();
    for i in 0..3 {
        let name = format!("shard{i}.csv");
        let shard = format!("{i}/3");
        let bytes = sweep(d.path(), &sw, &name, &["--shard", &shard], "1");
        let rows = String::from_utf8(bytes).unwrap().lines().count() - 1;
        assert_eq!(rows, POINTS / 3);
        shards.push(d.path().join(name));
    }
    let merged = d.path().join("merged.csv");
    let mut args = vec!["merge", s(&merged)];
    // out of order on purpose
    args.extend([s(&shards[2]), s(&shards[0]), s(&shards[1])]);
    args.extend(["--points", "24", "-q"]);
    ok(&archsim_threads(&args, "1"));
    assert_eq!(std::fs::read(&merged).unwrap(), full);

    // a missing shard is caught with --points
    let m2 = d.path().join("m2.csv");
    let args = [
        "merge",
        s(&m2),
        s(&shards[0]),
        s(&shards[1]),
        "--points",
        "24",
    ];
    let err = assert_input_error(&archsim_threads(args, "1"));
    assert!(err.contains("8 missing"), "{err}");
}

#[test]
fn resume_ends_with_the_uninterrupted_file() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let full = sweep(d.path(), &sw, "full.csv", &[], "2");
    let text = String::from_utf8(full.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // An interrupted run: header and an arbitrary subset of rows (a checkpoint).
    let partial: Vec<&str> = std::iter::once(lines[0])
        .chain(
            lines[1..]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 3 != 1 && *i < 20)
                .map(|(_, l)| *l),
        )
        .collect();
    let out = write(d.path(), "resumed.csv", partial.join("\n") + "\n");
    let o = run_sweep("tpu_v5e", &sw, &out, &[], "2");
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("resumed"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), full);

    // a shard resumes too
    let shard_full = sweep(d.path(), &sw, "sh.csv", &["--shard", "1/2"], "1");
    let t = String::from_utf8(shard_full.clone()).unwrap();
    let keep: Vec<&str> = t.lines().take(5).collect();
    let out = write(d.path(), "sh_resumed.csv", keep.join("\n") + "\n");
    ok(&run_sweep(
        "tpu_v5e",
        &sw,
        &out,
        &["--shard", "1/2", "-q"],
        "2",
    ));
    assert_eq!(std::fs::read(&out).unwrap(), shard_full);
}

#[test]
fn a_row_cut_short_is_simulated_again_not_kept() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let full = sweep(d.path(), &sw, "full.csv", &[], "1");
    // Cut the file inside its last row, keeping every field: the last value is truncated
    // ("memory" -> "mem"), which a resume must not keep.
    for cut in [4, 30] {
        let out = d.path().join(format!("cut{cut}.csv"));
        std::fs::write(&out, &full[..full.len() - cut]).unwrap();
        ok(&run_sweep("tpu_v5e", &sw, &out, &["-q"], "1"));
        assert_eq!(std::fs::read(&out).unwrap(), full, "cut {cut}");
    }
}

#[test]
fn resume_refuses_a_file_of_another_sweep() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let full = sweep(d.path(), &sw, "full.csv", &[], "2");
    // same columns, other values
    let other = write(
        d.path(),
        "other.toml",
        SWEEP.replace("[64, 128]", "[32, 128]"),
    );
    let out = write(d.path(), "o.csv", &full);
    let err = assert_input_error(&run_sweep("tpu_v5e", &other, &out, &["-q"], "1"));
    assert!(err.contains("another sweep"), "{err}");
    // a shard file used for another shard
    let sh = sweep(d.path(), &sw, "sh0.csv", &["--shard", "0/2"], "1");
    let sh_out = write(d.path(), "sh.csv", &sh);
    assert_input_error(&run_sweep(
        "tpu_v5e",
        &sw,
        &sh_out,
        &["--shard", "1/2"],
        "1",
    ));
    // --no-resume overwrites
    ok(&run_sweep(
        "tpu_v5e",
        &other,
        &out,
        &["--no-resume", "-q"],
        "2",
    ));
}

#[test]
fn bad_sweep_files_exit_2_with_file_line_and_key() {
    let d = common::tempdir();
    let cases: &[(&str, &str, &str)] = &[
        ("array.nope = [1, 2]\n", ":2: key `array.nope`", "unknown key"),
        ("array.rows = [1.5]\n", ":2: key `array.rows`", "wrong type"),
        ("array.rows = [\"big\"]\n", ":2: key `array.rows`", "wrong type"),
        ("array.rows = []\n", ":2: key `array.rows`", "empty list"),
        (
            "hbm.bandwidth_gbps = {from = 400, to = 3200, step = 0}\n",
            ":2: key `hbm.bandwidth_gbps`",
            "step = 0",
        ),
        (
            "hbm.bandwidth_gbps = {from = 3200, to = 400, step = 400}\n",
            ":2: key `hbm.bandwidth_gbps`",
            "from = 3200 > to = 400",
        ),
        ("array.rows = [0, 128]\n", ":2: key `array.rows`", "value `0`"),
        (
            "array.dataflow = [\"ws\", \"diagonal\"]\n",
            ":2: key `array.dataflow`",
            "diagonal",
        ),
        ("array = 3\n", ":2: key `array`", "is a table"),
        (
            "array.rows = {from = 1, to = 4000, step = 1}\nhbm.bandwidth_gbps = {from = 1, to = 4000, step = 1}\n",
            "s.toml",
            "more than the cap",
        ),
    ];
    for (i, (body, loc, msg)) in cases.iter().enumerate() {
        let sw = write(
            d.path(),
            "s.toml",
            format!("workloads = [\"smoke\"]\n{body}"),
        );
        let out = d.path().join(format!("o{i}.csv"));
        let o = run_sweep("tpu_v5e", &sw, &out, &["-q"], "1");
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{body}: {err}");
        assert!(
            err.contains(&format!("s.toml{loc}")) || (loc == &"s.toml" && err.contains(loc)),
            "{body}: want `{loc}` in {err}"
        );
        assert!(err.contains(msg), "{body}: want `{msg}` in {err}");
        assert!(!out.exists(), "no output on a bad sweep file");
    }
    // unknown workload, bad shard, missing sweep file
    let sw = write(
        d.path(),
        "w.toml",
        "workloads = [\"no_such_net\"]\narray.rows = [64]\n",
    );
    let o = run_sweep("tpu_v5e", &sw, &d.path().join("w.csv"), &[], "1");
    let err = assert_input_error(&o);
    assert!(err.contains("w.toml:1: key `workloads`"), "{err}");
    let x = Path::new("x.csv");
    assert_input_error(&run_sweep("tpu_v5e", &sw, x, &["--shard", "4/4"], "1"));
    let missing = Path::new("/no/such/sweep.toml");
    assert_input_error(&run_sweep("tpu_v5e", missing, x, &[], "1"));
}

#[test]
fn library_api_runs_a_sweep() {
    use archsim::jobs::sweep::{PointSet as _, RunOptions, Sweep};
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let sweep = Sweep::prepare("tpu_v5e", &sw, None, 1000).unwrap();
    assert_eq!(sweep.len(), POINTS as u64);
    assert_eq!(
        sweep.point_values(23),
        ["resnet50", "128", "os", "2400"].map(String::from)
    );
    let out = d.path().join("lib.csv");
    let summary = sweep.run(&RunOptions::new(&out)).unwrap();
    assert_eq!(summary.simulated, POINTS as u64);
    let again = sweep.run(&RunOptions::new(&out)).unwrap();
    assert_eq!((again.simulated, again.resumed), (0, POINTS as u64));
    // In memory (the Python bindings' sweep): the bytes of the file.
    assert_eq!(
        sweep.csv_in_memory().unwrap().into_bytes(),
        std::fs::read(&out).unwrap()
    );
}

/// Total of `archsim run --format json` for a config and workload.
fn run_total(config: &str, workload_flag: &str, workload: &str) -> serde_json::Value {
    let args = [
        "run",
        "--config",
        config,
        workload_flag,
        workload,
        "--format",
        "json",
    ];
    let o = archsim_threads(args, "1");
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["total"].clone()
}

fn csv_row(bytes: &[u8], index: usize) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let line = text.lines().nth(index + 1).unwrap();
    line.split(',').map(String::from).collect()
}

fn same(row_value: &str, json: &serde_json::Value) {
    let a: f64 = row_value.parse().unwrap();
    let b = json.as_f64().unwrap();
    // serde_json's default float parser (no `float_roundtrip` feature) may be 1 ulp off, so
    // allow a relative 1e-14; the sweep's own text is Rust's exact shortest round-trip form.
    assert!(
        (a - b).abs() <= 1e-14 * a.abs().max(b.abs()),
        "sweep row {a} vs archsim run {b}"
    );
}

#[test]
fn scalesim_cfg_point_equals_a_hand_edited_cfg_run() {
    let d = common::tempdir();
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/scalesim/configs/calc_128x128_os.cfg"
    );
    let sw = write(
        d.path(),
        "s.toml",
        "workloads = [\"kernels/resnet50.csv\"]\narchitecture_presets.arrayheight = [32, 64]\nARCHITECTURE_PRESETS.Dataflow = [\"os\", \"ws\"]\n",
    );
    let out = d.path().join("cfg.csv");
    ok(&run_sweep(base, &sw, &out, &["-q"], "2"));
    let bytes = std::fs::read(&out).unwrap();
    // point 3 = ArrayHeight 64, ws; the same config written by hand:
    let row = csv_row(&bytes, 3);
    assert_eq!(row[2..4], ["64", "ws"]);
    let edited = std::fs::read_to_string(base)
        .unwrap()
        .replace("ArrayHeight:    128", "ArrayHeight:    64")
        .replace("Dataflow : os", "Dataflow : ws");
    let cfg = write(d.path(), "edited.cfg", &edited);
    let t = run_total(s(&cfg), "--topology", "kernels/resnet50.csv");
    same(&row[4], &t["time_s"]);
    same(&row[8], &t["energy_pj"]);
    same(&row[10], &t["counters"]["hbm_read_bytes"]);

    // .cfg errors name the sweep file, line and key
    for (name, line, want) in [
        (
            "bad.toml",
            "architecture_presets.ArrayDepth = [1]",
            "bad.toml:2: key `architecture_presets.ArrayDepth`: unknown key",
        ),
        (
            "bad2.toml",
            "architecture_presets.ArrayHeight = [0]",
            "bad2.toml:2: key `architecture_presets.ArrayHeight`: value `0`",
        ),
    ] {
        let text = format!("workloads = [\"kernels/resnet50.csv\"]\n{line}\n");
        let bad = write(d.path(), name, text);
        let err = assert_input_error(&run_sweep(base, &bad, &d.path().join("b.csv"), &[], "1"));
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn toml_point_equals_a_hand_edited_config_run() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let bytes = sweep(d.path(), &sw, "t.csv", &[], "2");
    // point 17 = resnet50, rows 64, os, 2400 GB/s
    let row = csv_row(&bytes, 17);
    assert_eq!(row[1..5], ["resnet50", "64", "os", "2400"]);
    let src = common::repo_file("configs/tpu_v5e.toml");
    let edited = src
        .replace("rows = 128 ", "rows = 64 ")
        .replace("dataflow = \"ws\"", "dataflow = \"os\"")
        .replace("bandwidth_gbps = 819.0", "bandwidth_gbps = 2400.0");
    assert_ne!(edited, src);
    let cfg = write(d.path(), "tpu_v5e.toml", &edited);
    let t = run_total(s(&cfg), "--workload", "resnet50");
    same(&row[5], &t["time_s"]);
    same(&row[9], &t["energy_pj"]);
    same(&row[7], &t["utilization"]);
}

#[test]
fn plot_sweep_writes_heatmap_and_pareto() {
    use archsim::jobs::sweep::plot::{plot_sweep, PlotSweepRequest};
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    sweep(d.path(), &sw, "t.csv", &[], "2");
    let args = PlotSweepRequest {
        csv: d.path().join("t.csv"),
        x: "hbm.bandwidth_gbps".into(),
        y: "array.rows".into(),
        metric: "time_s".into(),
        filters: vec!["workload=resnet50".into()],
        out: d.path().join("plots"),
    };
    let files = plot_sweep(&args).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        assert!(
            std::fs::metadata(f).unwrap().len() > 1000,
            "{}",
            f.display()
        );
    }
    let bad = PlotSweepRequest {
        metric: "speed".into(),
        ..args
    };
    assert_eq!(plot_sweep(&bad).unwrap_err().exit_code(), 2);
}

#[test]
fn a_killed_sweep_leaves_a_valid_csv_and_resumes_to_the_same_bytes() {
    let d = common::tempdir();
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/scalesim/configs/calc_128x128_ws.cfg"
    );
    // 3,000 points: long enough to be killed part-way on most machines.
    let sw = write(
        d.path(),
        "big.toml",
        "workloads = [\"kernels/resnet50.csv\"]\narchitecture_presets.ArrayHeight = {from = 8, to = 240, step = 8}\narchitecture_presets.ArrayWidth = {from = 8, to = 80, step = 8}\narchitecture_presets.IfmapSramSzkB = {from = 64, to = 640, step = 64}\n",
    );
    let full = d.path().join("full.csv");
    let extra = ["-q", "--checkpoint-s", "0"];
    ok(&run_sweep(base, &sw, &full, &extra, "2"));
    let full_bytes = std::fs::read(&full).unwrap();
    assert_eq!(String::from_utf8_lossy(&full_bytes).lines().count(), 3001);

    let out = d.path().join("killed.csv");
    let args = [
        "sweep",
        "--config",
        base,
        "--sweep",
        s(&sw),
        "--out",
        s(&out),
    ];
    let mut child = command(args.iter().chain(&extra))
        .env("RAYON_NUM_THREADS", "1")
        .spawn()
        .unwrap();
    // wait for the first checkpoint, then kill
    let t0 = std::time::Instant::now();
    while !out.exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let partial = std::fs::read_to_string(&out).unwrap();
    let rows = partial.lines().count() - 1;
    assert!(
        full_bytes.starts_with(partial.lines().next().unwrap().as_bytes()),
        "header"
    );
    // every checkpoint is a complete CSV: its rows are rows of the full run
    let full_text = String::from_utf8(full_bytes.clone()).unwrap();
    for l in partial.lines().skip(1) {
        assert!(full_text.contains(&format!("\n{l}\n")), "{l}");
    }
    eprintln!("killed after {rows} of 3000 points");
    ok(&run_sweep(base, &sw, &out, &extra, "2"));
    assert_eq!(std::fs::read(&out).unwrap(), full_bytes);
}

#[test]
fn results_of_another_run_are_neither_resumed_nor_merged() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let out = d.path().join("r.csv");
    ok(&run_sweep("tpu_v5e", &sw, &out, &["-q"], "1"));
    let prov = std::fs::read_to_string(d.path().join("r.csv.provenance.json")).unwrap();
    assert!(
        prov.contains("base_config_fnv64") && prov.contains("\"points\": 24"),
        "{prov}"
    );
    // The same swept keys on another base config: the rows would pass the column and value
    // checks, the provenance does not.
    let other = write(
        d.path(),
        "other.toml",
        common::shipped_src("tpu_v5e").replacen("latency_ns = 300.0", "latency_ns = 700.0", 1),
    );
    let err = assert_input_error(&run_sweep(s(&other), &sw, &out, &["-q"], "1"));
    assert!(
        err.contains("another run") && err.contains("base config"),
        "{err}"
    );
    // Shards of two different sweeps are not merged.
    let sw2 = write(d.path(), "s2.toml", SWEEP.replace("[64, 128]", "[64, 256]"));
    let a = d.path().join("a.csv");
    let b = d.path().join("b.csv");
    ok(&run_sweep(
        "tpu_v5e",
        &sw,
        &a,
        &["--shard", "0/2", "-q"],
        "1",
    ));
    ok(&run_sweep(
        "tpu_v5e",
        &sw2,
        &b,
        &["--shard", "1/2", "-q"],
        "1",
    ));
    let m = d.path().join("m.csv");
    let err = assert_input_error(&archsim_threads(["merge", s(&m), s(&a), s(&b)], "1"));
    assert!(err.contains("not a shard of the same sweep"), "{err}");
    assert!(!m.exists(), "nothing is written");
}

#[test]
fn a_second_writer_is_refused_and_stale_temp_files_go() {
    let d = common::tempdir();
    let sw = write(d.path(), "s.toml", SWEEP);
    let out = d.path().join("r.csv");
    // Another process holds the output's lock (here: this test).
    let lock = std::fs::File::create(d.path().join("r.csv.lock")).unwrap();
    lock.try_lock().unwrap();
    let err = assert_input_error(&run_sweep("tpu_v5e", &sw, &out, &["-q"], "1"));
    assert!(err.contains("another archsim is writing"), "{err}");
    assert!(!out.exists(), "nothing written");
    lock.unlock().unwrap();
    // A killed run's temp file is removed by the next run that holds the lock.
    let stale = write(d.path(), ".r.csv.tmp.999999", "partial");
    ok(&run_sweep("tpu_v5e", &sw, &out, &["-q"], "1"));
    assert!(!stale.exists(), "stale temp file left behind");
    assert!(out.exists());
}

/// The shipped SCALE-Sim dataflow sweep: every row has an area and a die cost, and its Pareto
/// front over time, energy and cost has more than one design (bigger arrays are faster but
/// dearer), which `archsim plot sweep` draws with the `--where` filter in the titles.
#[test]
fn shipped_dataflow_sweep_has_a_pareto_front_of_several_designs() {
    let d = common::tempdir();
    let out = d.path().join("dataflow.csv");
    ok(&archsim_threads(
        &[
            "sweep",
            "-q",
            "--config",
            "tests/data/scalesim/configs/calc_128x128_os.cfg",
            "--sweep",
            "examples/sweeps/scalesim_dataflow.toml",
            "--out",
            s(&out),
        ],
        "2",
    ));
    let q = archsim::jobs::sweep::plot::PlotQuery {
        x: "architecture_presets.ArrayHeight".into(),
        y: "architecture_presets.Dataflow".into(),
        metric: "time_s".into(),
        filters: vec![("workload".into(), "kernels/resnet50.csv".into())],
    };
    let data = archsim::jobs::sweep::plot::extract(&out, &q).unwrap();
    let pts: Vec<archsim::plot::ParetoPoint> = data
        .pareto
        .iter()
        .map(|(l, t, e, c)| archsim::plot::ParetoPoint {
            label: l.clone(),
            time_s: *t,
            energy_j: *e,
            cost_usd: *c,
        })
        .collect();
    assert_eq!(pts.len(), 21);
    assert!(archsim::plot::has_costs(&pts));
    // Area grows with the array: the 512-row design is bigger than the 8-row one.
    let cost_of = |label: &str| pts.iter().find(|p| p.label == label).unwrap().cost_usd;
    assert!(cost_of("Dataflow=os ArrayHeight=512") > cost_of("Dataflow=os ArrayHeight=8"));
    let front = archsim::plot::pareto_indices(&pts);
    assert!(front.len() > 1, "front {front:?}");
    let plots = d.path().join("plots");
    ok(&archsim_threads(
        &[
            "plot",
            "sweep",
            s(&out),
            "--x",
            "architecture_presets.ArrayHeight",
            "--y",
            "architecture_presets.Dataflow",
            "--metric",
            "time_s",
            "--where",
            "workload=kernels/resnet50.csv",
            "--out",
            s(&plots),
        ],
        "2",
    ));
    let svg = std::fs::read_to_string(plots.join("sweep_pareto.svg")).unwrap();
    assert!(svg.contains("where workload=kernels/resnet50.csv") && svg.contains("die cost"));
    let svg = std::fs::read_to_string(plots.join("sweep_heatmap_time_s.svg")).unwrap();
    assert!(svg.contains("where workload=kernels/resnet50.csv") && svg.contains("time (ms)"));
}
