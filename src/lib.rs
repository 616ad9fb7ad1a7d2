//! archsim: a cycle-approximate simulator that runs one ML workload on a TPU-style systolic
//! array and on a SIMT GPU and shows where the time and the energy go.
//!
//! The layers, each importing only the ones below it (`docs/ARCHITECTURE.md`):
//!
//! ```text
//! jobs          compare, sweep, validate: orchestrate, return data (the CLI prints)
//! compare report plot   comparison data and verdict; exporters; plots
//! system        (reserved) topologies, collectives, parallelism above the engine
//! run           the engine: one op = model + energy + checks; many in parallel; totals
//! registry      kind -> config parser -> Box<dyn Machine> (the only file naming every model)
//! systolic simt the machine models: config, mapper/plan, timing
//! machine       the Machine trait, MachineInfo, OpProfile
//! energy        Counters and the energy model (pure function of counters, table and time)
//! workload      kernels .toml, topology CSVs -> Ops
//! config        shared config sections, shipped-name resolution, TOML error locations
//! error fsio units
//! ```
//!
//! Everything the CLI does is callable from here; the library prints nothing.

pub mod compare;
pub mod config;
pub mod energy;
pub mod error;
pub mod fsio;
pub mod jobs;
pub mod machine;
pub mod plot;
pub mod registry;
pub mod report;
pub mod run;
pub mod simt;
pub mod system;
pub mod systolic;
pub mod units;
pub mod workload;

pub use config::SimMode;
pub use error::{Error, Result};
pub use machine::{Counters, Machine, OpProfile, TimeBreakdown};
pub use registry::LoadedConfig;
pub use run::{simulate_ops, RunReport, Total};
pub use workload::{DType, Gemm, Op, Workload};
