//! The base config of a sweep and how one point's values are applied to it.
//!
//! * archsim TOML: the base file is parsed once into a [`toml::Table`]; a point sets its dotted
//!   keys in a copy of the table, which is serialized and re-parsed with
//!   [`crate::registry::parse_toml`], so every point is validated exactly like a hand-written
//!   config.
//! * SCALE-Sim `.cfg`: keys are `section.key` (case-insensitive, like Python's configparser); a
//!   point rewrites the value text of those lines and re-parses the file with
//!   [`ScaleSimConfig::parse`].
//!
//! A swept key must already exist in the base config, and every value must have its type
//! (an integer may stand for a float); otherwise the error names the sweep file, line and key.

use super::spec::{value_text, Axis, SweepSpec};
use crate::error::{Error, Location, Result};
use crate::registry::{HardwareConfig, LoadedConfig};
use crate::systolic::scalesim_cfg::ScaleSimConfig;

/// A base config ready to take points.
#[derive(Debug, Clone)]
pub struct BaseConfig {
    /// Where it was read from (`<builtin:configs/NAME.toml>` for shipped configs).
    pub file: String,
    /// Machine name (file stem).
    pub name: String,
    /// [`crate::fsio::fnv1a64`] of the config text (provenance of sweep results).
    pub content_hash: u64,
    kind: BaseKind,
}

#[derive(Debug, Clone)]
enum BaseKind {
    Toml(toml::Table),
    /// The .cfg text split in lines (without terminators).
    Cfg(Vec<String>),
}

/// Where one axis writes in the base.
#[derive(Debug, Clone)]
enum Target {
    /// Path of table keys in the TOML base.
    Toml(Vec<String>),
    /// Line index in the .cfg and the text before the value (`Key: `).
    Cfg { line: usize, prefix: String },
}

/// A base config bound to a sweep's axes: the values of each axis converted to the base's types.
#[derive(Debug, Clone)]
pub struct BoundBase {
    pub base: BaseConfig,
    targets: Vec<Target>,
    /// Per axis, per value: the value to write (TOML value, or .cfg text).
    values: Vec<Vec<toml::Value>>,
    /// Axis keys and lines (for errors).
    axes: Vec<(String, Option<usize>)>,
    sweep_file: String,
}

impl BaseConfig {
    /// Resolve a base config: a path (`.toml` or SCALE-Sim `.cfg`) or a shipped config name.
    pub fn load(spec: &str) -> Result<BaseConfig> {
        let src = crate::config::resolve(spec)?;
        Self::from_text(&src.text, &src.file, &src.stem, src.is_cfg)
    }

    /// A base config from its text; `is_cfg` selects the SCALE-Sim .cfg reader.
    pub fn from_text(src: &str, file: &str, name: &str, is_cfg: bool) -> Result<BaseConfig> {
        let kind = if is_cfg {
            ScaleSimConfig::parse(src, file)?; // the base itself must be valid
            BaseKind::Cfg(src.lines().map(str::to_string).collect())
        } else {
            crate::registry::parse_toml(src, file, name)?;
            BaseKind::Toml(crate::config::from_toml(src, file)?)
        };
        Ok(BaseConfig {
            file: file.to_string(),
            name: name.to_string(),
            content_hash: crate::fsio::fnv1a64(src),
            kind,
        })
    }

    /// The base config itself, parsed.
    pub fn parsed(&self) -> Result<LoadedConfig> {
        match &self.kind {
            BaseKind::Toml(t) => self.parse_table(t),
            BaseKind::Cfg(lines) => self.parse_cfg(&lines.join("\n")),
        }
    }

    fn parse_table(&self, t: &toml::Table) -> Result<LoadedConfig> {
        let text = toml::to_string(t)
            .map_err(|e| Error::internal(format!("serializing a sweep point's config: {e}")))?;
        crate::registry::parse_toml(&text, &self.file, &self.name)
    }

    fn parse_cfg(&self, text: &str) -> Result<LoadedConfig> {
        let cfg = ScaleSimConfig::parse(text, &self.file)?;
        Ok(LoadedConfig {
            name: cfg.run_name.clone(),
            source: self.file.clone(),
            hw: HardwareConfig::ScaleSim(Box::new(cfg)),
        })
    }

