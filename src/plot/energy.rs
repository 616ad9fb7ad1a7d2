//! Energy per op in pJ/FLOP, stacked by where it is spent (compute, vector, registers, SRAM, L2,
//! HBM, interconnect, static = idle + active baseline power × time), one panel per machine on a
//! shared log y axis: a bar's height is its total pJ/FLOP and its segments split it in
//! proportion to each level's share (pJ/FLOP spans four orders of magnitude across ops).

use super::*;
use crate::energy::EnergyBreakdown;

/// The energy levels in stacking order (bottom first): name and color.
pub(crate) const LEVELS: [(&str, RGBColor); 8] = [
    ("compute (MXU / tensor core)", RGBColor(78, 121, 167)),
    ("vector / CUDA core", RGBColor(160, 203, 232)),
    ("registers / PE", RGBColor(89, 161, 79)),
    ("SRAM (VMEM / smem)", RGBColor(140, 209, 125)),
    ("L2", RGBColor(242, 142, 43)),
    ("HBM", RGBColor(225, 87, 89)),
    ("interconnect", RGBColor(176, 122, 161)),
    ("static (idle + active)", RGBColor(186, 176, 172)),
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

/// pJ/FLOP per level of one op; `None` when the op has no energy or no FLOPs.
fn op_levels(p: &OpProfile) -> Option<[f64; 8]> {
    let e = p.energy.as_ref()?;
    let f = pos(p.flops)?;
    let mut v = levels_pj(e);
    for x in &mut v {
        *x = if x.is_finite() && *x > 0.0 {
            *x / f
        } else {
            0.0
        };
    }
    Some(v)
}

/// Legend entries of the energy levels, in stacking order.
fn level_legend() -> Vec<(String, RGBColor)> {
    LEVELS.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

pub(crate) fn draw_energy_per_op<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let area = legend_row(area, &level_legend())?;
    let n = d.op_labels.len();
    let stacks: Vec<Vec<Option<[f64; 8]>>> = d
        .ops
        .iter()
        .map(|ops| ops.iter().map(|p| p.and_then(op_levels)).collect())
        .collect();
    let mut totals: Vec<f64> = stacks
        .iter()
        .flatten()
        .flatten()
        .map(|v| v.iter().sum::<f64>())
        .filter(|t| *t > 0.0)
        .collect();
    if n == 0 || totals.is_empty() {
        return no_data(&area, "no energy data (ops need energy and FLOPs)");
    }
    // pJ/FLOP spans orders of magnitude (a prefill GEMM ~1, a decode GEMV ~100, an elementwise
    // op ~10^4): a log axis keeps every op readable. Each bar's height is its total; the bar is
    // split into levels in proportion to their shares of that total (in log space), so the
    // composition stays visible on every bar.
    totals.sort_by(f64::total_cmp);
    let ylo = totals[0] / 3.0;
    let ymax = totals[totals.len() - 1] * 2.0;
    // Equal plot heights: the last panel also carries the op labels.
    let label_px = op_label_area_px(&area, &d.op_labels);
    let (_, h) = area.dim_in_pixel();
    let each = (h.saturating_sub(label_px)) / d.runs.len() as u32;
    let mut panels = Vec::new();
    let mut rest = area.clone();
    for _ in 1..d.runs.len() {
        let (top, r) = rest.split_vertically(each);
        panels.push(top);
        rest = r;
    }
    panels.push(rest);
    for (j, (run, panel)) in d.runs.iter().zip(&panels).enumerate() {
        let last = j + 1 == d.runs.len();
        let e_total = run.report.total.energy.total_pj;
        let f_total = run.report.total.flops;
        let sub = match (pos(e_total), pos(f_total)) {
            (Some(e), Some(f)) => format!(
                "{}: {} total, {} pJ/FLOP overall",
                run.label,
                fmt_energy_short(e * 1e-12),
                fmt_sig(e / f)
            ),
            _ => run.label.clone(),
        };
        let sub = format!("{sub}   (log axis: bar height = total; segments = each level's share)");
        let panel = title_area(panel, &sub, AXIS_PX)?;
        let mut chart = ChartBuilder::on(&panel)
            .margin(10)
            .margin_top(16)
            .x_label_area_size(if last { label_px } else { 10 })
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (ylo..ymax).log_scale())?;
        grid_style(
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(8)
                .y_label_formatter(&|v| fmt_sig(*v))
                .y_desc("pJ per FLOP (log)")
                .x_desc(if last { "Operation" } else { "" }),
            Some(1),
            RGBColor(242, 242, 242),
            RGBColor(210, 210, 210),
        )
        .draw()?;
        let mut rects = Vec::new();
        for (i, v) in stacks[j].iter().enumerate() {
            let Some(v) = v else { continue };
            let total: f64 = v.iter().sum();
            if total <= 0.0 {
                continue;
            }
            let span = total / ylo;
            let mut cum = 0.0;
            for (l, x) in v.iter().enumerate() {
                if *x <= 0.0 {
                    continue;
                }
                let y0 = ylo * span.powf(cum);
                cum += x / total;
                let y1 = ylo * span.powf(cum.min(1.0));
                rects.push(Rectangle::new(
                    [(i as f64 - 0.38, y0), (i as f64 + 0.38, y1)],
                    LEVELS[l].1.filled(),
                ));
            }
        }
        chart.draw_series(rects)?;
        if last {
            draw_op_labels(&panel, chart.plotting_area(), &d.op_labels)?;
        }
    }
    Ok(())
}

