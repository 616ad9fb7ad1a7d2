//! Embeds every shipped hardware config (`configs/*.toml`) and workload (`kernels/*.toml`,
//! `kernels/*.csv`) into the binary, so `--config tpu_v5` works from any directory.
use std::fmt::Write as _;
use std::path::Path;

fn embed(dir: &str, exts: &[&str], out: &mut String, fn_name: &str) {
    println!("cargo:rerun-if-changed={dir}");
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    writeln!(out, "/// Shipped files of `{dir}/`: (file name, contents).").unwrap();
    writeln!(
        out,
        "pub fn {fn_name}() -> &'static [(&'static str, &'static str)] {{ &["
    )
    .unwrap();
    for p in entries {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !exts.contains(&ext) {
            continue;
        }
        println!("cargo:rerun-if-changed={}", p.display());
        let abs = std::fs::canonicalize(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "] }}").unwrap();
}

/// Output of `git ARGS` run in the crate directory, trimmed; `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// `ARCHSIM_GIT_COMMIT` for `archsim --version`: the short hash of the commit checked out when
/// the crate is the top of a git checkout (uncommitted edits are not flagged), else
/// "unknown commit" (a crate tarball, or a copy inside some other repository).
fn git_commit() -> String {
    let manifest = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).ok();
    let top = git(&["rev-parse", "--show-toplevel"]).and_then(|t| std::fs::canonicalize(t).ok());
    if top.is_none() || top != manifest {
        return "unknown commit".to_string();
    }
    // Rebuild when HEAD moves: HEAD itself, the ref it points at and packed-refs, those that
    // exist (a missing path would make cargo rerun this script on every build).
    for p in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    .filter(|p| Path::new(env!("CARGO_MANIFEST_DIR")).join(p).exists())
    {
        println!("cargo:rerun-if-changed={p}");
    }
    git(&["rev-parse", "--short=12", "HEAD"])
        .map(|hash| format!("commit {hash}"))
        .unwrap_or_else(|| "unknown commit".to_string())
}

fn main() {
    println!("cargo:rustc-env=ARCHSIM_GIT_COMMIT={}", git_commit());
    let mut out = String::new();
    embed("configs", &["toml"], &mut out, "configs");
    embed("configs/systems", &["toml"], &mut out, "systems");
    embed("kernels", &["toml", "csv"], &mut out, "kernels");
    embed("kernels/models", &["toml"], &mut out, "models");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
