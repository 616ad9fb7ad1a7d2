//! Reading a sweep CSV back for plots (`archsim plot sweep results.csv --x KEY --y KEY --metric M
//! --out DIR`): the data of a heatmap (x value, y value, metric) and of a time-vs-energy Pareto
//! plot (label, time, energy). Drawing is [`crate::plot`]'s job (`sweep_heatmap`,
//! `pareto_front`); this module only selects and aggregates rows, so it is testable without
//! pixels.

use super::table::SweepTable;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to extract from a sweep CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotQuery {
    /// Column on the x axis (a swept key, `workload`, or any column).
    pub x: String,
    /// Column on the y axis.
    pub y: String,
    /// Metric column for the cell values, e.g. `time_s`, `energy_pj`, `utilization`.
    pub metric: String,
    /// `key=value` filters: keep only rows whose column `key` has the text `value`.
    pub filters: Vec<(String, String)>,
}

/// Extracted plot data.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlotData {
    /// (x value, y value, metric) per cell, in first-seen (point index) order: the `rows` of
    /// `crate::plot::Heatmap`. When other swept keys vary too, each cell holds the best value
    /// over them (the minimum; the maximum for `utilization` and `tflops`).
    pub cells: Vec<(String, String, f64)>,
    /// (label, time_s, energy in J, die cost in USD) per selected row: the fields of
    /// `crate::plot::ParetoPoint`. The cost is NaN for a CSV without a `die_cost_usd` column
    /// (written before it existed).
    /// The label lists the swept values that vary among the selected rows, e.g.
    /// `resnet50 rows=128 cols=64` (last part of each key, workload file stem).
    pub pareto: Vec<(String, f64, f64, f64)>,
    /// Swept columns (between `index` and the metrics) of the file.
    pub swept: Vec<String>,
}

/// True when larger values of `metric` are better.
pub fn higher_is_better(metric: &str) -> bool {
    matches!(metric, "utilization" | "tflops")
}

/// Parse `key=value` filter flags.
pub fn parse_filters(flags: &[String]) -> Result<Vec<(String, String)>> {
    flags
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| {
                    Error::setting(
                        "where",
                        format!("`{f}`: expected KEY=VALUE, e.g. --where workload=resnet50"),
                    )
                })
        })
        .collect()
}

/// `archsim plot sweep`: what to draw from a sweep CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSweepRequest {
    /// Sweep CSV written by `archsim sweep` or `archsim merge`.
    pub csv: PathBuf,
    /// Column on the x axis (a swept key such as `array.rows`, or `workload`).
    pub x: String,
    /// Column on the y axis.
    pub y: String,
    /// Metric of the heatmap cells (`time_s`, `energy_pj`, `utilization`, ...).
    pub metric: String,
    /// `KEY=VALUE` row filters; other swept keys are reduced to their best value per cell.
    pub filters: Vec<String>,
    /// Output directory.
    pub out: PathBuf,
}

/// Draw `sweep_heatmap_<metric>.{png,svg}` and `sweep_pareto.{png,svg}` under `out`; returns
/// the paths written. Both titles name the `--where` filters; the Pareto front is over time,
/// energy and die cost (`die_cost_usd`, [`super::cost`]) when the CSV has costs.
pub fn plot_sweep(a: &PlotSweepRequest) -> Result<Vec<PathBuf>> {
    let q = PlotQuery {
        x: a.x.clone(),
        y: a.y.clone(),
        metric: a.metric.clone(),
        filters: parse_filters(&a.filters)?,
    };
    let data = extract(&a.csv, &q)?;
    let file = a
        .csv
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("sweep");
    let reduce = if higher_is_better(&a.metric) {
        "max"
    } else {
        "min"
    };
    let others: Vec<&str> = data
        .swept
        .iter()
        .filter(|k| {
            **k != a.x && **k != a.y && !a.filters.iter().any(|f| f.starts_with(&format!("{k}=")))
        })
        .map(String::as_str)
        .collect();
    let filter = if q.filters.is_empty() {
        String::new()
    } else {
        let f: Vec<String> = q.filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(" where {}", f.join(", "))
    };
    let title = if others.is_empty() {
        format!("{file}: {}{filter}", a.metric)
    } else {
        format!(
            "{file}: {}{filter} ({reduce} over {})",
            a.metric,
            others.join(", ")
        )
    };
    let vmax = data
        .cells
        .iter()
        .map(|c| c.2.abs())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (factor, metric_label) = display_unit(&a.metric, vmax);
    let cells: Vec<(String, String, f64)> = data
        .cells
        .iter()
        .map(|(x, y, v)| (x.clone(), y.clone(), v * factor))
        .collect();
    let heat = crate::plot::Heatmap {
        title: &title,
        x_key: &a.x,
        y_key: &a.y,
        metric: &metric_label,
        rows: &cells,
    };
    let points: Vec<crate::plot::ParetoPoint> = data
        .pareto
        .iter()
        .map(|(label, t, e, c)| crate::plot::ParetoPoint {
            label: label.clone(),
            time_s: *t,
            energy_j: *e,
            cost_usd: *c,
        })
        .collect();
    let plottable = |x: f64| x.is_finite() && x > 0.0;
    if !points
        .iter()
        .any(|p| plottable(p.time_s) && plottable(p.energy_j))
    {
        return Err(Error::input(
            crate::error::Location::path(&a.csv),
            "no row has a finite, positive time_s and energy_pj: nothing to put on the time-vs-energy plot",
        ));
    }
    let mut written =
        crate::plot::sweep_heatmap(&heat, &a.out, &format!("sweep_heatmap_{}", a.metric))?;
    let objectives = if crate::plot::has_costs(&points) {
        "time vs energy vs die cost"
    } else {
        "time vs energy"
    };
    written.extend(crate::plot::pareto_front(
        &points,
        &format!("{file}{filter}: {objectives} ({} points)", points.len()),
        &a.out,
        "sweep_pareto",
    )?);
    Ok(written)
}

