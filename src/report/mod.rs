//! Exporters: pure functions from a [`RunReport`] to bytes, one file per format (the hyperfine
//! `export/` pattern). All file writing goes through [`write_atomic`].

pub mod chrome_trace;
pub mod csv;
pub mod json;
pub mod scalesim;
pub mod stream;
pub mod table;

use crate::error::Result;
use crate::fsio::OutputFile;
use crate::run::RunReport;

/// Output format of `archsim run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
