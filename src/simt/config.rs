//! archsim TOML config of a SIMT (GPU) machine: `kind = "simt"`.
//!
//! Every section is plain data with `deny_unknown_fields`; [`SimtConfig::from_toml`] parses and
//! then validates every value, pointing errors at the file, line and dotted key. The shipped
//! configs (`configs/a100.toml`, `h100.toml`, `h200.toml`, `b200.toml`, `gb200.toml`,
//! `b300.toml`, and AMD's `mi300x.toml`, `mi325x.toml`, `mi355x.toml` with `arch = "cdna3"` /
//! `"cdna4"` and `[sm] warp_size = 64`) cite a source from `docs/SPECS.md` for every number.

use crate::config::{from_toml, key_error};
use crate::config::{CompareSection, CostSection, ValidationStatus, WorkloadSection};
use crate::energy::EnergyTable;
use crate::error::Result;
use crate::workload::DType;
use serde::{Deserialize, Serialize};

/// GPU architecture generation: decides the GEMM kernel family the planner builds (its matrix
/// instruction, tile shapes and pipeline) and the names of the memory levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// sm_80: `mma.sync` per warp + `cp.async` multistage pipeline (CUTLASS 2.x sm80 kernels).
    Ampere,
    /// sm_90: warpgroup `wgmma` from shared memory + TMA, warp-specialized producer/consumer
    /// warpgroups, thread-block clusters with TMA multicast (CUTLASS 3.x sm90 kernels).
    Hopper,
    /// sm_100: `tcgen05.mma` issued by one thread, accumulators in tensor memory (TMEM), TMA,
    /// warp-specialized (CUTLASS 3.x sm100 kernels).
    Blackwell,
    /// AMD CDNA 3 (gfx942: MI300X, MI325X): wavefront-64 `v_mfma` matrix instructions per
    /// wave on the matrix core of its SIMD, operands from VGPRs loaded out of the LDS;
    /// multistage kernels whose newest stage is prefetched into VGPRs (hipBLASLt / Tensile
    /// `PrefetchGlobalRead`). See [`crate::simt::plan`].
    Cdna3,
    /// AMD CDNA 4 (gfx950: MI350X, MI355X): as CDNA 3 with twice the 16-bit and 8-bit MFMA
    /// rate per CU, MXFP4/MXFP6 MFMAs (`v_mfma_scale_f32_*_f8f6f4`) and a 160 KiB LDS.
    Cdna4,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Ampere => "ampere",
            Arch::Hopper => "hopper",
            Arch::Blackwell => "blackwell",
            Arch::Cdna3 => "cdna3",
            Arch::Cdna4 => "cdna4",
        }
    }

    /// AMD CDNA (matrix cores, wavefronts, LDS, Infinity Cache) rather than NVIDIA.
    pub fn is_cdna(self) -> bool {
        matches!(self, Arch::Cdna3 | Arch::Cdna4)
    }
}

/// How fp32 GEMMs run. PyTorch's default (`torch.backends.cuda.matmul.allow_tf32 = False`
/// since 1.12) and cuBLAS's `CUBLAS_DEFAULT_MATH` run fp32 on CUDA cores (SGEMM); `tf32` runs it
/// on tensor cores with TF32 inputs (`CUBLAS_TF32_TENSOR_OP_MATH`, `allow_tf32 = True`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fp32Math {
    #[default]
    CudaCore,
    Tf32,
}

impl Fp32Math {
    pub fn as_str(self) -> &'static str {
        match self {
            Fp32Math::CudaCore => "cuda_core",
            Fp32Math::Tf32 => "tf32",
        }
    }
}