    /// Bind the sweep's axes: find each key in the base and convert its values to the key's
    /// type. Then check every single value on its own (others at their base values), so a bad
    /// value is reported with its sweep-file line before any point runs.
    pub fn bind(self, spec: &SweepSpec) -> Result<BoundBase> {
        let mut targets = Vec::new();
        let mut values = Vec::new();
        for axis in &spec.axes {
            let loc = spec.loc(&axis.key, axis.line);
            let (target, vals) = match &self.kind {
                BaseKind::Toml(t) => bind_toml(t, axis, &loc, &self.file)?,
                BaseKind::Cfg(lines) => bind_cfg(lines, axis, &loc, &self.file)?,
            };
            targets.push(target);
            values.push(vals);
        }
        let bound = BoundBase {
            base: self,
            targets,
            values,
            axes: spec.axes.iter().map(|a| (a.key.clone(), a.line)).collect(),
            sweep_file: spec.file.clone(),
        };
        let mut pick = vec![None; bound.axes.len()];
        for a in 0..bound.axes.len() {
            for v in 0..bound.values[a].len() {
                pick[a] = Some(v);
                if let Err(e) = bound.config_for(&pick) {
                    let (key, line) = &bound.axes[a];
                    return Err(Error::input(
                        Location {
                            file: spec.file.clone(),
                            line: *line,
                            column: None,
                            key: Some(key.clone()),
                        },
                        format!(
                            "value `{}` makes the config invalid: {}",
                            value_text(&bound.values[a][v]),
                            inner_message(&e)
                        ),
                    ));
                }
            }
            pick[a] = None;
        }
        Ok(bound)
    }
}

/// The message of an inner error without its (rewritten-config) location.
fn inner_message(e: &Error) -> String {
    match e {
        Error::Input { loc, msg } => match &loc.key {
            Some(k) => format!("key `{k}`: {msg}"),
            None => msg.clone(),
        },
        other => other.to_string(),
    }
}

/// Convert a sweep value to the type of the base value it replaces, or say why not.
fn convert(base: &toml::Value, v: &toml::Value) -> std::result::Result<toml::Value, String> {
    use toml::Value as V;
    match (base, v) {
        (V::Float(_), V::Integer(i)) => Ok(V::Float(*i as f64)),
        (V::Table(_), _) => Err(
            "is a table in the base config; sweep one of its keys instead (e.g. `key.sub`)".into(),
        ),
        (b, v) if b.type_str() == v.type_str() => Ok(v.clone()),
        (b, v) => Err(format!(
            "wrong type: the base config has {} `{b}`, the sweep gives {} `{v}`",
            b.type_str(),
            v.type_str()
        )),
    }
}

fn bind_toml(
    t: &toml::Table,
    axis: &Axis,
    loc: &Location,
    base_file: &str,
) -> Result<(Target, Vec<toml::Value>)> {
    let path: Vec<String> = axis.key.split('.').map(str::to_string).collect();
    let mut cur = t;
    let mut found: Option<&toml::Value> = None;
    for (i, p) in path.iter().enumerate() {
        match cur.get(p) {
            Some(toml::Value::Table(sub)) if i + 1 < path.len() => cur = sub,
            Some(v) if i + 1 == path.len() => found = Some(v),
            _ => break,
        }
    }
    let Some(base) = found else {
        let known = known_toml_keys(t);
        let hint = near_keys(&axis.key, &known);
        return Err(Error::input(
            loc.clone(),
            format!("unknown key: `{}` is not set in the base config {base_file}{hint}; only keys the base config sets can be swept (add it there with its default value)", axis.key),
        ));
    };
    let vals = axis
        .values
        .iter()
        .map(|v| convert(base, v).map_err(|m| Error::input(loc.clone(), m)))
        .collect::<Result<Vec<_>>>()?;
    Ok((Target::Toml(path), vals))
}

