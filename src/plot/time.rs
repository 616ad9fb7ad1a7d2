//! Time per op on a log axis, machines side by side, with the speedup of the faster machine
//! written above each op (in the winner's color).

use super::*;

/// Speedup of run `a` over run `b` on one op: `time_b / time_a` (> 1: `a` is faster).
pub(crate) fn speedup(a: Option<&OpProfile>, b: Option<&OpProfile>) -> Option<f64> {
    let ta = pos(a?.time_s)?;
    let tb = pos(b?.time_s)?;
    Some(tb / ta)
}

/// The "A is 2.3× faster overall" line for the first two runs.
pub(crate) fn total_speedup_text(d: &Compared) -> Option<String> {
    if d.runs.len() < 2 {
        return None;
    }
    let (a, b) = (&d.runs[0], &d.runs[1]);
    let ta = pos(a.report.total.time_s)?;
    let tb = pos(b.report.total.time_s)?;
    let (w, s) = if ta <= tb { (a, tb / ta) } else { (b, ta / tb) };
    Some(format!(
        "total: {} {} vs {} {} → {} {:.2}× faster",
        a.label,
        fmt_time_short(ta),
        b.label,
        fmt_time_short(tb),
        w.label,
        s
    ))
}

pub(crate) fn draw_time<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let items: Vec<(String, RGBColor)> =
        d.runs.iter().map(|r| (r.label.clone(), r.color)).collect();
    let area = legend_row(area, &items)?;
    let area = match total_speedup_text(d) {
        Some(t) => {
            let (top, rest) = area.split_vertically(24);
            let (w, _) = top.dim_in_pixel();
            top.draw(&Text::new(
                format!("{t}   ·   above each op: speedup of the faster machine, in its color"),
                (w as i32 / 2, 11),
                text_style(TICK_PX, &BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
            rest
        }
        None => area,
    };
    let n = d.op_labels.len();
    let times: Vec<f64> = d
        .ops
        .iter()
        .flatten()
        .filter_map(|p| p.and_then(|p| pos(p.time_s)))
        .collect();
    if n == 0 || times.is_empty() {
        return no_data(&area, "no ops with a positive time to plot");
    }
    let tmin = times.iter().copied().fold(f64::INFINITY, f64::min);
    let tmax = times.iter().copied().fold(0.0, f64::max);
    let lo = tmin / 2.0;
    // Headroom above the tallest bar for the speedup labels (about 70 px of the plot height).
    let (_, h) = area.dim_in_pixel();
    let label_px = op_label_area_px(&area, &d.op_labels);
    let plot_h = (h as f64 - label_px as f64 - 30.0).max(100.0);
    let frac = (70.0 / plot_h).min(0.5);
    let decades = (tmax / lo).log10().max(1.0);
    let hi = tmax * 10f64.powf(decades * frac / (1.0 - frac)) * 1.2;
    let nr = d.runs.len();
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(label_px)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())?;
    grid_style(
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_label_formatter(&|v| fmt_time_short(*v))
            .y_desc("Time per op (log scale)")
            .x_desc("Operation"),
        None,
        RGBColor(242, 242, 242),
        RGBColor(210, 210, 210),
    )
    .draw()?;
    chart.draw_series(d.grouped_bars(lo, |p| pos(p.time_s)))?;
    if nr >= 2 {
        let (pw, _) = chart.plotting_area().dim_in_pixel();
        let slot = pw as f64 / n as f64;
        let style = text_style(SMALL_PX, &BLACK);
        let rotate = area
            .estimate_text_size("10.0×", &style)
            .map(|(w, _)| w as f64 + 4.0 > slot)
            .unwrap_or(true);
        let mut labels = Vec::new();
        for i in 0..n {
            let (a, b) = (d.ops[0][i], d.ops[1][i]);
            let Some(s) = speedup(a, b) else { continue };
            let top = a
                .map(|p| p.time_s)
                .unwrap_or(0.0)
                .max(b.map(|p| p.time_s).unwrap_or(0.0));
            let (ratio, color) = if s >= 1.0 {
                (s, d.runs[0].color)
            } else {
                (1.0 / s, d.runs[1].color)
            };
            let text = if ratio >= 100.0 {
                format!("{ratio:.0}×")
            } else {
                format!("{ratio:.1}×")
            };
            labels.push((i, top, text, color));
        }
        chart.draw_series(labels.into_iter().map(|(i, top, text, color)| {
            let style = if rotate {
                bold(SMALL_PX)
                    .color(&color)
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center))
            } else {
                bold(SMALL_PX)
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Bottom))
            };
            // 4 px above the bar top.
            EmptyElement::at((i as f64, top)) + Text::new(text, (0, -4), style)
        }))?;
    }
    draw_op_labels(&area, chart.plotting_area(), &d.op_labels)
}
