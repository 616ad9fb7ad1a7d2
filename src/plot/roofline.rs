//! Rooflines (log-log): attainable TFLOP/s = min(peak, intensity × HBM bandwidth) (Williams,
//! Waterman, Patterson, CACM 2009), with a solid roof for the matrix unit and a dashed one for
//! the vector unit, and every op placed at its arithmetic intensity (FLOPs ÷ HBM bytes) and
//! achieved TFLOP/s: GEMMs and attention as circles, vector ops as triangles. All panels share
//! one x and one y range, so machines compare by eye.

use super::groups::{cause_color, stall_color};
use super::*;

/// One roofline panel per machine under a legend of what limits each op: side by side, or
/// `stacked` one above another (the column variant: at 3.5 in, two panels side by side leave
/// too little room for 7 pt tick labels, and one panel of every machine piles their roof labels
/// onto each other). Stacked, the legend lists only the causes that limit some op, so it stays
/// above the panels in a row or two.
pub(crate) fn draw_rooflines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
    stacked: bool,
) -> DrawResult<DB> {
    let mut legend = stall_legend();
    if stacked {
        let shown: Vec<RGBColor> = d
            .ops
            .iter()
            .flatten()
            .flatten()
            .filter(|p| op_point(p).is_some())
            .map(|p| stall_color(&p.main_stall))
            .collect();
        legend.retain(|(_, c)| shown.contains(c));
    }
    let area = legend_row(area, &legend)?;
    let area = text_lines(
        &area,
        &[
            "● matrix-unit op (GEMM, attention)",
            "▲ vector op",
            "— matrix roof",
            "- - vector roof",
        ],
        "   ",
        &text_style(small_px(), &RGBColor(60, 60, 60)),
    )?;
    let panels = if stacked {
        area.split_evenly((d.runs.len(), 1))
    } else {
        area.split_evenly((1, d.runs.len()))
    };
    for (j, panel) in panels.iter().enumerate() {
        draw_roofline(panel, d, &[j], true)?;
    }
    Ok(())
}

/// What limits an op (its `main_stall`), in legend order.
const STALLS: [&str; 7] = [
    "compute",
    "memory",
    "fill/drain",
    "tail",
    "overhead",
    "clock",
    "kernel efficiency",
];

fn stall_legend() -> Vec<(String, RGBColor)> {
    let mut v: Vec<(String, RGBColor)> = STALLS
        .iter()
        .map(|l| (format!("limited by {l}"), cause_color(l)))
        .collect();
    v[0].0 = "compute-bound".into();
    v
}

/// True for ops that run on the matrix unit (GEMMs, fused attention).
fn on_matrix_unit(p: &OpProfile) -> bool {
    matches!(p.op.as_str(), "gemm" | "attention")
}

/// (intensity FLOP/B, achieved TFLOP/s) of an op, when both are positive and finite.
pub(crate) fn op_point(p: &OpProfile) -> Option<(f64, f64)> {
    let ai = pos(p.flops / p.counters.hbm_bytes())?;
    // Achieved TFLOP/s; recomputed from flops and time when a model left it unset.
    let tflops = pos(p.tflops).or_else(|| pos(p.flops / p.time_s / 1e12))?;
    Some((ai, tflops))
}

/// Pixels a label keeps from a roof line: about half the roof's stroke width.
const ROOF_CLEARANCE: i32 = 2;

/// A text of a roof label: the text, its pixel offset from the anchor and its anchoring.
type RoofText = (String, (i32, i32), Pos);

/// The label of a roof (its peak and ridge, or its vector peak) in one of its layouts.
struct RoofLabel {
    /// Where the texts are anchored (intensity, TFLOP/s).
    at: (f64, f64),
    style: TextStyle<'static>,
    /// Each layout's texts, pixel offsets from `at` and anchors; the first is preferred.
    layouts: Vec<Vec<RoofText>>,
}

