//! The system layer (reserved): topologies (ICI tori, NVLink/NVSwitch, InfiniBand), collectives,
//! parallelism plans and the training/serving schedule above one chip. It sits above the engine
//! ([`crate::run`]): sharded ops are costed through the engine and chip-to-chip traffic through
//! the links ([`crate::energy::Counters::link_bytes`], `EnergyTable::link_pj_per_byte`). It
//! never looks inside a machine model; it reads [`crate::machine::MachineInfo`].
