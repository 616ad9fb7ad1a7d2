//! `archsim collective`: one collective on a system (time, algbw and busbw by the nccl-tests
//! definitions, the algorithm chosen). The CLI and the Python bindings both call [`run`]; its
//! [`CollectiveOutcome::to_json`] is what `archsim collective --format json` prints.

use crate::error::{Error, Result};
use crate::jobs::train::parse_slice;
use crate::system::collective::{place, Collective, CollectiveCost, CollectiveJson};

/// One collective costed on a placement of the system's chips.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectiveOutcome {
    /// The system's name.
    pub system: String,
    /// Ranks taking part.
    pub chips: u64,
    /// Torus: the slice shape; switch: `[chips in one domain]`.
    pub slice: Vec<u64>,
    /// Slices (TPU, joined by DCN) or domains (GPU, joined by the fat tree).
    pub slices: u64,
    /// Bytes, as nccl-tests' "size".
    pub bytes: f64,
    pub cost: CollectiveCost,
}

impl CollectiveOutcome {
    /// The JSON document of `archsim collective --format json` ([`CollectiveJson`]).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(CollectiveJson {
            system: self.system.clone(),
            chips: self.chips,
            slice: self.slice.clone(),
            slices: self.slices,
            op: self.cost.op.as_str().to_string(),
            bytes: self.bytes,
            time_s: self.cost.time_s,
            algbw_gbps: self.cost.algbw_gbps,
            busbw_gbps: self.cost.busbw_gbps,
            algorithm: self.cost.algorithm.clone(),
        })
        .unwrap_or_default()
    }
}

/// Parse a byte count with an optional K/M/G suffix (powers of 1024), 1 to 1e15.
pub fn parse_bytes(s: &str) -> Result<f64> {
    let t = s.trim();
    let (num, mul) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1024.0),
        Some('M' | 'm') => (&t[..t.len() - 1], 1024.0 * 1024.0),
        Some('G' | 'g') => (&t[..t.len() - 1], 1024.0 * 1024.0 * 1024.0),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().map_err(|_| {
        Error::flag(
            "--bytes",
            format!("`{s}` is not a byte count (e.g. 1048576, 64M, 1G)"),
        )
    })?;
    let b = v * mul;
    if !b.is_finite() || !(1.0..=1e15).contains(&b) {
        return Err(Error::flag(
            "--bytes",
            format!("`{s}`: must be from 1 byte to 1e15"),
        ));
    }
    Ok(b)
}

/// Cost collective `op` (all-reduce, all-gather, reduce-scatter, all-to-all, send-recv) of
/// `bytes` (e.g. `1G`) over `chips` ranks of `system`, on `slice` (e.g. `4x4x4`) or the default
/// placement.
pub fn run(
    system: &str,
    chips: u64,
    slice: Option<&str>,
    op: &str,
    bytes: &str,
) -> Result<CollectiveOutcome> {
    let op: Collective = op.parse().map_err(|m: String| Error::flag("--op", m))?;
    let bytes = parse_bytes(bytes)?;
    let slice = slice.map(parse_slice).transpose()?;
    let sys = crate::system::config::load(system)?;
    let placement = place(&sys, chips, slice.as_deref())?;
    let cost = placement.all(&sys)?.cost(op, bytes);
    Ok(CollectiveOutcome {
        system: sys.name.clone(),
        chips,
        slice: placement.slice,
        slices: placement.slices,
        bytes,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_binary_suffixes_and_refuse_nonsense() {
        assert_eq!(parse_bytes("64M").unwrap(), 64.0 * 1024.0 * 1024.0);
        assert_eq!(parse_bytes(" 1048576 ").unwrap(), 1048576.0);
        for bad in ["", "G", "0", "-1K", "nan", "1e16"] {
            assert!(parse_bytes(bad)
                .unwrap_err()
                .to_string()
                .contains("--bytes"));
        }
    }

    #[test]
    fn all_reduce_on_a_dgx_has_the_json_keys_of_the_cli() {
        let v = run("dgx_h100_ib", 8, None, "all-reduce", "1G")
            .unwrap()
            .to_json();
        assert_eq!(v["op"], "all-reduce");
        assert_eq!(v["chips"], 8);
        assert!(v["busbw_gbps"].as_f64().unwrap() > v["algbw_gbps"].as_f64().unwrap());
    }
}
