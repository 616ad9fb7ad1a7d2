//! Price-performance and tokens/s of one machine's run: USD per run and per PFLOP from the
//! config's `[cost]` (USD per chip-hour), tokens/s per phase from the workload's `[tokens]`.

use super::{CostSummary, MachineRun, TokenRate};
use crate::config::CostSection;
use crate::registry::LoadedConfig;
use crate::run::RunReport;
use crate::workload::Workload;

fn cost_summary(cost: Option<&CostSection>, run: &RunReport) -> Option<CostSummary> {
    let c = cost?;
    let usd_per_s = c.usd_per_chip_hour / 3600.0;
    let usd_per_run = usd_per_s * run.total.time_s;
    Some(CostSummary {
        usd_per_chip_hour: c.usd_per_chip_hour,
        price_source: c.source.clone(),
        usd_per_run,
        usd_per_pflop: if run.total.flops > 0.0 {
            usd_per_run / (run.total.flops / 1e15)
        } else {
            0.0
        },
    })
}

fn token_rates(
    workloads: &[Workload],
    run: &RunReport,
    cost: Option<&CostSection>,
) -> Vec<TokenRate> {
    let mut out = Vec::new();
    for w in workloads {
        for (phase, &tokens) in &w.tokens {
            let prefix_multi = format!("{}/{}", w.name, phase);
            let time_s: f64 = run
                .ops
                .iter()
                .filter(|p| {
                    let n = p.name.as_str();
                    if workloads.len() > 1 {
                        n.starts_with(&prefix_multi)
                    } else {
                        n.starts_with(phase.as_str())
                    }
                })
                .map(|p| p.time_s * p.repeat.0 as f64)
                .sum();
            if time_s <= 0.0 {
                continue;
            }
            let tps = tokens as f64 / time_s;
            out.push(TokenRate {
                workload: w.name.clone(),
                phase: phase.clone(),
                tokens,
                time_s,
                tokens_per_s: tps,
                usd_per_million_tokens: cost.map(|c| c.usd_per_chip_hour / 3600.0 / tps * 1e6),
            });
        }
    }
    out
}

pub(super) fn machine_run(
    label: &str,
    cfg: &LoadedConfig,
    workloads: &[Workload],
    run: RunReport,
) -> MachineRun {
    let tdp_w = run.machine.info.tdp_w.unwrap_or(0.0);
    let avg_power_w = if run.total.time_s > 0.0 {
        run.total.energy_pj * 1e-12 / run.total.time_s
    } else {
        0.0
    };
    MachineRun {
        label: label.to_string(),
        cost: cost_summary(cfg.cost(), &run),
        tokens: token_rates(workloads, &run, cfg.cost()),
        avg_power_w,
        tdp_w,
        tdp_energy_pj: tdp_w * run.total.time_s * 1e12,
        run,
    }
}
