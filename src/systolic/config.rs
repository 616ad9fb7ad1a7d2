//! archsim TOML config of a systolic (TPU-style) machine.
use crate::config::{CompareSection, CostSection, WorkloadSection};
use crate::error::Result;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystolicConfig {
    pub kind: String,
    pub compare: Option<CompareSection>,
    pub workload: Option<WorkloadSection>,
    pub cost: Option<CostSection>,
}

impl SystolicConfig {
    pub fn from_toml(src: &str, file: &str) -> Result<Self> {
        toml::from_str(src).map_err(|e| crate::config::toml_error(src, file, &e))
    }
}
