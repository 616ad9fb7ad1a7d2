//! Validation set: SCALE-Sim 3.0.0 (`tests/data/scalesim/`).
//!
//! Runs every row of `reference_runs.csv` (each a config × single-layer topology) and the
//! ResNet-50 row of `network_runs.csv` through SCALE-Sim mode and summarizes, per metric, how
//! many rows match exactly, with CALC and USER rows in separate tables. A missing data folder
//! gives a table saying so, never a panic.
//!
//! Everything goes through the path a user's run takes: the `.cfg` through the registry
//! ([`registry::load`] → `build`), the topology CSV through the workload loader
//! ([`workload::load`] → [`Workload::ops`](crate::workload::Workload::ops)), the ops through the
//! engine ([`run::simulate_op`], [`run::simulate_sequential`]); the compared values are SCALE-Sim's
//! report values carried in [`OpProfile::scalesim`].

use super::{SummaryRow, ValidationTable};
use crate::error::{Error, Location, Result};
use crate::machine::{Machine, OpProfile, ScaleSimReport};
use crate::registry::{self, HardwareConfig};
use crate::run;
use crate::systolic::scalesim_cfg::BandwidthMode;
use crate::workload::{self, Op};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

const SOURCE: &str = "SCALE-Sim 3.0.0 (pip scalesim, numpy 2.3.5) runs, tests/data/scalesim";

/// A metric and its (reference, simulated) pairs.
type MetricPairs = (&'static str, Vec<(f64, f64)>);

/// A SCALE-Sim machine built by the registry from a `.cfg`, and whether it runs in USER
/// bandwidth mode.
type CfgMachine = (Rc<dyn Machine>, bool);

fn not_found(what: &str) -> Vec<ValidationTable> {
    vec![ValidationTable {
        title: "SCALE-Sim 3.0.0".into(),
        source: SOURCE.into(),
        summary: vec![SummaryRow {
            group: "not found".into(),
            note: format!("{what} not found; nothing validated"),
            ..Default::default()
        }],
    }]
}

/// A reference value of a row (`line` of `file`): `None` when the column is absent or empty; an
/// input error when it is there but not a finite number (corrupt reference data must not turn
/// into NaN errors and a passing run).
fn num(r: &HashMap<String, String>, k: &str, file: &Path, line: usize) -> Result<Option<f64>> {
    let Some(text) = r.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(Error::input(
            Location::path(file).line(line).key(k),
            format!("reference value `{text}` is not a finite number"),
        )),
    }
}

/// The machine of a SCALE-Sim `.cfg` path, as `archsim run --config PATH` builds it.
fn machine(cfg: &Path) -> Option<CfgMachine> {
    let loaded = registry::load(cfg.to_str()?).ok()?;
    let user = match &loaded.hw {
        HardwareConfig::ScaleSim(c) => c.bw_mode == BandwidthMode::User,
        _ => return None,
    };
    Some((Rc::from(loaded.build(None).ok()?), user))
}

/// The ops of a SCALE-Sim topology CSV path, as `archsim run --workload PATH` reads it.
fn topology_ops(csv: &Path) -> Option<Vec<Op>> {
    Some(workload::load(csv.to_str()?, None).ok()?.ops())
}

/// SCALE-Sim's report values of a profile (None if the machine is not in SCALE-Sim mode).
fn report(p: &OpProfile) -> Option<&ScaleSimReport> {
    p.scalesim.as_ref()
}

/// (metric, simulated value) of a layer's SCALE-Sim report; metric = reference column.
fn metrics(s: &ScaleSimReport) -> Vec<(&'static str, f64)> {
    vec![
        ("total_cycles", s.total_cycles as f64),
        ("stall_cycles", s.stall_cycles as f64),
        ("mapping_eff_pct", s.mapping_efficiency_pct),
        ("compute_util_pct", s.compute_util_pct),
        ("overall_util_pct", s.overall_util_pct),
        ("sram_ifmap_reads", s.sram_ifmap_reads as f64),
        ("sram_filter_reads", s.sram_filter_reads as f64),
        ("sram_ofmap_writes", s.sram_ofmap_writes as f64),
        ("dram_ifmap_reads", s.dram_ifmap_reads as f64),
        ("dram_filter_reads", s.dram_filter_reads as f64),
        ("dram_ofmap_writes", s.dram_ofmap_writes as f64),
        (
            "total_cycles_incl_prefetch",
            s.total_cycles_incl_prefetch as f64,
        ),
    ]
}