/// `[sm]`: one streaming multiprocessor (AMD: compute unit, CU) and how many there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmSection {
    /// Enabled SMs (CUs) on the chip.
    pub count: u32,
    /// Sub-partitions (warp schedulers, each issuing one warp-instruction per clock) per SM;
    /// on AMD CDNA the SIMDs of a CU, each with its own matrix core.
    pub sub_partitions: u32,
    /// Threads per warp: 32 on NVIDIA (the default), 64 for an AMD CDNA wavefront. Sets the
    /// threads of a CTA, the per-thread register budget, the bytes of one warp-wide load or
    /// store instruction (16 B per thread) and the width of an FFMA warp-instruction.
    #[serde(
        default = "warp_size_default",
        skip_serializing_if = "is_default_warp_size"
    )]
    pub warp_size: u32,
    /// FP32 CUDA-core lanes per SM (FFMA per clock).
    pub fp32_lanes: u32,
    /// 32-bit registers per SM.
    pub registers: u32,
    /// Largest shared memory one SM can give its resident CTAs, in bytes.
    pub smem_bytes: u32,
    /// Shared-memory bandwidth per SM in bytes per clock.
    pub smem_bytes_per_clk: u32,
    /// Most resident threads per SM.
    pub max_threads: u32,
    /// Most resident CTAs (thread blocks) per SM.
    pub max_ctas: u32,
    /// Most 32-bit registers one thread may use.
    pub max_regs_per_thread: u32,
    /// Special-function-unit results (ex2, rsqrt, rcp, ...) per clock per SM: 16 on compute
    /// capabilities 8.0–10.0 (CUDA C++ Programming Guide, "Arithmetic Instructions" throughput
    /// table). Bounds the softmax of fused attention (FlashAttention-3 §3: exp throughput).
    #[serde(default = "sfu_default")]
    pub sfu_per_clk: u32,
}

fn sfu_default() -> u32 {
    16
}

fn warp_size_default() -> u32 {
    32
}

fn is_default_warp_size(x: &u32) -> bool {
    *x == 32
}

/// `[tensor_core]`: dense tensor-core throughput per SM per clock by dtype (FMA = MAC), 0 when
/// the dtype is not supported on this architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TensorCoreSection {
    pub fp16_fma_per_clk_per_sm: u32,
    pub bf16_fma_per_clk_per_sm: u32,
    pub tf32_fma_per_clk_per_sm: u32,
    pub fp8_fma_per_clk_per_sm: u32,
    pub int8_fma_per_clk_per_sm: u32,
    /// Block-scaled fp4 (NVFP4 and MXFP4: Blackwell `tcgen05.mma` kinds `mxf4nvf4` / `mxf4`,
    /// both at the fp4 rate). Optional: absent or 0 means no fp4 tensor cores, and fp4 GEMMs run
    /// at the fallback precision ([`crate::machine::MachineInfo::math_dtype`]).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub fp4_fma_per_clk_per_sm: u32,
    /// Latency of one MMA instruction from issue to result, in cycles.
    pub mma_latency_cycles: u32,
    /// What fp32 GEMMs run on (default `cuda_core`, as PyTorch and cuBLAS default).
    #[serde(default)]
    pub fp32_math: Fp32Math,
}

fn is_zero_u32(x: &u32) -> bool {
    *x == 0
}

fn is_zero_u64(x: &u64) -> bool {
    *x == 0
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

/// `[clock]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSection {
    /// Clock at which the vendor's dense tensor peak is quoted (MHz).
    pub tensor_mhz: f64,
    /// Maximum boost clock (MHz); the vendor's FP32 CUDA-core peak is quoted at it.
    pub boost_mhz: f64,
    /// Lowest clock of the DVFS range (MHz): the floor of the power-limited clock
    /// ([`crate::energy::power_limited_clock_hz`]). 0 (the default): no published floor.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub min_mhz: f64,
}