fn known_toml_keys(t: &toml::Table) -> Vec<String> {
    crate::config::toml_leaves(t)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// ", did you mean `x`?" for a key with the same last part or the same section.
fn near_keys(key: &str, known: &[String]) -> String {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    let same_last: Vec<&String> = known
        .iter()
        .filter(|k| {
            k.rsplit('.')
                .next()
                .is_some_and(|l| l.eq_ignore_ascii_case(&last))
        })
        .collect();
    if let Some(k) = same_last.first() {
        return format!(" (did you mean `{k}`?)");
    }
    let section = key.split('.').next().unwrap_or("");
    let in_section: Vec<&str> = known
        .iter()
        .filter(|k| k.split('.').next() == Some(section) && k.contains('.'))
        .map(|k| k.as_str())
        .collect();
    if !in_section.is_empty() {
        return format!(" (keys of [{section}]: {})", in_section.join(", "));
    }
    String::new()
}

/// Type of a .cfg value text, as a TOML value of the same kind.
fn cfg_value_type(text: &str) -> toml::Value {
    if let Ok(i) = text.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(f) = text.parse::<f64>() {
        toml::Value::Float(f)
    } else if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        toml::Value::Boolean(text.eq_ignore_ascii_case("true"))
    } else {
        toml::Value::String(text.to_string())
    }
}

