//! Line plots of system-level studies: training scaling (tokens/s and MFU against chips, for
//! `archsim train --scaling`) and serving throughput against latency (for `archsim serve
//! --compare`), one line per system.

use super::{
    ensure_fonts, fmt_log_tick, grid_style, legend_row, machine_color, render, title_area,
    title_px, Figure,
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

/// One line of an XY plot.
#[derive(Debug, Clone, PartialEq)]
pub struct XySeries {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Axes of an XY plot.
#[derive(Debug, Clone, PartialEq)]
pub struct XyAxes {
    pub x_desc: String,
    pub y_desc: String,
    pub log_x: bool,
    pub log_y: bool,
}

/// Draw `scaling_tokens` (tokens/s vs chips, log-log) and `scaling_mfu` (MFU vs chips) as PNG
/// and SVG into `out_dir`.
pub fn scaling_plots(
    series: &[ScalingSeries],
    title: &str,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let tokens: Vec<XySeries> = series
        .iter()
        .map(|s| XySeries {
            label: s.label.clone(),
            points: s.points.iter().map(|p| (p.0 as f64, p.1)).collect(),
        })
        .collect();
    let mfu: Vec<XySeries> = series
        .iter()
        .map(|s| XySeries {
            label: s.label.clone(),
            points: s.points.iter().map(|p| (p.0 as f64, p.2 * 100.0)).collect(),
        })
        .collect();
    let mut out = xy_plot(
        &tokens,
        &format!("{title} — tokens/s vs chips"),
        &XyAxes {
            x_desc: "chips (log)".into(),
            y_desc: "tokens/s (log)".into(),
            log_x: true,
            log_y: true,
        },
        out_dir,
        "scaling_tokens",
    )?;
    out.extend(xy_plot(
        &mfu,
        &format!("{title} — MFU vs chips"),
        &XyAxes {
            x_desc: "chips (log)".into(),
            y_desc: "MFU (% of dense bf16 peak)".into(),
            log_x: true,
            log_y: false,
        },
        out_dir,
        "scaling_mfu",
    )?);
    Ok(out)
}

/// Draw lines (with markers) of several series as `out_dir/stem.png` and `.svg`.
pub fn xy_plot(
    series: &[XySeries],
    title: &str,
    axes: &XyAxes,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    ensure_fonts()?;
    let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    if !series.iter().any(|s| {
        s.points
            .iter()
            .any(|p| ok(p.0, axes.log_x) && ok(p.1, axes.log_y))
    }) {
        return Err(Error::internal(format!("plot `{title}`: no point to draw")));
    }
    render(
        &XyFigure {
            series,
            title,
            axes,
        },
        (1200, 800),
        out_dir,
        stem,
    )
}

struct XyFigure<'a> {
    series: &'a [XySeries],
    title: &'a str,
    axes: &'a XyAxes,
}

impl Figure for XyFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> super::DrawResult<DB> {
        let a = self.axes;
        let area = title_area(area, self.title, title_px())?;
        let legend: Vec<(String, RGBColor)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.label.clone(), machine_color(i)))
            .collect();
        let area = legend_row(&area, &legend)?;
        let keep = |p: &&(f64, f64)| {
            p.0.is_finite() && p.1.is_finite() && (!a.log_x || p.0 > 0.0) && (!a.log_y || p.1 > 0.0)
        };
        let pts: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(keep).copied())
            .collect();
        let (mut x0, mut x1) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
        let (mut y0, mut y1) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
        let pad = |lo: &mut f64, hi: &mut f64, log: bool| {
            if log {
                *lo /= 1.5;
                *hi *= 1.5;
            } else {
                let s = (*hi - *lo).max(hi.abs() * 0.1).max(1e-12);
                *lo = (*lo - 0.08 * s).max(0.0);
                *hi += 0.12 * s;
            }
        };
        pad(&mut x0, &mut x1, a.log_x);
        pad(&mut y0, &mut y1, a.log_y);
        if !a.log_y {
            y0 = 0.0;
        }
        macro_rules! body {
            ($chart:ident) => {{
                grid_style(
                    $chart
                        .configure_mesh()
                        .x_label_formatter(&|v| fmt_log_tick(*v))
                        .y_label_formatter(&|v| fmt_log_tick(*v))
                        .x_desc(a.x_desc.as_str())
                        .y_desc(a.y_desc.as_str()),
                    Some(4),
                    RGBColor(243, 243, 243),
                    RGBColor(215, 215, 215),
                )
                .draw()?;
                for (i, s) in self.series.iter().enumerate() {
                    let c = machine_color(i);
                    let line: Vec<(f64, f64)> = s.points.iter().filter(keep).copied().collect();
                    $chart.draw_series(LineSeries::new(line.clone(), c.stroke_width(3)))?;
                    $chart.draw_series(line.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
                }
            }};
        }
        let mut b = ChartBuilder::on(&area);
        b.margin(20).x_label_area_size(60).y_label_area_size(90);
        match (a.log_x, a.log_y) {
            (true, true) => {
                let mut chart = b.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
                body!(chart);
            }
            (true, false) => {
                let mut chart = b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
                body!(chart);
            }
            (false, true) => {
                let mut chart = b.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
                body!(chart);
            }
            (false, false) => {
                let mut chart = b.build_cartesian_2d(x0..x1, y0..y1)?;
                body!(chart);
            }
        }
        Ok(())
    }
}
