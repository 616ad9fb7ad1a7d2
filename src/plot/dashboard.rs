//! One-page summary: totals per machine, then time by cause, energy by op group, utilization by
//! op group and a combined roofline.

use super::*;

pub(crate) struct Dashboard<'a, 'b> {
    pub data: &'b Compared<'a>,
}

/// One line of totals of a run.
fn totals_line(r: &RunView) -> String {
    let t = &r.report.total;
    let mut parts = vec![
        format!("{} ops", t.ops),
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
    format!("{}:  {}", r.label, parts.join("  ·  "))
}

impl Figure for Dashboard<'_, '_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let d = self.data;
        let area = title_area(area, &d.headline("archsim summary"), 32.0)?;
        // Totals, one line per machine, then the overall speedup.
        let mut lines: Vec<(String, RGBColor)> =
            d.runs.iter().map(|r| (totals_line(r), r.color)).collect();
        if let Some(t) = time::total_speedup_text(d) {
            lines.push((t, BLACK));
        }
        let line_h = 26;
        let (head, body) = area.split_vertically(lines.len() as u32 * line_h + 16);
        let (w, _) = head.dim_in_pixel();
        for (i, (t, c)) in lines.iter().enumerate() {
            head.draw(&Text::new(
                t.clone(),
                (
                    w as i32 / 2,
                    i as i32 * line_h as i32 + line_h as i32 / 2 + 4,
                ),
                bold(axis_px())
                    .color(c)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }
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
