//! archsim TOML config of a systolic (TPU-style) machine: `kind = "systolic"`.
//!
//! ```toml
//! kind = "systolic"
//! name = "tpu_v5p"
//! description = "..."
//! [array]            # one MXU
//! rows = 128         # R: PE rows (the K side of a weight tile)
//! cols = 128         # C: PE columns (the N side of a weight tile)
//! dataflow = "ws"    # "ws" (TPU, default), "os" or "is"
//! mxus = 4           # MXUs per TensorCore
//! mac_rate = 1.0     # MACs per PE per cycle (bf16); SPECS §1.3
//! [array.rate]       # throughput per dtype relative to bf16 (optional)
//! int8 = 2.0
//! # fp4 = 4.0        # fp4 units (NVFP4/MXFP4); absent: none, fp4 GEMMs fall back
//! [chip]
//! cores = 2          # TensorCores per chip
//! clock_mhz = 1750
//! dispatch_overhead_us = 1.5   # fixed device time per op
//! [sram]
//! vmem_mib = 64      # per TensorCore
//! cmem_mib = 0       # per chip (0: none)
//! # name = "sbuf"    # what the chip calls the scratchpad (default "vmem"; Trainium "sbuf")
//! # psum_mib = 2     # accumulator memory per core (Trainium PSUM; default 0: none)
//! [hbm]
//! bandwidth_gbps = 2765
//! latency_ns = 300
//! capacity_gib = 95
//! [vpu]
//! flops_per_cycle = 4096   # f32 FLOP per cycle per TensorCore
//! [energy]           # crate::energy::EnergyTable
//! [cost] / [compare] / [workload]   # optional, see crate::config
//! ```
//!
//! Unknown keys are rejected everywhere; every semantic error names the key and its line.

use crate::config::{from_toml, key_error};
use crate::config::{CompareSection, CostSection, ValidationStatus, WorkloadSection};
use crate::energy::EnergyTable;
use crate::error::Result;
use crate::workload::DType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which operand stays in the PEs while the third dimension streams through
/// (`docs/scalesim/MODEL.md` §2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Weight stationary (TPU): B (K×N) tile in the PEs, A rows (M) stream.
    #[default]
    Ws,
    /// Output stationary: C (M×N) tile accumulates in the PEs, K streams.
    Os,
    /// Input stationary: A (K×M) tile in the PEs, B columns (N) stream.
    Is,
}

impl Dataflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Dataflow::Ws => "ws",
            Dataflow::Os => "os",
            Dataflow::Is => "is",
        }
    }
    /// (Sr, Sc, T): the GEMM dimensions laid on array rows, on array columns and streamed in
    /// time, for C[M×N] = A[M×K]·B[K×N] (MODEL.md §2 table).
    pub fn spatio_temporal(self, m: u64, n: u64, k: u64) -> (u64, u64, u64) {
        match self {
            Dataflow::Os => (m, n, k),
            Dataflow::Ws => (k, n, m),
            Dataflow::Is => (k, m, n),
        }
    }
}

impl fmt::Display for Dataflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn one() -> f64 {
    1.0
}
fn vmem_name() -> String {
    "vmem".to_string()
}
fn is_vmem_name(s: &String) -> bool {
    s == "vmem"
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn one_u64() -> u64 {
    1
}

/// Throughput of each operand dtype relative to bf16 (1.0 = bf16 rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DTypeRate {
    /// fp32 rate relative to bf16 (default 1/6: fp32 as multi-pass bf16).
    pub fp32: f64,
    /// bf16 MACs per PE per cycle relative to `array.mac_rate` (1.0 = the bf16 rate).
    pub bf16: f64,
    /// fp16 rate relative to bf16.
    pub fp16: f64,
    /// fp8 rate relative to bf16.
    pub fp8: f64,
    /// int8 rate relative to bf16.
    pub int8: f64,
    /// fp4 units (NVFP4 and MXFP4 alike): their rate relative to bf16. Absent (the default):
    /// the chip has no fp4 units, its fp4 peak is 0 and fp4 GEMMs run at the fallback
    /// precision ([`crate::machine::MachineInfo::math_dtype`]). No shipped TPU config has them
    /// (SPECS §1.1 lists no fp4 peak for v4–7x).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fp4: Option<f64>,
}

