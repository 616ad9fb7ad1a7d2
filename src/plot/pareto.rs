//! Sweep points on time vs energy (and, when the points carry a die cost, time vs cost) with the
//! Pareto-optimal designs highlighted and named: no other design is at least as good on every
//! objective (time, energy, and cost when known) and better on one.

use super::*;

/// One design point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoPoint {
    /// Shown next to front points, e.g. "128x128 ws".
    pub label: String,
    pub time_s: f64,
    pub energy_j: f64,
    /// Die cost in USD (`crate::jobs::sweep::cost`); NaN when unknown. The front is over
    /// three objectives when every point has a cost, over time and energy otherwise.
    pub cost_usd: f64,
}

impl ParetoPoint {
    /// A point without a cost (a two-objective front).
    pub fn new(label: impl Into<String>, time_s: f64, energy_j: f64) -> ParetoPoint {
        ParetoPoint {
            label: label.into(),
            time_s,
            energy_j,
            cost_usd: f64::NAN,
        }
    }
}

/// True when every point with a finite time and energy also has a finite, non-negative cost
/// (and there is at least one): the front then has three objectives.
pub fn has_costs(points: &[ParetoPoint]) -> bool {
    let mut any = false;
    for p in points
        .iter()
        .filter(|p| p.time_s.is_finite() && p.energy_j.is_finite())
    {
        if !(p.cost_usd.is_finite() && p.cost_usd >= 0.0) {
            return false;
        }
        any = true;
    }
    any
}

/// Indices of the Pareto-optimal points, sorted by time: minimal time, energy and, when every
/// point has one ([`has_costs`]), cost. A point is on the front when no other point is at least
/// as good on every objective and strictly better on one. Points with a non-finite or negative
/// time or energy are ignored; of exact duplicates the first is kept.
pub fn pareto_indices(points: &[ParetoPoint]) -> Vec<usize> {
    let ok = |p: &ParetoPoint| {
        p.time_s.is_finite() && p.energy_j.is_finite() && p.time_s >= 0.0 && p.energy_j >= 0.0
    };
    let three = has_costs(points);
    let cost = |i: usize| if three { points[i].cost_usd } else { 0.0 };
    let mut idx: Vec<usize> = (0..points.len()).filter(|&i| ok(&points[i])).collect();
    idx.sort_by(|&a, &b| {
        points[a]
            .time_s
            .total_cmp(&points[b].time_s)
            .then(points[a].energy_j.total_cmp(&points[b].energy_j))
            .then(cost(a).total_cmp(&cost(b)))
            .then(a.cmp(&b))
    });
    // In this order a point can only be dominated (or duplicated) by one before it, and a
    // dominated point's dominator is itself dominated by a front point: checking the front
    // found so far is enough.
    let mut front: Vec<usize> = Vec::new();
    for i in idx {
        let dominated = front
            .iter()
            .any(|&f| points[f].energy_j <= points[i].energy_j && cost(f) <= cost(i));
        if !dominated {
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
    let size = if has_costs(points) {
        (2000, 900)
    } else {
        (1100, 860)
    };
    render(&ParetoFigure { points, title }, size, out_dir, stem)
}

struct ParetoFigure<'a> {
    points: &'a [ParetoPoint],
    title: &'a str,
}

impl Figure for ParetoFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = title_area(area, self.title, title_px())?;
        let three = has_costs(self.points);
        let front_label = if three {
            "Pareto-optimal in time, energy and die cost"
        } else {
            "Pareto-optimal in time and energy"
        };
        let area = legend_row(
            &area,
            &[
                (front_label.to_string(), FRONT),
                ("dominated design".to_string(), OTHER),
            ],
        )?;
        let front: Vec<usize> = pareto_indices(self.points);
        if three {
            let panels = area.split_evenly((1, 2));
            self.panel(&panels[0], &front, Objective::Energy, false)?;
            self.panel(&panels[1], &front, Objective::Cost, false)?;
            Ok(())
        } else {
            self.panel(&area, &front, Objective::Energy, true)
        }
    }
}

const FRONT: RGBColor = groups::okabe_ito::VERMILLION;
const OTHER: RGBColor = RGBColor(150, 150, 150);

/// The y axis of a panel.
#[derive(Clone, Copy)]
enum Objective {
    Energy,
    Cost,
}

