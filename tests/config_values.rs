//! Every numeric key of every shipped chip config, set to each of a set of hostile values
//! (NaN, ±inf, 0, negative, 1e-300, 1e308, 2^64), is either refused as bad input (exit code 2,
//! naming the key) or gives a run whose every figure is finite.

mod common;

use archsim::registry::parse_toml;
use archsim::run::simulate_ops;
use archsim::workload::{Gemm, Op, VectorKind, VectorOp};
use archsim::DType;
use common::{numeric_keys, with_value, HOSTILE};

#[test]
fn hostile_numbers_are_refused_or_give_finite_results() {
    let ops = vec![
        Op::Gemm(Gemm::new("g", 256, 512, 128)),
        Op::Gemm(Gemm::new("d", 1, 4096, 4096).with_dtype(DType::Bf16)),
        Op::Vector(VectorOp {
            name: "v".into(),
            kind: VectorKind::Softmax,
            elements: 1 << 20,
            dtype: DType::Bf16,
        }),
    ];
    let mut failures = Vec::new();
    let mut cases = 0;
    for (file, src) in archsim::config::embedded::configs() {
        let keys = numeric_keys(src);
        for key in &keys {
            for v in HOSTILE {
                cases += 1;
                let text = with_value(src, key, v);
                let outcome = parse_toml(&text, file, "x")
                    .and_then(|c| c.build(None))
                    .and_then(|m| simulate_ops(m.as_ref(), &ops));
                match outcome {
                    Err(e) if e.exit_code() == 2 => {
                        let msg = e.to_string();
                        let leaf = key.rsplit('.').next().unwrap();
                        if !msg.contains(leaf) {
                            failures.push(format!(
                                "{file} {key} = {v}: error does not name the key: {msg}"
                            ));
                        }
                    }
                    Err(e) => {
                        failures.push(format!("{file} {key} = {v}: exit {} {e}", e.exit_code()))
                    }
                    Ok(run) => {
                        let json = serde_json::to_value(&run).unwrap();
                        let text = json.to_string();
                        if text.contains("null") && !text.contains("\"tdp_w\":null")
                            || text.contains("NaN")
                        {
                            failures.push(format!(
                                "{file} {key} = {v}: non-finite figure in the report"
                            ));
                        }
                        let t = &run.total;
                        if !(t.time_s.is_finite()
                            && t.energy_pj.is_finite()
                            && t.utilization.is_finite())
                        {
                            failures.push(format!("{file} {key} = {v}: non-finite total"));
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 1000, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