/// One horizontal stacked bar per machine: whole-run energy per FLOP by level (dashboard).
pub(crate) fn draw_energy_totals<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let area = legend_row(area, &level_legend())?;
    let rows: Vec<Option<[f64; 8]>> = d
        .runs
        .iter()
        .map(|r| {
            let mut e = r.report.total.energy.clone();
            if e.total_pj.is_nan() || e.total_pj <= 0.0 {
                // Totals not filled: sum the ops.
                e = EnergyBreakdown::default();
                for p in &r.report.ops {
                    if let Some(pe) = &p.energy {
                        e.add(pe);
                    }
                }
            }
            let f = pos(r.report.total.flops)
                .or_else(|| pos(r.report.ops.iter().map(|p| p.flops).sum::<f64>()))?;
            let mut v = levels_pj(&e);
            for x in &mut v {
                *x = if x.is_finite() && *x > 0.0 {
                    *x / f
                } else {
                    0.0
                };
            }
            (v.iter().sum::<f64>() > 0.0).then_some(v)
        })
        .collect();
    let xmax = rows
        .iter()
        .flatten()
        .map(|v| v.iter().sum::<f64>())
        .fold(0.0, f64::max);
    if xmax <= 0.0 {
        return no_data(&area, "no energy data");
    }
    let nr = d.runs.len();
    let labels: Vec<String> = d.runs.iter().map(|r| r.label.clone()).collect();
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .margin_right(40)
        .x_label_area_size(50)
        .y_label_area_size(
            labels
                .iter()
                .map(|l| {
                    area.estimate_text_size(l, &text_style(TICK_PX, &BLACK))
                        .map(|(w, _)| w)
                        .unwrap_or(80)
                })
                .max()
                .unwrap_or(80)
                + 20,
        )
        .build_cartesian_2d(0f64..xmax * 1.25, -0.5f64..(nr as f64 - 0.5))?;
    grid_style(
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(nr)
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[nr - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|v| fmt_sig(*v))
            .x_desc("Energy per FLOP over the whole run (pJ/FLOP)"),
        Some(1),
        RGBColor(242, 242, 242),
        RGBColor(210, 210, 210),
    )
    .draw()?;
    for (j, v) in rows.iter().enumerate() {
        let Some(v) = v else { continue };
        let y = (nr - 1 - j) as f64;
        let mut x0 = 0.0;
        let mut rects = Vec::new();
        for (l, x) in v.iter().enumerate() {
            if *x > 0.0 {
                rects.push(Rectangle::new(
                    [(x0, y - 0.3), (x0 + x, y + 0.3)],
                    LEVELS[l].1.filled(),
                ));
            }
            x0 += x;
        }
        chart.draw_series(rects)?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{} pJ/FLOP", fmt_sig(x0)),
            (x0 + xmax * 0.01, y),
            bold(TICK_PX)
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
    }
    Ok(())
}
