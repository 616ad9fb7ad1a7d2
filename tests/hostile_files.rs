//! Hostile numbers in the other input files: every numeric key of a SCALE-Sim `.cfg`, of the
//! shipped kernel files (`kernels/*.toml`, each distinct layer type and key once) and of a sweep
//! file, set to each of NaN, ±inf, 0, a negative number, 1e-300, 1e308 and 2^64, is either
//! refused as bad input (exit code 2) naming the file, the key's line and the key, or gives
//! finite figures. (The machine TOML configs, system configs and model cards are covered by
//! tests/config_values.rs and tests/system_values.rs.)

mod common;

use archsim::registry;
use archsim::run::simulate_ops;
use archsim::workload::{kernels, topology, DType, Workload};
use common::{archsim, path_str, write, HOSTILE};

/// The figures of a run that must be finite.
fn figures(r: &archsim::run::RunReport) -> Vec<f64> {
    let t = &r.total;
    let mut v = vec![
        t.time_s,
        t.energy_pj,
        t.flops,
        t.tflops,
        t.utilization,
        t.pj_per_mac,
        t.pj_per_flop,
        t.tflops_per_w,
    ];
    for p in &r.ops {
        v.extend([p.time_s, p.energy_pj, p.utilization, p.tflops, p.pj_per_mac]);
    }
    v
}

/// Checks an outcome: an input error naming `file:line` and `key`, or finite figures.
fn check(
    failures: &mut Vec<String>,
    case: &str,
    file: &str,
    line: usize,
    key: &str,
    outcome: archsim::error::Result<Vec<f64>>,
) {
    match outcome {
        Err(e) if e.exit_code() == 2 => {
            let msg = e.to_string();
            if !msg.contains(&format!("{file}:{line}")) || !msg.contains(key) {
                failures.push(format!(
                    "{case}: error lacks {file}:{line} / `{key}`: {msg}"
                ));
            }
        }
        Err(e) => failures.push(format!("{case}: exit {} {e}", e.exit_code())),
        Ok(f) if f.iter().any(|x| !x.is_finite()) => {
            failures.push(format!("{case}: non-finite figure {f:?}"))
        }
        Ok(_) => {}
    }
}