impl ParetoFigure<'_> {
    /// One scatter panel: time on x, `obj` on y; front points highlighted and named, and with
    /// `stairs` the two-objective front drawn as a staircase.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        front: &[usize],
        obj: Objective,
        stairs: bool,
    ) -> DrawResult<DB> {
        let yv = |p: &ParetoPoint| match obj {
            Objective::Energy => p.energy_j,
            Objective::Cost => p.cost_usd,
        };
        let pts: Vec<(usize, f64, f64)> = self
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, pos(p.time_s)?, pos(yv(p))?)))
            .collect();
        if pts.is_empty() {
            return no_data(area, "no point with a positive time and value");
        }
        let front: Vec<usize> = front
            .iter()
            .copied()
            .filter(|&i| pts.iter().any(|p| p.0 == i))
            .collect();
        let minmax = |v: &mut dyn Iterator<Item = f64>| {
            v.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)))
        };
        let (tmin, tmax) = minmax(&mut pts.iter().map(|p| p.1));
        let (emin, emax) = minmax(&mut pts.iter().map(|p| p.2));
        // Time and energy with SI units chosen from the largest value; cost in USD.
        let (t_scale, t_unit) = unit_for(tmax, "s");
        let (e_scale, e_unit) = match obj {
            Objective::Energy => unit_for(emax, "J"),
            Objective::Cost => (1.0, "USD per die".to_string()),
        };
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
        let what = match obj {
            Objective::Energy => "Energy",
            Objective::Cost => "Die cost",
        };
        let y_desc = format!("{what} ({e_unit}{})", if log_e { ", log" } else { "" });
        let xy = |i: usize| {
            let p = &self.points[i];
            (p.time_s * t_scale, yv(p) * e_scale)
        };
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
                $chart.draw_series(
                    pts.iter()
                        .filter(|p| !front.contains(&p.0))
                        .map(|p| Circle::new(xy(p.0), 5, OTHER.mix(0.6).filled())),
                )?;
                if stairs {
                    // The front as a staircase: each design is optimal until the next faster one.
                    let mut stair: Vec<(f64, f64)> = Vec::new();
                    for &i in &front {
                        let (x, y) = xy(i);
                        if let Some(&(_, py)) = stair.last() {
                            stair.push((x, py));
                        }
                        stair.push((x, y));
                    }
                    $chart.draw_series(LineSeries::new(stair, FRONT.stroke_width(2)))?;
                }
                $chart.draw_series(front.iter().map(|&i| Circle::new(xy(i), 8, FRONT.filled())))?;
                $chart.draw_series(
                    front
                        .iter()
                        .map(|&i| Circle::new(xy(i), 8, BLACK.mix(0.7).stroke_width(1))),
                )?;
                // Name the front points where a label fits without covering anything.
                let plot = $chart.plotting_area();
                let (bx, by) = plot.get_base_pixel();
                let (pw, ph) = plot.dim_in_pixel();
                let centers: Vec<(i32, i32)> =
                    pts.iter().map(|p| $chart.backend_coord(&xy(p.0))).collect();
                let mut placer =
                    LabelPlacer::new((bx, by, bx + pw as i32, by + ph as i32), &centers, 8);
                let style = text_style(small_px(), &RGBColor(110, 40, 0));
                for &i in front.iter().take(16) {
                    let c = xy(i);
                    let name = truncate_to(&self.points[i].label, 32);
                    let size = area.estimate_text_size(&name, &style).unwrap_or((150, 14));
                    if let Some((off, at)) = placer.place($chart.backend_coord(&c), size) {
                        $chart.draw_series(std::iter::once(
                            EmptyElement::at(c) + Text::new(name, off, style.pos(at)),
                        ))?;
                    }
                }
            }};
        }
        let mut b = ChartBuilder::on(area);
        b.margin(16)
            .margin_right(30)
            .x_label_area_size((tick_px() + axis_px() * 2.4) as u32)
            .y_label_area_size((tick_px() * 3.2 + axis_px() * 1.5) as u32);
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
        ParetoPoint::new(format!("{t}/{e}"), t, e)
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

    #[test]
    fn cost_makes_a_slower_cheaper_design_optimal() {
        let c = |t: f64, e: f64, usd: f64| ParetoPoint {
            cost_usd: usd,
            ..pt(t, e)
        };
        // (2, 2) is dominated in time and energy but is the cheapest die.
        let p = vec![c(1.0, 1.0, 10.0), c(2.0, 2.0, 5.0), c(3.0, 3.0, 6.0)];
        assert!(has_costs(&p));
        assert_eq!(pareto_indices(&p), vec![0, 1]);
        // Without costs only the first one is optimal.
        let two: Vec<ParetoPoint> = p.iter().map(|q| pt(q.time_s, q.energy_j)).collect();
        assert!(!has_costs(&two));
        assert_eq!(pareto_indices(&two), vec![0]);
    }
}
