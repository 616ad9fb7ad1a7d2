//! Fuzzing the sweep / merge / resume path: a sweep run interrupted at random (SIGKILL after a
//! random delay), its CSV truncated at a random byte (a partial last line included), rows
//! dropped, garbage appended, or split into shards (each possibly cut short and resumed) and
//! merged, must end in a CSV byte-equal to the uninterrupted run's, or be refused with exit 2.
//! Never a different file with exit 0.

mod common;

use common::{archsim, command, path_str as s, write};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// 2 × 2 × 3 = 12 points of the smoke workload on tpu_v5e: quick, but many rows to cut.
const SWEEP: &str = "workloads = [\"smoke\"]\narray.rows = [64, 128]\narray.dataflow = [\"ws\", \"os\"]\nhbm.bandwidth_gbps = {from = 800, to = 2400, step = 800}\n";

fn sweep_args<'a>(sw: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "sweep", "-q", "--config", "tpu_v5e", "--sweep", sw, "--out", out,
    ];
    a.extend_from_slice(extra);
    a
}

/// The uninterrupted run's bytes (computed once).
fn full() -> &'static Vec<u8> {
    static FULL: OnceLock<Vec<u8>> = OnceLock::new();
    FULL.get_or_init(|| {
        let d = common::tempdir();
        let sw = write(d.path(), "s.toml", SWEEP);
        let out = d.path().join("full.csv");
        common::assert_ok(&archsim(sweep_args(s(&sw), s(&out), &[])));
        std::fs::read(&out).unwrap()
    })
}

/// Runs (resumes) the sweep into `out`; Ok(true) when it succeeded, Ok(false) when refused with
/// exit 2, Err on any other outcome.
fn resume(sw: &Path, out: &Path, extra: &[&str]) -> Result<bool, String> {
    let o = archsim(sweep_args(s(sw), s(out), extra));
    match o.status.code() {
        Some(0) => Ok(true),
        Some(2) => Ok(false),
        c => Err(format!("exit {c:?}: {}", common::stderr(&o))),
    }
}

#[derive(Debug, Clone)]
enum Damage {
    /// Keep the first `n` bytes (header or rows cut anywhere).
    Truncate(usize),
    /// Keep rows whose index is not a multiple of `k`, then cut the last kept row at `cut` bytes
    /// from its end.
    DropRows { k: usize, cut: usize },
    /// Append bytes.
    Garbage(Vec<u8>),
    /// Kill a fresh run after `ms` milliseconds (checkpoints every 1 ms; the whole run takes tens
    /// of milliseconds).
    Kill { ms: u64 },
    /// Run as `n` shards, shard `cut_shard` truncated to `keep` bytes and resumed, then merge.
    Shards { n: u64, cut_shard: u64, keep: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0usize..3000).prop_map(Damage::Truncate),
        (2usize..5, 0usize..40).prop_map(|(k, cut)| Damage::DropRows { k, cut }),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(Damage::Garbage),
        (0u64..80).prop_map(|ms| Damage::Kill { ms }),
        (2u64..5, 0u64..4, 0usize..1500).prop_map(|(n, c, keep)| Damage::Shards {
            n,
            cut_shard: c % n,
            keep
        }),
    ]
}

fn apply(d: &Damage) -> Result<(), TestCaseError> {
    let full = full();
    let dir = common::tempdir();
    let sw = write(dir.path(), "s.toml", SWEEP);
    let out = dir.path().join("out.csv");
    match d {
        Damage::Truncate(n) => {
            std::fs::write(&out, &full[..(*n).min(full.len())]).unwrap();
        }
        Damage::DropRows { k, cut } => {
            let text = String::from_utf8(full.clone()).unwrap();
            let mut kept: Vec<&str> = text
                .lines()
                .enumerate()
                .filter(|(i, _)| *i == 0 || i % k != 0)
                .map(|(_, l)| l)
                .collect();
            let last = kept.pop().unwrap();
            let body = kept.join("\n") + "\n" + &last[..last.len().saturating_sub(*cut)];
            std::fs::write(&out, body).unwrap();
        }
        Damage::Garbage(g) => {
            let mut b = full.clone();
            b.extend_from_slice(g);
            std::fs::write(&out, b).unwrap();
        }
        Damage::Kill { ms } => {
            let mut child = command(sweep_args(s(&sw), s(&out), &["--checkpoint-s", "0.001"]))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(*ms));
            let _ = child.kill();
            let _ = child.wait();
        }
        Damage::Shards { n, cut_shard, keep } => {
            let mut shards = Vec::new();
            for i in 0..*n {
                let p = dir.path().join(format!("sh{i}.csv"));
                let shard = format!("{i}/{n}");
                prop_assert!(resume(&sw, &p, &["--shard", &shard]).map_err(TestCaseError::fail)?);
                if i == *cut_shard {
                    let b = std::fs::read(&p).unwrap();
                    std::fs::write(&p, &b[..(*keep).min(b.len())]).unwrap();
                    if !resume(&sw, &p, &["--shard", &shard]).map_err(TestCaseError::fail)? {
                        return Ok(()); // refused with exit 2
                    }
                }
                shards.push(p);
            }
            let mut args = vec!["merge".to_string(), s(&out).to_string()];
            args.extend(shards.iter().map(|p| s(p).to_string()));
            let o = archsim(&args);
            match o.status.code() {
                Some(0) => prop_assert_eq!(&std::fs::read(&out).unwrap(), full),
                Some(2) => {}
                c => prop_assert!(false, "merge exit {:?}: {}", c, common::stderr(&o)),
            }
            return Ok(());
        }
    }
    if resume(&sw, &out, &[]).map_err(TestCaseError::fail)? {
        let got = std::fs::read(&out).unwrap();
        prop_assert!(
            &got == full,
            "{:?}: exit 0 with another file:\n{}",
            d,
            String::from_utf8_lossy(&got)
        );
    }
    // No temp file is left beside the output.
    let litter: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    prop_assert!(litter.is_empty(), "{:?}: temp files left: {:?}", d, litter);
    Ok(())
}

proptest! {
    #![proptest_config(common::proptest_cases(24))]

    #[test]
    fn damaged_sweeps_resume_to_the_uninterrupted_file_or_are_refused(d in damage()) {
        apply(&d)?;
    }
}
