//! SCALE-Sim 3.0.0 compatible systolic model.
