//! The machine registry: a config's `kind` → its parser → a `Box<dyn Machine>`. This is the
//! only file that names every machine model; a new kind of chip adds a variant here and a folder
//! of its own, and nothing above the engine changes.
//!
//! Three input kinds today:
//! * archsim TOML with `kind = "systolic"` ([`SystolicConfig`]) or `kind = "simt"`
//!   ([`SimtConfig`]); unknown keys are rejected;
//! * a SCALE-Sim 3.0.0 `.cfg` ([`ScaleSimConfig`]), which selects the SCALE-Sim-compatible
//!   systolic mode.

use crate::config::{from_toml, key_error, resolve, toml_key_line, CostSection, SimMode};
use crate::error::{Error, Location, Result};
use crate::machine::Machine;
use crate::simt::config::SimtConfig;
use crate::systolic::config::SystolicConfig;
use crate::systolic::scalesim_cfg::ScaleSimConfig;

/// A parsed hardware config of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum HardwareConfig {
    Systolic(Box<SystolicConfig>),
    Simt(Box<SimtConfig>),
    ScaleSim(Box<ScaleSimConfig>),
}

/// A config and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    /// Short name (file stem), e.g. "tpu_v5".
    pub name: String,
    /// The path or `<builtin:NAME>` it was read from.
    pub source: String,
    pub hw: HardwareConfig,
}

/// Parse an archsim TOML config text; `file` names it in errors.
pub fn parse_toml(src: &str, file: &str, name: &str) -> Result<LoadedConfig> {
    let table: toml::Table = from_toml(src, file)?;
    let kind = match table.get("kind") {
        Some(toml::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Error::input(
                Location::file(file)
                    .key("kind")
                    .line(toml_key_line(src, "kind").unwrap_or(1)),
                format!(
                    "`kind` must be a string, \"systolic\" or \"simt\", not {}",
                    other.type_str()
                ),
            ))
        }
        None => {
            return Err(Error::input(
                Location::file(file).key("kind").line(1),
                "missing key `kind`: add `kind = \"systolic\"` or `kind = \"simt\"` at the top",
            ))
        }
    };
    let hw = match kind.as_str() {
        "systolic" => HardwareConfig::Systolic(Box::new(SystolicConfig::from_toml(src, file)?)),
        "simt" => HardwareConfig::Simt(Box::new(SimtConfig::from_toml(src, file)?)),
        other => {
            return Err(Error::input(
                Location::file(file)
                    .key("kind")
                    .line(toml_key_line(src, "kind").unwrap_or(1)),
                format!("unknown machine kind `{other}`; expected \"systolic\" or \"simt\""),
            ))
        }
    };
    let loaded = LoadedConfig {
        name: name.to_string(),
        source: file.to_string(),
        hw,
    };
    check_shared_sections(&loaded, src, file)?;
    Ok(loaded)
}

/// The sections every kind shares name other files: `[compare] with` and each of `[workload]
/// kernels` must be a non-empty name or path.
fn check_shared_sections(c: &LoadedConfig, src: &str, file: &str) -> Result<()> {
    if c.compare_with().is_some_and(|w| w.trim().is_empty()) {
        return Err(key_error(
            src,
            file,
            "compare.with",
            "must name a config (a shipped name such as \"h100\" or a path), not \"\"",
        ));
    }
    if let Some(w) = c.workload_section() {
        if w.models.iter().any(|m| m.trim().is_empty()) {
            return Err(key_error(
                src,
                file,
                "workload.models",
                "every entry must name a model (a shipped card such as \"llama3_8b\" or a path), not \"\"",
            ));
        }
        for (key, v) in [
            ("workload.batch", w.batch),
            ("workload.seq", w.seq),
            ("workload.context", w.context),
        ] {
            if v == 0 || v > 1 << 24 {
                return Err(key_error(
                    src,
                    file,
                    key,
                    format!("{key} = {v}: must be from 1 to 2^24"),
                ));
            }
        }
    }
    if c.default_workloads().iter().any(|w| w.trim().is_empty()) {
        return Err(key_error(
            src,
            file,
            "workload.kernels",
            "every entry must name a workload (a shipped name or a path), not \"\"",
        ));
    }
    Ok(())
}

/// Load a config from a path or a shipped name.
pub fn load(spec: &str) -> Result<LoadedConfig> {
    let src = resolve(spec)?;
    if src.is_cfg {
        let cfg = ScaleSimConfig::parse(&src.text, &src.file)?;
        return Ok(LoadedConfig {
            name: cfg.run_name.clone(),
            source: src.file,
            hw: HardwareConfig::ScaleSim(Box::new(cfg)),
        });
    }
    parse_toml(&src.text, &src.file, &src.stem)
}

