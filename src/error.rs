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
    /// Internal failure (a bug, or writing an output failed). Exit code 1.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn input(loc: Location, msg: impl Into<String>) -> Self {
        Error::Input {
            loc,
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
            Error::Input { .. } | Error::InputFile { .. } => 2,
            Error::Internal(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Read a user input file as UTF-8 text, turning every failure into an input error that names the
/// file and says what is wrong (missing, a directory, unreadable, not UTF-8).
pub fn read_input_file(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        msg: match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => format!("cannot read: {e}"),
        },
    })?;
    if meta.is_dir() {
        return Err(Error::InputFile {
            path: path.to_path_buf(),
            msg: "is a directory, expected a file".into(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        msg: format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::input(
            Location::path(path).line(line),
            format!(
                "file is not valid UTF-8 (invalid byte at offset {valid}); save it as UTF-8 text"
            ),
        )
    })
}

/// 1-based (line, column) of a byte offset in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|p| offset - p).unwrap_or(offset + 1);
    (line, col)
}

/// Find the 1-based line of a (possibly dotted) TOML key such as `array.rows` in the source text:
/// the line of `rows = ...` inside `[array]`, or a line `array.rows = ...`. Best effort: used to
/// point semantic errors (valid TOML, bad value) at the right line.
pub fn toml_key_line(src: &str, dotted: &str) -> Option<usize> {
    let parts: Vec<&str> = dotted.split('.').collect();
    let (last, table) = parts.split_last()?;
    let table = table.join(".");
    let mut current = String::new();
    for (i, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("[[") {
            current = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            continue;
        }
        if line.starts_with('[') {
            current = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            continue;
        }
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim().trim_matches('"');
            let full = if current.is_empty() {
                k.to_string()
            } else {
                format!("{current}.{k}")
            };
            if full == dotted || (current == table && k == *last) {
                return Some(i + 1);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_line_in_table_and_dotted() {
        let src = "kind = \"systolic\"\n[array]\nrows = 0\ncols = 4\n[hbm]\nbandwidth_gbps = 1\n";
        assert_eq!(toml_key_line(src, "array.rows"), Some(3));
        assert_eq!(toml_key_line(src, "hbm.bandwidth_gbps"), Some(6));
        assert_eq!(toml_key_line(src, "kind"), Some(1));
        assert_eq!(toml_key_line(src, "array.missing"), None);
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Error::flag("--gemm", "x").exit_code(), 2);
        assert_eq!(Error::internal("x").exit_code(), 1);
    }
}