#[test]
fn hostile_numbers_in_scalesim_cfg_files() {
    let src = common::repo_file(common::SCALESIM_CFG);
    let topo = topology::parse(
        "h\nconv, 14, 14, 3, 3, 16, 32, 1,\ng, 64, 48, 80,\n",
        "t.csv",
        "t",
        DType::Int8,
    )
    .unwrap()
    .ops();
    let dir = common::tempdir();
    let (mut failures, mut cases) = (Vec::new(), 0);
    for (i, line) in src.lines().enumerate() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if value.trim().parse::<f64>().is_err() {
            continue;
        }
        let key = key.trim();
        for v in HOSTILE {
            cases += 1;
            let text: String = src
                .lines()
                .enumerate()
                .map(|(j, l)| {
                    if j == i {
                        format!("{key}: {v}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            let p = write(dir.path(), "h.cfg", &text);
            let file = path_str(&p);
            let outcome = registry::load(file).and_then(|c| {
                let m = c.build(None)?;
                Ok(figures(&simulate_ops(m.as_ref(), &topo)?))
            });
            check(
                &mut failures,
                &format!("{key} = {v}"),
                file,
                i + 1,
                key,
                outcome,
            );
        }
    }
    assert!(cases >= 100, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn hostile_numbers_in_kernel_files() {
    let machines: Vec<_> = ["tpu_v5e", "h100"]
        .iter()
        .map(|n| registry::load(n).unwrap().build(None).unwrap())
        .collect();
    let (mut failures, mut cases) = (Vec::new(), 0);
    let mut seen = std::collections::HashSet::new();
    for (name, src) in archsim::config::embedded::kernels() {
        if !name.ends_with(".toml") {
            continue;
        }
        let file = format!("k_{name}");
        let (mut layer, mut layer_type) = (None::<usize>, String::new());
        let lines: Vec<&str> = src.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t.starts_with("[[layer]]") {
                layer = Some(layer.map_or(0, |l| l + 1));
                layer_type = lines[i + 1..]
                    .iter()
                    .find_map(|l| l.trim().strip_prefix("type"))
                    .unwrap_or("")
                    .to_string();
                continue;
            }
            let Some((key, value)) = t.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let value = value.split('#').next().unwrap().trim();
            if value.parse::<f64>().is_err() || !seen.insert((layer_type.clone(), key.to_string()))
            {
                continue;
            }
            for v in HOSTILE {
                cases += 1;
                let text: String = lines
                    .iter()
                    .enumerate()
                    .map(|(j, l)| {
                        if j == i {
                            format!("{key} = {v}\n")
                        } else {
                            format!("{l}\n")
                        }
                    })
                    .collect();
                let outcome = kernels::parse(&text, &file, "k").and_then(|w| {
                    // Only the mutated layer is simulated (the others are as shipped).
                    let w = Workload {
                        layers: match layer {
                            Some(l) => vec![w.layers[l].clone()],
                            None => w.layers,
                        },
                        ..w
                    };
                    let mut f = Vec::new();
                    for m in &machines {
                        f.extend(figures(&simulate_ops(m.as_ref(), &w.ops())?));
                    }
                    Ok(f)
                });
                check(
                    &mut failures,
                    &format!("{name} {key} = {v}"),
                    &file,
                    i + 1,
                    key,
                    outcome,
                );
            }
        }
    }
    assert!(cases >= 100, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A sweep file with one number of an axis (a list entry or a range bound) replaced; run on the
/// smoke workload, it ends in exit 2 naming the file, line and key, or in a CSV of finite rows.
#[test]
fn hostile_numbers_in_sweep_files() {
    let template = "# hostile sweep\nworkloads = [\"smoke\"]\nsm.count = [{a}, 132]\nmemory.hbm_bandwidth_gbps = {from = {b}, to = {c}, step = {d}}\n";
    let base = [
        ("a", "66", 3, "sm.count"),
        ("b", "2000", 4, "memory.hbm_bandwidth_gbps"),
        ("c", "3000", 4, "memory.hbm_bandwidth_gbps"),
        ("d", "1000", 4, "memory.hbm_bandwidth_gbps"),
    ];
    let dir = common::tempdir();
    let (mut failures, mut cases) = (Vec::new(), 0);
    for (slot, _, line, key) in base {
        for v in HOSTILE {
            cases += 1;
            let mut text = template.to_string();
            for (s, default, _, _) in base {
                text = text.replace(&format!("{{{s}}}"), if s == slot { v } else { default });
            }
            let sw = write(dir.path(), "h.toml", &text);
            let out = dir.path().join(format!("o_{slot}_{cases}.csv"));
            let o = archsim([
                "sweep",
                "-q",
                "--config",
                "h100",
                "--sweep",
                path_str(&sw),
                "--out",
                path_str(&out),
                "--max-points",
                "1000",
            ]);
            let err = common::stderr(&o);
            let case = format!("{key} ({slot}) = {v}");
            match o.status.code() {
                Some(2) => {
                    let want = format!("{}:{line}", path_str(&sw));
                    if !err.contains(&want) || !err.contains(key) {
                        failures.push(format!("{case}: error lacks {want} / `{key}`: {err}"));
                    }
                }
                Some(0) => {
                    let csv = std::fs::read_to_string(&out).unwrap();
                    let mut rows = csv.lines();
                    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
                    let t = header.iter().position(|c| *c == "time_s").unwrap();
                    let e = header.iter().position(|c| *c == "energy_pj").unwrap();
                    for r in rows {
                        let f: Vec<&str> = r.split(',').collect();
                        let ok = [t, e]
                            .iter()
                            .all(|&c| f[c].parse::<f64>().is_ok_and(f64::is_finite));
                        if !ok {
                            failures.push(format!("{case}: row with a non-finite figure: {r}"));
                        }
                    }
                }
                c => failures.push(format!("{case}: exit {c:?}: {err}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An op made too slow by an absurd (but in-range) config value is blamed on that config key,
/// with its file and line, not on the workload; a huge op on a sane config is the workload's.
#[test]
fn too_slow_is_blamed_on_the_config_key() {
    let dir = common::tempdir();
    for (name, key, line_start, bad) in [
        (
            "tpu_v5e",
            "hbm.bandwidth_gbps",
            "bandwidth_gbps =",
            "bandwidth_gbps = 1e-9",
        ),
        (
            "h100",
            "memory.hbm_bandwidth_gbps",
            "hbm_bandwidth_gbps =",
            "hbm_bandwidth_gbps = 1e-9",
        ),
    ] {
        let src = common::shipped_src(name);
        let line = common::line_starting(src, line_start);
        let text: String = src
            .lines()
            .enumerate()
            .map(|(j, l)| {
                if j + 1 == line {
                    format!("{bad}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let p = write(dir.path(), &format!("{name}.toml"), text);
        let o = archsim([
            "run",
            "--config",
            path_str(&p),
            "--gemm",
            "65536,65536,65536",
        ]);
        let err = common::assert_input_error(&o);
        assert!(
            err.contains(&format!("{}:{line}: key `{key}`", path_str(&p))),
            "{err}"
        );
    }
    let o = archsim([
        "run",
        "--config",
        "tpu_v5e",
        "--gemm",
        "4294967295,4294967295,4294967295",
    ]);
    let err = common::assert_input_error(&o);
    assert!(err.contains("<workload>") && err.contains("2^64"), "{err}");
}
