//! Jobs: the commands a user runs (compare / the main job, sweep, validate; train and serve
//! later). A job orchestrates the layers below and returns data; it prints nothing: the CLI
//! (`src/cli/`, bin side) and the Python bindings present the results.

pub mod collective;
pub mod compare;
pub mod run;
pub mod scaling;
pub mod schema;
pub mod serve;
pub mod sweep;
pub mod train;
pub mod validate;

/// A run setting the library rejected (`mode`, `gemm`, `shard`, ...) as the command-line flag
/// that sets it (`--mode`, `--gemm`, `--shard`, ...): how the CLI reports it, and the Python
/// bindings too, so both print the same message for the same input.
pub fn setting_as_flag(e: crate::error::Error) -> crate::error::Error {
    use crate::error::Error;
    match e {
        Error::Setting { name, msg } => Error::flag(&format!("--{}", name.replace('_', "-")), msg),
        other => other,
    }
}
