//! Plots (plotters) for a paper: time by cause, energy by op group (J, linear, with pJ/FLOP),
//! utilization by op group, rooflines with matrix and vector roofs, a one-page dashboard, and
//! the sweep plots (heatmap, Pareto front over time, energy and die cost).
//!
//! Ops are grouped by type/phase ([`op_group`]); per-op detail stays in the CSV and the trace.
//! Every plot uses the colour-blind-safe palettes of `groups` (Okabe–Ito, Tol muted) and one
//! number format (three significant digits with an SI unit: [`crate::units::fmt_sig`]); fonts
//! are sized so a figure 1000 px wide reads at one column (≈3.5 in), the two-panel ones at two.
//!
//! Every plot is a pure drawing function over a plotters drawing area (so the dashboard can put
//! several on one page) plus a thin writer that renders it twice, to PNG and to SVG, and moves the
//! finished files into place atomically. Text is drawn with the DejaVu Sans font embedded in the
//! binary (the `dejavu` crate), registered once with plotters' `ab_glyph` backend, so plots render
//! on machines without any system font.
//!
//! The roofline needs each machine's peak and HBM bandwidth. They are read from the run's
//! `machine` JSON object: `peak_tflops` (dense peak for the op dtype in TFLOP/s: a number, or an
//! object keyed by dtype such as `{"bf16": 459.0, "fp8": 918.0}`) and `hbm_bandwidth_gbps`
//! (GB/s = 1e9 bytes/s). See [`Roof::from_run`]; [`PlotOptions::roofs`] overrides them.

mod dashboard;
mod energy;
mod groups;
mod heatmap;
mod pareto;
mod roofline;
mod scaling;
mod time;
mod utilization;

pub use groups::op_group;
pub use heatmap::{sweep_heatmap, Heatmap};
pub use pareto::{has_costs, pareto_front, pareto_indices, ParetoPoint};
pub use scaling::{scaling_plots, xy_plot, ScalingSeries, XyAxes, XySeries};

use crate::error::{Error, Result};
use crate::machine::OpProfile;
use crate::run::RunReport;
pub(crate) use crate::units::{fmt_energy_short, fmt_sig, fmt_time_short};
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Font family every plot uses; registered from the embedded DejaVu Sans.
pub(crate) const FONT: &str = "sans-serif";
/// Font sizes in pixels at the page size (a figure 1000 px wide); the column variants scale them
/// by [`font_scale`].
const TITLE_BASE_PX: f64 = 26.0;
const AXIS_BASE_PX: f64 = 23.0;
const TICK_BASE_PX: f64 = 21.0;
const SMALL_BASE_PX: f64 = 19.0;

thread_local! {
    /// Scale on every font size (and the layout sizes derived from them) while a figure renders
    /// on this thread: 1 for the page variants, [`COLUMN_FONT_SCALE`] for the column ones.
    static FONT_SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(1.0) };
}

/// The font scale of the figure rendering on this thread.
pub(crate) fn font_scale() -> f64 {
    FONT_SCALE.with(|c| c.get())
}
pub(crate) fn title_px() -> f64 {
    TITLE_BASE_PX * font_scale()
}
pub(crate) fn axis_px() -> f64 {
    AXIS_BASE_PX * font_scale()
}
pub(crate) fn tick_px() -> f64 {
    TICK_BASE_PX * font_scale()
}
pub(crate) fn small_px() -> f64 {
    SMALL_BASE_PX * font_scale()
}
/// Longest op name shown on an axis; longer names are cut with an ellipsis.
pub(crate) const MAX_LABEL_CHARS: usize = 26;

/// Result of a drawing function: plotters' error of the backend in use.
pub(crate) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Peak compute and off-chip bandwidth of a machine: the two roofs of a roofline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roof {
    /// Dense peak, TFLOP/s.
    pub peak_tflops: f64,
    /// HBM bandwidth, GB/s (1e9 bytes/s); `None` draws only the compute roof.
    pub hbm_gbps: Option<f64>,
    /// Peak of the vector unit (TPU VPU, GPU CUDA cores), TFLOP/s: the roof of non-GEMM ops;
    /// `None` when unknown.
    pub vector_tflops: Option<f64>,
    /// True when the peak was not given by the machine but derived from the ops
    /// (max over ops of achieved TFLOP/s ÷ utilization).
    pub peak_derived: bool,
}

