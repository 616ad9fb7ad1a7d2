//! PE-level reference mode.
