//! The Slurm job-array script on a real Slurm: runs `scripts/slurm/ci_slurm_test.sh` (installs
//! Slurm with apt if needed, starts munged/slurmctld/slurmd as root, submits
//! `scripts/slurm/sweep_array.sbatch` as a 4-task array and checks merge == unsharded).
//! Opt-in: it needs root and starts daemons, so it runs only with `ARCHSIM_SLURM_TEST=1`.

mod common;

use std::process::Command;

#[test]
fn slurm_job_array_merge_equals_unsharded_run() {
    if std::env::var("ARCHSIM_SLURM_TEST").as_deref() != Ok("1") {
        eprintln!(
            "SKIP sweep_slurm: set ARCHSIM_SLURM_TEST=1 to run scripts/slurm/ci_slurm_test.sh \
             (needs root; installs and starts a single-node Slurm)"
        );
        return;
    }
    let root = common::repo();
    let out = Command::new("bash")
        .arg(root.join("scripts/slurm/ci_slurm_test.sh"))
        .env("ARCHSIM", common::BIN)
        .current_dir(root)
        .output()
        .expect("run bash");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "ci_slurm_test.sh failed:\n{text}");
    assert!(
        text.contains("PASS:") || text.contains("SKIP:"),
        "no PASS/SKIP line:\n{text}"
    );
}