impl Roof {
    /// The roofs of a run: the machine's dense peak for the run's main dtype and its HBM
    /// bandwidth ([`crate::machine::MachineReport`]). Without a positive peak the peak is derived
    /// from the ops (achieved TFLOP/s ÷ utilization). `None` when neither works.
    pub fn from_run(run: &RunReport) -> Option<Roof> {
        let given = Some(run.machine.peak_flops() / 1e12).filter(|x| x.is_finite() && *x > 0.0);
        let hbm_gbps = Some(run.machine.info.hbm_bandwidth_bytes_per_s() / 1e9)
            .filter(|x| x.is_finite() && *x > 0.0);
        let (peak_tflops, peak_derived) = match given {
            Some(p) => (p, false),
            None => {
                let derived = run
                    .ops
                    .iter()
                    .filter(|p| p.utilization > 1e-3 && p.tflops.is_finite() && p.tflops > 0.0)
                    .map(|p| p.tflops / p.utilization)
                    .filter(|x| x.is_finite())
                    .reduce(f64::max)?;
                (derived, true)
            }
        };
        Some(Roof {
            peak_tflops,
            hbm_gbps,
            vector_tflops: pos(run.machine.info.vector_peak_flops / 1e12),
            peak_derived,
        })
    }

    /// Arithmetic intensity (FLOP/byte) where the bandwidth roof meets the compute roof.
    pub fn ridge_flop_per_byte(&self) -> Option<f64> {
        self.hbm_gbps.map(|bw| self.peak_tflops * 1e12 / (bw * 1e9))
    }

    /// Attainable TFLOP/s at an arithmetic intensity.
    pub fn attainable_tflops(&self, flop_per_byte: f64) -> f64 {
        self.attainable_under(self.peak_tflops, flop_per_byte)
    }

    /// Attainable TFLOP/s at an arithmetic intensity under a compute roof of `peak_tflops`
    /// (the matrix or the vector peak): min(peak, intensity × bandwidth) (Williams, Waterman,
    /// Patterson, "Roofline", CACM 2009).
    pub fn attainable_under(&self, peak_tflops: f64, flop_per_byte: f64) -> f64 {
        match self.hbm_gbps {
            Some(bw) => (flop_per_byte * bw * 1e9 / 1e12).min(peak_tflops),
            None => peak_tflops,
        }
    }
}

/// Options of [`comparison_plots_with`].
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Shown in every title, e.g. "ResNet-50, batch 8, bf16".
    pub workload_title: String,
    /// Per run (same order as `runs`): explicit roofs; `None` (or a shorter vector) falls back to
    /// [`Roof::from_run`].
    pub roofs: Vec<Option<Roof>>,
}

/// The comparison plots [`comparison_plots`] writes, by file stem (each as `STEM.png` and
/// `STEM.svg`), with what each shows: the one list of the main job's plots and of their
/// reference (`docs/reference/compare.md`).
pub const COMPARISON_PLOTS: [(&str, &str); 10] = [
    (
        "time_by_cause",
        "where each machine's time goes (compute, fill/drain, memory, tail, overhead, clock), \
         stacked, for the whole workload and per op group",
    ),
    (
        "energy_by_group",
        "energy by op group in joules, stacked by where it is spent (compute, vector, \
         registers, SRAM, L2, HBM, interconnect, static), with each bar's pJ/FLOP",
    ),
    (
        "utilization_by_group",
        "time-weighted mean utilization per op group, one bar per machine",
    ),
    (
        "roofline",
        "log-log rooflines (matrix and vector unit) of each machine with every op at its \
         arithmetic intensity and achieved TFLOP/s",
    ),
    (
        "dashboard",
        "one-page summary: totals per machine, time by cause, energy and utilization by op \
         group, a combined roofline",
    ),
    (
        "time_by_cause_column",
        "time_by_cause at one column's width: 3.5 in at 300 dpi (1050 px), every font >= 7 pt",
    ),
    (
        "energy_by_group_column",
        "energy_by_group at one column's width: 3.5 in at 300 dpi (1050 px), every font >= 7 pt",
    ),
    (
        "utilization_by_group_column",
        "utilization_by_group at one column's width: 3.5 in at 300 dpi (1050 px), every font \
         >= 7 pt",
    ),
    (
        "roofline_column",
        "roofline at one column's width: 3.5 in at 300 dpi (1050 px), the machine panels one \
         above another (2.6 in each), every font >= 7 pt",
    ),
    (
        "dashboard_double_column",
        "dashboard at two columns' width: 7.16 in at 300 dpi (2148 px), at most 9 in tall, \
         every font >= 7 pt",
    ),
];

/// Write all comparison plots of one workload run on one or more machines into `out_dir`, each
/// as PNG and SVG: the [`COMPARISON_PLOTS`].
/// Returns the written paths. Ops are matched across runs by name (and occurrence for repeated
/// names). The first run is the reference of the speedups (usually the TPU, then the GPU).
pub fn comparison_plots(
    runs: &[(&str, &RunReport)],
    out_dir: &Path,
    workload_title: &str,
) -> Result<Vec<PathBuf>> {
    comparison_plots_with(
        runs,
        out_dir,
        &PlotOptions {
            workload_title: workload_title.to_string(),
            roofs: Vec::new(),
        },
    )
}

