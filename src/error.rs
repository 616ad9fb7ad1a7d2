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
}
