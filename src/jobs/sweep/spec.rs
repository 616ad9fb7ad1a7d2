//! The sweep file (`SWEEP.toml`): which config keys take which values, and which workloads.
//!
//! ```toml
//! # every key is a dotted key of the base config (`section.key`; case-insensitive for a
//! # SCALE-Sim .cfg base, e.g. `architecture_presets.ArrayHeight`)
//! workloads = ["resnet50", "kernels/bert_large.toml"]   # optional: default = the base
//!                                                       # config's [workload] kernels
//! array.rows = [32, 64, 128, 256]                       # a list of values
//! hbm.bandwidth_gbps = {from = 400, to = 3200, step = 400}   # an arithmetic range (inclusive)
//! array.cols = {from = 32, to = 256, factor = 2}        # a geometric range: 32, 64, 128, 256
//! array.dataflow = "ws"                                 # a single value (a 1-value axis)
//! ```
//!
//! With `command = "train"` or `"serve"` the file sweeps `archsim train` / `archsim serve`
//! parameters instead (a fleet sweep, [`super::fleet`]); no base config, no workloads.
//!
//! Keys may also be written inside tables (`[array]` then `rows = [...]`). The point order is
//! the cartesian product with the workload outermost, then the keys in the order they appear
//! in the file, the last key varying fastest (like nested loops). Point `index` numbers that
//! order from 0.

use crate::config::toml_key_line;
use crate::error::{Error, Location, Result};

/// Default cap on the number of points of one sweep (`--max-points` raises it).
pub const DEFAULT_MAX_POINTS: u64 = 1_000_000;

/// One swept key and its values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted key as written in the sweep file (also the CSV column name).
    pub key: String,
    /// 1-based line of the key in the sweep file, if found.
    pub line: Option<usize>,
    pub values: Vec<toml::Value>,
}

/// A parsed sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The sweep file as the user named it (for errors).
    pub file: String,
    /// Workload specs (shipped names or paths), empty if the file names none.
    pub workloads: Vec<String>,
    /// Line of `workloads`, if present.
    pub workloads_line: Option<usize>,
    /// Config axes in file order.
    pub axes: Vec<Axis>,
    /// `command = "train"` or `"serve"`: a fleet sweep over system-layer parameters
    /// ([`super::fleet`]) instead of chip-config keys; with its line.
    pub command: Option<(String, Option<usize>)>,
    /// [`crate::fsio::fnv1a64`] of the sweep file's text (provenance of sweep results).
    pub content_hash: u64,
}

impl SweepSpec {
    /// Location of a key of this sweep file, for errors.
    pub fn loc(&self, key: &str, line: Option<usize>) -> Location {
        let mut l = Location::file(self.file.clone()).key(key);
        if let Some(n) = line {
            l = l.line(n);
        }
        l
    }

    /// Read and parse a sweep file.
    pub fn load(path: &std::path::Path) -> Result<SweepSpec> {
        let src = crate::fsio::read_input_file(path)?;
        Self::parse(&src, &path.display().to_string())
    }

    /// Parse sweep-file text; `file` names it in errors.
    pub fn parse(src: &str, file: &str) -> Result<SweepSpec> {
        let table: toml::Table = crate::config::from_toml(src, file)?;
        let mut spec = SweepSpec {
            file: file.to_string(),
            workloads: Vec::new(),
            workloads_line: None,
            axes: Vec::new(),
            command: None,
            content_hash: crate::fsio::fnv1a64(src),
        };
        for (k, v) in &table {
            if k == "command" {
                let line = toml_key_line(src, "command");
                match v.as_str() {
                    Some(c @ ("train" | "serve")) => spec.command = Some((c.to_string(), line)),
                    _ => {
                        return Err(Error::input(
                            spec.loc("command", line),
                            format!("`command` is \"train\" or \"serve\" (a fleet sweep; leave it out to sweep chip-config keys), not {v}"),
                        ))
                    }
                }
                continue;
            }
            if k == "workloads" {
                let line = toml_key_line(src, "workloads");
                spec.workloads_line = line;
                let loc = spec.loc("workloads", line);
                let list = match v {
                    toml::Value::String(s) => vec![s.clone()],
                    toml::Value::Array(a) => a
                        .iter()
                        .map(|x| match x {
                            toml::Value::String(s) => Ok(s.clone()),
                            other => Err(Error::input(
                                loc.clone(),
                                format!(
                                    "workloads must be strings (shipped names or paths), found {} `{other}`",
                                    other.type_str()
                                ),
                            )),
                        })
                        .collect::<Result<Vec<_>>>()?,
                    other => {
                        return Err(Error::input(
                            loc,
                            format!(
                                "`workloads` must be a list of strings, e.g. workloads = [\"resnet50\"], not {}",
                                other.type_str()
                            ),
                        ))
                    }
                };
                if list.is_empty() {
                    return Err(Error::input(
                        loc,
                        "`workloads` is an empty list: name at least one workload, or remove the key to use the base config's [workload] kernels",
                    ));
                }
                spec.workloads = list;
                continue;
            }
            let axes = collect_axes(src, &spec, k, v)?;
            spec.axes.extend(axes);
        }
        // File order (BTreeMap order is alphabetical): sort by line, keys without a known line
        // (inline tables) after, alphabetically, so the order is always deterministic.
        spec.axes
            .sort_by_key(|a| (a.line.unwrap_or(usize::MAX), a.key.clone()));
        // Keys that differ only in case would address the same .cfg key twice; duplicates in
        // TOML are already a parse error.
        for (i, a) in spec.axes.iter().enumerate() {
            if let Some(b) = spec.axes[..i]
                .iter()
                .find(|b| b.key.eq_ignore_ascii_case(&a.key))
            {
                return Err(Error::input(
                    spec.loc(&a.key, a.line),
                    format!("key given twice (also as `{}`)", b.key),
                ));
            }
        }
        Ok(spec)
    }