/// `[memory]`: the hierarchy below the SM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySection {
    /// L2 capacity of the whole chip (AMD CDNA: the per-XCD L2s together).
    pub l2_bytes: u64,
    /// L2 → SM bandwidth of the whole chip, GB/s (1e9 B/s).
    pub l2_bandwidth_gbps: f64,
    /// A last-level cache between the L2 and HBM shared by the whole chip (AMD Infinity Cache,
    /// "MALL"), bytes; 0 (the default) when the chip has none. When present it is the cache
    /// whose capacity decides how much operand reuse reaches HBM, and L2 misses are served from
    /// it at `infinity_cache_bandwidth_gbps`.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub infinity_cache_bytes: u64,
    /// Peak bandwidth of the Infinity Cache to the L2s of the whole chip, GB/s.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub infinity_cache_bandwidth_gbps: f64,
    pub hbm_bytes: u64,
    /// HBM peak bandwidth, GB/s.
    pub hbm_bandwidth_gbps: f64,
    /// Fraction of the HBM peak a streaming kernel achieves (device-to-device copy).
    pub hbm_efficiency: f64,
    pub smem_latency_cycles: u32,
    pub l1_latency_cycles: u32,
    pub l2_latency_cycles: u32,
    pub hbm_latency_cycles: u32,
}

/// `[kernel]`: fixed costs of running one kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KernelSection {
    /// Per-kernel cost seen by back-to-back kernels on one stream (launch gap), µs. This is the
    /// `overhead` part of every op's time.
    pub launch_overhead_us: f64,
    /// Fixed in-kernel cost not simulated per warp (grid launch, CTA rasterization, descriptor
    /// fetch, grid-wide completion and memory flush), µs. Calibrated.
    pub kernel_fixed_us: f64,
    /// Extra host-side cost when a host timer wraps each call with a synchronize (dispatch +
    /// sync round trip), µs; used only to compare with host-timed measurements. Calibrated.
    pub host_sync_overhead_us: f64,
    /// Kernel efficiency: the fraction of the simulated kernel speed the real kernels reach,
    /// for what the simulation does not see (scheduling, instruction overheads, cuBLAS
    /// heuristics): a kernel at SM clock f runs as the simulated one at f × efficiency, and the
    /// power model sets f on that kernel's power. Fitted on calibration rows, at most 1 (see
    /// the config comment and `src/jobs/validate/gpu.rs::calibrate`); reported as
    /// `kernel_efficiency` time, not as clock throttling. Default 1.
    #[serde(default = "one_f64")]
    pub kernel_efficiency: f64,
    /// The same for fp8 and fp4 GEMMs; defaults to `kernel_efficiency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_efficiency_8bit: Option<f64>,
    /// The same for int8 GEMMs (IMMA kernels); defaults to `kernel_efficiency_8bit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_efficiency_int8: Option<f64>,
    /// The same for fp32 GEMMs on the CUDA cores (SGEMM); defaults to `kernel_efficiency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_efficiency_fp32: Option<f64>,
}

fn one_f64() -> f64 {
    1.0
}

/// `[power]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerSection {
    pub tdp_w: f64,
}

/// A SIMT (GPU) machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimtConfig {
    /// Machine kind: "simt".
    pub kind: String,
    /// Human name, e.g. "NVIDIA H100 SXM5 80GB".
    pub name: String,
    /// One line on what the config models (`archsim list`); optional.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub arch: Arch,
    pub sm: SmSection,
    pub tensor_core: TensorCoreSection,
    pub clock: ClockSection,
    pub memory: MemorySection,
    pub kernel: KernelSection,
    pub power: PowerSection,
    #[serde(default)]
    pub energy: EnergyTable,
    /// `[compare]`: the machine the main job compares this one with.
    pub compare: Option<CompareSection>,
    /// `[workload]`: the main job's default workloads and models.
    pub workload: Option<WorkloadSection>,
    /// `[cost]`: price of a chip-hour, for price-performance; absent: no USD figures.
    pub cost: Option<CostSection>,
    /// What the predictions were checked against (`archsim validate`); absent: no rows.
    #[serde(default)]
    pub validation: ValidationStatus,
}

impl SimtConfig {
    /// Parse and validate a SIMT config; `file` names it in errors.
    pub fn from_toml(src: &str, file: &str) -> Result<Self> {
        let cfg: SimtConfig = from_toml(src, file)?;
        cfg.validate(src, file)?;
        Ok(cfg)
    }