/// Draw the roofs of the runs `which` and their ops. With `by_stall` the points are colored by
/// main stall and the biggest ops are named (one machine per panel); otherwise by machine (the
/// dashboard's combined roofline).
pub(crate) fn draw_roofline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
    which: &[usize],
    by_stall: bool,
) -> DrawResult<DB> {
    let runs: Vec<&RunView> = which.iter().map(|&j| &d.runs[j]).collect();
    let subtitle = if runs.len() == 1 {
        let r = runs[0];
        match r.roof {
            Some(roof) => format!(
                "{}: matrix {} TFLOP/s{}{}, HBM {}",
                r.label,
                fmt_sig(roof.peak_tflops),
                if roof.peak_derived {
                    " (derived from ops)"
                } else {
                    ""
                },
                roof.vector_tflops
                    .map(|v| format!(", vector {}", fmt_sig(v)))
                    .unwrap_or_default(),
                roof.hbm_gbps
                    .map(|b| format!("{} GB/s", fmt_sig(b)))
                    .unwrap_or_else(|| "bandwidth unknown".into())
            ),
            None => format!("{}: peak unknown", r.label),
        }
    } else {
        "Roofline (HBM): roofs and ops per machine".into()
    };
    // At column width the peaks are read from the roof labels: the subtitle keeps the machine,
    // its HBM bandwidth and whether the peak is derived.
    let (w, _) = area.dim_in_pixel();
    let fits = area
        .estimate_text_size(&subtitle, &bold(axis_px()).into())
        .map_or(true, |(tw, _)| tw as f64 <= w as f64 - 8.0);
    let subtitle = match runs[..] {
        [r] if !fits => format!(
            "{}: HBM {}{}",
            r.label,
            r.roof
                .and_then(|roof| roof.hbm_gbps)
                .map(|b| format!("{} GB/s", fmt_sig(b)))
                .unwrap_or_else(|| "bandwidth unknown".into()),
            if r.roof.is_some_and(|roof| roof.peak_derived) {
                ", peak derived from ops"
            } else {
                ""
            }
        ),
        _ => subtitle,
    };
    let area = title_area(area, &subtitle, axis_px())?;
    let area = if by_stall {
        area
    } else {
        let items: Vec<(String, RGBColor)> = runs
            .iter()
            .map(|r| (format!("{} (roof and ops)", r.label), r.color))
            .collect();
        legend_row(&area, &items)?
    };
    // Points and ranges.
    let mut pts: Vec<(usize, f64, f64, &OpProfile)> = Vec::new();
    let mut skipped = 0usize;
    for &j in which {
        for p in d.ops[j].iter().flatten() {
            match op_point(p) {
                Some((x, y)) => pts.push((j, x, y, p)),
                None => skipped += 1,
            }
        }
    }
    let roofs: Vec<(usize, Roof)> = which
        .iter()
        .filter_map(|&j| d.runs[j].roof.map(|r| (j, r)))
        .collect();
    if pts.is_empty() && roofs.is_empty() {
        return no_data(
            &area,
            "no ops with FLOPs and HBM traffic, and no peak known",
        );
    }
    // The ranges cover every run's ops and roofs, not only the drawn ones, so the panels of
    // one figure share their axes.
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for (j, run) in d.runs.iter().enumerate() {
        for (x, y) in d.ops[j].iter().flatten().filter_map(|p| op_point(p)) {
            xs.push(x);
            ys.push(y);
        }
        if let Some(r) = run.roof {
            ys.push(r.peak_tflops);
            ys.extend(r.vector_tflops);
            if let Some(x) = r.ridge_flop_per_byte() {
                xs.push(x);
            }
        }
    }
    let fold = |v: &[f64], f: fn(f64, f64) -> f64, init: f64| v.iter().copied().fold(init, f);
    let (xmin, xmax) = if xs.is_empty() {
        (0.1, 1000.0)
    } else {
        (fold(&xs, f64::min, f64::INFINITY), fold(&xs, f64::max, 0.0))
    };
    let (ymin, ymax) = (fold(&ys, f64::min, f64::INFINITY), fold(&ys, f64::max, 0.0));
    let x_lo = 10f64.powf((xmin / 3.0).log10().floor());
    let x_hi = 10f64.powf((xmax * 3.0).log10().ceil());
    let y_lo = 10f64.powf((ymin / 3.0).log10().floor());
    // Headroom above the highest roof for its labels (peak, and ridge with `by_stall`): at
    // least a factor 3, more where the fonts are large for the plot height.
    let x_area = tick_px() + axis_px() * 1.6;
    let plot_h = (area.dim_in_pixel().1 as f64 - 28.0 - x_area).max(1.0);
    let lines = if by_stall { 2.0 } else { 1.0 };
    let label_h = (small_px() * 1.3 * lines + 12.0) / plot_h;
    let decades = (ymax / y_lo).log10().max(1.0);
    let y_hi = ymax
        * 10f64
            .powf(decades * label_h / (1.0 - label_h).max(0.5))
            .max(3.0);
    let mut chart = ChartBuilder::on(&area)
        .margin(14)
        // Room for half the widest x tick label ("10000") right of the plot.
        .margin_right((tick_px() * 1.5) as u32)
        .x_label_area_size(x_area as u32)
        .y_label_area_size((tick_px() * 2.8 + axis_px() * 1.3) as u32)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
    grid_style(
        chart
            .configure_mesh()
            .x_label_formatter(&|v| fmt_log_tick(*v))
            .y_label_formatter(&|v| fmt_log_tick(*v))
            .x_desc("Arithmetic intensity (FLOP per HBM byte, log)")
            .y_desc("Achieved TFLOP/s (log)"),
        None,
        RGBColor(240, 240, 240),
        RGBColor(215, 215, 215),
    )
    .draw()?;
    // Roofs: the bandwidth slope from where it enters the plot, then the flat peak. Their pixel
    // polylines are kept so no label crosses them; their labels are drawn once every roof is.
    let mut roof_px: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut roof_labels: Vec<RoofLabel> = Vec::new();
    for (j, r) in &roofs {
        let color = if by_stall {
            RGBColor(40, 40, 40)
        } else {
            d.runs[*j].color
        };
        let mut line = Vec::new();
        match (r.hbm_gbps, r.ridge_flop_per_byte()) {
            (Some(_), Some(ridge)) => {
                let x0 = x_lo.max(y_lo / r.attainable_tflops(1.0));
                if x0 < ridge {
                    line.push((x0, r.attainable_tflops(x0)));
                }
                line.push((
                    ridge.clamp(x_lo, x_hi),
                    r.attainable_tflops(ridge.clamp(x_lo, x_hi)),
                ));
                line.push((x_hi, r.peak_tflops));
                if let Some(v) = r.vector_tflops.filter(|v| *v < r.peak_tflops) {
                    // The vector roof: the same bandwidth slope up to its own ridge.
                    let vr = v / r.attainable_tflops(1.0);
                    let x0 = x_lo.max(y_lo / r.attainable_tflops(1.0));
                    let mut vline = Vec::new();
                    if x0 < vr {
                        vline.push((x0, r.attainable_under(v, x0)));
                    }
                    vline.push((
                        vr.clamp(x_lo, x_hi),
                        r.attainable_under(v, vr.clamp(x_lo, x_hi)),
                    ));
                    vline.push((x_hi, v));
                    roof_px.push(vline.iter().map(|p| chart.backend_coord(p)).collect());
                    chart.draw_series(DashedLineSeries::new(
                        vline,
                        10,
                        6,
                        color.stroke_width(2),
                    ))?;
                    // Above the flat vector roof at the right edge; below it where the label
                    // would reach the slope above the vector ridge.
                    let t = format!("vector {} TFLOP/s", fmt_sig(v));
                    roof_labels.push(RoofLabel {
                        at: (x_hi, v),
                        style: text_style(small_px(), &color),
                        layouts: vec![
                            vec![(t.clone(), (-8, -5), Pos::new(HPos::Right, VPos::Bottom))],
                            vec![(t, (-8, 10), Pos::new(HPos::Right, VPos::Top))],
                        ],
                    });
                }
                if by_stall && (x_lo..x_hi).contains(&ridge) {
                    chart.draw_series(std::iter::once(Circle::new(
                        (ridge, r.peak_tflops),
                        4,
                        color.filled(),
                    )))?;
                }
            }
            _ => {
                line.push((x_lo, r.peak_tflops));
                line.push((x_hi, r.peak_tflops));
            }
        }
        roof_px.push(line.iter().map(|p| chart.backend_coord(p)).collect());
        chart.draw_series(LineSeries::new(line, color.stroke_width(3)))?;
        // Labels above the roof, where no op can be: the peak right of the ridge and the ridge
        // left of it; both left of the ridge, stacked, when the flat part is too short.
        let style = text_style(small_px(), &color);
        let peak_text = format!("matrix peak {} TFLOP/s", fmt_sig(r.peak_tflops));
        let ridge = r.ridge_flop_per_byte().filter(|x| (x_lo..x_hi).contains(x));
        let at = ridge.unwrap_or(x_lo);
        let (px, _) = chart.backend_coord(&(at, r.peak_tflops));
        let (bx, _) = chart.plotting_area().get_base_pixel();
        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let peak_w = area
            .estimate_text_size(&peak_text, &style)
            .map(|s| s.0 as i32)
            .unwrap_or(300);
        let fits_right = px + 8 + peak_w <= bx + pw as i32;
        let left = Pos::new(HPos::Left, VPos::Bottom);
        let right = Pos::new(HPos::Right, VPos::Bottom);
        let line_px = (small_px() * 1.3) as i32;
        // Either layout, the one that fits first; the other where the first crosses a roof.
        let mut beside = vec![(peak_text.clone(), (8, -6), left)];
        let mut stacked = vec![(peak_text, (-8, -6), right)];
        if let Some(x) = ridge.filter(|_| by_stall) {
            let t = format!("ridge {} FLOP/B", fmt_sig(x));
            beside.push((t.clone(), (-8, -6), right));
            stacked.push((t, (-8, -6 - line_px), right));
        }
        let layouts = match ridge {
            None => vec![beside],
            Some(_) if fits_right => vec![beside, stacked],
            Some(_) => vec![stacked, beside],
        };
        roof_labels.push(RoofLabel {
            at: (at, r.peak_tflops),
            style,
            layouts,
        });
    }
    // Op centers in pixels, obstacles of the labels.
    let centers: Vec<(i32, i32)> = pts
        .iter()
        .map(|(_, x, y, _)| chart.backend_coord(&(*x, *y)))
        .collect();
    let plot_box = {
        let plot = chart.plotting_area();
        let (bx, by) = plot.get_base_pixel();
        let (pw, ph) = plot.dim_in_pixel();
        (bx, by, bx + pw as i32, by + ph as i32)
    };
    // Roof labels: the first layout unless it crosses a roof and another fits clear of the
    // roofs, the ops, the plot edges and the roof labels placed before.
    let mut room = LabelPlacer::new(plot_box, &centers, 9);
    for line in &roof_px {
        room.avoid_polyline(line, ROOF_CLEARANCE);
    }
    let mut roof_boxes = Vec::new();
    for l in roof_labels {
        let anchor = chart.backend_coord(&l.at);
        let boxes: Vec<Vec<(i32, i32, i32, i32)>> = l
            .layouts
            .iter()
            .map(|texts| {
                texts
                    .iter()
                    .map(|(t, off, pos)| {
                        let size = area.estimate_text_size(t, &l.style).unwrap_or((300, 14));
                        label_box(text_box((anchor.0 + off.0, anchor.1 + off.1), *pos, size))
                    })
                    .collect()
            })
            .collect();
        let pick = if boxes[0].iter().any(|b| room.crosses_lines(*b)) {
            (1..boxes.len())
                .find(|&i| boxes[i].iter().all(|b| room.fits(*b)))
                .unwrap_or(0)
        } else {
            0
        };
        for b in &boxes[pick] {
            room.reserve(*b);
            roof_boxes.push(*b);
        }
        for (t, off, pos) in &l.layouts[pick] {
            chart.draw_series(std::iter::once(
                EmptyElement::at(l.at) + Text::new(t.clone(), *off, l.style.pos(*pos)),
            ))?;
        }
    }
    // Ops: circles on the matrix unit, triangles on the vector unit.
    for (j, x, y, p) in &pts {
        let c = if by_stall {
            stall_color(&p.main_stall)
        } else {
            d.runs[*j].color
        };
        if on_matrix_unit(p) {
            chart.draw_series(std::iter::once(Circle::new(
                (*x, *y),
                7,
                c.mix(0.85).filled(),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (*x, *y),
                7,
                BLACK.mix(0.6).stroke_width(1),
            )))?;
        } else {
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (*x, *y),
                9,
                c.mix(0.85).filled(),
            )))?;
        }
    }
    if by_stall {
        // Name the ops that take the most time (up to 8) where a label fits without overlap.
        let mut placer = LabelPlacer::new(plot_box, &centers, 7);
        for line in &roof_px {
            placer.avoid_polyline(line, ROOF_CLEARANCE);
        }
        for b in &roof_boxes {
            placer.reserve(*b);
        }
        let mut big: Vec<&(usize, f64, f64, &OpProfile)> = pts.iter().collect();
        big.sort_by(|a, b| b.3.time_s.total_cmp(&a.3.time_s));
        let style = text_style(small_px(), &RGBColor(40, 40, 40));
        for (_, x, y, p) in big.into_iter().take(8) {
            let name = truncate_label(&p.name);
            let size = area.estimate_text_size(&name, &style).unwrap_or((150, 14));
            let c = chart.backend_coord(&(*x, *y));
            if let Some((off, at)) = placer.place(c, size) {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((*x, *y)) + Text::new(name, off, style.pos(at)),
                ))?;
            }
        }
    }
    if skipped > 0 {
        // In the bottom right corner of the plotting area, above the x tick labels.
        let (bx, by) = chart.plotting_area().get_base_pixel();
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (ax, ay) = area.get_base_pixel();
        area.draw(&Text::new(
            format!("{skipped} op(s) without HBM traffic or FLOPs not shown"),
            (bx - ax + pw as i32 - 6, by - ay + ph as i32),
            text_style(small_px(), &RGBColor(90, 90, 90)).pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))?;
    }
    Ok(())
}