/// Run the SCALE-Sim reference sets under `data_dir` (normally `tests/data`): the stock
/// reference runs, the seeded random cross-checks (`scalesim/crosscheck/` and the stock-size
/// `scalesim/crosscheck_large/`, made by `scripts/scalesim_crosscheck.py`) and the ResNet-50
/// network.
pub fn run(data_dir: &Path) -> Result<Vec<ValidationTable>> {
    let dir = data_dir.join("scalesim");
    let runs = dir.join("reference_runs.csv");
    if !runs.is_file() {
        return Ok(not_found(&runs.display().to_string()));
    }
    let mut tables = run_set(&dir, "reference_runs.csv", "SCALE-Sim 3.0.0 single layers")?;
    if dir.join("crosscheck/runs.csv").is_file() {
        tables.extend(run_set(
            &dir,
            "crosscheck/runs.csv",
            "SCALE-Sim 3.0.0 random cross-check (seeded configs x layers, scripts/scalesim_crosscheck.py)",
        )?);
    }
    if dir.join("crosscheck_large/runs.csv").is_file() {
        tables.extend(run_set(
            &dir,
            "crosscheck_large/runs.csv",
            "SCALE-Sim 3.0.0 stock-size OS/IS convs overflowing the SRAM (scripts/scalesim_crosscheck.py --large)",
        )?);
    }
    tables.extend(network(&dir)?);
    if tables.is_empty() {
        return Ok(not_found(&runs.display().to_string()));
    }
    Ok(tables)
}

/// One set of single-layer runs: `base/file` in the reference columns, its configs and
/// topologies in `configs/` and `topologies/` beside it; a CALC and a USER table titled `title`.
fn run_set(base: &Path, file: &str, title: &str) -> Result<Vec<ValidationTable>> {
    let runs = base.join(file);
    let dir = runs.parent().unwrap_or(base);
    let Ok(mut rd) = csv::Reader::from_path(&runs) else {
        return Ok(not_found(&runs.display().to_string()));
    };
    let rows: Vec<HashMap<String, String>> = rd.deserialize().filter_map(|r| r.ok()).collect();
    let mut cfgs: HashMap<String, Option<CfgMachine>> = HashMap::new();
    let mut topos: HashMap<String, Option<Vec<Op>>> = HashMap::new();
    let mut load_cfg = |name: &str| -> Option<CfgMachine> {
        cfgs.entry(name.to_string())
            .or_insert_with(|| machine(&dir.join("configs").join(format!("{name}.cfg"))))
            .clone()
    };
    let mut load_topo = |name: &str| -> Option<Vec<Op>> {
        topos
            .entry(name.to_string())
            .or_insert_with(|| topology_ops(&dir.join("topologies").join(format!("{name}.csv"))))
            .clone()
    };
    // mode (CALC, USER) → metric → (reference, simulated) pairs
    let mut pairs: [Vec<MetricPairs>; 2] = [Vec::new(), Vec::new()];
    let mut skipped = 0usize;
    let mut wall = [0.0f64; 2];
    let mut ref_wall = [0.0f64; 2];
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let (Some(cfg_name), Some(layer_name)) = (r.get("cfg_name"), r.get("layer_name")) else {
            skipped += 1;
            continue;
        };
        let (Some((m, user)), Some(ops)) = (load_cfg(cfg_name), load_topo(layer_name)) else {
            skipped += 1;
            continue;
        };
        let Some(op) = ops.first() else {
            skipped += 1;
            continue;
        };
        let mode = usize::from(user);
        let t0 = std::time::Instant::now();
        let p = run::simulate_op(m.as_ref(), op);
        wall[mode] += t0.elapsed().as_secs_f64();
        let Some(s) = p.as_ref().ok().and_then(report) else {
            skipped += 1;
            continue;
        };
        ref_wall[mode] += num(r, "scalesim_wall_s", &runs, line)?.unwrap_or(0.0);
        for (name, got) in metrics(s) {
            let Some(want) = num(r, name, &runs, line)? else {
                continue;
            };
            let slot = match pairs[mode].iter().position(|p| p.0 == name) {
                Some(i) => i,
                None => {
                    pairs[mode].push((name, Vec::new()));
                    pairs[mode].len() - 1
                }
            };
            pairs[mode][slot].1.push((want, got));
        }
    }
    let mut tables = Vec::new();
    for (mode, label) in [(0usize, "CALC"), (1, "USER")] {
        if pairs[mode].is_empty() {
            continue;
        }
        let speed = if wall[mode] > 0.0 {
            format!(
                "; archsim {:.3} s vs SCALE-Sim {:.1} s ({:.0}x)",
                wall[mode],
                ref_wall[mode],
                ref_wall[mode] / wall[mode]
            )
        } else {
            String::new()
        };
        tables.push(ValidationTable {
            title: format!("{title}, {label} mode"),
            source: format!("{SOURCE}/{file}{speed}"),
            summary: pairs[mode]
                .iter()
                .map(|(name, p)| SummaryRow::from_pairs(name, p, "evaluation rows (no fitting)"))
                .collect(),
        });
    }
    if skipped > 0 {
        if let Some(t) = tables.first_mut() {
            t.summary.push(SummaryRow {
                group: "skipped rows".into(),
                rows: skipped,
                note: "config or topology missing / unreadable".into(),
                ..Default::default()
            });
        }
    }
    Ok(tables)
}

