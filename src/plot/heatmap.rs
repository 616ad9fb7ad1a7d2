//! Sweep heatmap: two swept keys (categorical axes) against a metric, viridis colours (Smith &
//! van der Walt: perceptually uniform, colour-blind safe), the value written in each cell when
//! it fits, and a colour bar. The colour scale is logarithmic when the values are positive and
//! span more than [`LOG_SCALE_RANGE`]×, so a few slow designs do not flatten the rest.

use super::*;

/// A heatmap of a sweep: one row per point `(x value, y value, metric)`.
///
/// Axis values are shown as given; they are sorted numerically when every value of an axis parses
/// as a number, otherwise kept in first-seen order. A repeated `(x, y)` keeps the last value;
/// missing cells and non-finite values are drawn gray.
#[derive(Debug, Clone, Copy)]
pub struct Heatmap<'a> {
    pub title: &'a str,
    /// Name of the swept key on the x axis, with its unit, e.g. "array rows × cols".
    pub x_key: &'a str,
    /// Name of the swept key on the y axis.
    pub y_key: &'a str,
    /// Name of the metric with its unit, e.g. "time (ms)".
    pub metric: &'a str,
    pub rows: &'a [(String, String, f64)],
}

/// Above this max ÷ min ratio of positive values the colour scale is logarithmic.
pub const LOG_SCALE_RANGE: f64 = 30.0;

/// True when values from `vmin` to `vmax` get a logarithmic colour scale.
pub fn log_color_scale(vmin: f64, vmax: f64) -> bool {
    vmin > 0.0 && vmax.is_finite() && vmax / vmin > LOG_SCALE_RANGE
}

/// Write `out_dir/stem.png` and `out_dir/stem.svg`; returns both paths. Errors when there are no
/// rows.
pub fn sweep_heatmap(h: &Heatmap, out_dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    ensure_fonts()?;
    if h.rows.is_empty() {
        return Err(Error::internal(format!(
            "heatmap `{}`: no sweep points to plot",
            h.title
        )));
    }
    let g = Grid::new(h.rows);
    let w = (300 + 110 * g.xs.len() as u32).clamp(1000, 5000);
    let hh = (300 + 54 * g.ys.len() as u32).clamp(640, 5000);
    render(&HeatmapFigure { h, g: &g }, (w, hh), out_dir, stem)
}

struct Grid {
    xs: Vec<String>,
    ys: Vec<String>,
    /// `cells[y][x]`
    cells: Vec<Vec<Option<f64>>>,
}