    /// Check every value is in a physically sensible range; the error names the key and line.
    pub fn validate(&self, src: &str, file: &str) -> Result<()> {
        let bad = |key: &str, msg: String| key_error(src, file, key, msg);
        if self.kind != "simt" {
            return Err(bad(
                "kind",
                format!("expected \"simt\", got \"{}\"", self.kind),
            ));
        }
        // (key, value, min, max): inclusive ranges of plausible hardware.
        let ints: [(&str, u64, u64, u64); 14] = [
            ("sm.count", self.sm.count as u64, 1, 4096),
            ("sm.sub_partitions", self.sm.sub_partitions as u64, 1, 16),
            ("sm.fp32_lanes", self.sm.fp32_lanes as u64, 1, 1024),
            ("sm.registers", self.sm.registers as u64, 1024, 1 << 22),
            (
                "sm.smem_bytes",
                self.sm.smem_bytes as u64,
                16 * 1024,
                16 << 20,
            ),
            (
                "sm.smem_bytes_per_clk",
                self.sm.smem_bytes_per_clk as u64,
                1,
                4096,
            ),
            ("sm.max_threads", self.sm.max_threads as u64, 32, 65536),
            ("sm.max_ctas", self.sm.max_ctas as u64, 1, 1024),
            (
                "sm.max_regs_per_thread",
                self.sm.max_regs_per_thread as u64,
                16,
                1024,
            ),
            (
                "tensor_core.mma_latency_cycles",
                self.tensor_core.mma_latency_cycles as u64,
                1,
                10_000,
            ),
            ("memory.l2_bytes", self.memory.l2_bytes, 1024, 1 << 40),
            ("memory.hbm_bytes", self.memory.hbm_bytes, 1 << 20, 1 << 50),
            (
                "memory.l2_latency_cycles",
                self.memory.l2_latency_cycles as u64,
                1,
                100_000,
            ),
            (
                "memory.hbm_latency_cycles",
                self.memory.hbm_latency_cycles as u64,
                1,
                100_000,
            ),
        ];
        for (k, v, lo, hi) in ints {
            if v < lo || v > hi {
                return Err(bad(k, format!("{v} is out of range: expected {lo}..={hi}")));
            }
        }
        let ws = self.sm.warp_size;
        if !ws.is_power_of_two() || !(8..=128).contains(&ws) {
            return Err(bad(
                "sm.warp_size",
                format!("{ws} is not a warp size: expected a power of two in 8..=128 (32 NVIDIA, 64 AMD CDNA)"),
            ));
        }
        if self.sm.max_threads < ws {
            return Err(bad(
                "sm.max_threads",
                format!(
                    "{} threads cannot hold one warp of {ws}",
                    self.sm.max_threads
                ),
            ));
        }
        let m = &self.memory;
        if m.infinity_cache_bytes > 1 << 40 {
            return Err(bad(
                "memory.infinity_cache_bytes",
                format!(
                    "{} is out of range: expected 0..=2^40",
                    m.infinity_cache_bytes
                ),
            ));
        }
        let icb = m.infinity_cache_bandwidth_gbps;
        if !icb.is_finite() || !(0.0..=1e6).contains(&icb) {
            return Err(bad(
                "memory.infinity_cache_bandwidth_gbps",
                format!("{icb} is out of range: expected a finite value in [0, 1e6]"),
            ));
        }
        if (m.infinity_cache_bytes > 0) != (icb > 0.0) {
            return Err(bad(
                if m.infinity_cache_bytes > 0 {
                    "memory.infinity_cache_bandwidth_gbps"
                } else {
                    "memory.infinity_cache_bytes"
                },
                "an Infinity Cache needs both memory.infinity_cache_bytes > 0 and \
                 memory.infinity_cache_bandwidth_gbps > 0 (or neither)"
                    .into(),
            ));
        }
        if self.sm.sub_partitions > 0 && !self.sm.fp32_lanes.is_multiple_of(self.sm.sub_partitions)
        {
            return Err(bad(
                "sm.fp32_lanes",
                format!(
                    "{} lanes do not split evenly over {} sub-partitions",
                    self.sm.fp32_lanes, self.sm.sub_partitions
                ),
            ));
        }
        let tc = &self.tensor_core;
        for (k, v) in [
            (
                "tensor_core.fp16_fma_per_clk_per_sm",
                tc.fp16_fma_per_clk_per_sm,
            ),
            (
                "tensor_core.bf16_fma_per_clk_per_sm",
                tc.bf16_fma_per_clk_per_sm,
            ),
            (
                "tensor_core.tf32_fma_per_clk_per_sm",
                tc.tf32_fma_per_clk_per_sm,
            ),
            (
                "tensor_core.fp8_fma_per_clk_per_sm",
                tc.fp8_fma_per_clk_per_sm,
            ),
            (
                "tensor_core.int8_fma_per_clk_per_sm",
                tc.int8_fma_per_clk_per_sm,
            ),
            (
                "tensor_core.fp4_fma_per_clk_per_sm",
                tc.fp4_fma_per_clk_per_sm,
            ),
        ] {
            if v > 1 << 20 {
                return Err(bad(k, format!("{v} FMA/clk/SM is absurd (> 2^20)")));
            }
            if v != 0 && v % self.sm.sub_partitions.max(1) != 0 {
                return Err(bad(
                    k,
                    format!("{v} does not split evenly over the sub-partitions' tensor cores"),
                ));
            }
        }
        if tc.bf16_fma_per_clk_per_sm == 0 && tc.fp16_fma_per_clk_per_sm == 0 {
            return Err(bad(
                "tensor_core.bf16_fma_per_clk_per_sm",
                "a SIMT machine needs 16-bit tensor-core throughput > 0".into(),
            ));
        }
        // (key, value, min exclusive, max inclusive)
        let floats: [(&str, f64, f64, f64); 14] = [
            ("clock.tensor_mhz", self.clock.tensor_mhz, 0.0, 10_000.0),
            ("clock.boost_mhz", self.clock.boost_mhz, 0.0, 10_000.0),
            (
                "kernel.kernel_efficiency_8bit",
                self.kernel
                    .kernel_efficiency_8bit
                    .unwrap_or(self.kernel.kernel_efficiency),
                0.0,
                1.5,
            ),
            (
                "kernel.kernel_efficiency_int8",
                self.kernel
                    .kernel_efficiency_int8
                    .unwrap_or(self.kernel.kernel_efficiency),
                0.0,
                1.5,
            ),
            (
                "kernel.kernel_efficiency_fp32",
                self.kernel
                    .kernel_efficiency_fp32
                    .unwrap_or(self.kernel.kernel_efficiency),
                0.0,
                1.5,
            ),
            (
                "kernel.kernel_efficiency",
                self.kernel.kernel_efficiency,
                0.0,
                1.5,
            ),
            (
                "memory.l2_bandwidth_gbps",
                self.memory.l2_bandwidth_gbps,
                0.0,
                1e6,
            ),
            (
                "memory.hbm_bandwidth_gbps",
                self.memory.hbm_bandwidth_gbps,
                0.0,
                1e6,
            ),
            (
                "memory.hbm_efficiency",
                self.memory.hbm_efficiency,
                0.0,
                1.0,
            ),
            ("power.tdp_w", self.power.tdp_w, 0.0, 100_000.0),
            (
                "kernel.launch_overhead_us",
                self.kernel.launch_overhead_us + 1e-300,
                0.0,
                1e5,
            ),
            (
                "kernel.kernel_fixed_us",
                self.kernel.kernel_fixed_us + 1e-300,
                0.0,
                1e5,
            ),
            (
                "kernel.host_sync_overhead_us",
                self.kernel.host_sync_overhead_us + 1e-300,
                0.0,
                1e6,
            ),
            (
                "memory.smem_latency_cycles",
                self.memory.smem_latency_cycles as f64,
                0.0,
                10_000.0,
            ),
        ];
        for (k, v, lo, hi) in floats {
            if !v.is_finite() || v <= lo || v > hi {
                return Err(bad(
                    k,
                    format!("{v} is out of range: expected a finite value in ({lo}, {hi}]"),
                ));
            }
        }
        if let Err((k, v)) = self.energy.validate() {
            return Err(bad(
                &format!("energy.{k}"),
                format!("{v} must be finite and >= 0"),
            ));
        }
        let m = self.clock.min_mhz;
        if !m.is_finite() || m < 0.0 || m > self.clock.tensor_mhz.min(self.clock.boost_mhz) {
            return Err(bad(
                "clock.min_mhz",
                format!("{m} must be in 0..=the tensor and boost clocks (MHz)"),
            ));
        }
        if let Err((k, msg)) = self.validation.check() {
            return Err(bad(k, msg));
        }
        if let Some(c) = &self.cost {
            if !c.usd_per_chip_hour.is_finite() || c.usd_per_chip_hour < 0.0 {
                return Err(bad(
                    "cost.usd_per_chip_hour",
                    format!("{} must be finite and >= 0", c.usd_per_chip_hour),
                ));
            }
        }
        Ok(())
    }

