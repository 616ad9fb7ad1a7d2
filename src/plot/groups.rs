//! What the paper figures aggregate: ops grouped by type/phase, the time of each group split by
//! cause, and the colour-blind-safe palettes every plot uses.
//!
//! Palettes: machines and time causes use Okabe & Ito, "Color Universal Design" (2008); energy
//! levels use Paul Tol's "muted" scheme (SRON/EPS/TN/09-002, 2021). Both stay distinguishable
//! for the common colour-vision deficiencies.

use super::*;
use crate::machine::TimeBreakdown;

/// Okabe–Ito colours (black omitted).
pub(crate) mod okabe_ito {
    use plotters::style::RGBColor;
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
    pub const BLUISH_GREEN: RGBColor = RGBColor(0, 158, 115);
    pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    pub const REDDISH_PURPLE: RGBColor = RGBColor(204, 121, 167);
    pub const GREY: RGBColor = RGBColor(153, 153, 153);
}

use okabe_ito as oi;

/// The time of an op (one execution) by cause: (label, seconds), compute first. This is the
/// one place the plots read [`TimeBreakdown`]: it follows [`TimeBreakdown::parts`], so a cause
/// added, merged or renamed there appears here, labelled by [`cause_label`].
pub(crate) fn cause_seconds(t: &TimeBreakdown) -> Vec<(&'static str, f64)> {
    t.parts()
        .iter()
        .map(|&(k, s)| (cause_label(k), s))
        .collect()
}