    /// Number of points: workloads (at least 1 slot) × Π axis lengths, or an error when it
    /// exceeds `max_points`.
    pub fn point_count(&self, workloads: usize, max_points: u64) -> Result<u64> {
        let mut n: u128 = workloads.max(1) as u128;
        for a in &self.axes {
            n = n.saturating_mul(a.values.len() as u128);
        }
        if n > max_points as u128 {
            let sizes: Vec<String> = std::iter::once(format!("{} workload(s)", workloads.max(1)))
                .chain(
                    self.axes
                        .iter()
                        .map(|a| format!("{} ({})", a.key, a.values.len())),
                )
                .collect();
            return Err(Error::input(
                Location::file(self.file.clone()),
                format!(
                    "the sweep has {n} points ({}), more than the cap of {max_points}; shrink the axes or raise the cap with --max-points",
                    sizes.join(" × ")
                ),
            ));
        }
        Ok(n as u64)
    }
}

/// Walk one top-level entry: a value list, a range table, a single value, or a table of more
/// keys.
fn collect_axes(src: &str, spec: &SweepSpec, key: &str, v: &toml::Value) -> Result<Vec<Axis>> {
    let line = toml_key_line(src, key);
    let loc = spec.loc(key, line);
    match v {
        toml::Value::Table(t) if is_range(t) => Ok(vec![Axis {
            key: key.to_string(),
            line,
            values: expand_range(t, &loc)?,
        }]),
        toml::Value::Table(t) => {
            if t.is_empty() {
                return Err(Error::input(
                    loc,
                    "empty table: give values for the keys to sweep",
                ));
            }
            let mut out = Vec::new();
            for (k, sub) in t {
                out.extend(collect_axes(src, spec, &format!("{key}.{k}"), sub)?);
            }
            Ok(out)
        }
        toml::Value::Array(a) => {
            if a.is_empty() {
                return Err(Error::input(
                    loc,
                    "empty list of values: give at least one value",
                ));
            }
            let first = a[0].type_str();
            let numeric =
                |x: &toml::Value| matches!(x, toml::Value::Integer(_) | toml::Value::Float(_));
            for x in a {
                if x.type_str() != first && !(numeric(x) && numeric(&a[0])) {
                    return Err(Error::input(
                        loc,
                        format!(
                            "mixed value types in the list ({first} and {}): all values of one key must have one type",
                            x.type_str()
                        ),
                    ));
                }
            }
            Ok(vec![Axis {
                key: key.to_string(),
                line,
                values: a.clone(),
            }])
        }
        other => Ok(vec![Axis {
            key: key.to_string(),
            line,
            values: vec![other.clone()],
        }]),
    }
}

/// A table is a range when it has `from` and `to` (plus `step` or `factor`) and nothing else.
fn is_range(t: &toml::Table) -> bool {
    t.contains_key("from") || t.contains_key("to")
}

fn num(t: &toml::Table, k: &str, loc: &Location) -> Result<Option<f64>> {
    match t.get(k) {
        None => Ok(None),
        Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
        Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some(*f)),
        Some(other) => Err(Error::input(
            loc.clone(),
            format!(
                "range `{k}` must be a number, not {} `{other}`",
                other.type_str()
            ),
        )),
    }
}

