//! Native TPU-faithful systolic model.
