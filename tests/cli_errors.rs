mod common;

use common::{archsim, repo_file, shipped_src, write, SCALESIM_CFG as CFG};

struct Case {
    /// Short description.
    what: &'static str,
    /// Files to create in the temp dir: (name, contents as bytes).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments, separated by spaces; `{d}` is replaced by the temp dir and `{cfg}` by `CFG`.
    args: &'static str,
    /// Substrings that must all appear in stderr.
    expect: Vec<&'static str>,
}

fn case(
    what: &'static str,
    files: &[(&'static str, &str)],
    args: &'static str,
    expect: &[&'static str],
) -> Case {
    Case {
        what,
        files: files
            .iter()
            .map(|(n, c)| (*n, c.as_bytes().to_vec()))
            .collect(),
        args,
        expect: expect.to_vec(),
    }
}

const KERNEL: &str =
    "name = \"k\"\n\n[[layer]]\ntype = \"gemm\"\nname = \"a\"\nm = 4\nn = 8\nk = 16\n";

/// A small valid model card (line numbers matter to the cases).
const CARD: &str = "name = \"m\"\nhidden = 256\nlayers = 2\nheads = 32\nkv_heads = 8\nffn = \"swiglu\"\nffn_size = 512\nvocab = 100\n";

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
        ("bad dtype", k("k = 16", "k = 16\ndtype = \"fp6\""), vec!["k.toml:9", "unsupported dtype"]),
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
            args: "run --config {cfg} --workload {d}/k.toml",
            expect,
        })
        .collect();
    let topo = |what: &'static str, body: &str, expect: &[&'static str]| Case {
        files: vec![("t.csv", format!("Layer, M, N, K,\n{body}").into_bytes())],
        ..case(what, &[], "run --config {cfg} --topology {d}/t.csv", expect)
    };
    out.extend([
        topo("csv zero", "g, 0, 1, 1,\n", &["t.csv:2", "M"]),
        topo("csv negative", "g, 1, -1, 1,\n", &["t.csv:2", "N"]),
        topo(
            "csv non-integer",
            "g, 1, 1, 2.5,\n",
            &["t.csv:2", "K", "not an integer"],
        ),
        topo("csv too few fields", "g, 1, 1,\n", &["t.csv:2", "3 fields"]),
        topo(
            "csv too many fields",
            "g, 1, 1, 1, 1, 1,\n",
            &["t.csv:2", "6 fields"],
        ),
        topo(
            "csv duplicate",
            "g, 1, 1, 1,\ng, 2, 2, 2,\n",
            &["t.csv:3", "duplicated"],
        ),
        topo("csv empty", "", &["t.csv", "no layers"]),
        topo(
            "csv cycles summing past 2^64",
            &(1..=40)
                .map(|i| format!("g{i}, 4294967296, 4294967296, 1,\n"))
                .collect::<String>(),
            &["2^64 cycles", "split the workload"],
        ),
        topo(
            "csv huge",
            "g, 1, 1, 99999999999999,\n",
            &["t.csv:2", "2^32"],
        ),
        topo(
            "csv filter larger than ifmap",
            "c, 2, 2, 3, 3, 1, 1, 1,\n",
            &["t.csv:2", "larger than the ifmap"],
        ),
        topo(
            "csv sparsity column",
            "g, 1, 1, 1, 2:4,\n",
            &["t.csv:2", "sparsity"],
        ),
        // bad.csv, not UTF-8, is written for every case below
        case(
            "csv not utf8",
            &[],
            "run --config {cfg} --topology {d}/bad.csv",
            &["bad.csv", "UTF-8"],
        ),
    ]);
    let config_file = |what: &'static str, text: &str, expect: &[&'static str]| {
        let args = "run --config {d}/c.toml --gemm 1,1,1";
        case(what, &[("c.toml", text)], args, expect)
    };
    out.extend([
        config_file("config without kind", "name = \"x\"\n", &["c.toml", "kind"]),
        config_file(
            "config unknown kind",
            "kind = \"fpga\"\n",
            &["c.toml:1", "fpga"],
        ),
        config_file(
            "config kind not a string",
            "kind = 3\n",
            &["c.toml:1", "kind"],
        ),
        config_file(
            "config syntax error",
            "kind = \"systolic\"\n[array\n",
            &["c.toml:2"],
        ),
    ]);
    // (what, arguments, expected in stderr); no files
    let plain: &[(&'static str, &'static str, &[&'static str])] = &[
        (
            "missing workload file",
            "run --config {cfg} --workload {d}/nope.toml",
            &["nope.toml", "not found"],
        ),
        (
            "workload is a directory",
            "run --config {cfg} --workload {d}",
            &["is a directory"],
        ),
        (
            "missing config",
            "run --config {d}/nope.toml --gemm 1,1,1",
            &["nope.toml", "not found"],
        ),
        (
            "missing cfg",
            "run --config {d}/nope.cfg --gemm 1,1,1",
            &["nope.cfg", "not found"],
        ),
        (
            "config is a directory",
            "run --config {d} --gemm 1,1,1",
            &["directory"],
        ),
        (
            "unknown shipped name",
            "run --config tpu_v99 --gemm 1,1,1",
            &["tpu_v99", "not a shipped config"],
        ),
        (
            "gemm flag zero",
            "run --config {cfg} --gemm 0,4,4",
            &["--gemm", "M = 0"],
        ),
        (
            "gemm flag negative",
            "run --config {cfg} --gemm 4,-4,4",
            &["--gemm", "N"],
        ),
        (
            "gemm flag two fields",
            "run --config {cfg} --gemm 4,4",
            &["--gemm", "M,N,K"],
        ),
        (
            "gemm flag text",
            "run --config {cfg} --gemm a,b,c",
            &["--gemm", "not an integer"],
        ),
        (
            "gemm flag huge",
            "run --config {cfg} --gemm 4,4,8589934593",
            &["--gemm", "2^32"],
        ),
        ("no ops", "run --config {cfg}", &["nothing to simulate"]),
        (
            "unknown dtype flag",
            "run --config {cfg} --gemm 1,1,1 --dtype fp6",
            &["fp6"],
        ),
        (
            "unknown format",
            "run --config {cfg} --gemm 1,1,1 --format xml",
            &["xml"],
        ),
        (
            "unknown flag",
            "run --config {cfg} --frobnicate",
            &["--frobnicate"],
        ),
        (
            "misspelled config name",
            "run --config h10 --gemm 8,8,8",
            &["h10", "did you mean `h100`?"],
        ),
        (
            "validate missing dir",
            "validate --data {d}/none",
            &["none", "not found"],
        ),
        (
            "compare unknown vs",
            "compare --config tpu_v5 --vs gpu9000 --workload smoke --out {d}",
            &["gpu9000"],
        ),
        (
            "pe mode on a GPU",
            "run --config h100 --mode pe --gemm 8,8,8",
            &["--mode"],
        ),
        (
            "pe mode too large",
            "run --config tpu_v5p --mode pe --gemm 8192,8192,8192",
            &["PE-level", "2^24"],
        ),
        (
            "scalesim format without scalesim mode",
            "run --config tpu_v5p --gemm 8,8,8 --format scalesim --out {d}",
            &["--format"],
        ),
        (
            "vector op in scalesim mode",
            "run --config {cfg} --workload smoke",
            &["vector"],
        ),
        (
            "more than 2^96 MACs",
            "run --config h100 --gemm 4294967296,4294967296,4294967296,4294967296",
            &["2^96"],
        ),
        (
            "more than 2^64 cycles",
            "run --config tpu_v5p --gemm 4294967296,4294967296,4294967296",
            &["2^64 cycles"],
        ),
    ];
    out.extend(
        plain
            .iter()
            .map(|(what, args, expect)| case(what, &[], args, expect)),
    );
    out.extend([
        case(
            "topology not csv",
            &[("t.toml", KERNEL)],
            "run --config {cfg} --topology {d}/t.toml",
            &["--topology", "csv"],
        ),
        case(
            "workload unknown extension",
            &[("w.yaml", "x")],
            "run --config {cfg} --workload {d}/w.yaml",
            &["w.yaml", "unknown workload file type"],
        ),
    ]);
    // A config file `file` with one edit, as the --config of a GEMM run.
    let edited = |what: &'static str, file: &'static str, text: String, expect: &[&'static str]| {
        let args = match file {
            "c.cfg" => "run --config {d}/c.cfg --gemm 8,8,8",
            "t.toml" => "run --config {d}/t.toml --gemm 8,8,8",
            _ => "run --config {d}/g.toml --gemm 8,8,8",
        };
        Case {
            files: vec![(file, text.into_bytes())],
            ..case(what, &[], args, expect)
        }
    };
    let stock = repo_file(CFG);
    let cfg =
        |what, from: &str, to: &str, expect| edited(what, "c.cfg", stock.replace(from, to), expect);
    let tpu = shipped_src("tpu_v5p");
    let tpu = |what, from: &str, to: &str, expect| {
        edited(what, "t.toml", tpu.replacen(from, to, 1), expect)
    };
    let gpu = shipped_src("h100");
    out.extend([
        cfg(
            "cfg zero rows",
            "ArrayHeight:    32",
            "ArrayHeight: 0",
            &["c.cfg:", "ArrayHeight"],
        ),
        cfg(
            "cfg bad dataflow",
            "Dataflow : ws",
            "Dataflow : xs",
            &["c.cfg:", "Dataflow"],
        ),
        cfg(
            "cfg missing key",
            "ArrayWidth:     32\n",
            "",
            &["c.cfg", "ArrayWidth"],
        ),
        cfg(
            "cfg non-integer",
            "IfmapSramSzkB:   512",
            "IfmapSramSzkB: lots",
            &["c.cfg:", "IfmapSramSzkB"],
        ),
        tpu(
            "systolic zero rows",
            "rows = 128",
            "rows = 0",
            &["t.toml:", "array.rows"],
        ),
        tpu(
            "systolic unknown key",
            "[array]",
            "[array]\ncolour = 1",
            &["t.toml:", "colour"],
        ),
        tpu(
            "systolic bad dataflow",
            "dataflow = \"ws\"",
            "dataflow = \"zz\"",
            &["t.toml:", "dataflow"],
        ),
        tpu(
            "systolic negative bandwidth",
            "bandwidth_gbps = 2765.0",
            "bandwidth_gbps = -1.0",
            &["t.toml:", "bandwidth_gbps"],
        ),
        edited(
            "simt zero SMs",
            "g.toml",
            gpu.replacen("count = 132", "count = 0", 1),
            &["g.toml:", "count"],
        ),
        edited(
            "simt unknown section",
            "g.toml",
            format!("{gpu}\n[turbo]\nx = 1\n"),
            &["g.toml:", "turbo"],
        ),
        edited(
            "simt SM too small for any kernel",
            "g.toml",
            gpu.replacen("smem_bytes = 232448", "smem_bytes = 16384", 1),
            &["no kernel plan", "sm.smem_bytes"],
        ),
        // Non-finite numbers (TOML allows nan and inf): rejected with key and line.
        tpu(
            "systolic nan bandwidth",
            "bandwidth_gbps = 2765.0",
            "bandwidth_gbps = nan",
            &["t.toml:", "hbm.bandwidth_gbps", "finite"],
        ),
        tpu(
            "systolic infinite clock",
            "clock_mhz = 1750.0",
            "clock_mhz = +inf",
            &["t.toml:", "chip.clock_mhz", "finite"],
        ),
        edited(
            "simt -inf energy",
            "g.toml",
            gpu.replacen("hbm_pj_per_byte = ", "hbm_pj_per_byte = -inf # ", 1),
            &["g.toml:", "energy.hbm_pj_per_byte", "finite"],
        ),
        // A header comment does not hide its section from the key lookup.
        edited(
            "systolic header comment",
            "t.toml",
            shipped_src("tpu_v5p")
                .replacen("[hbm]", "[hbm]   # off-chip memory", 1)
                .replacen("bandwidth_gbps = 2765.0", "bandwidth_gbps = -1.0", 1),
            &["t.toml:", "hbm.bandwidth_gbps"],
        ),
        edited(
            "empty compare machine",
            "t.toml",
            shipped_src("tpu_v5").replacen("with = \"h100\"", "with = \"\"", 1),
            &["t.toml:", "compare.with", "must name a config"],
        ),
        case(
            "sweep plot with nothing positive to plot",
            &[(
                "s.csv",
                "index,workload,array.rows,time_s,cycles,utilization,tflops,energy_pj,pj_per_flop,hbm_read_bytes,hbm_write_bytes,hbm_bytes,main_stall\n0,w,64,0,1,0.5,1,-1,0,1,1,2,memory\n",
            )],
            "plot sweep {d}/s.csv --x array.rows --y workload --out {d}/p",
            &["s.csv", "positive time_s and energy_pj"],
        ),
        // Files that are not files.
        case(
            "config is a device",
            &[],
            "run --config /dev/zero --gemm 1,1,1",
            &["/dev/zero", "not a regular file"],
        ),
        case(
            "topology is a device",
            &[],
            "run --config {cfg} --topology /dev/null/x.csv",
            &["x.csv"],
        ),
        // Flags checked before any work.
        case(
            "--out is a file",
            &[("f", "x")],
            "run --config h100 --gemm 8,8,8 --out {d}/f",
            &["--out", "not a directory"],
        ),
        case(
            "--checkpoint-s too large",
            &[],
            "sweep --config tpu_v5e --sweep examples/sweeps/tpu_array_hbm.toml --out {d}/s.csv --checkpoint-s 1e30",
            &["--checkpoint-s"],
        ),
        // Model cards, HF configs and model-run flags.
        case(
            "card: heads do not divide hidden",
            &[("m.toml", &CARD.replace("heads = 32", "heads = 30"))],
            "run --config h100 --model {d}/m.toml",
            &["m.toml:4", "heads", "does not divide hidden"],
        ),
        case(
            "card: top_k > experts",
            &[("m.toml", &format!("{CARD}[moe]\nexperts = 8\ntop_k = 9\nexpert_ffn = 64\n"))],
            "run --config h100 --model {d}/m.toml",
            &["m.toml:11", "moe.top_k", "more than the 8 experts"],
        ),
        case(
            "card: zero layers",
            &[("m.toml", &CARD.replace("layers = 2", "layers = 0"))],
            "run --config h100 --model {d}/m.toml",
            &["m.toml:3", "layers", "at least 1"],
        ),
        case(
            "card: unknown key",
            &[("m.toml", &CARD.replace("vocab = 100", "vocab = 100\nexperts = 4"))],
            "run --config h100 --model {d}/m.toml",
            &["m.toml:9", "experts"],
        ),
        case(
            "card: kv_heads do not divide heads",
            &[("m.toml", &CARD.replace("kv_heads = 8", "kv_heads = 5"))],
            "run --config h100 --model {d}/m.toml",
            &["m.toml:5", "kv_heads"],
        ),
        case(
            "HF config of an unsupported family",
            &[("config.json", "{\n  \"model_type\": \"gpt2\",\n  \"n_embd\": 768\n}\n")],
            "run --config h100 --model {d}/config.json",
            &["config.json:2", "model_type", "gpt2", "not a supported family"],
        ),
        case(
            "HF config missing a key",
            &[("config.json", "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 64\n}\n")],
            "run --config h100 --model {d}/config.json",
            &["config.json", "num_attention_heads"],
        ),
        case(
            "unknown model name",
            &[],
            "run --config h100 --model llama9_1t",
            &["llama9_1t", "not a shipped model", "llama3_405b"],
        ),
        case(
            "model batch 0",
            &[],
            "run --config h100 --model llama3_8b --batch 0",
            &["--batch", "at least 1"],
        ),
        case(
            "recompute outside training",
            &[],
            "run --config h100 --model llama3_8b --recompute",
            &["--recompute", "train"],
        ),
        case(
            "model with a workload",
            &[],
            "run --config h100 --model llama3_8b --gemm 8,8,8",
            &["--model", "alone"],
        ),
        case(
            "kernel attention kv_heads do not divide heads",
            &[(
                "k.toml",
                "[[layer]]\ntype = \"attention\"\nname = \"a\"\nheads = 8\nkv_heads = 3\nseq_q = 4\nseq_kv = 4\nhead_dim = 8\n",
            )],
            "run --config h100 --workload {d}/k.toml",
            &["k.toml", "kv_heads", "does not divide"],
        ),
        // System commands.
        case(
            "plan does not divide the chips",
            &[],
            "train --system dgx_h100_ib --model llama3_8b --chips 16 --global-batch 16 --plan tp=3",
            &["--plan", "tp=3"],
        ),
        case(
            "unknown plan key",
            &[],
            "train --system dgx_h100_ib --model llama3_8b --chips 16 --global-batch 16 --plan zz=2",
            &["--plan", "unknown plan key `zz`"],
        ),
        case(
            "chips not matching a slice shape",
            &[],
            "collective --system tpu_v5p_pod --chips 48 --slice 4x4x4 --op all-reduce --bytes 1M",
            &["--chips", "4x4x4"],
        ),
        case(
            "slice too big for the pod",
            &[],
            "collective --system tpu_v5e_pod --chips 1024 --slice 32x32 --op all-gather --bytes 1M",
            &["--slice", "does not fit"],
        ),
        case(
            "GPU chips not whole nodes",
            &[],
            "collective --system dgx_h100_ib --chips 12 --op all-reduce --bytes 1M",
            &["--chips", "8-GPU"],
        ),
        case(
            "unknown collective",
            &[],
            "collective --system dgx_h100_ib --chips 8 --op broadcastx --bytes 1M",
            &["--op", "broadcastx"],
        ),
        case(
            "system with an unknown topology key",
            &[("s.toml", "kind = \"system\"\nchip = \"h100\"\n[scale_up]\nkind = \"switch\"\ndomain_chips = 8\nbandwidth_gbps = 450\nefficiency = 0.8\nlatency_us = 1\nbase_latency_us = 8\nsize_half_mib = 1\nlinks = 18\n[power]\nallin_w_per_chip = 1000\npue = 1.2\n")],
            "collective --system {d}/s.toml --chips 8 --op all-reduce --bytes 1M",
            &["s.toml", "links"],
        ),
        case(
            "unknown system",
            &[],
            "train --system dgx_z100 --model llama3_8b --chips 8 --global-batch 8",
            &["dgx_z100", "shipped systems"],
        ),
        case(
            "main-job --config before a command",
            &[],
            "--config h100 run --config tpu_v5e --gemm 8,8,8",
            &["--config", "after the command"],
        ),
    ]);
    out
}

#[test]
fn every_bad_input_is_a_clear_exit_2() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    eprintln!("{} bad-input cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let dir = common::tempdir();
        write(
            dir.path(),
            "bad.csv",
            b"Layer, M, N, K,\ng, 1, \xff\xfe, 1,\n",
        );
        for (n, bytes) in &c.files {
            write(dir.path(), n, bytes);
        }
        let d = common::path_str(dir.path());
        let args = c.args.split_whitespace();
        let out = archsim(args.map(|a| a.replace("{d}", d).replace("{cfg}", CFG)));
        let stderr = common::stderr(&out);
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

#[test]
fn a_closed_stdout_is_not_a_panic() {
    // The reader goes away before archsim writes (`archsim list | head -0`): a quiet exit 0.
    for args in [
        &["list"][..],
        &["run", "--config", "h100", "--gemm", "8,8,8"][..],
    ] {
        let mut child = common::command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start archsim");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("run archsim");
        let stderr = common::stderr(&out);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