/// [`comparison_plots`] with explicit options (roofs given by the caller).
pub fn comparison_plots_with(
    runs: &[(&str, &RunReport)],
    out_dir: &Path,
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>> {
    let data = Compared::new(runs, opts)?;
    // One bar per machine per op group plus the totals and gaps: the height follows the rows.
    let groups = groups::Grouped::new(&data).names.len() as u32;
    let nr = runs.len() as u32;
    let rows = nr + groups * nr + groups.saturating_sub(1) / 2;
    let bars_h = (300 + 40 * rows).clamp(560, 3000);
    let roof_w = (800 * nr).clamp(1000, 3200);
    let mut out = Vec::new();
    let [time, energy, util, roof, dash, time_col, energy_col, util_col, roof_col, dash_col] =
        COMPARISON_PLOTS.map(|(stem, _)| stem);
    for (chart, size, stem) in [
        (Chart::TimeByCause, (1000, bars_h), time),
        (Chart::EnergyByGroup, (1000, bars_h), energy),
        (Chart::UtilizationByGroup, (1000, bars_h), util),
        (Chart::Roofline, (roof_w, 760), roof),
    ] {
        let fig = ChartFigure { chart, data: &data };
        out.extend(render(&fig, size, out_dir, stem)?);
    }
    // Column variants (`<stem>_column.png/.svg`): 3.5 in wide at 300 dpi (1050 px) with every
    // font scaled so the smallest is 7 pt at that size; the bar charts taller with their rows,
    // the roofline with its machine panels one above another, [`COLUMN_PX`] high each (up to
    // three) under 1 in of title and legends.
    let col_rows_h = (200.0 + 40.0 * COLUMN_FONT_SCALE * rows as f64) as u32;
    let col_bars_h = col_rows_h.clamp(COLUMN_PX.1, 3 * COLUMN_PX.1);
    let col_roof_h = 300 + COLUMN_PX.1 * nr.min(3);
    for (chart, size, stem) in [
        (Chart::TimeByCause, (COLUMN_PX.0, col_bars_h), time_col),
        (Chart::EnergyByGroup, (COLUMN_PX.0, col_bars_h), energy_col),
        (
            Chart::UtilizationByGroup,
            (COLUMN_PX.0, col_bars_h),
            util_col,
        ),
        (Chart::RooflineStacked, (COLUMN_PX.0, col_roof_h), roof_col),
    ] {
        let fig = ChartFigure { chart, data: &data };
        out.extend(render_column(&fig, size, out_dir, stem)?);
    }
    out.extend(render(
        &dashboard::Dashboard { data: &data },
        (2400, (1000 + 2 * bars_h).min(3600)),
        out_dir,
        dash,
    )?);
    // The dashboard at two columns' width (a figure spanning both columns): its 2 × 2 panels are
    // each about one column wide, so they get the column variants' fonts and heights, up to
    // [`DOUBLE_COLUMN_PX`]'s height (a full page's figure with its caption).
    out.extend(render_column(
        &dashboard::Dashboard { data: &data },
        (
            DOUBLE_COLUMN_PX.0,
            (400 + 2 * (col_bars_h + 110)).min(DOUBLE_COLUMN_PX.1),
        ),
        out_dir,
        dash_col,
    )?);
    Ok(out)
}

/// One run as the plots see it.
pub(crate) struct RunView<'a> {
    pub label: String,
    pub report: &'a RunReport,
    pub color: RGBColor,
    pub roof: Option<Roof>,
}

/// Runs with their ops aligned by name: `ops[run][i]` is op `i` of the union (`None` when a run
/// lacks it).
pub(crate) struct Compared<'a> {
    pub title: String,
    pub runs: Vec<RunView<'a>>,
    pub ops: Vec<Vec<Option<&'a OpProfile>>>,
}