impl LoadedConfig {
    /// Build the machine. `mode` overrides the default model (native for TOML systolic configs,
    /// scalesim for .cfg); it is an error for SIMT configs.
    pub fn build(&self, mode: Option<SimMode>) -> Result<Box<dyn Machine>> {
        let inner = self.build_model(mode)?;
        Ok(Box::new(Located {
            inner,
            source: self.source.clone(),
            slow_keys: self.slow_keys(),
        }))
    }

    /// The config values that can make an op take more than 2^64 cycles, each with the floor
    /// below which no real chip goes ([`Located`]): HBM/L2 bandwidth under 1 GB/s, a MAC rate,
    /// HBM efficiency or sustained clock fraction under 1 %. The floors are orders of magnitude
    /// below every shipped config (the smallest shipped bandwidth is hundreds of GB/s).
    fn slow_keys(&self) -> Vec<(&'static str, f64, f64)> {
        match &self.hw {
            HardwareConfig::Systolic(c) => vec![
                ("hbm.bandwidth_gbps", c.hbm.bandwidth_gbps, 1.0),
                ("array.mac_rate", c.array.mac_rate, 1e-2),
                ("chip.kernel_efficiency", c.chip.kernel_efficiency, 1e-2),
            ],
            HardwareConfig::Simt(c) => vec![
                (
                    "memory.hbm_bandwidth_gbps",
                    c.memory.hbm_bandwidth_gbps,
                    1.0,
                ),
                ("memory.l2_bandwidth_gbps", c.memory.l2_bandwidth_gbps, 1.0),
                ("memory.hbm_efficiency", c.memory.hbm_efficiency, 1e-2),
                ("kernel.kernel_efficiency", c.kernel.kernel_efficiency, 1e-2),
            ],
            HardwareConfig::ScaleSim(_) => Vec::new(),
        }
    }

    fn build_model(&self, mode: Option<SimMode>) -> Result<Box<dyn Machine>> {
        match &self.hw {
            HardwareConfig::Systolic(c) => {
                crate::systolic::build(c, &self.name, mode.unwrap_or(SimMode::Native))
            }
            HardwareConfig::ScaleSim(c) => {
                crate::systolic::build_scalesim(c, mode.unwrap_or(SimMode::Scalesim))
            }
            HardwareConfig::Simt(c) => match mode {
                None | Some(SimMode::Native) => Ok(Box::new(crate::simt::GpuMachine::new(
                    (**c).clone(),
                    &self.name,
                ))),
                Some(m) => Err(Error::setting(
                    "mode",
                    format!(
                        "mode `{}` applies to systolic machines only; `{}` is a GPU (simt) config",
                        m.as_str(),
                        self.name
                    ),
                )),
            },
        }
    }

    /// The config as data (the Python bindings' `load_config`): `name`, `source`, `kind`
    /// (`systolic`, `simt` or `scalesim` for a SCALE-Sim .cfg), `description`, `config` (the
    /// parsed config with every default filled in, keys as in the file) and `machine` (the
    /// built machine's facts, as `archsim run --format json` reports them for a bf16 run).
    pub fn to_json(&self) -> Result<serde_json::Value> {
        let (kind, config) = match &self.hw {
            HardwareConfig::Systolic(c) => ("systolic", serde_json::to_value(c)),
            HardwareConfig::Simt(c) => ("simt", serde_json::to_value(c)),
            HardwareConfig::ScaleSim(c) => ("scalesim", serde_json::to_value(c)),
        };
        let config = config.map_err(|e| Error::internal(e.to_string()))?;
        let machine = self.build(None)?;
        Ok(serde_json::json!({
            "name": self.name,
            "source": self.source,
            "kind": kind,
            "description": self.description(),
            "config": config,
            "machine": machine.info().to_json(crate::workload::DType::Bf16),
        }))
    }

    /// `[compare] with`, if the config names a default comparison machine.
    pub fn compare_with(&self) -> Option<&str> {
        match &self.hw {
            HardwareConfig::Systolic(c) => c.compare.as_ref().map(|c| c.with.as_str()),
            HardwareConfig::Simt(c) => c.compare.as_ref().map(|c| c.with.as_str()),
            HardwareConfig::ScaleSim(_) => None,
        }
    }

    /// `[workload] kernels`, if the config names default workloads.
    /// `[workload]`, if present (SCALE-Sim .cfg files have none).
    pub fn workload_section(&self) -> Option<&crate::config::WorkloadSection> {
        match &self.hw {
            HardwareConfig::Systolic(c) => c.workload.as_ref(),
            HardwareConfig::Simt(c) => c.workload.as_ref(),
            HardwareConfig::ScaleSim(_) => None,
        }
    }

