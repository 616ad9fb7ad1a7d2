//! The memoizing machine wrapper returns exactly what the machine it wraps returns.

use archsim::machine::memo::Memoized;
use archsim::machine::Machine;
use archsim::workload::{DType, Gemm, Op, VectorKind, VectorOp};

fn gemm(name: &str, m: u64) -> Op {
    Op::Gemm(Gemm::new(name, m, 512, 256))
}

#[test]
fn remembered_profiles_are_the_machines_with_the_callers_name() {
    for chip in ["h100", "tpu_v5p"] {
        let m = archsim::registry::load(chip).unwrap().build(None).unwrap();
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