/// How a metric column is shown on a heatmap: the factor its values are multiplied by and the
/// label with the unit, so cells read as three significant digits of an SI unit: `time_s` in
/// s/ms/µs/ns and `energy_pj` in J/mJ/µJ/nJ chosen from the largest value, `utilization` in %,
/// other columns as they are.
pub fn display_unit(metric: &str, vmax: f64) -> (f64, String) {
    let si = |base: f64, unit: &str, what: &str| {
        let v = vmax * base;
        let (f, p) = if v >= 1.0 || v == 0.0 || !v.is_finite() {
            (1.0, "")
        } else if v >= 1e-3 {
            (1e3, "m")
        } else if v >= 1e-6 {
            (1e6, "µ")
        } else {
            (1e9, "n")
        };
        (base * f, format!("{what} ({p}{unit})"))
    };
    match metric {
        "time_s" => si(1.0, "s", "time"),
        "energy_pj" => si(1e-12, "J", "energy"),
        "utilization" => (100.0, "utilization (% of peak)".into()),
        other => (1.0, other.to_string()),
    }
}

/// Read a sweep CSV and extract the heatmap cells and Pareto points of `q`.
pub fn extract(csv: &Path, q: &PlotQuery) -> Result<SweepPlotData> {
    extract_from(&SweepTable::read(csv)?, q)
}