impl<'a> Compared<'a> {
    pub fn new(runs: &[(&str, &'a RunReport)], opts: &PlotOptions) -> Result<Self> {
        ensure_fonts()?;
        if runs.is_empty() {
            return Err(Error::internal("no runs to plot"));
        }
        // Key = (name, occurrence of that name within its run).
        let mut index: HashMap<(String, usize), usize> = HashMap::new();
        let mut op_labels = Vec::new();
        let mut keys_per_run = Vec::new();
        for (_, r) in runs {
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let mut keys = Vec::new();
            for p in &r.ops {
                let occ = seen.entry(p.name.as_str()).or_insert(0);
                let key = (p.name.clone(), *occ);
                *occ += 1;
                let i = *index.entry(key.clone()).or_insert_with(|| {
                    op_labels.push(if key.1 == 0 {
                        p.name.clone()
                    } else {
                        format!("{}#{}", p.name, key.1 + 1)
                    });
                    op_labels.len() - 1
                });
                keys.push(i);
            }
            keys_per_run.push(keys);
        }
        let ops = runs
            .iter()
            .zip(&keys_per_run)
            .map(|((_, r), keys)| {
                let mut v = vec![None; op_labels.len()];
                for (p, &i) in r.ops.iter().zip(keys) {
                    v[i] = Some(p);
                }
                v
            })
            .collect();
        let views = runs
            .iter()
            .enumerate()
            .map(|(j, (label, r))| RunView {
                label: label.to_string(),
                report: r,
                color: machine_color(j),
                roof: opts
                    .roofs
                    .get(j)
                    .copied()
                    .flatten()
                    .or_else(|| Roof::from_run(r)),
            })
            .collect();
        Ok(Compared {
            title: opts.workload_title.clone(),
            runs: views,
            ops,
        })
    }

    /// "label1 vs label2 — workload".
    pub fn headline(&self, what: &str) -> String {
        let names: Vec<&str> = self.runs.iter().map(|r| r.label.as_str()).collect();
        let mut s = format!("{what}: {}", names.join(" vs "));
        if !self.title.is_empty() {
            s.push_str(" — ");
            s.push_str(&self.title);
        }
        s
    }
}

/// Register the embedded DejaVu Sans as plotters' "sans-serif" (once per process).
pub(crate) fn ensure_fonts() -> Result<()> {
    static FONTS: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "embedded DejaVu Sans regular is not a valid font".to_string())?;
            plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
                .map_err(|_| "embedded DejaVu Sans bold is not a valid font".to_string())?;
            Ok(())
        })
        .clone()
        .map_err(Error::internal)
}

/// The per-op comparison charts, each a figure of its own under its title (the dashboard draws
/// the same charts without titles).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Chart {
    TimeByCause,
    EnergyByGroup,
    UtilizationByGroup,
    Roofline,
    /// The roofline with its machine panels one above another (the column variant).
    RooflineStacked,
}

pub(crate) struct ChartFigure<'a, 'b> {
    chart: Chart,
    data: &'b Compared<'a>,
}

impl Figure for ChartFigure<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let d = self.data;
        let title = match self.chart {
            Chart::TimeByCause => "Time by cause",
            Chart::EnergyByGroup => "Energy by op group",
            Chart::UtilizationByGroup => "Utilization by op group",
            Chart::Roofline | Chart::RooflineStacked => "Roofline",
        };
        let area = title_area(area, &d.headline(title), title_px())?;
        match self.chart {
            Chart::TimeByCause => time::draw_time_by_cause(&area, d),
            Chart::EnergyByGroup => energy::draw_energy_by_group(&area, d),
            Chart::UtilizationByGroup => utilization::draw_utilization_by_group(&area, d),
            Chart::Roofline => roofline::draw_rooflines(&area, d, false),
            Chart::RooflineStacked => roofline::draw_rooflines(&area, d, true),
        }
    }
}

/// The grid and label style shared by the charts: tick and axis-description fonts, light lines
/// (`light_lines` between bold ones; plotters' default when `None`) and their colors.
pub(crate) fn grid_style<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    light_lines: Option<usize>,
    light: RGBColor,
    bold: RGBColor,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(font(tick_px()))
        .axis_desc_style(font(axis_px()))
        .light_line_style(light)
        .bold_line_style(bold);
    if let Some(n) = light_lines {
        mesh.max_light_lines(n);
    }
    mesh
}

/// A plot that can draw itself on any plotters backend.
pub(crate) trait Figure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn draw_err<E: std::fmt::Debug>(what: &str, e: E) -> Error {
    Error::internal(format!("drawing {what} failed: {e:?}"))
}

/// Size in pixels of a one-column figure: 3.5 × 2.6 in at 300 dpi (a two-column paper's column
/// is 3.3–3.5 in wide, e.g. the IEEE and ACM templates). Bar charts grow taller with their rows.
pub const COLUMN_PX: (u32, u32) = (1050, 780);

/// Largest size in pixels of a two-column figure: 7.16 in (the IEEE and ACM two-column text
/// width) × 9 in at 300 dpi.
pub const DOUBLE_COLUMN_PX: (u32, u32) = (2148, 2700);

/// Font scale of the column variants: the smallest font (19 px at the page size) becomes
/// 19 × 1.92 = 36.5 px, which plotters draws at an em size of 36.5 / 1.24 = 29.4 px (the
/// `font-size` of the SVG) = 7.06 pt at 300 dpi (1 pt = 1/72 in): the smallest size the common
/// paper templates accept in figures.
pub const COLUMN_FONT_SCALE: f64 = 1.92;

