//! Utilization per op (% of the machine's dense peak for the op's dtype), machines side by side.

use super::*;

pub(crate) struct UtilizationPlot<'a, 'b> {
    pub data: &'b Compared<'a>,
}

impl Figure for UtilizationPlot<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let d = self.data;
        let area = title_area(area, &d.headline("Utilization per op"), TITLE_PX)?;
        draw_utilization(&area, d)
    }
}

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
    let nr = d.runs.len();
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(op_label_area_px(&area, &d.op_labels))
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..105f64)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(12)
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .y_desc("Utilization (% of dense peak)")
        .x_desc("Operation")
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX))
        .max_light_lines(1)
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(210, 210, 210))
        .draw()?;
    let group = 0.8;
    let bw = group / nr as f64;
    for (j, run) in d.runs.iter().enumerate() {
        let bars = d.ops[j].iter().enumerate().filter_map(|(i, p)| {
            let u = p.map(|p| p.utilization)?;
            if !u.is_finite() {
                return None;
            }
            let x0 = i as f64 - group / 2.0 + j as f64 * bw;
            Some(Rectangle::new(
                [
                    (x0 + bw * 0.06, 0.0),
                    (x0 + bw * 0.94, (u * 100.0).clamp(0.0, 100.0)),
                ],
                run.color.filled(),
            ))
        });
        chart.draw_series(bars)?;
    }
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
