//! The one interface both hardware models implement, and the plain-data results they return.
//!
//! A [`Machine`] takes a lowered [`Op`], plans it (tile schedule / kernel plan: a value reported in
//! [`OpProfile::plan`]) and returns an [`OpProfile`]: cycles, time, the split of time by reason,
//! and [`Counters`] (MACs and bytes per memory level). Energy is computed from counters by
//! [`crate::energy`], never by the machine models themselves.

use crate::energy::{EnergyBreakdown, EnergyTable};
use crate::error::Result;
use crate::workload::{DType, Op};
use serde::{Deserialize, Serialize};

/// Which kind of model a machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineKind {
    Systolic,
    Simt,
}

/// Activity counters of one op: the inputs of the energy model. Bytes are bytes (not words).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Multiply-accumulates executed on the matrix units (useful MACs, not padded ones).
    pub macs: u128,
    /// Floating-point operations on the vector unit / CUDA cores (non-GEMM work).
    pub vector_flops: f64,
    /// Register / PE-local traffic: operand hops between PEs, accumulator and register-file
    /// reads and writes.
    pub reg_bytes: f64,
    /// On-chip SRAM (TPU VMEM/CMEM, GPU shared memory/L1) bytes read.
    pub sram_read_bytes: f64,
    /// On-chip SRAM bytes written.
    pub sram_write_bytes: f64,
    /// GPU L2 bytes read (0 on machines without an L2 level).
    pub l2_read_bytes: f64,
    /// GPU L2 bytes written.
    pub l2_write_bytes: f64,
    /// HBM/DRAM bytes read.
    pub hbm_read_bytes: f64,
    /// HBM/DRAM bytes written.
    pub hbm_write_bytes: f64,
    /// On-chip interconnect / NoC bytes (between cores or SMs and memory partitions).
    pub interconnect_bytes: f64,
}

impl Counters {
    pub fn hbm_bytes(&self) -> f64 {
        self.hbm_read_bytes + self.hbm_write_bytes
    }
    pub fn add(&mut self, o: &Counters) {
        self.macs += o.macs;
        self.vector_flops += o.vector_flops;
        self.reg_bytes += o.reg_bytes;
        self.sram_read_bytes += o.sram_read_bytes;
        self.sram_write_bytes += o.sram_write_bytes;
        self.l2_read_bytes += o.l2_read_bytes;
        self.l2_write_bytes += o.l2_write_bytes;
        self.hbm_read_bytes += o.hbm_read_bytes;
        self.hbm_write_bytes += o.hbm_write_bytes;
        self.interconnect_bytes += o.interconnect_bytes;
    }
}

/// Where the time of an op goes, in seconds. The parts sum to [`OpProfile::time_s`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeBreakdown {
    /// Matrix/vector units busy on useful work (including padding inside a used tile).
    pub compute_s: f64,
    /// Pipeline fill and drain of the array / tensor-core pipeline not hidden by overlap.
    pub fill_drain_s: f64,
    /// Memory transfers not hidden behind compute (exposed HBM/L2/SRAM time).
    pub memory_stall_s: f64,
    /// Tail wave, tile quantization and load imbalance across cores/SMs.
    pub tail_s: f64,
    /// Fixed per-op dispatch / kernel-launch overhead.
    pub overhead_s: f64,
    /// Time lost because the chip computes below the clock its peak is quoted at (power cap,
    /// DVFS): compute time at the sustained clock minus the same cycles at the peak clock.
    #[serde(default)]
    pub clock_throttle_s: f64,
}

impl TimeBreakdown {
    pub fn total_s(&self) -> f64 {
        self.compute_s
            + self.fill_drain_s
            + self.memory_stall_s
            + self.tail_s
            + self.overhead_s
            + self.clock_throttle_s
    }
    /// Name of the largest non-compute component ("none" when every loss is under 1 % of the
    /// time).
    pub fn main_stall(&self) -> &'static str {
        let parts = [
            ("fill_drain", self.fill_drain_s),
            ("memory", self.memory_stall_s),
            ("tail_quantization", self.tail_s),
            ("overhead", self.overhead_s),
            ("clock_throttle", self.clock_throttle_s),
        ];
        let (name, v) = parts
            .iter()
            .copied()
            .fold(("none", 0.0), |a, b| if b.1 > a.1 { b } else { a });
        // A loss under 1 % of the op's time is not a "main stall".
        if v <= 0.01 * self.total_s() {
            "none"
        } else {
            name
        }
    }
    pub fn add(&mut self, o: &TimeBreakdown) {
        self.compute_s += o.compute_s;
        self.fill_drain_s += o.fill_drain_s;
        self.memory_stall_s += o.memory_stall_s;
        self.tail_s += o.tail_s;
        self.overhead_s += o.overhead_s;
        self.clock_throttle_s += o.clock_throttle_s;
    }
}

/// SCALE-Sim 3.0.0 report values of one layer (present in SCALE-Sim compatible mode only).
/// Definitions: `tests/data/scalesim/MODEL.md` §3–§5.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScaleSimReport {
    pub total_cycles_incl_prefetch: i64,
    pub total_cycles: u64,
    pub stall_cycles: u64,
    pub overall_util_pct: f64,
    pub mapping_efficiency_pct: f64,
    pub compute_util_pct: f64,
    pub sram_ifmap_reads: u64,
    pub sram_filter_reads: u64,
    pub sram_ofmap_writes: u64,
    pub dram_ifmap_reads: u64,
    pub dram_filter_reads: u64,
    pub dram_ofmap_writes: u64,
    /// Start/stop cycles for DETAILED_ACCESS_REPORT.csv, in the order SRAM ifmap, filter, ofmap,
    /// DRAM ifmap, filter, ofmap; each (start, stop).
    pub access_cycles: [(i64, i64); 6],
}

