//! Determinism: the same inputs give byte-identical JSON with RAYON_NUM_THREADS=1 and 2, and
//! across repeated runs, on every kind of machine.

use std::process::Command;

fn run(threads: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn json_identical_across_thread_counts_and_runs() {
    let cases: [&[&str]; 4] = [
        &[
            "run",
            "--config",
            "tpu_v5p",
            "--workload",
            "gpt3_175b_layer",
            "--format",
            "json",
        ],
        &[
            "run",
            "--config",
            "h100",
            "--workload",
            "resnet50",
            "--format",
            "json",
        ],
        &[
            "run",
            "--config",
            "tests/data/scalesim/configs/calc_32x32_ws.cfg",
            "--topology",
            "kernels/resnet50.csv",
            "--format",
            "json",
        ],
        &[
            "run",
            "--config",
            "a100",
            "--workload",
            "bert_large",
            "--format",
            "csv",
        ],
    ];
    for args in cases {
        let one = run("1", args);
        let two = run("2", args);
        let again = run("2", args);
        assert!(!one.is_empty());
        assert_eq!(one, two, "{args:?}: 1 vs 2 threads differ");
        assert_eq!(two, again, "{args:?}: repeated runs differ");
    }
}
