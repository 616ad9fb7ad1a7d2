//! Utilization per op (% of the machine's dense peak for the op's dtype), machines side by side.

use super::*;

/// Grouped bars of utilization in %, one group per op, one bar per machine; a dashed line per
/// machine marks its FLOP-weighted total utilization.
pub(crate) fn draw_utilization<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let items: Vec<(String, RGBColor)> = d
        .runs
        .iter()
        .map(|r| {
            let u = r.report.total.utilization;
            let s = if u.is_finite() && u > 0.0 {
                format!("{} (total {:.1}%, dashed)", r.label, u * 100.0)
            } else {
                r.label.clone()
            };
            (s, r.color)
        })
        .collect();
    let area = legend_row(area, &items)?;
    let n = d.op_labels.len();
    if n == 0 {
        return no_data(&area, "no ops to plot");
    }
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(op_label_area_px(&area, &d.op_labels))
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..105f64)?;
    grid_style(
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(12)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .y_desc("Utilization (% of dense peak)")
            .x_desc("Operation"),
        Some(1),
        RGBColor(242, 242, 242),
        RGBColor(210, 210, 210),
    )
    .draw()?;
    let bars = d.grouped_bars(0.0, |p| {
        let u = p.utilization;
        u.is_finite().then(|| (u * 100.0).clamp(0.0, 100.0))
    });
    chart.draw_series(bars)?;
    for run in &d.runs {
        let u = run.report.total.utilization;
        if u.is_finite() && u > 0.0 {
            let y = (u * 100.0).clamp(0.0, 100.0);
            chart.draw_series(DashedLineSeries::new(
                vec![(-0.5, y), (n as f64 - 0.5, y)],
                8,
                5,
                run.color.stroke_width(2),
            ))?;
        }
    }
    draw_op_labels(&area, chart.plotting_area(), &d.op_labels)
}
