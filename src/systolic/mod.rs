//! TPU-style systolic-array model: SCALE-Sim compatible mode ([`scalesim`]), native TPU mode
//! ([`native`]) and the PE-level reference ([`pe`]).

pub mod config;
pub mod native;
pub mod pe;
pub mod scalesim;
pub mod scalesim_cfg;

use crate::config::SimMode;
use crate::error::{Error, Result};
use crate::machine::Machine;
use config::SystolicConfig;
use scalesim_cfg::ScaleSimConfig;

/// Build a systolic machine from an archsim TOML config in the given mode.
///
/// * `native` (default): [`native::NativeTpuMachine`], the TPU-faithful model;
/// * `pe`: [`pe::PeMachine`], the cycle-by-cycle PE-level reference (small shapes only);
/// * `scalesim`: not available for archsim TOML configs yet: SCALE-Sim compatible mode is
///   selected by giving a SCALE-Sim `.cfg`.
pub fn build(cfg: &SystolicConfig, name: &str, mode: SimMode) -> Result<Box<dyn Machine>> {
    match mode {
        SimMode::Native => Ok(Box::new(native::NativeTpuMachine::new(cfg.clone(), name))),
        SimMode::Pe => Ok(Box::new(pe::PeMachine::new(cfg.clone(), name)?)),
        SimMode::Scalesim => Err(Error::setting(
            "mode",
            format!(
                "SCALE-Sim compatible mode is not available for the archsim TOML config `{name}` yet; \
                 pass a SCALE-Sim .cfg file to --config for SCALE-Sim mode, or use --mode native or --mode pe"
            ),
        )),
    }
}

/// Build a SCALE-Sim-compatible machine from a SCALE-Sim `.cfg`.
pub fn build_scalesim(cfg: &ScaleSimConfig, mode: SimMode) -> Result<Box<dyn Machine>> {
    match mode {
        SimMode::Scalesim => Ok(Box::new(scalesim::ScaleSimMachine::new(cfg.clone()))),
        other => Err(Error::setting(
            "mode",
            format!(
                "a SCALE-Sim .cfg config runs in scalesim mode only, not `{}`; use an archsim \
                 .toml config for the native and PE-level models",
                other.as_str()
            ),
        )),
    }
}
