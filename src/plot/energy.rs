//! Energy by op group in joules on a linear axis, stacked by where it is spent (compute,
//! vector, registers, SRAM, L2, HBM, interconnect, static = idle + active baseline power ×
//! time), with the pJ/FLOP of each bar written after it. The whole workload per machine on top,
//! the op groups below.

use super::groups::{draw_blocks, GroupSum, Grouped};
use super::*;
use crate::energy::EnergyBreakdown;

/// The energy levels in stacking order (left first): name and colour (Tol muted; static in
/// Tol's pale grey).
pub(crate) const LEVELS: [(&str, RGBColor); 8] = [
    ("compute (matrix unit)", RGBColor(51, 34, 136)),
    ("vector unit", RGBColor(136, 204, 238)),
    ("registers / PE", RGBColor(68, 170, 153)),
    ("SRAM (VMEM / smem)", RGBColor(17, 119, 51)),
    ("L2", RGBColor(153, 153, 51)),
    ("HBM / DRAM", RGBColor(204, 102, 119)),
    ("interconnect", RGBColor(136, 34, 85)),
    ("static (idle + active)", RGBColor(187, 187, 187)),
];

/// The parts of a breakdown in [`LEVELS`] order, in pJ.
pub(crate) fn levels_pj(e: &EnergyBreakdown) -> [f64; 8] {
    [
        e.compute_pj,
        e.vector_pj,
        e.reg_pj,
        e.sram_pj,
        e.l2_pj,
        e.hbm_pj,
        e.interconnect_pj,
        e.static_pj,
    ]
}

/// "0.85 pJ/FLOP" of a sum, or "" without FLOPs.
fn pj_per_flop_text(s: &GroupSum) -> String {
    match (pos(s.energy_total_pj()), pos(s.flops)) {
        (Some(e), Some(f)) => format!(" · {} pJ/FLOP", fmt_sig(e / f)),
        _ => String::new(),
    }
}

pub(crate) fn draw_energy_by_group<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let g = Grouped::new(d);
    // Legend: the levels with energy on any machine.
    let legend: Vec<(String, RGBColor)> = LEVELS
        .iter()
        .enumerate()
        .filter(|(l, _)| g.total.iter().any(|t| t.energy_pj[*l] > 0.0))
        .map(|(_, (n, c))| (n.to_string(), *c))
        .collect();
    if legend.is_empty() {
        return no_data(area, "no energy data (ops need energy)");
    }
    let area = legend_row(area, &legend)?;
    let bar = |sums: &[&GroupSum], j: usize| {
        let s = sums[j];
        pos(s.energy_total_pj()).map(|e| {
            let segs = s
                .energy_pj
                .iter()
                .zip(LEVELS)
                .map(|(pj, (_, c))| (pj * 1e-12, c))
                .collect();
            (
                segs,
                format!("{}{}", fmt_energy_short(e * 1e-12), pj_per_flop_text(s)),
            )
        })
    };
    draw_blocks(&area, d, &g, &bar, "Energy (J, linear)", &|v| {
        fmt_energy_short(v)
    })
}