    pub fn default_workloads(&self) -> Vec<String> {
        match &self.hw {
            HardwareConfig::Systolic(c) => c.workload.as_ref().map(|w| w.kernels.clone()),
            HardwareConfig::Simt(c) => c.workload.as_ref().map(|w| w.kernels.clone()),
            HardwareConfig::ScaleSim(_) => None,
        }
        .unwrap_or_default()
    }

    /// One line on what the config models: the config's `description`, else its `name` (GPU
    /// configs name the product), else the short name.
    pub fn description(&self) -> String {
        let d = match &self.hw {
            HardwareConfig::Systolic(c) => {
                if c.description.is_empty() {
                    c.name.clone()
                } else {
                    c.description.clone()
                }
            }
            HardwareConfig::Simt(c) => {
                if c.description.is_empty() {
                    c.name.clone()
                } else {
                    c.description.clone()
                }
            }
            HardwareConfig::ScaleSim(c) => format!("SCALE-Sim config `{}`", c.run_name),
        };
        if d.trim().is_empty() {
            self.name.clone()
        } else {
            d
        }
    }

    /// `[cost]`, if present.
    pub fn cost(&self) -> Option<&CostSection> {
        match &self.hw {
            HardwareConfig::Systolic(c) => c.cost.as_ref(),
            HardwareConfig::Simt(c) => c.cost.as_ref(),
            HardwareConfig::ScaleSim(_) => None,
        }
    }
}

/// A built machine that knows the config it came from, so that an op it cannot finish within
/// 2^64 cycles because of an absurd config value (a bandwidth of 1e-9 GB/s passes the range
/// checks but no real chip has it) is blamed on that key, with the config's file and line,
/// instead of on the workload. The key blamed is the one furthest below its floor
/// ([`LoadedConfig::slow_keys`]); with every value above its floor the op itself is too large
/// and the engine's error names it ([`crate::run::simulate_op`]).
struct Located {
    inner: Box<dyn Machine>,
    source: String,
    slow_keys: Vec<(&'static str, f64, f64)>,
}

impl Located {
    /// The input error naming the config key that makes op `op` too slow, if one is below its
    /// floor.
    fn blame(&self, op: &str) -> Option<Error> {
        let (key, value, floor) = self
            .slow_keys
            .iter()
            .filter(|(_, v, floor)| *v < *floor)
            .min_by(|a, b| (a.1 / a.2).total_cmp(&(b.1 / b.2)))?;
        let text = match self
            .source
            .strip_prefix("<builtin:configs/")
            .and_then(|n| n.strip_suffix('>'))
        {
            Some(name) => crate::config::shipped(name).map(|(_, t)| t.to_string()),
            None => crate::config::resolve(&self.source).ok().map(|s| s.text),
        };
        let loc = match text {
            Some(t) => crate::config::key_location(&t, &self.source, key),
            None => Location::file(self.source.clone()).key(*key),
        };
        Some(Error::input(
            loc,
            format!(
                "{key} = {value:e} makes op `{op}` take more than 2^64 cycles on {}; no real chip is below {floor} (raise {key})",
                self.inner.name()
            ),
        ))
    }
}

impl Machine for Located {
    fn info(&self) -> &crate::machine::MachineInfo {
        self.inner.info()
    }
    fn energy_table(&self) -> &crate::energy::EnergyTable {
        self.inner.energy_table()
    }
    fn simulate(&self, op: &crate::workload::Op) -> Result<crate::machine::OpProfile> {
        let p = self.inner.simulate(op)?;
        if p.cycles == u64::MAX {
            if let Some(e) = self.blame(&p.name) {
                return Err(e);
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_view_names_kind_and_machine_facts() {
        for (name, kind) in [("h100", "simt"), ("tpu_v5p", "systolic")] {
            let v = load(name).unwrap().to_json().unwrap();
            assert_eq!(v["kind"], kind);
            assert_eq!(v["name"], name);
            assert_eq!(v["machine"]["name"], name);
            assert!(v["config"].is_object(), "{v}");
        }
    }

    #[test]
    fn missing_kind_is_an_input_error() {
        let e = parse_toml("name = \"x\"\n", "x.toml", "x").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("kind"), "{e}");
    }

    #[test]
    fn unknown_kind() {
        let e = parse_toml("kind = \"fpga\"\n", "x.toml", "x").unwrap_err();
        assert!(e.to_string().contains("x.toml:1"), "{e}");
    }

    #[test]
    fn syntax_error_has_line() {
        let e = parse_toml("kind = \"systolic\"\n[array\nrows=1\n", "x.toml", "x").unwrap_err();
        assert!(e.to_string().starts_with("x.toml:2"), "{e}");
    }

    #[test]
    fn missing_file() {
        let e = load("/nonexistent/dir/foo.toml").unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