/// Hard cap on the values of one range, checked before expanding it (a tiny step must not
/// allocate gigabytes before the point cap can say no).
const MAX_RANGE_VALUES: f64 = 1e7;

/// Expand `{from, to, step}` (arithmetic, inclusive of `to` when it lands on it) or
/// `{from, to, factor}` (geometric). Integer bounds and step give integers, otherwise floats.
fn expand_range(t: &toml::Table, loc: &Location) -> Result<Vec<toml::Value>> {
    for k in t.keys() {
        if !["from", "to", "step", "factor"].contains(&k.as_str()) {
            return Err(Error::input(
                loc.clone(),
                format!("unknown range key `{k}`: a range is {{from = A, to = B, step = S}} or {{from = A, to = B, factor = F}}"),
            ));
        }
    }
    let (Some(from), Some(to)) = (num(t, "from", loc)?, num(t, "to", loc)?) else {
        return Err(Error::input(
            loc.clone(),
            "a range needs both `from` and `to`, e.g. {from = 400, to = 3200, step = 400}",
        ));
    };
    if from > to {
        return Err(Error::input(
            loc.clone(),
            format!("range has from = {from} > to = {to}; give from <= to"),
        ));
    }
    let step = num(t, "step", loc)?;
    let factor = num(t, "factor", loc)?;
    let ints = t.values().all(|v| matches!(v, toml::Value::Integer(_)));
    match (step, factor) {
        (Some(_), Some(_)) | (None, None) => Err(Error::input(
            loc.clone(),
            "a range needs exactly one of `step` (arithmetic) or `factor` (geometric)",
        )),
        (Some(step), None) => {
            if step <= 0.0 {
                return Err(Error::input(
                    loc.clone(),
                    format!("range step = {step} must be > 0"),
                ));
            }
            let count = ((to - from) / step + 1e-9).floor() + 1.0;
            if count > MAX_RANGE_VALUES {
                return Err(Error::input(
                    loc.clone(),
                    format!("range expands to {count} values (more than {MAX_RANGE_VALUES}); use a larger step"),
                ));
            }
            if ints {
                // Exact integer arithmetic (i128): no value past `to`, no overflow near i64::MAX.
                let (f, s, to) = (
                    t["from"].as_integer().unwrap() as i128,
                    t["step"].as_integer().unwrap() as i128,
                    t["to"].as_integer().unwrap() as i128,
                );
                let n = (to - f) / s + 1;
                return Ok((0..n)
                    .map(|i| toml::Value::Integer((f + i * s) as i64))
                    .collect());
            }
            // Floats: values that rounding (near 2^53 and beyond) puts past `to` or onto the
            // previous value are dropped.
            let mut out: Vec<toml::Value> = Vec::new();
            let mut last = f64::NEG_INFINITY;
            for i in 0..count as u64 {
                let v = tidy(from + i as f64 * step);
                if v > to + step * 1e-9 || v <= last {
                    continue;
                }
                last = v;
                out.push(toml::Value::Float(v));
            }
            Ok(out)
        }
        (None, Some(factor)) => {
            if factor <= 1.0 || from <= 0.0 {
                return Err(Error::input(
                    loc.clone(),
                    format!("geometric range needs factor > 1 and from > 0 (got factor = {factor}, from = {from})"),
                ));
            }
            // Count first: a factor barely above 1 must not expand without bound.
            let count = ((to / from).ln() / factor.ln() + 1e-9).floor() + 1.0;
            if count.is_nan() || count > MAX_RANGE_VALUES {
                return Err(Error::input(
                    loc.clone(),
                    format!("range expands to {count} values (more than {MAX_RANGE_VALUES}); use a larger factor"),
                ));
            }
            let mut out = Vec::new();
            if ints {
                let (f, x) = (
                    t["from"].as_integer().unwrap(),
                    t["factor"].as_integer().unwrap(),
                );
                let to = t["to"].as_integer().unwrap();
                let mut v = f;
                while v <= to {
                    out.push(toml::Value::Integer(v));
                    match v.checked_mul(x) {
                        Some(n) => v = n,
                        None => break,
                    }
                }
            } else {
                let mut v = from;
                while v <= to * (1.0 + 1e-12) {
                    out.push(toml::Value::Float(tidy(v)));
                    v *= factor;
                }
            }
            Ok(out)
        }
    }
}

