//! JSON report: the document of `docs/ARCHITECTURE.md` (contracts), `{"machine", "ops", "total"}`.
use super::Exporter;
use crate::error::{Error, Result};
use crate::fsio::OutputFile;
use crate::run::RunReport;

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        let mut bytes = serde_json::to_vec_pretty(run)
            .map_err(|e| Error::internal(format!("JSON serialization failed: {e}")))?;
        bytes.push(b'\n');
        Ok(vec![OutputFile {
            name: "report.json".into(),
            bytes,
        }])
    }
}
