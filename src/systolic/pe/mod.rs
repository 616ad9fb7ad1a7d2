//! PE-level reference mode: steps an R×C grid of processing elements cycle by cycle, moving real
//! operand values (f32, or bf16 via `half`) through the PE registers, and returns the product
//! matrix and the number of cycles it took. The fast models are trusted because this slow one
//! agrees with them (`tests/tpu_pe_props.rs`).
//!
//! Timing follows SCALE-Sim 3.0.0 (`docs/scalesim/MODEL.md` §2–§3): folds run one after
//! another and each fully fills and drains the *physical* array (unused PEs get zeros):
//! * **OS**: A enters row i skewed by i cycles, B enters column j skewed by j; PE(i,j) does
//!   the MAC of step k at cycle k+i+j. A fold ends with the last MAC of PE(R−1,C−1): `T+R+C−2`
//!   cycles (T = K).
//! * **WS**: R cycles shift the weight tile down into the PEs, then A streams in from the left
//!   (row i skewed by i) while partial sums move down; the fold ends when the last partial sum
//!   leaves the bottom of column C−1: `2R+C+T−2` cycles (T = M).
//! * **IS**: as WS with the A tile stationary and B streaming (T = N).
//!
//! The cycle counts are not computed from these formulas: the loops run until the last output
//! has been produced, and [`scalesim_cycles`] is only used by tests to check them.
//!
//! [`simulate_overlapped`] steps the same grid the way a TPU MXU runs (WS/IS): double-buffered
//! stationary registers loaded through a skewed shift chain while the current fold streams, a
//! diagonal shadow→active swap carried by the first activation of each fold, and accumulators
//! at the bottom of the array. Its cycle count is [`native_rule_cycles`], the native model's
//! pipeline rule; `tests/tpu_pe_props.rs` checks the native model against it directly.

use super::config::{Dataflow, SystolicConfig};
use super::native::NativeTpuMachine;
use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::MachineInfo;
use crate::machine::{finish_profile, profile_for, Counters, Machine, OpProfile};
use crate::workload::{DType, Gemm, Op};
use half::bf16;
use ndarray::Array2;
use serde_json::json;

/// Largest M·N·K·batch the PE-level mode accepts (2^24 MACs).
pub const PE_MAX_MACS: u128 = 1 << 24;
/// Largest array side the PE-level mode accepts.
pub const PE_MAX_SIDE: u64 = 256;
/// Largest number of PE-cycles (cycles × R × C) one op may take (2^32).
pub const PE_MAX_PE_CYCLES: u128 = 1 << 32;

/// An operand value a PE register can hold. Products are formed exactly in f32 (a bf16×bf16
/// product fits f32) and accumulated in f32, as the MXU does.
pub trait PeValue: Copy + Default + Send + Sync + 'static {
    fn to_f32(self) -> f32;
    fn from_f32(x: f32) -> Self;
}
impl PeValue for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(x: f32) -> Self {
        x
    }
}
impl PeValue for bf16 {
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    fn from_f32(x: f32) -> Self {
        bf16::from_f32(x)
    }
}

/// Result of a PE-level run.
#[derive(Debug, Clone)]
pub struct PeResult {
    /// C = A·B, f32.
    pub product: Array2<f32>,
    /// Cycles counted while stepping the grid.
    pub cycles: u64,
    pub folds: u64,
}

/// Folds of a GEMM on an R×C array: `ceil(Sr/R)·ceil(Sc/C)` (MODEL.md §2).
pub fn folds(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (sr, sc, _) = df.spatio_temporal(m, n, k);
    sr.div_ceil(r) * sc.div_ceil(c)
}

/// SCALE-Sim's cycles per fold: OS `T+R+C−2`, WS/IS `2R+C+T−2` (MODEL.md §3).
pub fn scalesim_cycles_per_fold(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (_, _, t) = df.spatio_temporal(m, n, k);
    match df {
        Dataflow::Os => t + r + c - 2,
        Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
    }
}

/// SCALE-Sim's demand lines `L = folds · per_fold` (its "Total Cycles" is `L − 1`).
pub fn scalesim_cycles(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    folds(m, n, k, r, c, df) * scalesim_cycles_per_fold(m, n, k, r, c, df)
}

/// The native model's pipeline cycles for the same GEMM on one R×C array, one MXU, one core,
/// with the whole GEMM in one VMEM block (rule 7 of [`crate::systolic::native`]): the folds run
/// back to back, each costing `max(T, R)` (the next tile's R-cycle load overlaps the stream), the
/// array fills and drains once, and the last fold does not wait for a next load:
///
/// `native = scalesim − (folds − 1) · (per_fold − max(T, R))`
pub fn native_rule_cycles(m: u64, n: u64, k: u64, r: u64, c: u64, df: Dataflow) -> u64 {
    let (_, _, t) = df.spatio_temporal(m, n, k);
    let f = folds(m, n, k, r, c, df);
    let per = scalesim_cycles_per_fold(m, n, k, r, c, df);
    scalesim_cycles(m, n, k, r, c, df) - (f - 1) * (per - t.max(r))
}