/// [`extract`] on a table in memory.
pub fn extract_from(t: &SweepTable, q: &PlotQuery) -> Result<SweepPlotData> {
    let col = |name: &str, flag: &str| -> Result<usize> {
        t.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::setting(
                flag,
                format!(
                    "no column `{name}` in the sweep CSV; columns: {}",
                    t.header.join(", ")
                ),
            )
        })
    };
    let (xi, yi, mi) = (col(&q.x, "x")?, col(&q.y, "y")?, col(&q.metric, "metric")?);
    let (ti, ei) = (col("time_s", "metric")?, col("energy_pj", "metric")?);
    let ci = t.header.iter().position(|h| h == "die_cost_usd");
    let filters = q
        .filters
        .iter()
        .map(|(k, v)| Ok((col(k, "where")?, v.as_str())))
        .collect::<Result<Vec<_>>>()?;
    // Swept columns end where the metrics start (`time_s`, whatever metrics follow: a CSV from
    // before the cost columns has fewer).
    let first_metric = ti.max(1);
    let swept: Vec<String> = t.header[1..first_metric].to_vec();
    let num = |row: &[String], i: usize| -> Result<f64> {
        row[i].parse::<f64>().map_err(|_| {
            Error::setting(
                "metric",
                format!(
                    "column `{}` of point {} is `{}`, not a number",
                    t.header[i], row[0], row[i]
                ),
            )
        })
    };
    let better = |a: f64, b: f64| {
        if higher_is_better(&q.metric) {
            a > b
        } else {
            a < b
        }
    };
    let selected: Vec<&Vec<String>> = t
        .rows
        .values()
        .filter(|row| !filters.iter().any(|(i, v)| row[*i] != *v))
        .collect();
    // Pareto labels name only the swept columns that vary among the plotted rows, by the last
    // part of their key (`ArrayHeight=128`) and the workload by its file stem.
    let varying: Vec<usize> = (1..first_metric)
        .filter(|&i| selected.iter().any(|r| r[i] != selected[0][i]))
        .collect();
    let mut order: Vec<(String, String)> = Vec::new();
    let mut best: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut pareto = Vec::new();
    for row in selected {
        let v = num(row, mi)?;
        let key = (row[xi].clone(), row[yi].clone());
        match best.get_mut(&key) {
            Some(b) => {
                if better(v, *b) {
                    *b = v;
                }
            }
            None => {
                order.push(key.clone());
                best.insert(key, v);
            }
        }
        let label = varying
            .iter()
            .map(|&i| {
                if t.header[i] == "workload" {
                    Path::new(&row[i])
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or(&row[i])
                        .to_string()
                } else {
                    let k = t.header[i].rsplit('.').next().unwrap_or(&t.header[i]);
                    format!("{k}={}", row[i])
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let cost = match ci {
            Some(i) => row[i].parse::<f64>().unwrap_or(f64::NAN),
            None => f64::NAN,
        };
        pareto.push((label, num(row, ti)?, num(row, ei)? * 1e-12, cost));
    }
    if order.is_empty() {
        return Err(Error::setting(
            "where",
            "no sweep rows left to plot (check the --where filters)",
        ));
    }
    let cells = order
        .into_iter()
        .map(|k| {
            let v = best[&k];
            (k.0, k.1, v)
        })
        .collect();
    Ok(SweepPlotData {
        cells,
        pareto,
        swept,
    })
}

#[cfg(test)]
mod tests {
    use super::super::METRIC_COLUMNS;
    use super::*;

    fn table() -> SweepTable {
        let mut h: Vec<String> = ["index", "workload", "a", "b"].map(String::from).to_vec();
        h.extend(METRIC_COLUMNS.iter().map(|s| s.to_string()));
        let mut t = SweepTable {
            header: h,
            rows: BTreeMap::new(),
        };
        let mut i = 0;
        for a in ["1", "2"] {
            for b in ["x", "y"] {
                let time = (i + 1) as f64;
                let mut r = vec![i.to_string(), "w".into(), a.into(), b.into()];
                r.extend([
                    time.to_string(),
                    "1".into(),
                    "0.5".into(),
                    "1".into(),
                    (10.0 - time).to_string(),
                    "1".into(),
                    "0".into(),
                    "0".into(),
                    "0".into(),
                    "none".into(),
                    "100".into(),
                    (20.0 + time).to_string(),
                ]);
                t.rows.insert(i, r);
                i += 1;
            }
        }
        t
    }

    #[test]
    fn cells_best_over_other_axes_and_pareto() {
        let t = table();
        let q = PlotQuery {
            x: "a".into(),
            y: "workload".into(),
            metric: "time_s".into(),
            filters: vec![],
        };
        let d = extract_from(&t, &q).unwrap();
        assert_eq!(
            d.cells,
            vec![("1".into(), "w".into(), 1.0), ("2".into(), "w".into(), 3.0)]
        );
        assert_eq!(d.pareto.len(), 4);
        assert_eq!(d.pareto[0].0, "a=1 b=x");
        assert_eq!(d.pareto[0].3, 21.0);
        assert_eq!(d.swept, ["workload", "a", "b"]);
        let q = PlotQuery {
            filters: vec![("b".into(), "y".into())],
            ..q
        };
        let d = extract_from(&t, &q).unwrap();
        assert_eq!(d.cells[0].2, 2.0);
    }

    #[test]
    fn heatmap_units_follow_the_largest_value() {
        assert_eq!(
            display_unit("time_s", 9.2e-3),
            (1e3, "time (ms)".to_string())
        );
        assert_eq!(display_unit("time_s", 2.0), (1.0, "time (s)".to_string()));
        let (f, l) = display_unit("energy_pj", 3e10);
        assert_eq!(l, "energy (mJ)");
        assert!((f - 1e-9).abs() < 1e-21);
        assert_eq!(display_unit("cycles", 5.0), (1.0, "cycles".to_string()));
    }

    #[test]
    fn unknown_column_is_a_flag_error() {
        let q = PlotQuery {
            x: "nope".into(),
            y: "a".into(),
            metric: "time_s".into(),
            filters: vec![],
        };
        let e = extract_from(&table(), &q).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("no column `nope`"), "{e}");
    }
}