impl Default for DTypeRate {
    /// bf16/fp16/fp8/int8 at the bf16 rate; fp32 at 1/6: a full-precision f32 matmul runs as six
    /// bf16 passes on the MXU (XLA `Precision.HIGHEST`, "bf16_6x").
    fn default() -> Self {
        DTypeRate {
            fp32: 1.0 / 6.0,
            bf16: 1.0,
            fp16: 1.0,
            fp8: 1.0,
            int8: 1.0,
            fp4: None,
        }
    }
}

impl DTypeRate {
    pub fn get(&self, d: DType) -> f64 {
        match d {
            DType::Fp32 => self.fp32,
            DType::Bf16 => self.bf16,
            DType::Fp16 => self.fp16,
            DType::Fp8 => self.fp8,
            DType::Int8 => self.int8,
            DType::Fp4 | DType::Mxfp4 => self.fp4.unwrap_or(0.0),
        }
    }
}

/// `[array]`: one matrix unit (MXU) and how many of them a core has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArraySection {
    /// PE rows R.
    pub rows: u64,
    /// PE columns C.
    pub cols: u64,
    #[serde(default)]
    pub dataflow: Dataflow,
    /// MXUs per TensorCore.
    #[serde(default = "one_u64")]
    pub mxus: u64,
    /// bf16 MACs per PE per cycle (SPECS §1.3: 2 on v6e/7x if they really have 2 MXUs per core).
    #[serde(default = "one")]
    pub mac_rate: f64,
    #[serde(default)]
    pub rate: DTypeRate,
}

/// `[chip]`: cores, clock and fixed per-op overhead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChipSection {
    /// TensorCores per chip (the GEMM is split across them).
    #[serde(default = "one_u64")]
    pub cores: u64,
    pub clock_mhz: f64,
    /// Fixed device time per op (µs): program/DMA-descriptor setup and the synchronisation at the
    /// end of the op, as seen in a device trace. Calibrated, see `validate::tpu`.
    #[serde(default)]
    pub dispatch_overhead_us: f64,
    /// Kernel efficiency: the fraction of the simulated GEMM speed real kernels reach (what the
    /// mapper does not see), applied to the array's clock-scaled time and reported as
    /// `kernel_efficiency` time. Fitted by `src/jobs/validate/tpu.rs` on the calibration rows of
    /// tests/data/tpu_measured.csv (TPU v5e); the config names where its value comes from.
    /// Default 1.
    #[serde(default = "one_f64", skip_serializing_if = "is_one_f64")]
    pub kernel_efficiency: f64,
    /// Chip power limit in W for the power-limited clock
    /// ([`crate::energy::power_limited_clock_hz`]); absent: none published, nominal clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    /// Lowest DVFS clock (MHz), the floor of the power-limited clock; 0: none published.
    #[serde(default, skip_serializing_if = "is_zero_f64_chip")]
    pub min_clock_mhz: f64,
}

fn one_f64() -> f64 {
    1.0
}
fn is_one_f64(x: &f64) -> bool {
    *x == 1.0
}
fn is_zero_f64_chip(x: &f64) -> bool {
    *x == 0.0
}

/// `[sram]`: on-chip memories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SramSection {
    /// Vector memory per TensorCore, MiB: the per-core software-managed scratchpad the tiles
    /// are staged in (TPU VMEM, Trainium SBUF).
    pub vmem_mib: f64,
    /// What the chip calls that scratchpad: its memory level's name in reports (`vmem`, the
    /// default; `sbuf` on Trainium). Lower-case letters, digits and `_`.
    #[serde(default = "vmem_name", skip_serializing_if = "is_vmem_name")]
    pub name: String,
    /// Accumulator memory per core, MiB (Trainium PSUM: 2 MiB per NeuronCore): when > 0 the f32
    /// output tile of a GEMM accumulates across K here rather than in the scratchpad, so the
    /// output tile must fit it and does not take scratchpad space. 0 (the default): none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub psum_mib: f64,
    /// Common memory per chip (TPU v4 CMEM), MiB; 0 when the chip has none.
    #[serde(default)]
    pub cmem_mib: f64,
    /// CMEM→VMEM bandwidth in GB/s (used only when `cmem_mib > 0`).
    #[serde(default)]
    pub cmem_bandwidth_gbps: f64,
}

