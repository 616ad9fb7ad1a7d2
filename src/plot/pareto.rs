//! Time vs energy of sweep points with the Pareto-optimal front (no other point is both faster
//! and cheaper) highlighted and named.

use super::*;

/// One design point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoPoint {
    /// Shown next to front points, e.g. "128x128 ws".
    pub label: String,
    pub time_s: f64,
    pub energy_j: f64,
}

/// Indices of the Pareto-optimal points (minimal time and energy), sorted by time. A point is on
/// the front when no other point is at least as good on both and strictly better on one. Points
/// with a non-finite or negative coordinate are ignored; of exact duplicates the first is kept.
pub fn pareto_indices(points: &[ParetoPoint]) -> Vec<usize> {
    let ok = |p: &ParetoPoint| {
        p.time_s.is_finite() && p.energy_j.is_finite() && p.time_s >= 0.0 && p.energy_j >= 0.0
    };
    let mut idx: Vec<usize> = (0..points.len()).filter(|&i| ok(&points[i])).collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .time_s
            .total_cmp(&points[b].time_s)
            .then(points[a].energy_j.total_cmp(&points[b].energy_j))
            .then(a.cmp(&b))
    });
    let mut front = Vec::new();
    let mut best_e = f64::INFINITY;
    for i in idx {
        if points[i].energy_j < best_e {
            best_e = points[i].energy_j;
            front.push(i);
        }
    }
    front
}

/// Write `out_dir/stem.png` and `out_dir/stem.svg`; returns both paths. Axes are logarithmic
/// when the values span more than 20×. Errors when no point has a finite positive time and energy.
pub fn pareto_front(
    points: &[ParetoPoint],
    title: &str,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    ensure_fonts()?;
    if !points
        .iter()
        .any(|p| pos(p.time_s).is_some() && pos(p.energy_j).is_some())
    {
        return Err(Error::internal(format!(
            "Pareto plot `{title}`: no point with a positive time and energy"
        )));
    }
    render(&ParetoFigure { points, title }, (1200, 820), out_dir, stem)
}

struct ParetoFigure<'a> {
    points: &'a [ParetoPoint],
    title: &'a str,
}

