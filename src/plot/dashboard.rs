//! One-page summary: totals per machine, then time by cause, energy by op group, utilization by
//! op group and a combined roofline.
//!
//! Its 2 × 2 panels do not fit one column, so instead of a column variant it has a double-column
//! one (`dashboard_double_column`): 7.16 in wide at 300 dpi (the IEEE/ACM two-column text width,
//! [`super::DOUBLE_COLUMN_PX`]), where each panel is about one column wide and gets the column
//! variants' fonts (every font >= 7 pt); the totals lines wrap to fit.

use super::*;

pub(crate) struct Dashboard<'a, 'b> {
    pub data: &'b Compared<'a>,
}

/// The totals of a run, the first part led by the run's label: one line when it fits.
fn totals_parts(r: &RunView) -> Vec<String> {
    let t = &r.report.total;
    let mut parts = vec![
        format!("{}:  {} ops", r.label, t.ops),
        format!("time {}", fmt_time_short(t.time_s)),
        format!("{} TFLOP/s", fmt_sig(t.tflops)),
        format!("utilization {:.1}%", t.utilization * 100.0),
    ];
    if t.energy_pj > 0.0 {
        parts.push(format!("energy {}", fmt_energy_short(t.energy_pj * 1e-12)));
        parts.push(format!("{} pJ/FLOP", fmt_sig(t.pj_per_flop)));
        parts.push(format!("{} TFLOP/s/W", fmt_sig(t.tflops_per_w)));
    }
    if !t.main_stall.is_empty() {
        parts.push(format!("main stall: {}", t.main_stall));
    }
    parts
}

impl Figure for Dashboard<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let d = self.data;
        let area = title_area(area, &d.headline("archsim summary"), 32.0 * font_scale())?;
        // Totals, one line per machine (wrapped where the figure is narrow), then the overall
        // speedup.
        let mut body = area.margin(4, 0, 0, 0);
        for r in &d.runs {
            body = text_lines(
                &body,
                &totals_parts(r),
                "  ·  ",
                &bold(axis_px()).color(&r.color),
            )?;
        }
        if let Some(t) = time::total_speedup_text(d) {
            body = text_lines(&body, &[t], "", &bold(axis_px()).color(&BLACK))?;
        }
        let (_, body) = body.split_vertically((12.0 * font_scale()) as u32);
        let mut c = body.split_evenly((2, 2)).into_iter();
        let mut next = || c.next().expect("2×2 split gives 4 areas");
        let (time, energy, util, roof) = (next(), next(), next(), next());
        let frame = |a: &DrawingArea<DB, Shift>| {
            let (w, h) = a.dim_in_pixel();
            a.draw(&Rectangle::new(
                [(4, 4), (w as i32 - 4, h as i32 - 4)],
                RGBColor(200, 200, 200).stroke_width(1),
            ))?;
            Ok::<_, DrawingAreaErrorKind<DB::ErrorType>>(a.margin(8, 8, 8, 8))
        };
        let a = title_area(&frame(&time)?, "Time by cause", title_px())?;
        time::draw_time_by_cause(&a, d)?;
        let a = title_area(&frame(&energy)?, "Energy by op group", title_px())?;
        energy::draw_energy_by_group(&a, d)?;
        let a = title_area(&frame(&util)?, "Utilization by op group", title_px())?;
        utilization::draw_utilization_by_group(&a, d)?;
        let a = title_area(&frame(&roof)?, "Roofline", title_px())?;
        let all: Vec<usize> = (0..d.runs.len()).collect();
        roofline::draw_roofline(&a, d, &all, false)?;
        Ok(())
    }
}
