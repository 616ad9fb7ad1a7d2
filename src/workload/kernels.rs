//! kernels/*.toml.