impl Figure for ParetoFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = title_area(area, self.title, TITLE_PX)?;
        let front_color = RGBColor(214, 39, 40);
        let other = RGBColor(140, 140, 140);
        let area = legend_row(
            &area,
            &[
                ("Pareto-optimal (named)".to_string(), front_color),
                ("dominated design".to_string(), other),
            ],
        )?;
        // Only positive points can sit on log axes; with linear axes zero is fine but keep it
        // simple: plot positive points.
        let pts: Vec<(usize, f64, f64)> = self
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, pos(p.time_s)?, pos(p.energy_j)?)))
            .collect();
        let front: Vec<usize> = pareto_indices(self.points)
            .into_iter()
            .filter(|&i| pts.iter().any(|p| p.0 == i))
            .collect();
        let minmax = |v: &mut dyn Iterator<Item = f64>| {
            v.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)))
        };
        let (tmin, tmax) = minmax(&mut pts.iter().map(|p| p.1));
        let (emin, emax) = minmax(&mut pts.iter().map(|p| p.2));
        // Time and energy with SI units chosen from the largest value.
        let (t_scale, t_unit) = unit_for(tmax, "s");
        let (e_scale, e_unit) = unit_for(emax, "J");
        let log_t = tmax / tmin > 20.0;
        let log_e = emax / emin > 20.0;
        let pad = |lo: f64, hi: f64, log: bool| {
            if log {
                (lo / 1.6, hi * 1.6)
            } else {
                let s = (hi - lo).max(hi * 0.05);
                ((lo - 0.08 * s).max(0.0), hi + 0.12 * s)
            }
        };
        let (x0, x1) = pad(tmin * t_scale, tmax * t_scale, log_t);
        let (y0, y1) = pad(emin * e_scale, emax * e_scale, log_e);
        let x_desc = format!("Time ({t_unit}{})", if log_t { ", log" } else { "" });
        let y_desc = format!("Energy ({e_unit}{})", if log_e { ", log" } else { "" });
        // Four axis-kind combinations share one body through a macro over the built chart.
        macro_rules! body {
            ($chart:ident) => {{
                grid_style(
                    $chart
                        .configure_mesh()
                        .x_label_formatter(&|v| fmt_log_tick(*v))
                        .y_label_formatter(&|v| fmt_log_tick(*v))
                        .x_desc(x_desc.as_str())
                        .y_desc(y_desc.as_str()),
                    Some(4),
                    RGBColor(243, 243, 243),
                    RGBColor(215, 215, 215),
                )
                .draw()?;
                $chart.draw_series(pts.iter().filter(|p| !front.contains(&p.0)).map(|p| {
                    Circle::new((p.1 * t_scale, p.2 * e_scale), 5, other.mix(0.7).filled())
                }))?;
                // The front as a staircase: each design is optimal until the next faster one.
                let mut stair = Vec::new();
                for (k, &i) in front.iter().enumerate() {
                    let p = &self.points[i];
                    let (x, y) = (p.time_s * t_scale, p.energy_j * e_scale);
                    if k > 0 {
                        let prev: &(f64, f64) = stair.last().unwrap();
                        stair.push((x, prev.1));
                    }
                    stair.push((x, y));
                }
                $chart.draw_series(LineSeries::new(stair, front_color.stroke_width(2)))?;
                $chart.draw_series(front.iter().map(|&i| {
                    let p = &self.points[i];
                    Circle::new(
                        (p.time_s * t_scale, p.energy_j * e_scale),
                        7,
                        front_color.filled(),
                    )
                }))?;
                // Name the front points where a label fits without covering anything.
                let plot = $chart.plotting_area();
                let (bx, by) = plot.get_base_pixel();
                let (pw, ph) = plot.dim_in_pixel();
                let centers: Vec<(i32, i32)> = pts
                    .iter()
                    .map(|p| $chart.backend_coord(&(p.1 * t_scale, p.2 * e_scale)))
                    .collect();
                let mut placer =
                    LabelPlacer::new((bx, by, bx + pw as i32, by + ph as i32), &centers, 7);
                let style = text_style(SMALL_PX, &RGBColor(120, 20, 20));
                for &i in &front {
                    let p = &self.points[i];
                    let c = (p.time_s * t_scale, p.energy_j * e_scale);
                    let name = truncate_to(&p.label, 40);
                    let size = area.estimate_text_size(&name, &style).unwrap_or((150, 14));
                    if let Some((off, at)) = placer.place($chart.backend_coord(&c), size) {
                        $chart.draw_series(std::iter::once(
                            EmptyElement::at(c) + Text::new(name, off, style.pos(at)),
                        ))?;
                    }
                }
            }};
        }
        let mut b = ChartBuilder::on(&area);
        b.margin(16)
            .margin_right(40)
            .x_label_area_size(56)
            .y_label_area_size(80);
        match (log_t, log_e) {
            (true, true) => {
                let mut c = b.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
                body!(c);
            }
            (true, false) => {
                let mut c = b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
                body!(c);
            }
            (false, true) => {
                let mut c = b.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
                body!(c);
            }
            (false, false) => {
                let mut c = b.build_cartesian_2d(x0..x1, y0..y1)?;
                body!(c);
            }
        }
        Ok(())
    }
}

/// Scale factor and unit so that `max × scale` reads well: (1e3, "ms") for 2e-3 s.
fn unit_for(max: f64, base: &str) -> (f64, String) {
    let (s, p) = if max >= 1.0 {
        (1.0, "")
    } else if max >= 1e-3 {
        (1e3, "m")
    } else if max >= 1e-6 {
        (1e6, "µ")
    } else {
        (1e9, "n")
    };
    (s, format!("{p}{base}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(t: f64, e: f64) -> ParetoPoint {
        ParetoPoint {
            label: format!("{t}/{e}"),
            time_s: t,
            energy_j: e,
        }
    }

    #[test]
    fn front_is_the_non_dominated_points_by_time() {
        let p = vec![
            pt(3.0, 1.0),
            pt(1.0, 5.0),
            pt(2.0, 2.0),
            pt(2.5, 2.5), // dominated by (2, 2)
            pt(1.0, 6.0), // dominated by (1, 5)
            pt(f64::NAN, 0.1),
        ];
        assert_eq!(pareto_indices(&p), vec![1, 2, 0]);
        assert!(pareto_indices(&[]).is_empty());
    }
}