    /// Dense tensor-core FMA per SM per clock for an operand dtype (fp32 = TF32), 0 when the
    /// architecture has no tensor-core path for it.
    pub fn tensor_fma_per_clk_per_sm(&self, dtype: DType) -> u32 {
        let tc = &self.tensor_core;
        match dtype {
            DType::Fp32 => tc.tf32_fma_per_clk_per_sm,
            DType::Bf16 => tc.bf16_fma_per_clk_per_sm,
            DType::Fp16 => tc.fp16_fma_per_clk_per_sm,
            DType::Fp8 => tc.fp8_fma_per_clk_per_sm,
            DType::Int8 => tc.int8_fma_per_clk_per_sm,
            DType::Fp4 | DType::Mxfp4 => tc.fp4_fma_per_clk_per_sm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h100() -> String {
        crate::config::shipped("h100").unwrap().1.to_string()
    }

    fn error_of(src: &str) -> String {
        SimtConfig::from_toml(src, "g.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn warp_size_defaults_to_32_and_must_be_a_power_of_two() {
        let c = SimtConfig::from_toml(&h100(), "g.toml").unwrap();
        assert_eq!(c.sm.warp_size, 32);
        let src = h100().replace("sub_partitions = 4", "sub_partitions = 4\nwarp_size = 64");
        assert_eq!(
            SimtConfig::from_toml(&src, "g.toml").unwrap().sm.warp_size,
            64
        );
        for bad in ["48", "0", "256"] {
            let s = error_of(&h100().replace(
                "sub_partitions = 4",
                &format!("sub_partitions = 4\nwarp_size = {bad}"),
            ));
            assert!(s.contains("sm.warp_size") && s.contains("g.toml:"), "{s}");
        }
    }

    #[test]
    fn infinity_cache_needs_size_and_bandwidth() {
        let with = |extra: &str| {
            h100().replace(
                "l2_bandwidth_gbps = 5500",
                &format!("l2_bandwidth_gbps = 5500\n{extra}"),
            )
        };
        let ok = SimtConfig::from_toml(
            &with("infinity_cache_bytes = 268435456\ninfinity_cache_bandwidth_gbps = 17000"),
            "g.toml",
        )
        .unwrap();
        assert_eq!(ok.memory.infinity_cache_bytes, 1 << 28);
        let s = error_of(&with("infinity_cache_bytes = 268435456"));
        assert!(s.contains("memory.infinity_cache_bandwidth_gbps"), "{s}");
        let s = error_of(&with("infinity_cache_bandwidth_gbps = 17000"));
        assert!(s.contains("memory.infinity_cache_bytes"), "{s}");
    }

    #[test]
    fn cdna_arch_names() {
        let src = h100().replace("arch = \"hopper\"", "arch = \"cdna3\"");
        let c = SimtConfig::from_toml(&src, "g.toml").unwrap();
        assert_eq!(c.arch, Arch::Cdna3);
        assert!(c.arch.is_cdna() && !Arch::Hopper.is_cdna());
        assert_eq!(Arch::Cdna4.as_str(), "cdna4");
        let s = error_of(&h100().replace("arch = \"hopper\"", "arch = \"cdna5\""));
        assert!(s.contains("arch"), "{s}");
    }
}
