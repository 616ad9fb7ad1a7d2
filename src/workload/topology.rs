//! SCALE-Sim topology CSV.
