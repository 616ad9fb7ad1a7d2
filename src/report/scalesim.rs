//! SCALE-Sim 3.0.0 report files (COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
//! DETAILED_ACCESS_REPORT.csv).
use super::{Exporter, OutputFile};
use crate::error::{Error, Result};
use crate::RunReport;

pub struct ScaleSimExporter;

impl Exporter for ScaleSimExporter {
    fn export(&self, _run: &RunReport) -> Result<Vec<OutputFile>> {
        Err(Error::internal("scalesim reports not built yet"))
    }
}
