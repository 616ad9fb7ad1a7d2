//! Utilization by op group: the time-weighted mean of the ops' utilization (each op against the
//! unit its model reports it against), one bar per machine, for the whole workload and per
//! op group.

use super::groups::{draw_blocks, GroupSum, Grouped};
use super::*;

pub(crate) fn draw_utilization_by_group<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
) -> DrawResult<DB> {
    let g = Grouped::new(d);
    let items: Vec<(String, RGBColor)> =
        d.runs.iter().map(|r| (r.label.clone(), r.color)).collect();
    let area = legend_row(area, &items)?;
    let colors: Vec<RGBColor> = d.runs.iter().map(|r| r.color).collect();
    let bar = |sums: &[&GroupSum], j: usize| {
        sums[j].utilization().map(|u| {
            (
                vec![(u * 100.0, colors[j])],
                format!("{} %", fmt_sig(u * 100.0)),
            )
        })
    };
    draw_blocks(
        &area,
        d,
        &g,
        &bar,
        "Utilization, % of peak (time-weighted)",
        &|v| fmt_log_tick(v),
    )
}