fn ordered(vals: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in vals {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    if v.iter().all(|s| s.trim().parse::<f64>().is_ok()) {
        v.sort_by(|a, b| {
            let (a, b) = (
                a.trim().parse::<f64>().unwrap(),
                b.trim().parse::<f64>().unwrap(),
            );
            a.total_cmp(&b)
        });
    }
    v
}

impl Grid {
    fn new(rows: &[(String, String, f64)]) -> Grid {
        let xs = ordered(rows.iter().map(|r| r.0.clone()));
        let ys = ordered(rows.iter().map(|r| r.1.clone()));
        let mut cells = vec![vec![None; xs.len()]; ys.len()];
        for (x, y, v) in rows {
            let i = xs.iter().position(|s| s == x).unwrap();
            let j = ys.iter().position(|s| s == y).unwrap();
            cells[j][i] = v.is_finite().then_some(*v);
        }
        Grid { xs, ys, cells }
    }
}

/// Viridis, linearly interpolated between 5 anchor colors; `t` in 0..1.
pub(crate) fn viridis(t: f64) -> RGBColor {
    const S: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * 4.0;
    let i = (f.floor() as usize).min(3);
    let u = f - i as f64;
    let (a, b) = (S[i], S[i + 1]);
    let m = |p: f64, q: f64| (p + (q - p) * u).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

struct HeatmapFigure<'a, 'b> {
    h: &'b Heatmap<'a>,
    g: &'b Grid,
}

impl Figure for HeatmapFigure<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (h, g) = (self.h, self.g);
        let area = title_area(area, h.title, title_px())?;
        let vals: Vec<f64> = g.cells.iter().flatten().flatten().copied().collect();
        if vals.is_empty() {
            return no_data(&area, "no finite values to plot");
        }
        let vmin = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let vmax = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log = log_color_scale(vmin, vmax);
        // Colour position 0..1 of a value, and the value at a colour position.
        let (lo, hi) = if log {
            (vmin.log10(), vmax.log10())
        } else {
            (vmin, vmax)
        };
        let span = if hi > lo { hi - lo } else { 1.0 };
        let norm = |v: f64| ((if log { v.log10() } else { v }) - lo) / span;
        let (w, _) = area.dim_in_pixel();
        let (main, bar) = area.split_horizontally(w.saturating_sub(240));
        let (nx, ny) = (g.xs.len(), g.ys.len());
        let style = text_style(tick_px(), &BLACK);
        let y_wide =
            g.ys.iter()
                .map(|s| {
                    main.estimate_text_size(s, &style)
                        .map(|s| s.0)
                        .unwrap_or(60)
                })
                .max()
                .unwrap_or(0);
        let mut chart = ChartBuilder::on(&main)
            .margin(14)
            .x_label_area_size(60)
            .y_label_area_size(y_wide + 40)
            .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)?;
        let (xs, ys) = (g.xs.clone(), g.ys.clone());
        let label_of = |v: f64, names: &[String]| {
            let i = v - 0.5;
            let r = i.round();
            if (i - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < names.len() {
                truncate_label(&names[r as usize])
            } else {
                String::new()
            }
        };
        // Put tick positions at the cell centers by asking for every half unit (labels only at
        // x.5 are non-empty).
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * nx + 1)
            .y_labels(2 * ny + 1)
            .x_label_formatter(&|v| label_of(*v, &xs))
            .y_label_formatter(&|v| label_of(*v, &ys))
            .x_desc(h.x_key)
            .y_desc(h.y_key)
            .label_style(font(tick_px()))
            .axis_desc_style(font(axis_px()))
            .draw()?;
        let plot = chart.plotting_area();
        let (pw, ph) = plot.dim_in_pixel();
        let cell_w = pw as f64 / nx as f64;
        let cell_h = ph as f64 / ny as f64;
        for (j, row) in g.cells.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let (x0, y0) = (i as f64, j as f64);
                let fill = match v {
                    Some(v) => viridis(norm(*v)),
                    None => RGBColor(215, 215, 215),
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                    fill.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                    WHITE.stroke_width(1),
                )))?;
                let text = match v {
                    Some(v) => fmt_sig(*v),
                    None => "–".into(),
                };
                let st = text_style(small_px(), &BLACK);
                let (tw, th) = main.estimate_text_size(&text, &st).unwrap_or((40, 14));
                if (tw as f64) + 6.0 < cell_w && (th as f64) + 4.0 < cell_h {
                    let light = v.map(|v| norm(v) > 0.55).unwrap_or(true);
                    let c = if light { BLACK } else { WHITE };
                    chart.draw_series(std::iter::once(Text::new(
                        text,
                        (x0 + 0.5, y0 + 0.5),
                        text_style(small_px(), &c).pos(Pos::new(HPos::Center, VPos::Center)),
                    )))?;
                }
            }
        }
        // Color bar.
        let bar = bar.margin(30, 60, 10, 20);
        let desc = if log {
            format!("{} (log scale)", h.metric)
        } else {
            h.metric.to_string()
        };
        let steps = 64;
        // The bar's own coordinate: the value (linear) or its log10; labels show values.
        let mut cb = ChartBuilder::on(&bar)
            .y_label_area_size(0)
            .right_y_label_area_size(110)
            .build_cartesian_2d(0f64..1f64, lo..(lo + span))?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .y_label_formatter(&|v| {
                let x = if log { 10f64.powf(*v) } else { *v };
                format!(" {}", fmt_sig(x))
            })
            .y_desc(desc.as_str())
            .label_style(font(small_px()))
            .axis_desc_style(font(tick_px()))
            .draw()?;
        cb.draw_series((0..steps).map(|s| {
            let a = lo + span * s as f64 / steps as f64;
            let b = lo + span * (s + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                viridis(s as f64 / (steps - 1) as f64).filled(),
            )
        }))?;
        Ok(())
    }
}
