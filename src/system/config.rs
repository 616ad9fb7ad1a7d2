//! System configs (`configs/systems/*.toml`): a chip config plus how the chips are connected.
//!
//! ```toml
//! kind = "system"
//! name = "dgx_h100_ib"
//! description = "..."
//! chip = "h100"                  # a chip config (shipped name or path)
//!
//! [scale_up]                     # the chip-to-chip network of a node / slice
//! kind = "switch"                # "switch" (NVLink + NVSwitch domain) or "torus" (TPU ICI)
//! domain_chips = 8               # switch: chips per domain
//! pod_shape = [16, 20, 28]       # torus: the largest slice (2 or 3 axes)
//! wrap = "cube"                  # torus: "cube" (wraparound on axes that are multiples of 4 in
//!                                #   slices of whole 4x4x4 cubes: v4, v5p, 7x) or "full_axis"
//!                                #   (an axis wraps when it has the pod's full length: v5e, v6e)
//! bandwidth_gbps = 450           # one-way GB/s: per chip into the switch, per link on a torus
//! efficiency = 0.82              # fraction of it large messages reach
//! in_network_reduction = true    # switch: NVLS all-reduce in the NVSwitch
//! nvls_efficiency = 0.61         # algbw of an NVLS all-reduce / bandwidth
//! latency_us = 1.9               # per ring step / hop
//! base_latency_us = 8.4          # per collective
//! size_half_mib = 53             # message size at which half the large-message bandwidth is reached
//!
//! [scale_out]                    # between nodes (fat tree) or slices (DCN)
//! kind = "fat_tree"              # or "dcn"
//! bandwidth_gbps = 50            # one-way GB/s per chip (its NIC share)
//! efficiency = 0.9
//! latency_us = 4.0
//! base_latency_us = 14.0
//! size_half_mib = 4
//!
//! max_chips = 64                # optional: the most chips the system holds (top level)
//!
//! [power]
//! allin_w_per_chip = 1275        # chip + its share of host, NICs, switches, at full load
//! pue = 1.3
//! ```
//! Unknown keys are rejected; every shipped value carries its source (INTERCONNECT.md,
//! POWER_COST.md tags, resolved in `docs/SYSTEMS.md`).

use crate::config::{from_toml, key_error};
use crate::error::{Error, Location, Result};
use crate::registry::{self, LoadedConfig};
use serde::{Deserialize, Serialize};

/// How the chips of one node / slice are connected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ScaleUp {
    /// An NVLink domain behind NVSwitches: every chip reaches every other at `bandwidth` one-way.
    Switch {
        domain_chips: u64,
        in_network_reduction: bool,
        nvls_efficiency: f64,
    },
    /// A TPU ICI torus: `pod_shape` axes, one link per neighbour per axis direction.
    Torus { pod_shape: Vec<u64>, wrap: Wrap },
}

/// Which torus axes have wraparound links in a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrap {
    /// v4, v5p, 7x: the optical switches close every axis of a slice made of whole 4×4×4 cubes;
    /// smaller slices are meshes (scaling book, "TPUs": wraparound only for multiples of a cube).
    Cube,
    /// v5e, v6e: an axis wraps only when it has the pod's full length (16).
    FullAxis,
}

/// One network level's link model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// One-way bytes/s: per chip into a switch / NIC, per link on a torus.
    pub bandwidth_bytes_per_s: f64,
    /// Fraction of the bandwidth large messages reach (protocol overhead).
    pub efficiency: f64,
    /// Latency per ring step or hop, s.
    pub latency_s: f64,
    /// Fixed latency per collective, s.
    pub base_latency_s: f64,
    /// Message size (bytes each rank sends per step) at which half the large-message bandwidth
    /// is reached: the effective bandwidth is `bandwidth · efficiency / (1 + size_half / m)`.
    pub size_half_bytes: f64,
}

/// The scale-out level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleOutKind {
    /// Rail-optimized InfiniBand/RoCE fat tree between nodes (full bisection).
    FatTree,
    /// The data-center network between TPU slices.
    Dcn,
}

