//! Helpers shared by the integration tests (`mod common;`): the `archsim` binary runner and the
//! fixtures (temp files, repository paths, shipped configs, proptest settings).
#![allow(dead_code)]

use archsim::registry::{self, HardwareConfig, LoadedConfig};
use archsim::systolic::config::SystolicConfig;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `archsim` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_archsim");

/// A SCALE-Sim `.cfg` from the reference data, relative to the repository root.
pub const SCALESIM_CFG: &str = "tests/data/scalesim/configs/calc_32x32_ws.cfg";

/// The repository root (every binary run starts there).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data`.
pub fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// The text of a file of the repository, by its path relative to the root.
pub fn repo_file(rel: &str) -> String {
    let p = repo().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `archsim ARGS` run from the repository root, not yet started.
pub fn command<I>(args: I) -> Command
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut c = Command::new(BIN);
    c.args(args).current_dir(repo());
    c
}

/// Runs `archsim ARGS` from the repository root.
pub fn archsim<I>(args: I) -> Output
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    command(args).output().expect("run archsim")
}

/// Runs `archsim ARGS` with `RAYON_NUM_THREADS` set to `threads`.
pub fn archsim_threads<I>(args: I, threads: &str) -> Output
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    command(args)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run archsim")
}

/// Runs `archsim ARGS` in a fresh temp dir; `{d}` in an argument is replaced by the dir's path.
/// The dir is returned so that the files written there can be read.
pub fn archsim_in_tempdir(args: &[&str]) -> (tempfile::TempDir, Output) {
    let dir = tempdir();
    let d = path_str(dir.path()).to_string();
    let out = archsim(args.iter().map(|a| a.replace("{d}", &d)));
    (dir, out)
}

/// The standard error of a run, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The standard output of a run, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts that a run succeeded, showing its output if not.
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// Asserts that a run was refused as an input error (exit code 2); returns its standard error.
pub fn assert_input_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    err
}

/// A fresh temp dir, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Writes `contents` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

/// A path as `&str` (the temp dirs are UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The text of a shipped config (`configs/NAME.toml`).
pub fn shipped_src(name: &str) -> &'static str {
    archsim::config::shipped(name)
        .unwrap_or_else(|| panic!("{name} is not shipped"))
        .1
}

/// A shipped systolic (TPU) config, loaded.
pub fn systolic(name: &str) -> SystolicConfig {
    match registry::load(name).unwrap().hw {
        HardwareConfig::Systolic(c) => *c,
        _ => panic!("{name} is not systolic"),
    }
}

/// Writes `contents` to a temp file named `file_name` and loads it with `registry::load`.
pub fn load_file(file_name: &str, contents: impl AsRef<[u8]>) -> archsim::Result<LoadedConfig> {
    let dir = tempdir();
    let p = write(dir.path(), file_name, contents);
    registry::load(path_str(&p))
}

/// The 1-based number of the first line of `text` that starts with `prefix`.
pub fn line_starting(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with `{prefix}`"))
        + 1
}

/// Proptest settings: `cases` cases, no failure-persistence files.
pub fn proptest_cases(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

/// Hostile numeric values for config keys (NaN, ±inf, 0, negative, tiny, huge, 2^64).
pub const HOSTILE: [&str; 8] = [
    "nan",
    "inf",
    "-inf",
    "0",
    "-1",
    "1e-300",
    "1e308",
    "18446744073709551616",
];

/// The config text with `key` set to `value` (line-level edit, so the file stays as written).
pub fn with_value(src: &str, key: &str, value: &str) -> String {
    let (table, last) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    let mut out = Vec::new();
    let mut done = false;
    for line in src.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            current = t
                .split('#')
                .next()
                .unwrap()
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        } else if !done && current == table {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim() == last {
                    out.push(format!("{last} = {value}"));
                    done = true;
                    continue;
                }
            }
        }
        out.push(line.to_string());
    }
    assert!(done, "key {key} not found");
    out.join("\n") + "\n"
}

/// The dotted keys of a TOML text whose values are numbers.
pub fn numeric_keys(src: &str) -> Vec<String> {
    let table: toml::Table = src.parse().unwrap();
    archsim::config::toml_leaves(&table)
        .into_iter()
        .filter(|(_, v)| v.is_integer() || v.is_float())
        .map(|(k, _)| k)
        .collect()
}
