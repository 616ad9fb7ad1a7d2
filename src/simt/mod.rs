//! SIMT GPU model.
pub mod config;

use crate::energy::EnergyTable;
use crate::error::{Error, Result};
use crate::machine::{Machine, MachineKind, OpProfile};
use crate::workload::{DType, Op};
use config::SimtConfig;

pub struct GpuMachine {
    cfg: SimtConfig,
    name: String,
    energy: EnergyTable,
}

impl GpuMachine {
    pub fn new(cfg: SimtConfig, name: &str) -> Self {
        GpuMachine { cfg, name: name.to_string(), energy: EnergyTable::default() }
    }
}

impl Machine for GpuMachine {
    fn name(&self) -> &str { &self.name }
    fn kind(&self) -> MachineKind { MachineKind::Simt }
    fn describe(&self) -> serde_json::Value { serde_json::json!({"name": self.name, "kind": "simt", "cfg": format!("{:?}", self.cfg.kind)}) }
    fn clock_hz(&self) -> f64 { 1.0 }
    fn peak_flops(&self, _dtype: DType) -> f64 { 1.0 }
    fn hbm_bandwidth_bytes_per_s(&self) -> f64 { 1.0 }
    fn energy_table(&self) -> &EnergyTable { &self.energy }
    fn simulate(&self, _op: &Op) -> Result<OpProfile> { Err(Error::internal("gpu model not built yet")) }
}
