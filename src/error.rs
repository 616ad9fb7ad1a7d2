//! Errors. Every user-facing failure is an [`Error::Input`] (exit code 2) that names the file, the
//! line (and column where known) and the key, and says what to fix. [`Error::Internal`] is a bug
//! or an I/O failure on output (exit code 1).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a user input a problem is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// File path as the user gave it (or `<flag>` / `<builtin:NAME>`).
    pub file: String,
    /// 1-based line number, if known.
    pub line: Option<usize>,
    /// 1-based column, if known.
    pub column: Option<usize>,
    /// Key or field name (dotted for TOML, e.g. `array.rows`).
    pub key: Option<String>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            ..Default::default()
        }
    }
    pub fn path(p: &Path) -> Self {
        Self::file(p.display().to_string())
    }
    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
    pub fn column(mut self, col: usize) -> Self {
        self.column = Some(col);
        self
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input (config, workload, flags). Exit code 2.
    #[error("{loc}: {msg}")]
    Input { loc: Location, msg: String },
    /// Reading an input file failed (missing, unreadable, a directory, not UTF-8). Exit code 2.
    #[error("{path}: {msg}")]
    InputFile { path: PathBuf, msg: String },
    /// A run setting (model mode, output format, ...) that does not apply to this machine or op.
    /// The library names the setting; the CLI reports it as the flag that sets it. Exit code 2.
    #[error("setting `{name}`: {msg}")]
    Setting { name: String, msg: String },
    /// Internal failure (a bug). Exit code 1.
    #[error("internal error: {0}")]
    Internal(String),
    /// Writing an output failed (a full disk, `> /dev/full`, no permission): not bad input and
    /// not a bug. Exit code 1.
    #[error("{0}")]
    Output(String),
}

impl Error {
    pub fn input(loc: Location, msg: impl Into<String>) -> Self {
        Error::Input {
            loc,
            msg: msg.into(),
        }
    }
    /// A run setting (`mode`, `format`, ...) that does not fit the machine or the op.
    pub fn setting(name: &str, msg: impl Into<String>) -> Self {
        Error::Setting {
            name: name.to_string(),
            msg: msg.into(),
        }
    }
    /// A bad command-line flag.
    pub fn flag(flag: &str, msg: impl Into<String>) -> Self {
        Error::input(Location::file("<command line>").key(flag), msg)
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
    /// Process exit code for this error: 2 for bad input, 1 for internal failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::InputFile { .. } | Error::Setting { .. } => 2,
            Error::Internal(_) | Error::Output(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Smallest Jaro–Winkler similarity (Winkler 1990, via `strsim::jaro_winkler`) at which a known
/// name is offered as "did you mean": 0.8, so `h10` → `h100` and `rowz` → `rows`, while unrelated
/// names get no suggestion. (clap's own flag suggestions use plain Jaro at 0.7.)
pub const SUGGEST_MIN_SIMILARITY: f64 = 0.8;

/// The known name closest to `input` by Jaro–Winkler similarity, if it reaches
/// [`SUGGEST_MIN_SIMILARITY`]; ties go to the earlier candidate. Compared case-insensitively.
pub fn nearest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let input = input.to_ascii_lowercase();
    let mut best: Option<(&'a str, f64)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&input, &c.to_ascii_lowercase());
        if score >= SUGGEST_MIN_SIMILARITY && best.is_none_or(|(_, b)| score > b) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

/// `"; did you mean `NAME`?"` for the [`nearest`] candidate, or an empty string.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    nearest(input, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The offending line of an input text with a caret under the problem, rustc-style:
///
/// ```text
///   |
/// 3 | rows = 0
///   |        ^
/// ```
///
/// `line` is 1-based. The carets start at `column` (1-based, in characters) when known and run
/// to the end of the token there; without a column they underline the last segment of `key`
/// (`array.rows` → `rows`) where it appears on the line, else the whole trimmed line. `None`
/// when the text has no such line. Hand-written (a dozen lines) rather than a crate such as
/// annotate-snippets or miette: the first line of every error (`error: FILE:LINE[:COL]: key
/// ...`) is a contract scripts rely on, and only this three-line block is added below it.
pub fn snippet(src: &str, line: usize, column: Option<usize>, key: Option<&str>) -> Option<String> {
    let text = src
        .lines()
        .nth(line.checked_sub(1)?)?
        .trim_end_matches('\r');
    let chars: Vec<char> = text.chars().collect();
    let is_end = |c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#');
    let (start, len) = match column.filter(|&c| c >= 1 && c <= chars.len()) {
        Some(c) => {
            let start = c - 1;
            let len = chars[start..].iter().take_while(|&&ch| !is_end(ch)).count();
            (start, len.max(1))
        }
        None => {
            let last = key
                .and_then(|k| k.rsplit('.').next())
                .filter(|k| !k.is_empty());
            match last.and_then(|k| text.find(k).map(|b| (b, k))) {
                Some((b, k)) => (text[..b].chars().count(), k.chars().count()),
                None => {
                    let lead = chars.iter().take_while(|c| c.is_whitespace()).count();
                    (lead, (chars.len() - lead).max(1))
                }
            }
        }
    };
    let num = line.to_string();
    let pad = " ".repeat(num.len());
    let indent: String = chars[..start]
        .iter()
        .map(|&c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(
        "{pad} |\n{num} | {text}\n{pad} | {indent}{}",
        "^".repeat(len)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Error::flag("--gemm", "x").exit_code(), 2);
        assert_eq!(Error::setting("mode", "x").exit_code(), 2);
        assert_eq!(Error::internal("x").exit_code(), 1);
        assert_eq!(Error::Output("x".into()).exit_code(), 1);
    }

    #[test]
    fn nearest_name() {
        let names = ["h100", "a100", "tpu_v5", "tpu_v5e"];
        assert_eq!(nearest("h10", names), Some("h100"));
        assert_eq!(nearest("tpu_v5p", names), Some("tpu_v5"));
        assert_eq!(nearest("zzzz", names), None);
        assert_eq!(did_you_mean("H100x", names), "; did you mean `h100`?");
        assert_eq!(did_you_mean("qqq", names), "");
    }

    #[test]
    fn snippet_caret_at_column_spans_the_token() {
        let src = "kind = \"systolic\"\n[array]\nrows = -4\n";
        let s = snippet(src, 3, Some(8), Some("array.rows")).unwrap();
        assert_eq!(s, "  |\n3 | rows = -4\n  |        ^^");
    }

    #[test]
    fn snippet_without_column_underlines_the_key() {
        let src = "a = 1\n[array]\n  rowz = 4\n";
        let s = snippet(src, 3, None, Some("array.rowz")).unwrap();
        assert_eq!(s, "  |\n3 |   rowz = 4\n  |   ^^^^");
        assert_eq!(snippet(src, 9, None, None), None);
        assert_eq!(snippet(src, 0, None, None), None);
    }
}
