//! A machine that remembers the ops it has simulated: searches (the training planner, the
//! serving planner) simulate the same GEMM/attention/vector shapes under many plans, and a
//! machine's profile depends on the op's shape and dtype, never on its name.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Machine, MachineInfo, OpProfile};
use crate::energy::EnergyTable;
use crate::error::Result;
use crate::workload::Op;

/// Wraps a machine and returns the remembered [`OpProfile`] of an op it has seen (the same
/// fields but its name), so a search simulates each distinct op once. Results are the inner
/// machine's exactly (it is deterministic), whatever the thread count: two threads that
/// miss on the same op compute the same profile.
pub struct Memoized<'a> {
    inner: &'a dyn Machine,
    seen: Mutex<HashMap<Op, OpProfile>>,
}

impl<'a> Memoized<'a> {
    pub fn new(inner: &'a dyn Machine) -> Self {
        Memoized {
            inner,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Distinct ops simulated so far.
    pub fn distinct_ops(&self) -> usize {
        self.seen.lock().map_or(0, |s| s.len())
    }
}

/// The op without its name: the key of what the machine computes.
fn key(op: &Op) -> Op {
    let mut k = op.clone();
    k.set_name(String::new());
    k
}

impl Machine for Memoized<'_> {
    fn info(&self) -> &MachineInfo {
        self.inner.info()
    }
    fn energy_table(&self) -> &EnergyTable {
        self.inner.energy_table()
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        let k = key(op);
        if let Some(p) = self.seen.lock().ok().and_then(|s| s.get(&k).cloned()) {
            return Ok(OpProfile {
                name: op.name().to_string(),
                ..p
            });
        }
        let p = self.inner.simulate(op)?;
        if let Ok(mut s) = self.seen.lock() {
            s.insert(k, p.clone());
        }
        Ok(p)
    }
}