/// Display label of a breakdown part or a `main_stall` value (the two vocabularies map to one
/// set of labels); unknown names are shown as given.
pub(crate) fn cause_label(key: &'static str) -> &'static str {
    match key {
        "compute" | "none" => "compute",
        "fill_drain" => "fill/drain",
        "memory_stall" | "memory" => "memory",
        "tail" | "tail_quantization" => "tail",
        "overhead" => "overhead",
        "clock_throttle" | "clock" => "clock",
        "kernel_efficiency" => "kernel efficiency",
        other => other,
    }
}

/// Colour of a cause label ([`cause_label`]).
pub(crate) fn cause_color(label: &str) -> RGBColor {
    match label {
        "compute" => oi::BLUE,
        "fill/drain" => oi::REDDISH_PURPLE,
        "memory" => oi::VERMILLION,
        "tail" => oi::ORANGE,
        "overhead" => oi::SKY_BLUE,
        "clock" => oi::YELLOW,
        "kernel efficiency" => oi::BLUISH_GREEN,
        _ => oi::GREY,
    }
}

/// Colour of an op's `main_stall` (a compute-bound op, "none", is coloured as compute).
pub(crate) fn stall_color(main_stall: &str) -> RGBColor {
    let label = match main_stall {
        "none" => "compute",
        "memory" | "memory_stall" => "memory",
        "fill_drain" => "fill/drain",
        "tail_quantization" | "tail" => "tail",
        "overhead" => "overhead",
        "clock_throttle" => "clock",
        "kernel_efficiency" => "kernel efficiency",
        _ => "",
    };
    cause_color(label)
}

/// Op groups in display order.
pub(crate) const GROUPS: [&str; 11] = [
    "attention",
    "QKV / out proj",
    "FFN / experts",
    "convolutions",
    "FC / classifier",
    "norms / elementwise",
    "LM head",
    "embedding",
    "optimizer",
    "other GEMMs",
    "other vector ops",
];

/// The group of an op, from its name's last component and its kind (`op`: "gemm" or the vector
/// kind). Backward ops (`.bwd`, `.bwd_dx`, `.bwd_dw`) and recomputed ones join their forward
/// op's group. Names follow the lowering of `crate::workload::model` (`prefix.group.op`), the
/// attention expansion (`.qk`, `.softmax`, `.av`) and SCALE-Sim/ResNet topologies (`Conv1`,
/// `CB2a_1`, `FC1000`).
pub fn op_group(name: &str, op: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('.').collect();
    while parts.len() > 1
        && matches!(
            *parts.last().unwrap_or(&""),
            "bwd" | "bwd_dx" | "bwd_dw" | "recompute"
        )
    {
        parts.pop();
    }
    let last = *parts.last().unwrap_or(&"");
    let parents = &parts[..parts.len().saturating_sub(1)];
    let gemm = op == "gemm";
    let has = |s: &str| last.contains(s);
    let under = |s: &str| parents.iter().any(|p| p.contains(s));
    if lower.contains("optimizer") || last == "adam" {
        "optimizer"
    } else if has("lm_head") || has("logits") || has("unembed") {
        "LM head"
    } else if has("embed") {
        "embedding"
    } else if has("norm") {
        "norms / elementwise"
    } else if gemm
        && (has("qkv")
            || has("q_proj")
            || has("k_proj")
            || has("v_proj")
            || has("o_proj")
            || has("out_proj")
            || has("output_proj")
            || last.starts_with("q_")
            || last.starts_with("kv_"))
    {
        "QKV / out proj"
    } else if op == "attention"
        || matches!(
            last,
            "qk" | "av" | "scores" | "attn" | "attention" | "context"
        )
        || last.starts_with("scores")
        || last.starts_with("context")
        || has("flash")
        || (last == "softmax" && !under("router"))
        || ((gemm || op == "softmax") && (under("attention") || under("attn")))
    {
        "attention"
    } else if gemm
        && (has("ffn")
            || has("expert")
            || has("router")
            || has("gate")
            || under("ffn")
            || under("mlp")
            || under("expert")
            || matches!(last, "up" | "down" | "fc1" | "fc2" | "w1" | "w2" | "w3"))
    {
        "FFN / experts"
    } else if gemm
        && (has("conv")
            || has("downsample")
            || has("shortcut")
            || last.starts_with("cb")
            || last.starts_with("ib"))
    {
        "convolutions"
    } else if gemm && last.starts_with("fc") {
        "FC / classifier"
    } else if gemm {
        "other GEMMs"
    } else if matches!(
        op,
        "layernorm"
            | "rmsnorm"
            | "gelu"
            | "silu"
            | "relu"
            | "add"
            | "mul"
            | "copy"
            | "rope"
            | "pool"
            | "softmax"
    ) || has("residual")
        || has("dispatch")
        || has("combine")
    {
        "norms / elementwise"
    } else {
        "other vector ops"
    }
}

/// One group's sums on one machine (every op counted `repeat` times).
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupSum {
    pub ops: u64,
    pub time_s: f64,
    /// (cause label, seconds) in [`cause_seconds`] order.
    pub causes: Vec<(&'static str, f64)>,
    pub flops: f64,
    /// Energy by level in [`super::energy::LEVELS`] order, pJ.
    pub energy_pj: [f64; 8],
    /// Σ utilization × time (÷ `time_s` gives the time-weighted utilization).
    pub util_time: f64,
}

impl GroupSum {
    fn add(&mut self, p: &OpProfile) {
        let r = p.repeat.0 as f64;
        let t = if p.time_s.is_finite() && p.time_s > 0.0 {
            p.time_s * r
        } else {
            0.0
        };
        self.ops += p.repeat.0;
        self.time_s += t;
        for (k, (label, s)) in cause_seconds(&p.time_breakdown_s).into_iter().enumerate() {
            let s = if s.is_finite() && s > 0.0 { s * r } else { 0.0 };
            match self.causes.get_mut(k) {
                Some(c) => c.1 += s,
                None => self.causes.push((label, s)),
            }
        }
        if p.flops.is_finite() && p.flops > 0.0 {
            self.flops += p.flops * r;
        }
        if let Some(e) = &p.energy {
            for (acc, x) in self.energy_pj.iter_mut().zip(super::energy::levels_pj(e)) {
                if x.is_finite() && x > 0.0 {
                    *acc += x * r;
                }
            }
        }
        if p.utilization.is_finite() && p.utilization >= 0.0 {
            self.util_time += p.utilization * t;
        }
    }

    pub fn energy_total_pj(&self) -> f64 {
        self.energy_pj.iter().sum()
    }

    /// Time-weighted mean utilization of the group's ops, 0..1; `None` without time.
    pub fn utilization(&self) -> Option<f64> {
        (self.time_s > 0.0).then(|| self.util_time / self.time_s)
    }
}

/// Per run: the whole run and each group present in any run, in [`GROUPS`] order.
pub(crate) struct Grouped {
    /// Group names present (in display order).
    pub names: Vec<&'static str>,
    /// `by_group[run][g]`.
    pub by_group: Vec<Vec<GroupSum>>,
    /// `total[run]`.
    pub total: Vec<GroupSum>,
}

impl Grouped {
    pub fn new(d: &Compared) -> Grouped {
        let mut sums: Vec<Vec<GroupSum>> =
            vec![vec![GroupSum::default(); GROUPS.len()]; d.runs.len()];
        let mut total = vec![GroupSum::default(); d.runs.len()];
        for (j, r) in d.runs.iter().enumerate() {
            for p in &r.report.ops {
                let g = op_group(&p.name, &p.op);
                let gi = GROUPS
                    .iter()
                    .position(|x| *x == g)
                    .unwrap_or(GROUPS.len() - 1);
                sums[j][gi].add(p);
                total[j].add(p);
            }
        }
        let present: Vec<usize> = (0..GROUPS.len())
            .filter(|&g| sums.iter().any(|s| s[g].ops > 0))
            .collect();
        Grouped {
            names: present.iter().map(|&g| GROUPS[g]).collect(),
            by_group: sums
                .into_iter()
                .map(|s| present.iter().map(|&g| s[g].clone()).collect())
                .collect(),
            total,
        }
    }
}

/// One horizontal stacked bar: its label, segments (value, colour) from the left, and the text
/// written after its end.
pub(crate) struct HBar {
    pub label: String,
    pub segments: Vec<(f64, RGBColor)>,
    pub end_text: String,
}

/// A horizontal stacked-bar chart on a linear axis from 0: `rows` top to bottom, `None` is a
/// gap between blocks of bars. `fmt` formats the axis ticks.
pub(crate) fn draw_hbars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[Option<HBar>],
    x_desc: &str,
    fmt: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let xmax = rows
        .iter()
        .flatten()
        .map(|b| {
            b.segments
                .iter()
                .map(|s| s.0)
                .filter(|x| *x > 0.0)
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    if rows.is_empty() || xmax <= 0.0 || !xmax.is_finite() {
        return no_data(area, "no data to plot");
    }
    let n = rows.len();
    let labels: Vec<String> = rows
        .iter()
        .map(|r| r.as_ref().map(|b| b.label.clone()).unwrap_or_default())
        .collect();
    let tick = text_style(tick_px(), &BLACK);
    let label_w = labels
        .iter()
        .map(|l| {
            area.estimate_text_size(l, &tick)
                .map(|s| s.0)
                .unwrap_or(100)
        })
        .max()
        .unwrap_or(100);
    let end_w = rows
        .iter()
        .flatten()
        .map(|b| {
            area.estimate_text_size(&b.end_text, &text_style(small_px(), &BLACK))
                .map(|s| s.0)
                .unwrap_or(100)
        })
        .max()
        .unwrap_or(0);
    // Room after the longest bar for its end text: the bar spans `frac` of the plot width.
    let (w, _) = area.dim_in_pixel();
    let plot_w = (w as f64 - label_w as f64 - 40.0).max(100.0);
    let frac = ((plot_w - end_w as f64 - 16.0) / plot_w).clamp(0.35, 0.95);
    let x_hi = xmax / frac;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(44)
        .x_label_area_size((tick_px() + axis_px() * 1.6) as u32)
        .y_label_area_size(label_w + 16)
        .build_cartesian_2d(0f64..x_hi, -0.5f64..(n as f64 - 0.5))?;
    grid_style(
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    labels[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_labels((6.0 / font_scale()).round().max(3.0) as usize)
            .x_label_formatter(&|v| fmt(*v))
            .x_desc(x_desc),
        Some(1),
        RGBColor(242, 242, 242),
        RGBColor(215, 215, 215),
    )
    .draw()?;
    for (i, row) in rows.iter().enumerate() {
        let Some(b) = row else { continue };
        let y = (n - 1 - i) as f64;
        let mut x0 = 0.0;
        let mut rects = Vec::new();
        for (v, c) in &b.segments {
            if *v > 0.0 && v.is_finite() {
                rects.push(Rectangle::new(
                    [(x0, y - 0.36), (x0 + v, y + 0.36)],
                    c.filled(),
                ));
                x0 += v;
            }
        }
        chart.draw_series(rects)?;
        chart.draw_series(std::iter::once(Text::new(
            b.end_text.clone(),
            (x0 + x_hi * 0.008, y),
            text_style(small_px(), &BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
    }
    Ok(())
}

/// Rows of a per-machine total block and per-group blocks: for each block, one bar per machine
/// labelled "block · machine" (the machine alone for the totals block).
/// `bar(sums, j)` draws run `j` of a block whose sums over the runs are `sums`.
pub(crate) type BarFn<'f> =
    dyn Fn(&[&GroupSum], usize) -> Option<(Vec<(f64, RGBColor)>, String)> + 'f;

pub(crate) fn block_rows(
    d: &Compared,
    g: &Grouped,
    bar: &BarFn,
) -> (Vec<Option<HBar>>, Vec<Option<HBar>>) {
    let short = |l: &str| truncate_to(l, 22);
    let total_sums: Vec<&GroupSum> = g.total.iter().collect();
    let totals = d
        .runs
        .iter()
        .enumerate()
        .map(|(j, r)| {
            bar(&total_sums, j).map(|(segments, end_text)| HBar {
                label: short(&r.label),
                segments,
                end_text,
            })
        })
        .collect();
    let mut groups = Vec::new();
    for (gi, name) in g.names.iter().enumerate() {
        if gi > 0 {
            groups.push(None);
        }
        let sums: Vec<&GroupSum> = g.by_group.iter().map(|s| &s[gi]).collect();
        for (j, r) in d.runs.iter().enumerate() {
            let label = format!("{name} · {}", short(&r.label));
            groups.push(Some(match bar(&sums, j) {
                Some((segments, end_text)) => HBar {
                    label,
                    segments,
                    end_text,
                },
                None => HBar {
                    label,
                    segments: Vec::new(),
                    end_text: "–".into(),
                },
            }));
        }
    }
    (totals, groups)
}

/// "2.1× faster" for run `j` when it is the fastest of the runs on these sums by more than
/// 1 %, else "".
pub(crate) fn faster_text(sums: &[&GroupSum], j: usize) -> String {
    let t = sums[j].time_s;
    let others = sums
        .iter()
        .enumerate()
        .filter(|(k, s)| *k != j && s.time_s > 0.0)
        .map(|(_, s)| s.time_s)
        .fold(f64::INFINITY, f64::min);
    if t > 0.0 && others.is_finite() && others > t * 1.01 {
        format!(" · {}× faster", fmt_sig(others / t))
    } else {
        String::new()
    }
}

/// Split an area into a totals panel (height for `n_total` rows) and a groups panel below.
pub(crate) fn split_blocks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n_total: usize,
    n_groups: usize,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (_, h) = area.dim_in_pixel();
    let fixed = 2.0 * (tick_px() + axis_px() * 1.6 + 20.0 + axis_px() * 1.7);
    let per_row = ((h as f64 - fixed) / (n_total + n_groups).max(1) as f64).max(8.0);
    let top = (fixed / 2.0 + per_row * n_total as f64).round() as u32;
    area.split_vertically(top.min(h / 2))
}

/// Draw a figure of two blocks: the whole run per machine on top, the op groups below, each
/// under its own heading.
pub(crate) fn draw_blocks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &Compared,
    g: &Grouped,
    bar: &BarFn,
    x_desc: &str,
    fmt: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (totals, groups) = block_rows(d, g, bar);
    let (top, bottom) = split_blocks(area, totals.len(), groups.len());
    let top = title_area(&top, "whole workload", axis_px())?;
    draw_hbars(&top, &totals, x_desc, fmt)?;
    let bottom = title_area(&bottom, "by op group", axis_px())?;
    draw_hbars(&bottom, &groups, x_desc, fmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_fall_into_their_phase() {
        let g = |n: &str, op: &str| op_group(n, op);
        assert_eq!(g("llama.layer.qkv", "gemm"), "QKV / out proj");
        assert_eq!(g("llama.layer.out_proj", "gemm"), "QKV / out proj");
        assert_eq!(g("llama.layer.attn.qk", "gemm"), "attention");
        assert_eq!(g("llama.layer.attn.softmax", "softmax"), "attention");
        assert_eq!(g("llama.layer.ffn_gate_up", "gemm"), "FFN / experts");
        assert_eq!(g("llama.layer.ffn_down.bwd_dx", "gemm"), "FFN / experts");
        assert_eq!(g("llama.layer.router", "gemm"), "FFN / experts");
        assert_eq!(g("llama.layer.attn_norm", "rmsnorm"), "norms / elementwise");
        assert_eq!(g("llama.layer.q_norm", "rmsnorm"), "norms / elementwise");
        assert_eq!(g("llama.layer.ffn_silu", "silu"), "norms / elementwise");
        assert_eq!(g("llama.head.lm_head", "gemm"), "LM head");
        assert_eq!(g("CB2a_1", "gemm"), "convolutions");
        assert_eq!(g("Conv1", "gemm"), "convolutions");
        assert_eq!(g("resnet50.res2a.downsample", "gemm"), "convolutions");
        assert_eq!(g("FC1000", "gemm"), "FC / classifier");
        assert_eq!(g("weird", "gemm"), "other GEMMs");
        assert_eq!(g("weird", "fft"), "other vector ops");
        assert_eq!(g("m.optimizer.adam", "mul"), "optimizer");
        assert_eq!(
            g("layer0.attention.qkv_projection", "gemm"),
            "QKV / out proj"
        );
        assert_eq!(
            g("layer0.attention.output_projection", "gemm"),
            "QKV / out proj"
        );
        assert_eq!(g("layer0.attention.scores_qk", "gemm"), "attention");
        assert_eq!(g("layer0.attention.softmax", "vector"), "attention");
        assert_eq!(g("layer0.mlp.up_projection", "gemm"), "FFN / experts");
        assert_eq!(g("layer0.mlp.gelu", "gelu"), "norms / elementwise");
        assert_eq!(g("prefill.layer.attention", "attention"), "attention");
    }

    #[test]
    fn causes_follow_the_breakdown_and_map_both_vocabularies() {
        let t = TimeBreakdown {
            compute_s: 1.0,
            memory_stall_s: 2.0,
            ..Default::default()
        };
        let c = cause_seconds(&t);
        assert_eq!(c[0], ("compute", 1.0));
        assert!(c.contains(&("memory", 2.0)));
        assert_eq!(c.len(), t.parts().len());
        assert_eq!(
            stall_color("memory"),
            cause_color(cause_label("memory_stall"))
        );
        assert_eq!(stall_color("none"), cause_color("compute"));
    }
}