/// The ResNet-50 network row of `network_runs.csv`: sums over its layers.
fn network(dir: &Path) -> Result<Option<ValidationTable>> {
    let file = dir.join("network_runs.csv");
    let Ok(mut rd) = csv::Reader::from_path(&file) else {
        return Ok(None);
    };
    let rows: Vec<HashMap<String, String>> = rd.deserialize().filter_map(|r| r.ok()).collect();
    network_table(dir, &file, &rows)
}

/// The network table of the parsed rows; `Ok(None)` when a config, topology or simulation is
/// missing (nothing to validate), an input error for a corrupt reference value.
fn network_table(
    dir: &Path,
    file: &Path,
    rows: &[HashMap<String, String>],
) -> Result<Option<ValidationTable>> {
    let mut summary = Vec::new();
    let mut source = format!("{SOURCE}/network_runs.csv");
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let Some(net) = r.get("network") else {
            return Ok(None);
        };
        let Some(cfg_name) = r.get("cfg_name") else {
            return Ok(None);
        };
        let Some((m, _)) = machine(&dir.join("configs").join(format!("{cfg_name}.cfg"))) else {
            return Ok(None);
        };
        let Some(ops) = topology_ops(&dir.join("topologies").join(format!("{net}.csv"))) else {
            return Ok(None);
        };
        let t0 = std::time::Instant::now();
        let Ok((profiles, _)) = run::simulate_sequential(m.as_ref(), &ops) else {
            return Ok(None);
        };
        let wall = t0.elapsed().as_secs_f64();
        let Some(res) = profiles.iter().map(report).collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        let total: u128 = res.iter().map(|x| x.total_cycles as u128).sum();
        let stalls: u128 = res.iter().map(|x| x.stall_cycles as u128).sum();
        let incl: i128 = res
            .iter()
            .map(|x| x.total_cycles_incl_prefetch as i128)
            .sum();
        for (name, got) in [
            ("total_cycles", total as f64),
            ("stall_cycles", stalls as f64),
            ("total_cycles_incl_prefetch", incl as f64),
        ] {
            if let Some(want) = num(r, name, file, line)? {
                summary.push(SummaryRow::from_pairs(
                    &format!("{net} {name}"),
                    &[(want, got)],
                    &format!("{} layers, sum", ops.len()),
                ));
            }
        }
        if let Some(ref_wall) = num(r, "scalesim_wall_s", file, line)? {
            source.push_str(&format!(
                "; {net}: archsim {wall:.4} s in-process vs SCALE-Sim {ref_wall} s ({:.0}x)",
                ref_wall / wall.max(1e-9)
            ));
        }
    }
    Ok((!summary.is_empty()).then(|| ValidationTable {
        title: "SCALE-Sim 3.0.0 network (sum over layers)".into(),
        source,
        summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_data_dir_does_not_panic() {
        let t = run(Path::new("/nonexistent/archsim/data")).unwrap();
        assert_eq!(t.len(), 1);
        assert!(t[0].summary[0].note.contains("not found"));
    }

    #[test]
    fn corrupt_reference_value_is_an_input_error() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scalesim");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("scalesim");
        for sub in ["configs", "topologies"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            for e in std::fs::read_dir(src.join(sub)).unwrap() {
                let p = e.unwrap().path();
                std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
        let text = std::fs::read_to_string(src.join("reference_runs.csv")).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let col = lines[0]
            .split(',')
            .position(|c| c == "total_cycles")
            .unwrap();
        let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
        cells[col] = "NaN".into();
        lines[2] = cells.join(",");
        std::fs::write(dir.join("reference_runs.csv"), lines.join("\n") + "\n").unwrap();
        let e = run(tmp.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.contains("reference_runs.csv:3") && msg.contains("total_cycles"),
            "{msg}"
        );
    }

    #[test]
    fn reference_set_is_exact() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let tables = run(&data).unwrap();
        for t in &tables {
            for s in &t.summary {
                assert_eq!(s.rows, s.exact, "{}: {}\n{}", t.title, s.group, t.render());
            }
        }
        // CALC and USER tables of the reference runs and of the cross-check set, the CALC
        // table of the stock-size set, the network.
        assert_eq!(tables.len(), 6);
        assert!(tables[2].title.contains("cross-check") && tables[3].title.contains("USER"));
        assert!(tables[2].summary[0].rows >= 100 && tables[3].summary[0].rows >= 100);
        assert!(tables[4].title.contains("stock-size") && tables[4].title.contains("CALC"));
        assert!(tables[4].summary[0].rows >= 10);
    }
}