/// [`render`] with every font scaled by [`COLUMN_FONT_SCALE`] (a column or double-column
/// variant).
pub(crate) fn render_column<F: Figure>(
    fig: &F,
    size: (u32, u32),
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    let before = FONT_SCALE.with(|c| c.replace(COLUMN_FONT_SCALE));
    let r = render(fig, size, out_dir, stem);
    FONT_SCALE.with(|c| c.set(before));
    r
}

/// Render a figure to `out_dir/stem.png` and `out_dir/stem.svg`. The PNG is encoded by plotters
/// into a temporary file in `out_dir` and renamed into place; the SVG is rendered to a string and
/// written with [`crate::fsio::write_atomic`].
pub(crate) fn render<F: Figure>(
    fig: &F,
    size: (u32, u32),
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>> {
    ensure_fonts()?;
    std::fs::create_dir_all(out_dir).map_err(|e| {
        Error::internal(format!(
            "cannot create directory {}: {e}",
            out_dir.display()
        ))
    })?;
    let png = out_dir.join(format!("{stem}.png"));
    // Unique per process and call, so concurrent renders into one directory never collide.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = out_dir.join(format!(".{stem}.tmp-{}-{seq}.png", std::process::id()));
    let drawn = (|| -> Result<()> {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(stem, e))?;
        fig.draw(&root).map_err(|e| draw_err(stem, e))?;
        root.present().map_err(|e| draw_err(stem, e))?;
        Ok(())
    })();
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &png).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::internal(format!("cannot move plot into {}: {e}", png.display()))
    })?;

    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(stem, e))?;
        fig.draw(&root).map_err(|e| draw_err(stem, e))?;
        root.present().map_err(|e| draw_err(stem, e))?;
    }
    let svg = out_dir.join(format!("{stem}.svg"));
    crate::fsio::write_atomic(&svg, svg_text.as_bytes())?;
    Ok(vec![png, svg])
}

// ---------------------------------------------------------------------------------------------
// Shared drawing helpers.

/// Colours of the machines, in run order (Okabe–Ito).
pub(crate) fn machine_color(j: usize) -> RGBColor {
    use groups::okabe_ito as oi;
    const C: [RGBColor; 6] = [
        oi::BLUE,
        oi::VERMILLION,
        oi::BLUISH_GREEN,
        oi::REDDISH_PURPLE,
        oi::ORANGE,
        oi::SKY_BLUE,
    ];
    C[j % C.len()]
}

/// Cut a label to [`MAX_LABEL_CHARS`] characters with an ellipsis in the middle, keeping the
/// start and the (usually more telling) end: "resnet50.sta…block3.conv2_3x3".
pub(crate) fn truncate_label(s: &str) -> String {
    truncate_to(s, MAX_LABEL_CHARS)
}

/// [`truncate_label`] to `max` characters (at least 5).
pub(crate) fn truncate_to(s: &str, max: usize) -> String {
    let max = max.max(5);
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head = (max - 1) / 3;
    let tail = max - 1 - head;
    let mut t: String = s.chars().take(head).collect();
    t.push('…');
    t.extend(s.chars().skip(n - tail));
    t
}

/// A segment's end points in backend pixels and the clearance labels keep from it.
type Segment = ((f64, f64), (f64, f64), f64);

/// Places text labels next to points without overlapping each other, the points, the plot
/// edges, or the lines it was told to avoid (roofs): tries right, left, above and below of each
/// point, then the corners (above and below on the right, then on the left), and skips a label
/// that fits nowhere.
pub(crate) struct LabelPlacer {
    taken: Vec<(i32, i32, i32, i32)>,
    /// Segments (end points in backend pixels) no label may cross, each with its clearance in
    /// pixels (about half the stroke width).
    lines: Vec<Segment>,
    bounds: (i32, i32, i32, i32),
}

impl LabelPlacer {
    /// `bounds` = (x0, y0, x1, y1) in backend pixels; `points` are obstacles (pixel centers).
    pub fn new(bounds: (i32, i32, i32, i32), points: &[(i32, i32)], radius: i32) -> Self {
        LabelPlacer {
            taken: points
                .iter()
                .map(|&(x, y)| (x - radius, y - radius, x + radius, y + radius))
                .collect(),
            lines: Vec::new(),
            bounds,
        }
    }

    /// Reserve a box (x0, y0, x1, y1) so no label is put over it.
    pub fn reserve(&mut self, b: (i32, i32, i32, i32)) {
        self.taken.push(b);
    }

    /// Keep labels off the polyline through `points` (backend pixels) and `clearance` pixels
    /// either side of it: a roof of a log-log roofline is straight between its corners in
    /// pixels.
    pub fn avoid_polyline(&mut self, points: &[(i32, i32)], clearance: i32) {
        for w in points.windows(2) {
            let p = (w[0].0 as f64, w[0].1 as f64);
            let q = (w[1].0 as f64, w[1].1 as f64);
            self.lines.push((p, q, clearance.max(0) as f64));
        }
    }