/// `[hbm]`: off-chip memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HbmSection {
    /// Peak bandwidth, GB/s (10^9 B/s).
    pub bandwidth_gbps: f64,
    /// Latency of one DMA (issue to first byte), ns.
    #[serde(default)]
    pub latency_ns: f64,
    /// Capacity, GiB (reported; a GEMM whose operands exceed it is still simulated).
    #[serde(default)]
    pub capacity_gib: f64,
    /// Achievable fraction of the peak bandwidth for large streaming DMAs (0..1].
    #[serde(default = "one")]
    pub efficiency: f64,
}

/// `[vpu]`: the vector unit that runs non-GEMM ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VpuSection {
    /// f32 FLOP per cycle per TensorCore.
    pub flops_per_cycle: f64,
}

impl Default for VpuSection {
    /// 8 sublanes × 128 lanes × 4 ALUs (the v5p VPU, SPECS §1.1).
    fn default() -> Self {
        VpuSection {
            flops_per_cycle: 4096.0,
        }
    }
}

/// A systolic (TPU-style) machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystolicConfig {
    /// Machine kind: "systolic".
    pub kind: String,
    /// Product name shown in reports (e.g. "TPU v5p"); default: empty.
    #[serde(default)]
    pub name: String,
    /// One line saying what the chip is (`archsim list`).
    #[serde(default)]
    pub description: String,
    pub array: ArraySection,
    pub chip: ChipSection,
    pub sram: SramSection,
    pub hbm: HbmSection,
    #[serde(default)]
    pub vpu: VpuSection,
    #[serde(default)]
    pub energy: EnergyTable,
    /// `[cost]`: price of a chip-hour, for price-performance; absent: no USD figures.
    pub cost: Option<CostSection>,
    /// `[compare]`: the machine the main job compares this one with.
    pub compare: Option<CompareSection>,
    /// `[workload]`: the main job's default workloads and models.
    pub workload: Option<WorkloadSection>,
    /// What the predictions were checked against (`archsim validate`); absent: no rows.
    #[serde(default)]
    pub validation: ValidationStatus,
}

/// Largest array side accepted (a 4096×4096 MXU is already 256× a TPU's).
pub const MAX_ARRAY_SIDE: u64 = 4096;

impl SystolicConfig {
    /// Parse and validate; every error names `file`, the line and the key.
    pub fn from_toml(src: &str, file: &str) -> Result<Self> {
        let cfg: SystolicConfig = from_toml(src, file)?;
        cfg.validate_src(src, file)?;
        Ok(cfg)
    }

