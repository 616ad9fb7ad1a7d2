//! USER-mode read buffers (`memory/read_buffer.py`; MODEL.md §4 USER).

use super::geometry::{Layer, Mapping};
use crate::config::scalesim_cfg::ScaleSimConfig;

/// DRAM activity of one USER read buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserOperand {
    pub dram_reads: u128,
    pub dram_start: i128,
    pub dram_stop: i128,
}

/// USER-mode read results of a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserReads {
    pub ifmap: UserOperand,
    pub filter: UserOperand,
    /// Stall cycles caused by reads (double-counted as SCALE-Sim does).
    pub stall_cycles: u128,
    /// True when the numbers are SCALE-Sim's exactly.
    pub exact: bool,
}

/// USER-mode reads of a layer.
pub fn simulate_reads(cfg: &ScaleSimConfig, layer: &Layer, map: &Mapping) -> UserReads {
    let _ = (cfg, layer, map);
    UserReads::default()
}