/// Round a computed range value to 12 significant digits, so `0.1` steps give `0.3`, not
/// `0.30000000000000004`.
fn tidy(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// Text of a value in the CSV and in messages: strings bare, numbers in Rust's shortest
/// round-trip form, arrays in TOML inline form.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(a: &Axis) -> Vec<i64> {
        a.values.iter().map(|v| v.as_integer().unwrap()).collect()
    }

    #[test]
    fn lists_ranges_and_file_order() {
        let s = SweepSpec::parse(
            "workloads = [\"resnet50\"]\nhbm.bandwidth_gbps = {from = 400, to = 1600, step = 400}\narray.rows = [32, 64]\narray.cols = {from = 32, to = 256, factor = 2}\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(s.workloads, vec!["resnet50"]);
        let keys: Vec<&str> = s.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["hbm.bandwidth_gbps", "array.rows", "array.cols"]);
        assert_eq!(ints(&s.axes[0]), [400, 800, 1200, 1600]);
        assert_eq!(ints(&s.axes[2]), [32, 64, 128, 256]);
        assert_eq!(s.point_count(1, 100).unwrap(), 4 * 2 * 4);
    }

    /// The float values of axis `i`.
    fn floats(s: &SweepSpec, i: usize) -> Vec<f64> {
        s.axes[i]
            .values
            .iter()
            .map(|v| v.as_float().unwrap())
            .collect()
    }

    #[test]
    fn float_range() {
        let src =
            "a.b = {from = 0.5, to = 1.0, step = 0.25}\nc.d = {from = 0.1, to = 0.5, step = 0.1}\n";
        let s = SweepSpec::parse(src, "s").unwrap();
        assert_eq!(floats(&s, 0), [0.5, 0.75, 1.0]);
        let t: Vec<String> = s.axes[1].values.iter().map(value_text).collect();
        assert_eq!(t, ["0.1", "0.2", "0.3", "0.4", "0.5"]);
    }

    #[test]
    fn ranges_stay_within_to_and_bounded() {
        // Near 2^53 floats cannot hold every step: no value past `to`, none repeated.
        let src = "a.b = {from = 9007199254740990.0, to = 9007199254741000.0, step = 1.0}\n";
        let v = floats(&SweepSpec::parse(src, "s").unwrap(), 0);
        assert!(v.iter().all(|x| *x <= 9007199254741000.0), "{v:?}");
        assert!(v.windows(2).all(|w| w[0] < w[1]), "{v:?}");
        // Integers near i64::MAX: exact, last value is `to`.
        let s = SweepSpec::parse(
            "a.b = {from = 9223372036854775800, to = 9223372036854775806, step = 3}\n",
            "s",
        )
        .unwrap();
        let v: Vec<i64> = s.axes[0]
            .values
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect();
        assert_eq!(
            v,
            [
                9223372036854775800,
                9223372036854775803,
                9223372036854775806
            ]
        );
        // A factor barely above 1 is refused before expanding.
        let e = SweepSpec::parse("a.b = {from = 1.0, to = 1e17, factor = 1.0000001}\n", "s")
            .unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        // Infinite bounds are not numbers archsim takes.
        let e = SweepSpec::parse("a.b = {from = 1.0, to = inf, factor = 2.0}\n", "s").unwrap_err();
        assert!(e.to_string().contains("finite"), "{e}");
    }

    #[test]
    fn bad_ranges_and_lists() {
        for (src, want) in [
            ("a.b = {from = 1, to = 4, step = 0}\n", "step = 0"),
            ("a.b = {from = 5, to = 4, step = 1}\n", "from = 5 > to = 4"),
            ("a.b = []\n", "empty list"),
            ("a.b = [1, \"x\"]\n", "mixed value types"),
            ("a.b = {from = 1, to = 4}\n", "exactly one of"),
            ("a.b = {from = 1, to = 4, stp = 1}\n", "unknown range key"),
            ("workloads = []\n", "empty list"),
            ("a.b = {from = 0, to = 1e12, step = 1}\n", "more than"),
        ] {
            let e = SweepSpec::parse(src, "s.toml").unwrap_err();
            let m = e.to_string();
            assert!(m.contains(want), "{src}: {m}");
            assert!(m.starts_with("s.toml:1"), "{m}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn point_cap() {
        let s = SweepSpec::parse("a.b = {from = 1, to = 1000, step = 1}\na.c = {from = 1, to = 1000, step = 1}\na.d = [1, 2]\n", "s").unwrap();
        let e = s.point_count(1, DEFAULT_MAX_POINTS).unwrap_err();
        assert!(e.to_string().contains("2000000 points"), "{e}");
    }
}
