//! The habits of a released tool, end to end through the binary: a bare `archsim` prints the
//! help, `--version` names the commit, `list` describes every entry, misspelled names, keys
//! and flags get a "did you mean", and input errors show the offending line with a caret below
//! the unchanged first line.

mod common;

use common::{archsim, assert_input_error, assert_ok, path_str, stdout, tempdir, write};

#[test]
fn bare_archsim_prints_help_and_exits_0() {
    let o = archsim(Vec::<&str>::new());
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("Usage: archsim"), "{out}");
    for cmd in ["run", "compare", "list", "schema", "train", "serve"] {
        assert!(
            out.contains(&format!("  {cmd} ")),
            "no `{cmd}` in help:\n{out}"
        );
    }
    assert!(out.contains("--config"), "{out}");
}

#[test]
fn flags_without_config_or_command_are_still_an_error() {
    // Only a bare `archsim` is a request for help; `archsim -q` forgot the --config.
    let err = assert_input_error(&archsim(["-q"]));
    assert!(
        err.starts_with("error: <command line>: key `--config`"),
        "{err}"
    );
}

#[test]
fn version_names_the_commit() {
    let o = archsim(["--version"]);
    assert_ok(&o);
    let out = stdout(&o);
    let line = out.trim();
    assert!(
        line.starts_with(&format!("archsim {} (", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    // Built from this checkout: a hex commit hash; elsewhere "unknown commit".
    let inside = line
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap();
    let ok = inside == "unknown commit"
        || inside
            .strip_prefix("commit ")
            .is_some_and(|h| h.len() == 12 && h.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(ok, "{line}");
}

#[test]
fn list_describes_every_entry() {
    let o = archsim(["list"]);
    assert_ok(&o);
    let out = stdout(&o);
    let mut section = "";
    for line in out.lines() {
        if !line.starts_with("  ") {
            section = line;
            continue;
        }
        let mut parts = line.trim().splitn(2, "  ");
        let name = parts.next().unwrap();
        let rest = parts.next().unwrap_or("").trim();
        assert!(
            rest.len() > 10,
            "`{name}` in {section} has no description: {line:?}"
        );
    }
    for s in ["resnet50.toml", "llama3_8b", "dgx_h100_ib", "tpu_v5p"] {
        assert!(out.contains(s), "{s} missing from\n{out}");
    }
    assert!(out.contains("Meta Llama 3 8B"), "{out}");
    assert!(out.contains("SCALE-Sim topology CSV, 54 layers"), "{out}");
}

/// `archsim ARGS` must fail with exit 2 and say `did you mean `WANT`?`.
fn suggests(args: &[&str], want: &str) -> String {
    let err = assert_input_error(&archsim(args));
    assert!(
        err.contains(&format!("did you mean `{want}`?")),
        "{args:?}: no suggestion of {want}:\n{err}"
    );
    err
}

#[test]
fn did_you_mean_for_names() {
    let err = suggests(&["run", "--config", "h10", "--gemm", "8,8,8"], "h100");
    // The first line keeps its shape: error: SPEC: message.
    assert!(err.starts_with("error: h10: file not found"), "{err}");
    suggests(
        &["run", "--config", "tpu_v5pp", "--gemm", "8,8,8"],
        "tpu_v5p",
    );
    suggests(
        &["run", "--config", "h100", "--workload", "resnt50"],
        "resnet50",
    );
    suggests(
        &["run", "--config", "h100", "--model", "llama3_8"],
        "llama3_8b",
    );
    suggests(
        &[
            "collective",
            "--system",
            "dgx_h100",
            "--chips",
            "8",
            "--op",
            "all_reduce",
            "--bytes",
            "1",
        ],
        "dgx_h100_ib",
    );
    // Nothing near: no suggestion.
    let err = assert_input_error(&archsim(["run", "--config", "qqqqqq", "--gemm", "8,8,8"]));
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn did_you_mean_for_config_keys_and_values() {
    let d = tempdir();
    let src = common::shipped_src("tpu_v5p").replacen("rows = ", "rowz = ", 1);
    let p = write(d.path(), "bad.toml", src);
    let err = suggests(
        &["run", "--config", path_str(&p), "--gemm", "8,8,8"],
        "rows",
    );
    assert!(err.contains("unknown field `rowz`"), "{err}");
    let src = common::shipped_src("h100").replacen("[memory]", "[memroy]", 1);
    let p = write(d.path(), "bad2.toml", src);
    suggests(
        &["run", "--config", path_str(&p), "--gemm", "8,8,8"],
        "memory",
    );
    let src = common::shipped_src("tpu_v5p").replacen("dataflow = \"ws\"", "dataflow = \"wss\"", 1);
    assert!(
        src.contains("\"wss\""),
        "tpu_v5p has no dataflow line to break"
    );
    let p = write(d.path(), "bad3.toml", src);
    suggests(&["run", "--config", path_str(&p), "--gemm", "8,8,8"], "ws");
}

#[test]
fn clap_suggests_flags_and_commands() {
    let o = archsim([
        "run", "--config", "h100", "--gemm", "8,8,8", "--formt", "json",
    ]);
    let err = assert_input_error(&o);
    assert!(err.contains("similar argument exists: '--format'"), "{err}");
    let err = assert_input_error(&archsim(["--confg", "h100"]));
    assert!(err.contains("'--config'"), "{err}");
    let err = assert_input_error(&archsim(["lis"]));
    assert!(err.contains("similar subcommand exists: 'list'"), "{err}");
}

#[test]
fn input_errors_show_the_line_with_a_caret() {
    let d = tempdir();
    let src = common::shipped_src("tpu_v5p").replacen("rows = ", "rowz = ", 1);
    let line_no = common::line_starting(&src, "rowz");
    let p = write(d.path(), "bad.toml", &src);
    let err = assert_input_error(&archsim([
        "run",
        "--config",
        path_str(&p),
        "--gemm",
        "8,8,8",
    ]));
    let lines: Vec<&str> = err.lines().collect();
    // Line 1 exactly as before: error: FILE:LINE:COL: key `K`: message.
    let first = format!(
        "error: {}:{line_no}:1: key `rowz`: unknown field `rowz`",
        p.display()
    );
    assert!(lines[0].starts_with(&first), "{err}");
    let gutter = " ".repeat(line_no.to_string().len());
    assert_eq!(lines[1], format!("{gutter} |"), "{err}");
    let text = src.lines().nth(line_no - 1).unwrap();
    assert_eq!(lines[2], format!("{line_no} | {text}"), "{err}");
    let indent = text.len() - text.trim_start().len();
    assert_eq!(
        lines[3],
        format!("{gutter} | {}^^^^", " ".repeat(indent)),
        "{err}"
    );

    // A bad value in a shipped-name-free file without a column: the caret under the key.
    let src = common::shipped_src("h100").replacen("count = ", "count = -", 1);
    let p = write(d.path(), "neg.toml", &src);
    let err = assert_input_error(&archsim([
        "run",
        "--config",
        path_str(&p),
        "--gemm",
        "8,8,8",
    ]));
    assert!(err.lines().count() >= 4, "{err}");
    assert!(
        err.lines()
            .any(|l| l.trim_start().starts_with("| ") && l.contains('^')),
        "{err}"
    );
}

#[test]
fn errors_without_a_line_have_no_snippet() {
    let err = assert_input_error(&archsim(["run", "--config", "h100"]));
    assert_eq!(err.lines().count(), 1, "{err}");
}