    /// Check every value is in a sane range. `src` is used to find the line of a bad key.
    pub fn validate_src(&self, src: &str, file: &str) -> Result<()> {
        let err = |key: &str, msg: String| key_error(src, file, key, msg);
        if self.kind != "systolic" {
            return Err(err(
                "kind",
                format!("expected kind = \"systolic\", found \"{}\"", self.kind),
            ));
        }
        let int_range = |key: &str, v: u64, lo: u64, hi: u64, what: &str| -> Result<()> {
            if v < lo || v > hi {
                Err(err(
                    key,
                    format!("{v} is out of range: {what} must be between {lo} and {hi}"),
                ))
            } else {
                Ok(())
            }
        };
        let f_range = |key: &str, v: f64, lo: f64, lo_incl: bool, hi: f64, what: &str| {
            let ok = v.is_finite() && (if lo_incl { v >= lo } else { v > lo }) && v <= hi;
            if ok {
                Ok(())
            } else {
                let op = if lo_incl { ">=" } else { ">" };
                Err(err(
                    key,
                    format!("{v} is out of range: {what} must be {op} {lo} and <= {hi}"),
                ))
            }
        };
        let a = &self.array;
        int_range("array.rows", a.rows, 1, MAX_ARRAY_SIDE, "PE rows")?;
        int_range("array.cols", a.cols, 1, MAX_ARRAY_SIDE, "PE columns")?;
        int_range("array.mxus", a.mxus, 1, 256, "MXUs per core")?;
        f_range(
            "array.mac_rate",
            a.mac_rate,
            0.0,
            false,
            64.0,
            "MACs per PE per cycle",
        )?;
        for (k, v) in [
            ("array.rate.fp32", a.rate.fp32),
            ("array.rate.bf16", a.rate.bf16),
            ("array.rate.fp16", a.rate.fp16),
            ("array.rate.fp8", a.rate.fp8),
            ("array.rate.int8", a.rate.int8),
        ] {
            f_range(k, v, 0.0, false, 64.0, "the rate relative to bf16")?;
        }
        if let Some(v) = a.rate.fp4 {
            f_range(
                "array.rate.fp4",
                v,
                0.0,
                false,
                64.0,
                "the fp4 rate relative to bf16 (omit the key for a chip without fp4 units)",
            )?;
        }
        let c = &self.chip;
        int_range("chip.cores", c.cores, 1, 1024, "TensorCores per chip")?;
        f_range(
            "chip.clock_mhz",
            c.clock_mhz,
            0.0,
            false,
            100_000.0,
            "the clock in MHz",
        )?;
        f_range(
            "chip.dispatch_overhead_us",
            c.dispatch_overhead_us,
            0.0,
            true,
            1e6,
            "the per-op overhead in µs",
        )?;
        f_range(
            "chip.kernel_efficiency",
            c.kernel_efficiency,
            0.0,
            false,
            1.5,
            "the kernel efficiency",
        )?;
        if let Some(t) = c.tdp_w {
            f_range("chip.tdp_w", t, 0.0, false, 1e5, "the power limit in W")?;
        }
        f_range(
            "chip.min_clock_mhz",
            c.min_clock_mhz,
            0.0,
            true,
            c.clock_mhz,
            "the minimum clock in MHz (at most clock_mhz)",
        )?;
        if let Err((k, msg)) = self.validation.check() {
            return Err(err(k, msg));
        }
        let s = &self.sram;
        f_range(
            "sram.vmem_mib",
            s.vmem_mib,
            0.0,
            false,
            1e6,
            "VMEM per core in MiB",
        )?;
        f_range("sram.cmem_mib", s.cmem_mib, 0.0, true, 1e6, "CMEM in MiB")?;
        f_range(
            "sram.cmem_bandwidth_gbps",
            s.cmem_bandwidth_gbps,
            0.0,
            true,
            1e9,
            "the CMEM bandwidth in GB/s",
        )?;
        let name_ok = !s.name.is_empty()
            && s.name.len() <= 32
            && s.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok || ["hbm", "cmem", "psum"].contains(&s.name.as_str()) {
            return Err(err(
                "sram.name",
                format!(
                    "\"{}\" cannot name the scratchpad: use lower-case letters, digits and _ (e.g. \"vmem\", \"sbuf\"), not hbm/cmem/psum",
                    s.name
                ),
            ));
        }
        f_range(
            "sram.psum_mib",
            s.psum_mib,
            0.0,
            true,
            1e6,
            "the accumulator memory per core in MiB (0: none)",
        )?;
        if s.psum_mib > 0.0 {
            // The mapper's smallest output tile (128 rows × max(C, 128) columns of f32).
            let min_acc = 128.0 * a.cols.max(128) as f64 * 4.0;
            if s.psum_mib * 1024.0 * 1024.0 < min_acc {
                return Err(err(
                    "sram.psum_mib",
                    format!(
                        "{} MiB of accumulator memory cannot hold one 128x{} f32 output tile ({min_acc:.0} bytes); increase sram.psum_mib or set it to 0",
                        s.psum_mib,
                        a.cols.max(128)
                    ),
                ));
            }
        }
        if s.cmem_mib > 0.0 && s.cmem_bandwidth_gbps <= 0.0 {
            return Err(err(
                "sram.cmem_bandwidth_gbps",
                "a chip with CMEM (sram.cmem_mib > 0) needs sram.cmem_bandwidth_gbps > 0".into(),
            ));
        }
        let h = &self.hbm;
        f_range(
            "hbm.bandwidth_gbps",
            h.bandwidth_gbps,
            0.0,
            false,
            1e9,
            "the HBM bandwidth in GB/s",
        )?;
        f_range(
            "hbm.latency_ns",
            h.latency_ns,
            0.0,
            true,
            1e9,
            "the HBM latency in ns",
        )?;
        f_range(
            "hbm.capacity_gib",
            h.capacity_gib,
            0.0,
            true,
            1e9,
            "the HBM capacity in GiB",
        )?;
        f_range(
            "hbm.efficiency",
            h.efficiency,
            0.0,
            false,
            1.0,
            "the achievable HBM fraction",
        )?;
        f_range(
            "vpu.flops_per_cycle",
            self.vpu.flops_per_cycle,
            0.0,
            false,
            1e9,
            "VPU FLOP per cycle per core",
        )?;
        if let Err((k, v)) = self.energy.validate() {
            return Err(err(
                &format!("energy.{k}"),
                format!("{v} is not a valid energy: must be finite and >= 0"),
            ));
        }
        if let Some(cost) = &self.cost {
            f_range(
                "cost.usd_per_chip_hour",
                cost.usd_per_chip_hour,
                0.0,
                true,
                1e6,
                "the price per chip-hour in USD",
            )?;
        }
        // The smallest tile the native mapper can use must fit VMEM (double-buffered fp32 A and
        // B tiles of 8 rows and one R×C weight tile, plus an f32 accumulator tile).
        let min_tile = 2.0 * (8.0 * a.rows as f64 + (a.rows * a.cols) as f64) * 4.0
            + 8.0 * a.cols as f64 * 4.0 * 3.0;
        if s.vmem_mib * 1024.0 * 1024.0 < min_tile {
            return Err(err(
                "sram.vmem_mib",
                format!(
                    "{} MiB of VMEM cannot hold even one double-buffered {}×{} tile ({:.0} bytes); increase sram.vmem_mib",
                    s.vmem_mib, a.rows, a.cols, min_tile
                ),
            ));
        }
        Ok(())
    }

