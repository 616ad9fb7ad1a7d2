//! Table-driven bad-input test: every case must print `error: ...` naming the file (and line and
//! key where they exist), exit with code 2, and never panic.

use std::path::Path;
use std::process::Command;

struct Case {
    /// Short description.
    what: &'static str,
    /// Files to create in the temp dir: (name, contents as bytes).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments; `{d}` is replaced by the temp dir.
    args: Vec<&'static str>,
    /// Substrings that must all appear in stderr.
    expect: Vec<&'static str>,
}

fn case(
    what: &'static str,
    files: Vec<(&'static str, &str)>,
    args: Vec<&'static str>,
    expect: Vec<&'static str>,
) -> Case {
    Case {
        what,
        files: files
            .into_iter()
            .map(|(n, c)| (n, c.as_bytes().to_vec()))
            .collect(),
        args,
        expect,
    }
}

const KERNEL: &str =
    "name = \"k\"\n\n[[layer]]\ntype = \"gemm\"\nname = \"a\"\nm = 4\nn = 8\nk = 16\n";
const CFG: &str = "tests/data/scalesim/configs/calc_32x32_ws.cfg";

fn cases() -> Vec<Case> {
    let k = |from: &str, to: &str| KERNEL.replace(from, to);
    let kernel_cases: Vec<(&'static str, String, Vec<&'static str>)> = vec![
        ("zero m", k("m = 4", "m = 0"), vec!["k.toml:6", "layer[1].m", "at least 1"]),
        ("negative n", k("n = 8", "n = -8"), vec!["k.toml:7", "layer[1].n"]),
        ("non-integer k", k("k = 16", "k = 1.5"), vec!["k.toml", "k"]),
        ("string dim", k("m = 4", "m = \"four\""), vec!["k.toml", "m"]),
        ("huge dim", k("m = 4", "m = 1000000000000"), vec!["k.toml:6", "2^32"]),
        ("unknown key", k("k = 16", "k = 16\nkk = 3"), vec!["k.toml:9", "kk"]),
        ("missing key", k("k = 16\n", ""), vec!["k.toml", "missing field `k`"]),
        ("unknown type", k("type = \"gemm\"", "type = \"fft\""), vec!["k.toml:4", "unknown layer type"]),
        ("missing type", k("type = \"gemm\"\n", ""), vec!["k.toml", "type"]),
        ("bad dtype", k("k = 16", "k = 16\ndtype = \"fp4\""), vec!["k.toml:9", "unsupported dtype"]),
        ("syntax error", k("[[layer]]", "[[layer]"), vec!["k.toml:3"]),
        ("empty workload", "name = \"x\"\n".into(), vec!["k.toml", "no layers"]),
        ("duplicate names", format!("{KERNEL}\n[[layer]]\ntype = \"gemm\"\nname = \"a\"\nm = 1\nn = 1\nk = 1\n"), vec!["k.toml", "duplicated layer name"]),
        ("top-level unknown key", format!("colour = 1\n{KERNEL}"), vec!["k.toml:1", "colour"]),
        ("conv kernel too big", "[[layer]]\ntype = \"conv2d\"\nname = \"c\"\nin_h = 3\nin_w = 3\nin_c = 1\nfilters = 1\nkernel = 5\n".into(), vec!["k.toml", "larger than the padded input"]),
        ("conv missing kernel", "[[layer]]\ntype = \"conv2d\"\nname = \"c\"\nin_h = 3\nin_w = 3\nin_c = 1\nfilters = 1\n".into(), vec!["k.toml", "kernel"]),
        ("attention zero heads", "[[layer]]\ntype = \"attention\"\nname = \"a\"\nheads = 0\nseq_q = 1\nseq_kv = 1\nhead_dim = 1\n".into(), vec!["k.toml:4", "heads"]),
        ("vector zero elements", "[[layer]]\ntype = \"softmax\"\nname = \"s\"\nelements = 0\n".into(), vec!["k.toml:4", "elements"]),
        ("negative tokens", format!("{KERNEL}\n[tokens]\nprefill = -1\n"), vec!["k.toml:11", "tokens.prefill"]),
    ];
    let mut out: Vec<Case> = kernel_cases
        .into_iter()
        .map(|(what, src, expect)| Case {
            what,
            files: vec![("k.toml", src.into_bytes())],
            args: vec!["run", "--config", CFG, "--workload", "{d}/k.toml"],
            expect,
        })
        .collect();
    let topo = |what: &'static str, body: &str, expect: Vec<&'static str>| Case {
        what,
        files: vec![("t.csv", format!("Layer, M, N, K,\n{body}").into_bytes())],
        args: vec!["run", "--config", CFG, "--topology", "{d}/t.csv"],
        expect,
    };
    out.extend([
        topo("csv zero", "g, 0, 1, 1,\n", vec!["t.csv:2", "M"]),
        topo("csv negative", "g, 1, -1, 1,\n", vec!["t.csv:2", "N"]),
        topo(
            "csv non-integer",
            "g, 1, 1, 2.5,\n",
            vec!["t.csv:2", "K", "not an integer"],
        ),
        topo(
            "csv too few fields",
            "g, 1, 1,\n",
            vec!["t.csv:2", "3 fields"],
        ),
        topo(
            "csv too many fields",
            "g, 1, 1, 1, 1, 1,\n",
            vec!["t.csv:2", "6 fields"],
        ),
        topo(
            "csv duplicate",
            "g, 1, 1, 1,\ng, 2, 2, 2,\n",
            vec!["t.csv:3", "duplicated"],
        ),
        topo("csv empty", "", vec!["t.csv", "no layers"]),
        topo(
            "csv huge",
            "g, 1, 1, 99999999999999,\n",
            vec!["t.csv:2", "2^32"],
        ),
        topo(
            "csv filter larger than ifmap",
            "c, 2, 2, 3, 3, 1, 1, 1,\n",
            vec!["t.csv:2", "larger than the ifmap"],
        ),
        topo(
            "csv sparsity column",
            "g, 1, 1, 1, 2:4,\n",
            vec!["t.csv:2", "sparsity"],
        ),
        case(
            "csv not utf8",
            vec![],
            vec!["run", "--config", CFG, "--topology", "{d}/bad.csv"],
            vec!["bad.csv", "UTF-8"],
        ),
    ]);
    // the non-UTF-8 file is added below
    out.extend([
        case(
            "missing workload file",
            vec![],
            vec!["run", "--config", CFG, "--workload", "{d}/nope.toml"],
            vec!["nope.toml", "not found"],
        ),
        case(
            "workload is a directory",
            vec![],
            vec!["run", "--config", CFG, "--workload", "{d}"],
            vec!["is a directory"],
        ),
        case(
            "missing config",
            vec![],
            vec!["run", "--config", "{d}/nope.toml", "--gemm", "1,1,1"],
            vec!["nope.toml", "not found"],
        ),
        case(
            "missing cfg",
            vec![],
            vec!["run", "--config", "{d}/nope.cfg", "--gemm", "1,1,1"],
            vec!["nope.cfg", "not found"],
        ),
        case(
            "config is a directory",
            vec![],
            vec!["run", "--config", "{d}", "--gemm", "1,1,1"],
            vec!["directory"],
        ),
        case(
            "unknown shipped name",
            vec![],
            vec!["run", "--config", "tpu_v99", "--gemm", "1,1,1"],
            vec!["tpu_v99", "not a shipped config"],
        ),
        case(
            "config without kind",
            vec![("c.toml", "name = \"x\"\n")],
            vec!["run", "--config", "{d}/c.toml", "--gemm", "1,1,1"],
            vec!["c.toml", "kind"],
        ),
        case(
            "config unknown kind",
            vec![("c.toml", "kind = \"fpga\"\n")],
            vec!["run", "--config", "{d}/c.toml", "--gemm", "1,1,1"],
            vec!["c.toml:1", "fpga"],
        ),
        case(
            "config kind not a string",
            vec![("c.toml", "kind = 3\n")],
            vec!["run", "--config", "{d}/c.toml", "--gemm", "1,1,1"],
            vec!["c.toml:1", "kind"],
        ),
        case(
            "config syntax error",
            vec![("c.toml", "kind = \"systolic\"\n[array\n")],
            vec!["run", "--config", "{d}/c.toml", "--gemm", "1,1,1"],
            vec!["c.toml:2"],
        ),
        case(
            "gemm flag zero",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "0,4,4"],
            vec!["--gemm", "M = 0"],
        ),
        case(
            "gemm flag negative",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "4,-4,4"],
            vec!["--gemm", "N"],
        ),
        case(
            "gemm flag two fields",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "4,4"],
            vec!["--gemm", "M,N,K"],
        ),
        case(
            "gemm flag text",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "a,b,c"],
            vec!["--gemm", "not an integer"],
        ),
        case(
            "gemm flag huge",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "4,4,8589934593"],
            vec!["--gemm", "2^32"],
        ),
        case(
            "no ops",
            vec![],
            vec!["run", "--config", CFG],
            vec!["nothing to simulate"],
        ),
        case(
            "unknown dtype flag",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "1,1,1", "--dtype", "fp4"],
            vec!["fp4"],
        ),
        case(
            "unknown format",
            vec![],
            vec!["run", "--config", CFG, "--gemm", "1,1,1", "--format", "xml"],
            vec!["xml"],
        ),
        case(
            "unknown flag",
            vec![],
            vec!["run", "--config", CFG, "--frobnicate"],
            vec!["--frobnicate"],
        ),
        case(
            "topology not csv",
            vec![("t.toml", KERNEL)],
            vec!["run", "--config", CFG, "--topology", "{d}/t.toml"],
            vec!["--topology", "csv"],
        ),
        case(
            "workload unknown extension",
            vec![("w.yaml", "x")],
            vec!["run", "--config", CFG, "--workload", "{d}/w.yaml"],
            vec!["w.yaml", "unknown workload file type"],
        ),
        case("no command", vec![], vec![], vec!["--config"]),
        case(
            "validate missing dir",
            vec![],
            vec!["validate", "--data", "{d}/none"],
            vec!["none", "not found"],
        ),
        case(
            "compare unknown vs",
            vec![],
            vec![
                "compare",
                "--config",
                "tpu_v5",
                "--vs",
                "gpu9000",
                "--workload",
                "smoke",
                "--out",
                "{d}",
            ],
            vec!["gpu9000"],
        ),
        case(
            "pe mode on a GPU",
            vec![],
            vec!["run", "--config", "h100", "--mode", "pe", "--gemm", "8,8,8"],
            vec!["--mode"],
        ),
        case(
            "pe mode too large",
            vec![],
            vec![
                "run",
                "--config",
                "tpu_v5p",
                "--mode",
                "pe",
                "--gemm",
                "8192,8192,8192",
            ],
            vec!["PE-level", "2^24"],
        ),
        case(
            "scalesim format without scalesim mode",
            vec![],
            vec![
                "run", "--config", "tpu_v5p", "--gemm", "8,8,8", "--format", "scalesim", "--out",
                "{d}",
            ],
            vec!["--format"],
        ),
        case(
            "vector op in scalesim mode",
            vec![],
            vec!["run", "--config", CFG, "--workload", "smoke"],
            vec!["vector"],
        ),
    ]);
    out.push(case(
        "more than 2^96 MACs",
        vec![],
        vec![
            "run",
            "--config",
            "h100",
            "--gemm",
            "4294967296,4294967296,4294967296,4294967296",
        ],
        vec!["2^96"],
    ));
    out.push(case(
        "more than 2^64 cycles",
        vec![],
        vec![
            "run",
            "--config",
            "tpu_v5p",
            "--gemm",
            "4294967296,4294967296,4294967296",
        ],
        vec!["2^64 cycles"],
    ));
    let stock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(CFG)).unwrap();
    let tpu = archsim::config::shipped("tpu_v5p").unwrap().1;
    let gpu = archsim::config::shipped("h100").unwrap().1;
    let cfg_cases: Vec<(&'static str, &'static str, String, Vec<&'static str>)> = vec![
        (
            "cfg zero rows",
            "c.cfg",
            stock.replace("ArrayHeight:    32", "ArrayHeight: 0"),
            vec!["c.cfg:", "ArrayHeight"],
        ),
        (
            "cfg bad dataflow",
            "c.cfg",
            stock.replace("Dataflow : ws", "Dataflow : xs"),
            vec!["c.cfg:", "Dataflow"],
        ),
        (
            "cfg missing key",
            "c.cfg",
            stock.replace("ArrayWidth:     32\n", ""),
            vec!["c.cfg", "ArrayWidth"],
        ),
        (
            "cfg non-integer",
            "c.cfg",
            stock.replace("IfmapSramSzkB:   512", "IfmapSramSzkB: lots"),
            vec!["c.cfg:", "IfmapSramSzkB"],
        ),
        (
            "systolic zero rows",
            "t.toml",
            tpu.replacen("rows = 128", "rows = 0", 1),
            vec!["t.toml:", "array.rows"],
        ),
        (
            "systolic unknown key",
            "t.toml",
            tpu.replacen("[array]", "[array]\ncolour = 1", 1),
            vec!["t.toml:", "colour"],
        ),
        (
            "systolic bad dataflow",
            "t.toml",
            tpu.replacen("dataflow = \"ws\"", "dataflow = \"zz\"", 1),
            vec!["t.toml:", "dataflow"],
        ),
        (
            "systolic negative bandwidth",
            "t.toml",
            tpu.replacen("bandwidth_gbps = 2765.0", "bandwidth_gbps = -1.0", 1),
            vec!["t.toml:", "bandwidth_gbps"],
        ),
        (
            "simt zero SMs",
            "g.toml",
            gpu.replacen("count = 132", "count = 0", 1),
            vec!["g.toml:", "count"],
        ),
        (
            "simt unknown section",
            "g.toml",
            format!("{gpu}\n[turbo]\nx = 1\n"),
            vec!["g.toml:", "turbo"],
        ),
    ];
    for (what, file, text, expect) in cfg_cases {
        let path = match file {
            "c.cfg" => "{d}/c.cfg",
            "t.toml" => "{d}/t.toml",
            _ => "{d}/g.toml",
        };
        out.push(Case {
            what,
            files: vec![(file, text.into_bytes())],
            args: vec!["run", "--config", path, "--gemm", "8,8,8"],
            expect,
        });
    }
    out
}

#[test]
fn every_bad_input_is_a_clear_exit_2() {
    let bin = env!("CARGO_BIN_EXE_archsim");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    eprintln!("{} bad-input cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.csv"),
            b"Layer, M, N, K,\ng, 1, \xff\xfe, 1,\n",
        )
        .unwrap();
        for (n, bytes) in &c.files {
            std::fs::write(dir.path().join(n), bytes).unwrap();
        }
        let d = dir.path().to_str().unwrap();
        let args: Vec<String> = c.args.iter().map(|a| a.replace("{d}", d)).collect();
        let out = Command::new(bin)
            .args(&args)
            .current_dir(repo)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        let mut problems = Vec::new();
        if code != Some(2) {
            problems.push(format!("exit code {code:?}"));
        }
        if !stderr.contains("error:") {
            problems.push("no `error:`".to_string());
        }
        if stderr.contains("panicked") {
            problems.push("PANIC".to_string());
        }
        for e in &c.expect {
            if !stderr.contains(e) {
                problems.push(format!("missing `{e}`"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {} | stderr: {}",
                c.what,
                problems.join(", "),
                stderr.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
