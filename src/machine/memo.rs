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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{DType, Gemm, VectorKind, VectorOp};

    fn gemm(name: &str, m: u64) -> Op {
        Op::Gemm(Gemm {
            name: name.into(),
            m,
            n: 512,
            k: 256,
            batch: 1,
            dtype: DType::Bf16,
            shared_b: false,
            conv: None,
        })
    }

    #[test]
    fn remembered_profiles_are_the_machines_with_the_callers_name() {
        for chip in ["h100", "tpu_v5p"] {
            let m = crate::registry::load(chip).unwrap().build(None).unwrap();
            let memo = Memoized::new(m.as_ref());
            let ops = [
                gemm("a", 100),
                gemm("b", 100),
                gemm("c", 300),
                Op::Vector(VectorOp {
                    name: "v".into(),
                    kind: VectorKind::Softmax,
                    elements: 1 << 20,
                    dtype: DType::Bf16,
                }),
            ];
            for op in ops.iter().chain(ops.iter()) {
                let direct = m.simulate(op).unwrap();
                let remembered = memo.simulate(op).unwrap();
                assert_eq!(remembered.name, op.name());
                assert_eq!(
                    serde_json::to_value(&remembered).unwrap(),
                    serde_json::to_value(&direct).unwrap(),
                    "{chip} {}",
                    op.name()
                );
            }
            // "a" and "b" are one shape.
            assert_eq!(memo.distinct_ops(), 3, "{chip}");
        }
    }
}