    /// True when the box `b` (x0, y0, x1, y1) crosses a line to avoid (or comes closer to it
    /// than its clearance).
    pub fn crosses_lines(&self, b: (i32, i32, i32, i32)) -> bool {
        self.lines.iter().any(|&(p, q, c)| {
            let b = (
                b.0 as f64 - c,
                b.1 as f64 - c,
                b.2 as f64 + c,
                b.3 as f64 + c,
            );
            segment_hits_box(b, p, q)
        })
    }

    /// True when the box `b` (x0, y0, x1, y1) lies inside the bounds, overlaps no taken box and
    /// crosses no line.
    pub fn fits(&self, b: (i32, i32, i32, i32)) -> bool {
        let inside = b.0 >= self.bounds.0
            && b.1 >= self.bounds.1
            && b.2 <= self.bounds.2
            && b.3 <= self.bounds.3;
        inside
            && self
                .taken
                .iter()
                .all(|t| b.2 <= t.0 || t.2 <= b.0 || b.3 <= t.1 || t.3 <= b.1)
            && !self.crosses_lines(b)
    }

    /// Where to put a `w × h` label for the point at `(x, y)`: the pixel offset from the point
    /// and the text anchor, or `None`.
    pub fn place(&mut self, (x, y): (i32, i32), (w, h): (u32, u32)) -> Option<((i32, i32), Pos)> {
        let (w, h) = (w as i32, h as i32);
        let g = 9;
        let cands = [
            (
                (g, 0),
                Pos::new(HPos::Left, VPos::Center),
                (x + g, y - h / 2),
            ),
            (
                (-g, 0),
                Pos::new(HPos::Right, VPos::Center),
                (x - g - w, y - h / 2),
            ),
            (
                (0, -g),
                Pos::new(HPos::Center, VPos::Bottom),
                (x - w / 2, y - g - h),
            ),
            (
                (0, g),
                Pos::new(HPos::Center, VPos::Top),
                (x - w / 2, y + g),
            ),
            (
                (g, -g),
                Pos::new(HPos::Left, VPos::Bottom),
                (x + g, y - g - h),
            ),
            ((g, g), Pos::new(HPos::Left, VPos::Top), (x + g, y + g)),
            (
                (-g, -g),
                Pos::new(HPos::Right, VPos::Bottom),
                (x - g - w, y - g - h),
            ),
            (
                (-g, g),
                Pos::new(HPos::Right, VPos::Top),
                (x - g - w, y + g),
            ),
        ];
        for (off, pos, (bx, by)) in cands {
            let b = label_box((bx, by, bx + w, by + h));
            if self.fits(b) {
                self.taken.push(b);
                return Some((off, pos));
            }
        }
        None
    }
}

/// True when the segment from `p` to `q` touches the closed box `b` = (x0, y0, x1, y1) (x0 ≤
/// x1, y0 ≤ y1): Liang–Barsky clipping of the segment to the box leaves something.
pub(crate) fn segment_hits_box(b: (f64, f64, f64, f64), p: (f64, f64), q: (f64, f64)) -> bool {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    // The point p + t (q - p) is inside where den × t ≤ num for all four edges.
    for (den, num) in [
        (-dx, p.0 - b.0),
        (dx, b.2 - p.0),
        (-dy, p.1 - b.1),
        (dy, b.3 - p.1),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return false;
            }
        } else if den < 0.0 {
            t0 = t0.max(num / den);
        } else {
            t1 = t1.min(num / den);
        }
    }
    t0 <= t1
}

/// The box a label reserves around its text box (x0, y0, x1, y1): 2 px either side, 1 px
/// above and below.
pub(crate) fn label_box(t: (i32, i32, i32, i32)) -> (i32, i32, i32, i32) {
    (t.0 - 2, t.1 - 1, t.2 + 2, t.3 + 1)
}

/// The pixel box (x0, y0, x1, y1) of a `w × h` text drawn at `at` with anchor `pos`.
pub(crate) fn text_box(at: (i32, i32), pos: Pos, (w, h): (u32, u32)) -> (i32, i32, i32, i32) {
    let (x, y, w, h) = (at.0, at.1, w as i32, h as i32);
    let x0 = match pos.h_pos {
        HPos::Left => x,
        HPos::Center => x - w / 2,
        HPos::Right => x - w,
    };
    let y0 = match pos.v_pos {
        VPos::Top => y,
        VPos::Center => y - h / 2,
        VPos::Bottom => y - h,
    };
    (x0, y0, x0 + w, y0 + h)
}

