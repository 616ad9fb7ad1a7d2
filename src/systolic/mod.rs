//! TPU-style systolic-array model: SCALE-Sim compatible mode ([`scalesim`]), native TPU mode
//! ([`native`]) and the PE-level reference ([`pe`]).

pub mod config;
pub mod native;
pub mod pe;
pub mod scalesim;

use crate::config::scalesim_cfg::ScaleSimConfig;
use crate::config::SimMode;
use crate::error::{Error, Result};
use crate::machine::Machine;
use config::SystolicConfig;

/// Build a systolic machine from an archsim TOML config in the given mode.
pub fn build(cfg: &SystolicConfig, name: &str, mode: SimMode) -> Result<Box<dyn Machine>> {
    let _ = (cfg, name, mode);
    Err(Error::internal("native systolic model not built yet"))
}

/// Build a SCALE-Sim-compatible machine from a SCALE-Sim `.cfg`.
pub fn build_scalesim(cfg: &ScaleSimConfig, mode: SimMode) -> Result<Box<dyn Machine>> {
    match mode {
        SimMode::Scalesim => Ok(Box::new(scalesim::ScaleSimMachine::new(cfg.clone()))),
        other => Err(Error::flag(
            "--mode",
            format!(
                "a SCALE-Sim .cfg config runs in scalesim mode only, not `{}`; use an archsim \
                 .toml config for the native and PE-level models",
                match other {
                    SimMode::Native => "native",
                    SimMode::Pe => "pe",
                    SimMode::Scalesim => "scalesim",
                }
            ),
        )),
    }
}
