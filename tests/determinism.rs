//! Determinism: the same inputs give byte-identical JSON with RAYON_NUM_THREADS=1 and 2, and
//! across repeated runs, on every kind of machine.

mod common;

use common::{archsim_threads, stderr, SCALESIM_CFG};

fn run(threads: &str, args: &[&str]) -> Vec<u8> {
    let out = archsim_threads(args, threads);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out.stdout
}

#[test]
fn json_identical_across_thread_counts_and_runs() {
    let cases: [&[&str]; 6] = [
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
            SCALESIM_CFG,
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
        &[
            "run",
            "--config",
            "mi300x",
            "--workload",
            "bert_large",
            "--format",
            "json",
        ],
        &[
            "run",
            "--config",
            "trn2",
            "--workload",
            "gpt3_175b_layer",
            "--format",
            "json",
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