pub(crate) fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), px, FontStyle::Normal)
}

pub(crate) fn bold(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), px, FontStyle::Bold)
}

pub(crate) fn text_style(px: f64, color: &RGBColor) -> TextStyle<'static> {
    font(px).color(color)
}

/// A finite positive number, or None.
pub(crate) fn pos(x: f64) -> Option<f64> {
    (x.is_finite() && x > 0.0).then_some(x)
}

/// Tick label of a log axis: plain numbers for 1e-3..1e5, exponents beyond.
pub(crate) fn fmt_log_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// Draw a title line at the top of an area; returns the rest of the area.
pub(crate) fn title_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    px: f64,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let h = (px * 1.7) as u32;
    let (top, rest) = area.split_vertically(h);
    let (w, _) = top.dim_in_pixel();
    // A title wider than the figure (long workload names at column width) shrinks to fit, never
    // below the smallest font size.
    let avail = (w as f64 - 8.0).max(1.0);
    let px = match top.estimate_text_size(title, &bold(px).into()) {
        Ok((tw, _)) if tw as f64 > avail => (px * avail / tw as f64).max(small_px()),
        _ => px,
    };
    top.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, h as i32 / 2),
        bold(px)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(rest)
}

/// A legend as one centered row of colored swatches with labels, drawn in its own strip (so it
/// never covers data); returns the rest of the area.
pub(crate) fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let px = tick_px();
    let sw = (14.0 * font_scale()) as i32;
    let gap = (22.0 * font_scale()) as i32;
    let pad = (6.0 * font_scale()) as i32;
    let (w, _) = area.dim_in_pixel();
    let style = text_style(px, &BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let widths: Vec<i32> = items
        .iter()
        .map(|(t, _)| {
            area.estimate_text_size(t, &style)
                .map(|(tw, _)| tw as i32)
                .unwrap_or(8 * t.len() as i32)
        })
        .collect();
    // Wrap into as many rows as needed.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut row_w = 0;
    for (i, tw) in widths.iter().enumerate() {
        let item_w = sw + pad + tw + gap;
        if row_w + item_w > w as i32 - 20 && !rows.last().unwrap().is_empty() {
            rows.push(Vec::new());
            row_w = 0;
        }
        rows.last_mut().unwrap().push(i);
        row_w += item_w;
    }
    let row_h = (24.0 * font_scale()) as i32;
    let (strip, rest) = area.split_vertically(rows.len() as u32 * row_h as u32 + 6);
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|&i| sw + pad + widths[i] + gap).sum::<i32>() - gap;
        let mut x = (w as i32 - total) / 2;
        let y = r as i32 * row_h + row_h / 2;
        for &i in row {
            let (t, c) = &items[i];
            strip.draw(&Rectangle::new(
                [(x, y - sw / 2), (x + sw, y + sw / 2)],
                c.filled(),
            ))?;
            strip.draw(&Rectangle::new(
                [(x, y - sw / 2), (x + sw, y + sw / 2)],
                BLACK.mix(0.5).stroke_width(1),
            ))?;
            strip.draw(&Text::new(t.clone(), (x + sw + pad, y), style.clone()))?;
            x += sw + pad + widths[i] + gap;
        }
    }
    Ok(rest)
}