    /// Dense peak MACs per cycle per chip for a dtype: cores · mxus · R · C · mac_rate · rate
    /// (0 for fp4 on a chip without fp4 units).
    pub fn macs_per_cycle(&self, dtype: DType) -> f64 {
        self.chip.cores as f64
            * self.array.mxus as f64
            * (self.array.rows * self.array.cols) as f64
            * self.array.mac_rate
            * self.array.rate.get(dtype)
    }

    pub fn clock_hz(&self) -> f64 {
        self.chip.clock_mhz * 1e6
    }

    /// The clock GEMM mapping runs at: the nominal clock times the kernel efficiency (the
    /// array's time divided by the efficiency).
    pub fn gemm_clock_hz(&self) -> f64 {
        self.clock_hz() * self.chip.kernel_efficiency
    }

    /// `peak_flops(dtype)` = 2 · cores · mxus · R · C · mac_rate · rate(dtype) · clock.
    pub fn peak_flops(&self, dtype: DType) -> f64 {
        2.0 * self.macs_per_cycle(dtype) * self.clock_hz()
    }

    pub fn vmem_bytes(&self) -> f64 {
        self.sram.vmem_mib * 1024.0 * 1024.0
    }
    pub fn cmem_bytes(&self) -> f64 {
        self.sram.cmem_mib * 1024.0 * 1024.0
    }
    /// Accumulator memory (PSUM) per core in bytes; 0 when the chip has none.
    pub fn psum_bytes(&self) -> f64 {
        self.sram.psum_mib * 1024.0 * 1024.0
    }
    /// Peak HBM bandwidth in bytes/s.
    pub fn hbm_bytes_per_s(&self) -> f64 {
        self.hbm.bandwidth_gbps * 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "kind = \"systolic\"\nname = \"t\"\n[array]\nrows = 128\ncols = 128\n[chip]\nclock_mhz = 1000\n[sram]\nvmem_mib = 16\n[hbm]\nbandwidth_gbps = 1000\n";

    #[test]
    fn minimal_config_parses_with_defaults() {
        let c = SystolicConfig::from_toml(MIN, "t.toml").unwrap();
        assert_eq!(c.array.dataflow, Dataflow::Ws);
        assert_eq!(c.array.mxus, 1);
        assert_eq!(c.chip.cores, 1);
        assert_eq!(c.array.mac_rate, 1.0);
        assert!((c.peak_flops(DType::Bf16) - 2.0 * 16384.0 * 1e9).abs() < 1.0);
    }

    #[test]
    fn fp4_rate_is_optional_and_absent_means_no_units() {
        let c = SystolicConfig::from_toml(MIN, "t.toml").unwrap();
        assert_eq!(c.array.rate.fp4, None);
        assert_eq!(c.peak_flops(DType::Fp4), 0.0);
        assert_eq!(c.peak_flops(DType::Mxfp4), 0.0);
        let src = MIN.replace("cols = 128\n", "cols = 128\n[array.rate]\nfp4 = 4.0\n");
        let c = SystolicConfig::from_toml(&src, "t.toml").unwrap();
        assert_eq!(c.peak_flops(DType::Fp4), 4.0 * c.peak_flops(DType::Bf16));
        assert_eq!(c.peak_flops(DType::Mxfp4), c.peak_flops(DType::Fp4));
        let s = error_of(&src.replace("fp4 = 4.0", "fp4 = 0.0"));
        assert!(
            s.contains("array.rate.fp4") && s.contains("omit the key"),
            "{s}"
        );
    }

    #[test]
    fn zero_rows_names_key_and_line() {
        let src = MIN.replace("rows = 128", "rows = 0");
        let e = SystolicConfig::from_toml(&src, "t.toml").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("t.toml:4"), "{s}");
        assert!(s.contains("array.rows"), "{s}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn negative_and_unknown_are_errors() {
        let s = error_of(&MIN.replace("bandwidth_gbps = 1000", "bandwidth_gbps = -5.0"));
        assert!(
            s.contains("hbm.bandwidth_gbps") && s.contains("t.toml:11"),
            "{s}"
        );
        let s = error_of(&MIN.replace("cols = 128", "cols = 128\ncolumns = 3"));
        assert!(s.contains("columns"), "{s}");
        let s = error_of(&MIN.replace("rows = 128", "rows = -1"));
        assert!(s.contains("t.toml:4"), "{s}");
    }

    #[test]
    fn scratchpad_name_and_psum() {
        let c = SystolicConfig::from_toml(MIN, "t.toml").unwrap();
        assert_eq!(c.sram.name, "vmem");
        assert_eq!(c.psum_bytes(), 0.0);
        let src = MIN.replace(
            "vmem_mib = 16",
            "vmem_mib = 16\nname = \"sbuf\"\npsum_mib = 2",
        );
        let c = SystolicConfig::from_toml(&src, "t.toml").unwrap();
        assert_eq!(c.sram.name, "sbuf");
        assert_eq!(c.psum_bytes(), 2.0 * 1024.0 * 1024.0);
        for bad in ["\"\"", "\"HBM\"", "\"psum\"", "\"a b\""] {
            let s =
                error_of(&MIN.replace("vmem_mib = 16", &format!("vmem_mib = 16\nname = {bad}")));
            assert!(s.contains("sram.name"), "{s}");
        }
        for bad in ["-1.0", "0.01"] {
            let s = error_of(
                &MIN.replace("vmem_mib = 16", &format!("vmem_mib = 16\npsum_mib = {bad}")),
            );
            assert!(s.contains("sram.psum_mib"), "{s}");
        }
    }

    /// The error message of a config text that must not parse.
    fn error_of(src: &str) -> String {
        SystolicConfig::from_toml(src, "t.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn absurd_values_rejected() {
        let src = MIN.replace("rows = 128", "rows = 100000");
        assert!(SystolicConfig::from_toml(&src, "t.toml").is_err());
        let s = error_of(&MIN.replace("vmem_mib = 16", "vmem_mib = 0.0001"));
        assert!(s.contains("sram.vmem_mib"), "{s}");
        let src = MIN.replace("[hbm]", "[hbm]\nefficiency = 1.5");
        assert!(SystolicConfig::from_toml(&src, "t.toml").is_err());
        let src = MIN
            .replace("dataflow", "x")
            .replace("cols = 128", "cols = 128\ndataflow = \"xs\"");
        assert!(SystolicConfig::from_toml(&src, "t.toml").is_err());
    }
}
