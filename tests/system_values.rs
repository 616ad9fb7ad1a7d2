//! Every numeric key of every shipped system config and model card, set to each of a set of
//! hostile values (NaN, ±inf, 0, negative, 1e-300, 1e308, 2^64), is either refused as bad input
//! (exit code 2, naming the key) or gives finite figures: a collective on the system, a prefill
//! of the model on an H100.

mod common;

use archsim::registry;
use archsim::run::model::simulate_model;
use archsim::system::collective::place;
use archsim::system::{config, Collective};
use archsim::workload::model::lower::{Phase, RunSpec};
use archsim::workload::model::parse_card;
use common::{numeric_keys, with_value, HOSTILE};

fn check(
    failures: &mut Vec<String>,
    what: &str,
    key: &str,
    v: &str,
    outcome: archsim::error::Result<Vec<f64>>,
) {
    match outcome {
        Err(e) if e.exit_code() == 2 => {
            let leaf = key.rsplit('.').next().unwrap();
            let msg = e.to_string();
            if !msg.contains(leaf) {
                failures.push(format!(
                    "{what} {key} = {v}: error does not name the key: {msg}"
                ));
            }
        }
        Err(e) => failures.push(format!("{what} {key} = {v}: exit {} {e}", e.exit_code())),
        Ok(figures) => {
            if figures.iter().any(|x| !x.is_finite()) {
                failures.push(format!("{what} {key} = {v}: non-finite figure {figures:?}"));
            }
        }
    }
}

#[test]
fn hostile_numbers_in_systems_and_model_cards() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (file, src) in archsim::config::embedded::systems() {
        for key in numeric_keys(src) {
            for v in HOSTILE {
                cases += 1;
                let text = with_value(src, &key, v);
                let outcome = config::parse(&text, file, "x").and_then(|sys| {
                    let n = sys.scale_up_chips().min(16);
                    let p = place(&sys, n, None)?;
                    let c = p.all(&sys)?.cost(Collective::AllReduce, 1e8);
                    Ok(vec![c.time_s, c.algbw_gbps, c.busbw_gbps])
                });
                check(&mut failures, file, &key, v, outcome);
            }
        }
    }
    let h100 = registry::load("h100").unwrap().build(None).unwrap();
    for (file, src) in archsim::config::embedded::models() {
        for key in numeric_keys(src) {
            for v in HOSTILE {
                cases += 1;
                let text = with_value(src, &key, v);
                let outcome = parse_card(&text, file, "x").and_then(|card| {
                    let mut spec = RunSpec::new(Phase::Prefill, &card);
                    spec.seq = 128;
                    let r = simulate_model(h100.as_ref(), &card, &spec)?;
                    let m = r.model.unwrap();
                    Ok(vec![
                        r.total.time_s,
                        r.total.energy_pj,
                        m.model_flops,
                        m.tokens_per_s,
                    ])
                });
                check(&mut failures, file, &key, v, outcome);
            }
        }
    }
    assert!(cases > 500, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
