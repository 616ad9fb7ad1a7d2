//! The system layer: topologies (ICI tori, NVLink/NVSwitch, InfiniBand, DCN), collectives,
//! parallelism plans and the training schedule above one chip. It sits above the engine
//! ([`crate::run`]): sharded ops are costed through the engine and chip-to-chip traffic through
//! the links ([`collective`]). It never looks inside a machine model; it reads
//! [`crate::machine::MachineInfo`].

pub mod collective;
pub mod config;
pub mod serve;
pub mod trace;
pub mod train;

pub use collective::{Collective, CollectiveCost, Group, Placement};
pub use config::SystemConfig;
