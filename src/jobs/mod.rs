//! Jobs: the commands a user runs (compare / the main job, sweep, validate; train and serve
//! later). A job orchestrates the layers below and returns data; it prints nothing: the CLI
//! (`src/cli/`, bin side) and the Python bindings present the results.

pub mod compare;
pub mod run;
pub mod scaling;
pub mod serve;
pub mod sweep;
pub mod train;
pub mod validate;