fn bind_cfg(
    lines: &[String],
    axis: &Axis,
    loc: &Location,
    base_file: &str,
) -> Result<(Target, Vec<toml::Value>)> {
    let Some((section, key)) = axis.key.split_once('.') else {
        return Err(Error::input(
            loc.clone(),
            "SCALE-Sim .cfg keys are `section.key`, e.g. architecture_presets.ArrayHeight",
        ));
    };
    let mut current = String::new();
    let mut known = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            current = line[1..line.len() - 1].trim().to_string();
            continue;
        }
        // configparser: the first `:` or `=` separates key and value.
        let Some(sep) = raw.find([':', '=']) else {
            continue;
        };
        let k = raw[..sep].trim();
        known.push(format!("{current}.{k}"));
        if current.eq_ignore_ascii_case(section) && k.eq_ignore_ascii_case(key) {
            let old = raw[sep + 1..].trim();
            let base = cfg_value_type(old);
            let capital_bool = old.starts_with(['T', 'F']);
            let vals = axis
                .values
                .iter()
                .map(|v| {
                    let v = match (&base, v) {
                        // a numeric base value takes a number; a string base value takes a
                        // string; true/false take booleans or strings.
                        (toml::Value::Boolean(_), toml::Value::String(s))
                            if s.eq_ignore_ascii_case("true")
                                || s.eq_ignore_ascii_case("false") =>
                        {
                            toml::Value::Boolean(s.eq_ignore_ascii_case("true"))
                        }
                        _ => convert(&base, v).map_err(|m| Error::input(loc.clone(), m))?,
                    };
                    Ok(match v {
                        toml::Value::Boolean(b) if capital_bool => {
                            toml::Value::String(if b { "True" } else { "False" }.into())
                        }
                        other => other,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let prefix = format!("{} ", raw[..=sep].trim_end());
            return Ok((Target::Cfg { line: i, prefix }, vals));
        }
    }
    let hint = near_keys(&axis.key, &known);
    Err(Error::input(
        loc.clone(),
        format!(
            "unknown key: `{}` is not set in the base config {base_file}{hint}",
            axis.key
        ),
    ))
}

impl BoundBase {
    /// Number of values of each axis.
    pub fn axis_lens(&self) -> Vec<usize> {
        self.values.iter().map(Vec::len).collect()
    }

    /// CSV text of value `v` of axis `a` (after conversion to the base's type).
    pub fn value_text(&self, a: usize, v: usize) -> String {
        value_text(&self.values[a][v])
    }

    /// The config of one point: `pick[a]` is the value index of axis `a` (None: base value).
    pub fn config_for(&self, pick: &[Option<usize>]) -> Result<LoadedConfig> {
        match &self.base.kind {
            BaseKind::Toml(t) => {
                let mut t = t.clone();
                for (a, p) in pick.iter().enumerate() {
                    let (Some(v), Target::Toml(path)) = (p, &self.targets[a]) else {
                        continue;
                    };
                    let mut cur = &mut t;
                    for part in &path[..path.len() - 1] {
                        cur = match cur.get_mut(part) {
                            Some(toml::Value::Table(sub)) => sub,
                            _ => return Err(Error::internal("sweep key path vanished")),
                        };
                    }
                    cur.insert(path[path.len() - 1].clone(), self.values[a][*v].clone());
                }
                self.base.parse_table(&t)
            }
            BaseKind::Cfg(lines) => self.base.parse_cfg(&self.cfg_text(lines, pick)),
        }
    }

    /// The .cfg text of a point: the base lines with the swept values written after `Key: `.
    fn cfg_text(&self, lines: &[String], pick: &[Option<usize>]) -> String {
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for (i, l) in lines.iter().enumerate() {
            let hit = pick
                .iter()
                .enumerate()
                .find_map(|(a, p)| match (p, &self.targets[a]) {
                    (Some(v), Target::Cfg { line, prefix }) if *line == i => Some((a, *v, prefix)),
                    _ => None,
                });
            match hit {
                Some((a, v, prefix)) => {
                    text.push_str(prefix);
                    text.push_str(&value_text(&self.values[a][v]));
                }
                None => text.push_str(l),
            }
            text.push('\n');
        }
        text
    }

    /// The rewritten .cfg text of a point (None for a TOML base).
    pub fn point_cfg_text(&self, pick: &[Option<usize>]) -> Option<String> {
        match &self.base.kind {
            BaseKind::Cfg(lines) => Some(self.cfg_text(lines, pick)),
            BaseKind::Toml(_) => None,
        }
    }

    /// An error of point `index` (its config or machine is invalid), located in the sweep file
    /// at the swept key the inner error names, if any.
    pub fn point_error(&self, index: u64, values: &[String], e: Error) -> Error {
        let Error::Input { loc, .. } = &e else {
            return e;
        };
        let inner_key = loc.key.clone().unwrap_or_default();
        let hit = self.axes.iter().find(|(k, _)| {
            !inner_key.is_empty()
                && (k.eq_ignore_ascii_case(&inner_key)
                    || k.to_ascii_lowercase()
                        .ends_with(&format!(".{}", inner_key.to_ascii_lowercase())))
        });
        let mut l = Location::file(self.sweep_file.clone());
        if let Some((k, line)) = hit {
            l = l.key(k.clone());
            if let Some(n) = line {
                l = l.line(*n);
            }
        }
        let desc: Vec<String> = self
            .axes
            .iter()
            .zip(values)
            .map(|((k, _), v)| format!("{k} = {v}"))
            .collect();
        Error::input(
            l,
            format!(
                "point {index} ({}) is invalid: {}",
                desc.join(", "),
                inner_message(&e)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = include_str!("../../../tests/data/scalesim/configs/calc_128x128_os.cfg");

    #[test]
    fn cfg_keys_are_case_insensitive_and_rewritten_in_place() {
        let spec = SweepSpec::parse(
            "architecture_presets.arrayheight = [32, 64]\nARCHITECTURE_PRESETS.Dataflow = [\"ws\"]\narchitecture_presets.Bandwidth = [20]\nGeneral.Run_Name = [\"mine\"]\n",
            "s.toml",
        )
        .unwrap();
        let base = BaseConfig::from_text(CFG, "demo.cfg", "demo", true).unwrap();
        let b = base.bind(&spec).unwrap();
        let text = b
            .point_cfg_text(&[Some(1), Some(0), Some(0), Some(0)])
            .unwrap();
        assert!(
            text.contains("\nArrayHeight: 64\nArrayWidth:     128\n"),
            "{text}"
        );
        assert!(text.contains("\nDataflow : ws\n"), "{text}");
        assert!(text.contains("\nBandwidth : 20\n"), "{text}");
        assert!(text.contains("\nrun_name = mine\n"), "{text}");
        assert_eq!(b.value_text(0, 0), "32");
    }

    #[test]
    fn cfg_unknown_key_and_wrong_type() {
        let base = BaseConfig::from_text(CFG, "demo.cfg", "demo", true).unwrap();
        let spec = SweepSpec::parse("architecture_presets.ArrayDepth = [1]\n", "s.toml").unwrap();
        let e = base.clone().bind(&spec).unwrap_err().to_string();
        assert!(
            e.starts_with("s.toml:1: key `architecture_presets.ArrayDepth`: unknown key"),
            "{e}"
        );
        let spec =
            SweepSpec::parse("architecture_presets.ArrayHeight = [\"big\"]\n", "s.toml").unwrap();
        let e = base.bind(&spec).unwrap_err().to_string();
        assert!(e.contains("wrong type"), "{e}");
    }
}
