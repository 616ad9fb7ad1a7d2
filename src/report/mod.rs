//! Exporters: pure functions from a [`RunReport`] to bytes, one file per format (the hyperfine
//! `export/` pattern). All file writing goes through [`write_atomic`].

pub mod chrome_trace;
pub mod csv;
pub mod json;
pub mod scalesim;
pub mod table;

use crate::error::{Error, Result};
use crate::RunReport;
use std::path::Path;

/// Output format of `archsim run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable per-op table (default).
    Table,
    /// One JSON document: {"machine", "ops", "total"}.
    Json,
    /// One CSV row per op.
    Csv,
    /// SCALE-Sim 3.0.0 reports: COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
    /// DETAILED_ACCESS_REPORT.csv.
    Scalesim,
    /// Chrome trace event format (trace.json), opens in Perfetto / chrome://tracing.
    Trace,
}

/// One output: a file name (used under `--out DIR`) and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A report format.
pub trait Exporter {
    /// Render the run into one or more files.
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>>;
}

/// The exporter of a format.
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter),
        Format::Json => Box::new(json::JsonExporter),
        Format::Csv => Box::new(csv::CsvExporter),
        Format::Scalesim => Box::new(scalesim::ScaleSimExporter),
        Format::Trace => Box::new(chrome_trace::ChromeTraceExporter),
    }
}

/// Write bytes to `path` atomically: a temp file in the same directory, then rename, so an
/// interrupted run never leaves a truncated report and an existing file is never half-written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|e| {
            Error::internal(format!("cannot create directory {}: {e}", d.display()))
        })?;
    }
    let file_name = path
        .file_name()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::internal(format!("bad output path {}", path.display())))?;
    let tmp = path.with_file_name(format!(".{file_name}.tmp.{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.display())))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::internal(format!("cannot move output into {}: {e}", path.display()))
    })
}

/// Write every file under `dir` atomically.
pub fn write_all(dir: &Path, files: &[OutputFile]) -> Result<()> {
    for f in files {
        write_atomic(&dir.join(&f.name), &f.bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.txt");
        write_atomic(&p, b"first version, long").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
