//! Scaling plots of training runs: tokens/s and MFU against chip count, one line per system
//! (log-log and log-linear), for `archsim train --scaling`.

use super::{
    ensure_fonts, fmt_log_tick, grid_style, legend_row, machine_color, render, title_area, Figure,
    TITLE_PX,
};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One system's points: (chips, tokens/s, MFU 0..1).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSeries {
    pub label: String,
    pub points: Vec<(u64, f64, f64)>,
}

/// Draw `scaling_tokens` (tokens/s vs chips, log-log) and `scaling_mfu` (MFU vs chips) as PNG
/// and SVG into `out_dir`.
pub fn scaling_plots(
    series: &[ScalingSeries],
    title: &str,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    ensure_fonts()?;
    if !series.iter().any(|s| !s.points.is_empty()) {
        return Err(Error::internal(
            "scaling plot: no point to draw".to_string(),
        ));
    }
    let mut out = render(
        &ScalingFigure {
            series,
            title,
            mfu: false,
        },
        (1200, 800),
        out_dir,
        "scaling_tokens",
    )?;
    out.extend(render(
        &ScalingFigure {
            series,
            title,
            mfu: true,
        },
        (1200, 800),
        out_dir,
        "scaling_mfu",
    )?);
    Ok(out)
}

struct ScalingFigure<'a> {
    series: &'a [ScalingSeries],
    title: &'a str,
    mfu: bool,
}

impl Figure for ScalingFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> super::DrawResult<DB> {
        let what = if self.mfu { "MFU" } else { "tokens/s" };
        let area = title_area(area, &format!("{} — {what} vs chips", self.title), TITLE_PX)?;
        let legend: Vec<(String, RGBColor)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), machine_color(i)))
            .collect();
        let area = legend_row(&area, &legend)?;
        let pts = || self.series.iter().flat_map(|s| s.points.iter());
        let x0 = pts()
            .map(|p| p.0 as f64)
            .fold(f64::INFINITY, f64::min)
            .max(1.0);
        let x1 = pts().map(|p| p.0 as f64).fold(1.0, f64::max);
        let y = |p: &(u64, f64, f64)| if self.mfu { p.2 * 100.0 } else { p.1 };
        let y0 = pts()
            .map(y)
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let y1 = pts().map(y).fold(0.0, f64::max);
        let (y0, y1) = if self.mfu {
            (0.0, (y1 * 1.15).clamp(10.0, 100.0))
        } else {
            (y0.max(1e-9) / 2.0, y1 * 2.0)
        };
        let x_range = (x0 / 1.5).max(0.5)..(x1 * 1.5);
        let y_desc = if self.mfu {
            "MFU (% of dense bf16 peak)"
        } else {
            "tokens/s (log)"
        };
        macro_rules! body {
            ($chart:ident) => {{
                grid_style(
                    $chart
                        .configure_mesh()
                        .x_label_formatter(&|v| fmt_log_tick(*v))
                        .y_label_formatter(&|v| fmt_log_tick(*v))
                        .x_desc("chips (log)")
                        .y_desc(y_desc),
                    Some(4),
                    RGBColor(243, 243, 243),
                    RGBColor(215, 215, 215),
                )
                .draw()?;
                for (i, s) in self.series.iter().enumerate() {
                    let c = machine_color(i);
                    let line: Vec<(f64, f64)> =
                        s.points.iter().map(|p| (p.0 as f64, y(p))).collect();
                    $chart.draw_series(LineSeries::new(line.clone(), c.stroke_width(3)))?;
                    $chart.draw_series(
                        line.iter()
                            .map(|&(a, b)| Circle::new((a, b), 5, c.filled())),
                    )?;
                }
            }};
        }
        let mut b = ChartBuilder::on(&area);
        b.margin(20).x_label_area_size(60).y_label_area_size(90);
        if self.mfu {
            let mut chart = b.build_cartesian_2d(x_range.log_scale(), y0..y1)?;
            body!(chart);
        } else {
            let mut chart = b.build_cartesian_2d(x_range.log_scale(), (y0..y1).log_scale())?;
            body!(chart);
        }
        Ok(())
    }
}