/// Refuse shapes too big for cycle-by-cycle simulation, with a clear error.
pub fn check_size(m: u64, n: u64, k: u64, batch: u64, r: u64, c: u64, df: Dataflow) -> Result<()> {
    if r == 0 || c == 0 || r > PE_MAX_SIDE || c > PE_MAX_SIDE {
        return Err(Error::input(
            Location::file("<config>").key("array.rows"),
            format!(
                "PE-level mode steps every PE each cycle and accepts arrays up to {PE_MAX_SIDE}×{PE_MAX_SIDE}; this one is {r}×{c}. Use --mode native or a smaller array"
            ),
        ));
    }
    if m == 0 || n == 0 || k == 0 || batch == 0 {
        return Err(Error::setting(
            "gemm",
            format!("PE-level mode needs every dimension >= 1 (got {m}x{n}x{k}, batch {batch})"),
        ));
    }
    let macs = m as u128 * n as u128 * k as u128 * batch as u128;
    if macs > PE_MAX_MACS {
        return Err(Error::setting("mode",
            format!(
                "PE-level mode is a reference for small GEMMs: M·N·K·batch must be <= 2^24 ({PE_MAX_MACS}), got {macs} for {m}x{n}x{k} (batch {batch}); use --mode native"
            ),
        ));
    }
    let pe_cycles = scalesim_cycles(m, n, k, r, c, df) as u128 * (r * c) as u128 * batch as u128;
    if pe_cycles > PE_MAX_PE_CYCLES {
        return Err(Error::setting("mode",
            format!(
                "PE-level mode would step {pe_cycles} PE-cycles (limit 2^32) for {m}x{n}x{k} on {r}×{c}; use a smaller array or --mode native"
            ),
        ));
    }
    Ok(())
}

mod grid;
mod machine;
mod overlapped;

pub use grid::simulate;
pub use machine::{check_against_ndarray, PeMachine, SplitMix};
pub use overlapped::simulate_overlapped;

/// (M, N, K) of A (M×K) · B (K×N); an internal error when the inner dimensions differ.
fn gemm_dims<T>(a: &Array2<T>, b: &Array2<T>) -> Result<(usize, usize, usize)> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 {
        return Err(Error::internal(format!(
            "PE simulate: inner dimensions differ ({k} vs {k2})"
        )));
    }
    Ok((m, n, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut r = SplitMix(seed);
        Array2::from_shape_fn((rows, cols), |_| r.next_int(4))
    }

    type Sim = fn(&Array2<f32>, &Array2<f32>, u64, u64, Dataflow) -> Result<PeResult>;
    type Rule = fn(u64, u64, u64, u64, u64, Dataflow) -> u64;

    /// Every (M, N, K, R, C) case on every dataflow: the grid's product equals ndarray's and its
    /// cycles equal `rule`'s.
    fn check_against_rule(
        dataflows: &[Dataflow],
        cases: &[Shape],
        seed: u64,
        sim: Sim,
        rule: Rule,
    ) {
        for &df in dataflows {
            for &(m, n, k, r, c) in cases {
                let a = ints(m, k, seed);
                let b = ints(k, n, seed + 1);
                let res = sim(&a, &b, r, c, df).unwrap();
                assert_eq!(res.product, a.dot(&b), "{df} {m}x{n}x{k} on {r}x{c}");
                assert_eq!(
                    res.cycles,
                    rule(m as u64, n as u64, k as u64, r, c, df),
                    "{df} {m}x{n}x{k} on {r}x{c}"
                );
            }
        }
    }

    type Shape = (usize, usize, usize, u64, u64);
    const CASES: [Shape; 4] = [
        (5, 7, 3, 2, 3),
        (16, 16, 16, 4, 4),
        (1, 1, 1, 3, 2),
        (9, 4, 11, 4, 8),
    ];

    #[test]
    fn all_dataflows_exact_and_cycles_match_scalesim() {
        let all = [Dataflow::Os, Dataflow::Ws, Dataflow::Is];
        check_against_rule(&all, &CASES, 1, simulate, scalesim_cycles);
    }

    #[test]
    fn overlapped_matches_native_rule() {
        let mut cases = CASES.to_vec();
        cases.push((3, 20, 30, 8, 2));
        let (sim, rule): (Sim, Rule) = (simulate_overlapped, native_rule_cycles);
        check_against_rule(&[Dataflow::Ws, Dataflow::Is], &cases, 3, sim, rule);
    }

    #[test]
    fn size_limits_are_input_errors() {
        assert_eq!(
            check_size(1024, 1024, 1024, 1, 16, 16, Dataflow::Ws)
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(
            check_size(8, 8, 8, 1, 512, 16, Dataflow::Ws)
                .unwrap_err()
                .exit_code(),
            2
        );
        assert!(check_size(64, 64, 64, 1, 16, 16, Dataflow::Ws).is_ok());
    }

    #[test]
    fn native_rule_single_fold_equals_scalesim() {
        assert_eq!(
            native_rule_cycles(100, 16, 16, 16, 16, Dataflow::Ws),
            scalesim_cycles(100, 16, 16, 16, 16, Dataflow::Ws)
        );
        // 4 K-folds of T=100 ≥ R: R + 4·100 + R + C − 2.
        assert_eq!(
            native_rule_cycles(100, 16, 64, 16, 16, Dataflow::Ws),
            16 + 400 + 16 + 16 - 2
        );
    }
}