/// The result of simulating one op on one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpProfile {
    pub name: String,
    /// "gemm" or the vector kind ("softmax", "layernorm", ...).
    pub op: String,
    pub m: u64,
    pub n: u64,
    pub k: u64,
    pub batch: u64,
    pub dtype: String,
    pub macs: u128,
    pub flops: f64,
    /// Total cycles of the op at the machine clock (compute + stall).
    pub cycles: u64,
    pub compute_cycles: u64,
    pub stall_cycles: u64,
    /// Device time of the op in seconds (see README "What time_s measures").
    pub time_s: f64,
    /// Achieved TFLOP/s = flops / time_s / 1e12.
    pub tflops: f64,
    /// Achieved fraction of the machine's peak for this dtype, 0..1.
    pub utilization: f64,
    /// Fraction of the PEs/tensor-core lanes that hold useful work in the mapped tiles, 0..1.
    pub mapping_efficiency: f64,
    pub energy_pj: f64,
    pub pj_per_mac: f64,
    pub time_breakdown_s: TimeBreakdown,
    /// Largest non-compute share of time: fill_drain, memory, tail_quantization, overhead, none.
    pub main_stall: String,
    pub counters: Counters,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy: Option<EnergyBreakdown>,
    /// The mapping / kernel plan chosen, machine-specific.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub plan: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scalesim: Option<ScaleSimReport>,
}

/// A hardware model. Both the systolic and the SIMT model implement it; nothing else knows which
/// one runs.
pub trait Machine: Send + Sync {
    /// Short name, e.g. "tpu_v5p" or "h100".
    fn name(&self) -> &str;
    fn kind(&self) -> MachineKind;
    /// The `"machine"` object of the JSON report: name, kind and main parameters.
    fn describe(&self) -> serde_json::Value;
    /// Clock in Hz that `cycles` count.
    fn clock_hz(&self) -> f64;
    /// Dense peak FLOP/s for a dtype (2 FLOPs per MAC).
    fn peak_flops(&self, dtype: DType) -> f64;
    /// Off-chip memory bandwidth in bytes/s (roofline).
    fn hbm_bandwidth_bytes_per_s(&self) -> f64;
    /// Per-action energies and static power.
    fn energy_table(&self) -> &EnergyTable;
    /// Plan and simulate one op. Energy fields are filled later by [`crate::energy::apply`].
    fn simulate(&self, op: &Op) -> Result<OpProfile>;
    /// Thermal design power of the chip in W, if the config gives one (used to check the
    /// energy model against chip-level figures).
    fn tdp_w(&self) -> Option<f64> {
        self.describe()["tdp_w"].as_f64()
    }
}

/// The `"machine"` object of a report: the model's own description plus the keys every
/// consumer (plots, roofline, verdict) relies on, computed from the trait so they are present
/// for every model: `name`, `kind`, `clock_mhz`, `hbm_bandwidth_gbps`, `peak_tflops` (dense, for
/// `main_dtype`), `peak_tflops_by_dtype`, `tdp_w` (null if unknown).
pub fn describe_with_standard_keys(m: &dyn Machine, main_dtype: DType) -> serde_json::Value {
    let mut v = m.describe();
    if !v.is_object() {
        v = serde_json::json!({});
    }
    let obj = v.as_object_mut().expect("object");
    obj.insert("name".into(), m.name().into());
    obj.insert(
        "kind".into(),
        serde_json::to_value(m.kind()).unwrap_or(serde_json::Value::Null),
    );
    obj.insert("clock_mhz".into(), (m.clock_hz() / 1e6).into());
    obj.insert(
        "hbm_bandwidth_gbps".into(),
        (m.hbm_bandwidth_bytes_per_s() / 1e9).into(),
    );
    obj.insert("main_dtype".into(), main_dtype.as_str().into());
    obj.insert(
        "peak_tflops".into(),
        (m.peak_flops(main_dtype) / 1e12).into(),
    );
    let by: serde_json::Map<String, serde_json::Value> = DType::ALL
        .iter()
        .map(|d| (d.as_str().to_string(), (m.peak_flops(*d) / 1e12).into()))
        .collect();
    obj.insert("peak_tflops_by_dtype".into(), by.into());
    obj.insert(
        "tdp_w".into(),
        m.tdp_w().map(Into::into).unwrap_or(serde_json::Value::Null),
    );
    v
}

/// Fill the common derived fields of a profile from its time, cycles and flops.
pub fn finish_profile(p: &mut OpProfile, peak_flops: f64) {
    p.tflops = if p.time_s > 0.0 {
        p.flops / p.time_s / 1e12
    } else {
        0.0
    };
    p.utilization = if p.time_s > 0.0 && peak_flops > 0.0 {
        (p.flops / p.time_s / peak_flops).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.main_stall = p.time_breakdown_s.main_stall().to_string();
}

/// Start a profile with the shape fields of an op filled in.
pub fn profile_for(op: &Op) -> OpProfile {
    match op {
        Op::Gemm(g) => OpProfile {
            name: g.name.clone(),
            op: "gemm".into(),
            m: g.m,
            n: g.n,
            k: g.k,
            batch: g.batch,
            dtype: g.dtype.to_string(),
            macs: g.macs(),
            flops: g.flops(),
            ..Default::default()
        },
        Op::Vector(v) => OpProfile {
            name: v.name.clone(),
            op: v.kind.as_str().into(),
            m: v.elements,
            n: 1,
            k: 1,
            batch: 1,
            dtype: v.dtype.to_string(),
            macs: 0,
            flops: v.flops(),
            ..Default::default()
        },
    }
}
