//! Time by cause: where each machine's time goes (compute, fill/drain, memory, tail, overhead,
//! clock), stacked, for the whole workload and per op group, on a linear time axis.

use super::groups::{cause_color, draw_blocks, faster_text, GroupSum, Grouped};
use super::*;

/// The "A is 2.3× faster overall" line for the first two runs.
pub(crate) fn total_speedup_text(d: &Compared) -> Option<String> {
    if d.runs.len() < 2 {
        return None;
    }
    let (a, b) = (&d.runs[0], &d.runs[1]);
    let ta = pos(a.report.total.time_s)?;
    let tb = pos(b.report.total.time_s)?;
    let (w, s) = if ta <= tb { (a, tb / ta) } else { (b, ta / tb) };
    Some(format!(
        "total: {} {} vs {} {} → {} {}× faster",
        a.label,
        fmt_time_short(ta),
        b.label,
        fmt_time_short(tb),
        w.label,
        fmt_sig(s)
    ))
}

/// Legend of the causes with time on any machine, in breakdown order.
fn cause_legend(g: &Grouped) -> Vec<(String, RGBColor)> {
    let n = g.total.iter().map(|t| t.causes.len()).max().unwrap_or(0);
    (0..n)
        .filter_map(|k| {
            let mut with_time = g
                .total
                .iter()
                .filter_map(|t| t.causes.get(k))
                .filter(|(_, s)| *s > 0.0);
            with_time
                .next()
                .map(|(l, _)| (l.to_string(), cause_color(l)))
        })
        .collect()
}

pub(crate) fn draw_time_by_cause<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let g = Grouped::new(d);
    let legend = cause_legend(&g);
    if legend.is_empty() {
        return no_data(area, "no ops with a positive time to plot");
    }
    let area = legend_row(area, &legend)?;
    let bar = |sums: &[&GroupSum], j: usize| {
        let s = sums[j];
        (s.time_s > 0.0).then(|| {
            let segs = s.causes.iter().map(|(l, v)| (*v, cause_color(l))).collect();
            (
                segs,
                format!("{}{}", fmt_time_short(s.time_s), faster_text(sums, j)),
            )
        })
    };
    draw_blocks(&area, d, &g, &bar, "Time (linear)", &|v| fmt_time_short(v))
}