/// A system: chips and their networks.
#[derive(Debug, Clone)]
pub struct SystemConfig {
    pub name: String,
    pub description: String,
    pub source: String,
    pub chip: LoadedConfig,
    pub scale_up: ScaleUp,
    pub scale_up_link: Link,
    pub scale_out: Option<(ScaleOutKind, Link)>,
    /// Chip + share of hosts, NICs and switches at full load, W.
    pub allin_w_per_chip: f64,
    /// Facility power usage effectiveness.
    pub pue: f64,
    /// Most chips the system holds (`max_chips`; unlimited when absent).
    pub max_chips: Option<u64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SystemFile {
    /// Always "system".
    kind: String,
    /// Short name; default: the file stem.
    name: Option<String>,
    /// One line saying what the system is.
    #[serde(default)]
    description: String,
    /// The chip config of every chip (a shipped name such as "h100" or a path).
    chip: String,
    /// Most chips the system holds; unlimited when absent.
    max_chips: Option<u64>,
    /// `[scale_up]`: the chip-to-chip network of a node (switch) or slice (torus).
    scale_up: ScaleUpFile,
    /// `[scale_out]`: the network between nodes (fat tree) or slices (DCN); absent for one
    /// scale-up domain.
    scale_out: Option<LinkFile>,
    /// `[power]`: power per chip with its share of the system, and facility overhead.
    power: PowerFile,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScaleUpFile {
    /// "switch" (NVLink + NVSwitch domain) or "torus" (TPU ICI).
    kind: String,
    /// switch: chips per switch domain.
    domain_chips: Option<u64>,
    /// torus: the largest slice, chips per axis (2 or 3 axes).
    pod_shape: Option<Vec<u64>>,
    /// torus: "cube" (wraparound on axes that are multiples of 4 in slices of whole 4x4x4
    /// cubes: v4, v5p, 7x) or "full_axis" (an axis wraps when it has the pod's full length).
    wrap: Option<String>,
    /// switch: all-reduce in the switch (NVLS).
    #[serde(default)]
    in_network_reduction: bool,
    /// switch with in-network reduction: algbw of an NVLS all-reduce / bandwidth, a fraction.
    nvls_efficiency: Option<f64>,
    #[serde(flatten)]
    link: LinkFields,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct LinkFile {
    /// "fat_tree" (between nodes) or "dcn" (between TPU slices).
    kind: String,
    #[serde(flatten)]
    link: LinkFields,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LinkFields {
    /// One-way bandwidth in GB/s (10^9 bytes/s): per chip into the switch or NIC, per link on a
    /// torus.
    bandwidth_gbps: f64,
    /// Fraction of the bandwidth large messages reach, 0.01..1.
    efficiency: f64,
    /// Latency per ring step / hop, in µs.
    latency_us: f64,
    /// Fixed latency per collective, in µs.
    base_latency_us: f64,
    /// Message size at which half the large-message bandwidth is reached, in MiB.
    size_half_mib: f64,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PowerFile {
    /// Power of one chip with its share of hosts, NICs and switches at full load, in W.
    allin_w_per_chip: f64,
    /// Facility power usage effectiveness (≥ 1): facility power / IT power.
    pue: f64,
}

/// JSON Schema of a system config file, for `archsim schema system` and
/// `docs/reference/system.md`.
pub fn file_schema(settings: schemars::generate::SchemaSettings) -> schemars::Schema {
    settings
        .into_generator()
        .into_root_schema_for::<SystemFile>()
}

impl LinkFields {
    fn to_link(&self, src: &str, file: &str, table: &str) -> Result<Link> {
        let check = |key: &str, v: f64, lo: f64, hi: f64| -> Result<f64> {
            if !(lo..=hi).contains(&v) {
                return Err(key_error(
                    src,
                    file,
                    &format!("{table}.{key}"),
                    format!("{table}.{key} = {v}: must be between {lo} and {hi}"),
                ));
            }
            Ok(v)
        };
        Ok(Link {
            bandwidth_bytes_per_s: check("bandwidth_gbps", self.bandwidth_gbps, 1e-3, 1e6)? * 1e9,
            efficiency: check("efficiency", self.efficiency, 0.01, 1.0)?,
            latency_s: check("latency_us", self.latency_us, 0.0, 1e6)? * 1e-6,
            base_latency_s: check("base_latency_us", self.base_latency_us, 0.0, 1e6)? * 1e-6,
            size_half_bytes: check("size_half_mib", self.size_half_mib, 0.0, 1e6)?
                * (1u64 << 20) as f64,
        })
    }
}

/// Parse a system config text; `file` names it in errors, `stem` is the default name.
pub fn parse(src: &str, file: &str, stem: &str) -> Result<SystemConfig> {
    let f: SystemFile = from_toml(src, file)?;
    if f.kind != "system" {
        return Err(key_error(
            src,
            file,
            "kind",
            format!(
                "kind = \"{}\": a system config has kind = \"system\"",
                f.kind
            ),
        ));
    }
    let chip = registry::load(&f.chip)
        .map_err(|e| key_error(src, file, "chip", format!("chip = \"{}\": {e}", f.chip)))?;
    if matches!(chip.hw, registry::HardwareConfig::ScaleSim(_)) {
        return Err(key_error(
            src,
            file,
            "chip",
            "a system needs an archsim chip config (.toml), not a SCALE-Sim .cfg",
        ));
    }
    let su = &f.scale_up;
    let scale_up = match su.kind.as_str() {
        "switch" => {
            let domain = su.domain_chips.ok_or_else(|| {
                key_error(
                    src,
                    file,
                    "scale_up.domain_chips",
                    "a switch needs domain_chips",
                )
            })?;
            if !(2..=1 << 16).contains(&domain) {
                return Err(key_error(
                    src,
                    file,
                    "scale_up.domain_chips",
                    format!("domain_chips = {domain}: must be from 2 to 65536"),
                ));
            }
            let nvls = su.nvls_efficiency.unwrap_or(su.link.efficiency);
            if !(0.01..=1.0).contains(&nvls) {
                return Err(key_error(
                    src,
                    file,
                    "scale_up.nvls_efficiency",
                    format!("nvls_efficiency = {nvls}: must be between 0.01 and 1"),
                ));
            }
            ScaleUp::Switch {
                domain_chips: domain,
                in_network_reduction: su.in_network_reduction,
                nvls_efficiency: nvls,
            }
        }
        "torus" => {
            let shape = su.pod_shape.clone().ok_or_else(|| {
                key_error(
                    src,
                    file,
                    "scale_up.pod_shape",
                    "a torus needs pod_shape = [X, Y(, Z)]",
                )
            })?;
            if !(2..=3).contains(&shape.len()) || shape.iter().any(|&a| !(1..=1024).contains(&a)) {
                return Err(key_error(
                    src,
                    file,
                    "scale_up.pod_shape",
                    format!("pod_shape = {shape:?}: 2 or 3 axes of 1 to 1024 chips"),
                ));
            }
            let wrap = match su.wrap.as_deref() {
                Some("cube") => Wrap::Cube,
                Some("full_axis") | None => Wrap::FullAxis,
                Some(other) => {
                    return Err(key_error(
                        src,
                        file,
                        "scale_up.wrap",
                        format!("wrap = \"{other}\": expected \"cube\" or \"full_axis\""),
                    ))
                }
            };
            ScaleUp::Torus {
                pod_shape: shape,
                wrap,
            }
        }
        other => {
            return Err(key_error(
                src,
                file,
                "scale_up.kind",
                format!("scale_up.kind = \"{other}\": expected \"switch\" or \"torus\""),
            ))
        }
    };
    let scale_out = match &f.scale_out {
        Some(so) => {
            let kind = match so.kind.as_str() {
                "fat_tree" => ScaleOutKind::FatTree,
                "dcn" => ScaleOutKind::Dcn,
                other => {
                    return Err(key_error(
                        src,
                        file,
                        "scale_out.kind",
                        format!("scale_out.kind = \"{other}\": expected \"fat_tree\" or \"dcn\""),
                    ))
                }
            };
            Some((kind, so.link.to_link(src, file, "scale_out")?))
        }
        None => None,
    };
    if let Some(m) = f.max_chips {
        if !(1..=1 << 24).contains(&m) {
            return Err(key_error(
                src,
                file,
                "max_chips",
                format!("max_chips = {m}: must be from 1 to 2^24"),
            ));
        }
    }
    let p = &f.power;
    for (key, v, lo, hi) in [
        ("power.allin_w_per_chip", p.allin_w_per_chip, 1.0, 1e5),
        ("power.pue", p.pue, 1.0, 5.0),
    ] {
        if !(lo..=hi).contains(&v) {
            return Err(key_error(
                src,
                file,
                key,
                format!("{key} = {v}: must be between {lo} and {hi}"),
            ));
        }
    }
    Ok(SystemConfig {
        name: f.name.clone().unwrap_or_else(|| stem.to_string()),
        description: f.description.clone(),
        source: file.to_string(),
        chip,
        scale_up,
        scale_up_link: su.link.to_link(src, file, "scale_up")?,
        scale_out,
        allin_w_per_chip: p.allin_w_per_chip,
        pue: p.pue,
        max_chips: f.max_chips,
    })
}

/// Load a system: a path to a system `.toml`, a shipped system name (`dgx_h100_ib`, the files of
/// `configs/systems/`), or a chip name (one node of that chip: its NVLink domain, or one TPU
/// pod, with the shipped system of that chip's networks).
pub fn load(spec: &str) -> Result<SystemConfig> {
    use std::path::Path;
    let path = Path::new(spec);
    if path.exists() {
        let src = crate::fsio::read_input_file(path)?;
        return parse(&src, spec, &crate::fsio::file_stem(spec));
    }
    let shipped = crate::config::embedded::systems();
    let name = spec
        .trim_start_matches("configs/systems/")
        .trim_end_matches(".toml");
    if let Some((n, src)) = shipped
        .iter()
        .find(|(n, _)| n.trim_end_matches(".toml") == name)
    {
        return parse(src, &format!("<builtin:configs/systems/{n}>"), name);
    }
    // A chip name: the shipped system built from that chip.
    for (n, src) in shipped {
        let file = format!("<builtin:configs/systems/{n}>");
        let sys = parse(src, &file, n.trim_end_matches(".toml"))?;
        if sys.chip.name == name {
            return Ok(sys);
        }
    }
    Err(Error::InputFile {
        path: path.to_path_buf(),
        msg: format!(
            "file not found, and not a shipped system or a chip with one{} (shipped systems: {})",
            crate::error::did_you_mean(name, shipped_names()),
            shipped_names().join(", ")
        ),
    })
}

/// Names of the shipped system configs.
pub fn shipped_names() -> Vec<&'static str> {
    crate::config::embedded::systems()
        .iter()
        .map(|(n, _)| n.trim_end_matches(".toml"))
        .collect()
}

impl SystemConfig {
    /// Chips of the largest single slice / node domain... the scale-up unit: a switch domain or
    /// a whole torus pod.
    pub fn scale_up_chips(&self) -> u64 {
        match &self.scale_up {
            ScaleUp::Switch { domain_chips, .. } => *domain_chips,
            ScaleUp::Torus { pod_shape, .. } => pod_shape.iter().product(),
        }
    }

    /// A location for errors about this system's settings.
    pub fn loc(&self, key: &str) -> Location {
        Location::file(self.source.clone()).key(key)
    }
}

/// Parse a TPU slice shape `AxB[xC]` (each axis 1 to 1024); `None` when malformed.
pub fn parse_slice(s: &str) -> Option<Vec<u64>> {
    s.split(['x', 'X'])
        .map(|p| {
            p.trim()
                .parse::<u64>()
                .ok()
                .filter(|&v| (1..=1024).contains(&v))
        })
        .collect()
}