/// Parts of a line of text joined by `sep`, wrapped into as few centered lines as fit the
/// area's width (a part wider than the area gets a line of its own), drawn in their own strip;
/// returns the rest of the area.
pub(crate) fn text_lines<DB: DrawingBackend, S: AsRef<str>>(
    area: &DrawingArea<DB, Shift>,
    parts: &[S],
    sep: &str,
    style: &TextStyle,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let width = |t: &str| {
        area.estimate_text_size(t, style)
            .map(|(tw, _)| tw as i32)
            .unwrap_or(8 * t.len() as i32)
    };
    let mut lines: Vec<String> = Vec::new();
    for p in parts {
        let p = p.as_ref();
        match lines.last_mut() {
            Some(l) if width(&format!("{l}{sep}{p}")) <= w as i32 - 16 => {
                l.push_str(sep);
                l.push_str(p);
            }
            _ => lines.push(p.to_string()),
        }
    }
    let px = style.font.get_size();
    let line_h = (px * 1.3) as i32;
    let (strip, rest) =
        area.split_vertically(lines.len() as u32 * line_h as u32 + (px * 0.3) as u32);
    for (i, l) in lines.into_iter().enumerate() {
        strip.draw(&Text::new(
            l,
            (w as i32 / 2, i as i32 * line_h + (px * 0.8) as i32),
            style.pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    Ok(rest)
}

/// A centered message in place of a plot that has no data.
pub(crate) fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    msg: &str,
) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        msg.to_string(),
        (w as i32 / 2, h as i32 / 2),
        text_style(axis_px(), &RGBColor(90, 90, 90)).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::DType;

    #[test]
    fn labels_are_cut_with_ellipsis() {
        assert_eq!(truncate_label("short"), "short");
        let long = "encoder.layer.11.attention.output.dense";
        let t = truncate_label(long);
        assert_eq!(t.chars().count(), MAX_LABEL_CHARS);
        assert!(t.starts_with("encoder.") && t.ends_with("output.dense") && t.contains('…'));
    }

    #[test]
    fn segment_box_intersection() {
        let b = (0.0, 0.0, 10.0, 10.0);
        // Across, inside, reversed, vertical, and through a corner.
        assert!(segment_hits_box(b, (-5.0, 5.0), (15.0, 5.0)));
        assert!(segment_hits_box(b, (2.0, 2.0), (3.0, 3.0)));
        assert!(segment_hits_box(b, (15.0, 5.0), (-5.0, 5.0)));
        assert!(segment_hits_box(b, (5.0, -5.0), (5.0, 15.0)));
        assert!(segment_hits_box(b, (5.0, -5.0), (15.0, 5.0)));
        // Beside, short of the box, and past a corner.
        assert!(!segment_hits_box(b, (-5.0, 12.0), (15.0, 12.0)));
        assert!(!segment_hits_box(b, (11.0, -5.0), (11.0, 15.0)));
        assert!(!segment_hits_box(b, (-10.0, 5.0), (-1.0, 5.0)));
        assert!(!segment_hits_box(b, (8.0, -5.0), (15.0, 2.0)));
    }

    #[test]
    fn labels_do_not_cross_avoided_lines() {
        // A roof-like slope rising to the right, and a point 5 px under it: the label right of
        // the point (the first choice) would cross the slope.
        let (p, q) = ((0, 650), (600, 350));
        let c = (300, 505);
        let size = (200, 20);
        let bounds = (0, 0, 1000, 1000);
        let mut free = LabelPlacer::new(bounds, &[c], 7);
        let (off, pos) = free.place(c, size).unwrap();
        let seg = ((p.0 as f64, p.1 as f64), (q.0 as f64, q.1 as f64));
        let b = text_box((c.0 + off.0, c.1 + off.1), pos, size);
        let b = (b.0 as f64, b.1 as f64, b.2 as f64, b.3 as f64);
        assert!(segment_hits_box(b, seg.0, seg.1));
        let mut placer = LabelPlacer::new(bounds, &[c], 7);
        placer.avoid_polyline(&[p, q], 2);
        let (off, pos) = placer.place(c, size).unwrap();
        let b = text_box((c.0 + off.0, c.1 + off.1), pos, size);
        let b = (b.0 as f64, b.1 as f64, b.2 as f64, b.3 as f64);
        assert!(!segment_hits_box(b, seg.0, seg.1));
        // Below and to the right, under the rising line.
        assert_eq!(off, (9, 9));
    }

    #[test]
    fn si_formatting() {
        assert_eq!(fmt_time_short(12.3e-6), "12.3 µs");
        assert_eq!(fmt_time_short(850e-9), "850 ns");
        assert_eq!(fmt_time_short(4.1e-3), "4.10 ms");
        assert_eq!(fmt_energy_short(2.5e-3), "2.50 mJ");
        assert_eq!(fmt_log_tick(0.01), "0.01");
        assert_eq!(fmt_log_tick(1e6), "1e6");
    }

    #[test]
    fn roof_from_machine_keys_and_fallback() {
        let mut r = RunReport {
            machine: crate::machine::MachineReport {
                info: crate::machine::MachineInfo {
                    peak_flops: vec![(DType::Bf16, 400e12), (DType::Fp8, 800e12)],
                    memory: vec![crate::machine::MemoryLevel::new("hbm", None, Some(2000e9))],
                    ..crate::machine::MachineInfo::new("t", crate::machine::MachineKind::Systolic)
                },
                main_dtype: DType::Bf16,
            },
            ops: vec![OpProfile {
                dtype: DType::Bf16,
                tflops: 100.0,
                utilization: 0.5,
                ..Default::default()
            }],
            total: Default::default(),
            model: None,
        };
        let roof = Roof::from_run(&r).unwrap();
        assert_eq!(roof.peak_tflops, 400.0);
        assert_eq!(roof.ridge_flop_per_byte(), Some(200.0));
        assert!((roof.attainable_tflops(10.0) - 20.0).abs() < 1e-9);
        r.machine =
            crate::machine::MachineReport::unknown("t", crate::machine::MachineKind::Systolic);
        let roof = Roof::from_run(&r).unwrap();
        assert!(roof.peak_derived);
        assert_eq!(roof.peak_tflops, 200.0);
        assert_eq!(roof.hbm_gbps, None);
    }
}
