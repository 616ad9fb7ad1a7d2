//! The one interface both hardware models implement, and the plain-data results they return.
//!
//! A [`Machine`] takes a lowered [`Op`], plans it (tile schedule / kernel plan: a value reported in
//! [`OpProfile::plan`]) and returns an [`OpProfile`]: cycles, time, the split of time by reason,
//! and [`Counters`] (MACs and bytes per memory level). Energy is computed from counters by
//! [`crate::energy`], never by the machine models themselves.

pub mod attention;
pub mod memo;

pub use crate::energy::Counters;
use crate::energy::{EnergyBreakdown, EnergyTable};
use crate::error::Result;
use crate::units::{add_fields, scale_fields};
use crate::workload::{DType, Op};
use serde::{Deserialize, Serialize};

/// Which kind of model a machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MachineKind {
    Systolic,
    Simt,
}

impl MachineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MachineKind::Systolic => "systolic",
            MachineKind::Simt => "simt",
        }
    }
}

/// Where the time of an op goes, in seconds. The parts sum to [`OpProfile::time_s`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimeBreakdown {
    /// Matrix/vector units busy on useful work (including padding inside a used tile).
    pub compute_s: f64,
    /// Pipeline fill and drain of the array / tensor-core pipeline not hidden by overlap, and
    /// the latency of a kernel's first memory access.
    pub fill_drain_s: f64,
    /// Memory transfers not hidden behind compute (exposed HBM/L2/SRAM time).
    pub memory_stall_s: f64,
    /// Tail effects: tail wave, tile quantization and load imbalance across cores/SMs.
    pub tail_s: f64,
    /// Fixed per-op costs on both machine families: TPU dispatch, GPU kernel launch and the
    /// fixed in-kernel cost (prologue/epilogue setup).
    pub overhead_s: f64,
    /// Time lost because the chip computes below the clock its peak is quoted at: compute
    /// cycles at the power-limited clock ([`crate::energy::power_limited_clock_hz`]) minus the
    /// same cycles at the nominal clock.
    #[serde(default)]
    pub clock_throttle_s: f64,
    /// Time lost to the fitted kernel efficiency (config `kernel_efficiency`: what the real
    /// kernels lose that the simulation does not see, fitted on measured rows): the op's
    /// clock-scaled time divided by the efficiency minus the same time at efficiency 1.
    #[serde(default)]
    pub kernel_efficiency_s: f64,
}

impl TimeBreakdown {
    /// The parts in a fixed order, named as the trace and CSVs name them (the field names
    /// without `_s`): compute, then the losses.
    ///
    /// These names are the one stall vocabulary of both machine families: `main_stall`, the
    /// verdict, the CSVs and the trace use them and no others.
    pub fn parts(&self) -> [(&'static str, f64); 7] {
        [
            ("compute", self.compute_s),
            ("fill_drain", self.fill_drain_s),
            ("memory_stall", self.memory_stall_s),
            ("tail", self.tail_s),
            ("overhead", self.overhead_s),
            ("clock_throttle", self.clock_throttle_s),
            ("kernel_efficiency", self.kernel_efficiency_s),
        ]
    }
    pub fn total_s(&self) -> f64 {
        self.parts().iter().map(|(_, s)| s).sum()
    }
    /// The largest loss (non-compute part) and its time; ("none", 0) when there is none.
    pub fn largest_loss(&self) -> (&'static str, f64) {
        self.parts()[1..]
            .iter()
            .copied()
            .fold(("none", 0.0), |a, b| if b.1 > a.1 { b } else { a })
    }
    /// Name of the largest non-compute component, as `main_stall` reports it: one of the
    /// [`TimeBreakdown::parts`] names (`fill_drain`, `memory_stall`, `tail`, `overhead`,
    /// `clock_throttle`, `kernel_efficiency`); "none" when every loss is under 1 % of the time.
    pub fn main_stall(&self) -> &'static str {
        let (name, v) = self.largest_loss();
        // A loss under 1 % of the op's time is not a "main stall".
        if v <= 0.01 * self.total_s() {
            return "none";
        }
        name
    }
    /// The times of `r` executions.
    pub fn times(&self, r: u64) -> TimeBreakdown {
        let mut t = self.clone();
        let k = r as f64;
        scale_fields!(t, k; compute_s, fill_drain_s, memory_stall_s, tail_s, overhead_s,
            clock_throttle_s, kernel_efficiency_s);
        t
    }
    pub fn add(&mut self, o: &TimeBreakdown) {
        add_fields!(self, o; compute_s, fill_drain_s, memory_stall_s, tail_s, overhead_s,
            clock_throttle_s, kernel_efficiency_s);
    }
}

/// SCALE-Sim 3.0.0 report values of one layer (present in SCALE-Sim compatible mode only).
/// Definitions: `docs/scalesim/MODEL.md` §3–§5.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScaleSimReport {
    /// Cycles including the initial SRAM prefetch, as SCALE-Sim's COMPUTE_REPORT.
    pub total_cycles_incl_prefetch: i64,
    /// Cycles of the layer, as SCALE-Sim reports them.
    pub total_cycles: u64,
    /// Stall cycles, as SCALE-Sim reports them.
    pub stall_cycles: u64,
    /// Overall utilization, percent.
    pub overall_util_pct: f64,
    /// Mapping efficiency, percent.
    pub mapping_efficiency_pct: f64,
    /// Compute utilization, percent.
    pub compute_util_pct: f64,
    /// SRAM ifmap reads (words).
    pub sram_ifmap_reads: u64,
    /// SRAM filter reads (words).
    pub sram_filter_reads: u64,
    /// SRAM ofmap writes (words).
    pub sram_ofmap_writes: u64,
    /// DRAM ifmap reads (words).
    pub dram_ifmap_reads: u64,
    /// DRAM filter reads (words).
    pub dram_filter_reads: u64,
    /// DRAM ofmap writes (words).
    pub dram_ofmap_writes: u64,
    /// Start/stop cycles for DETAILED_ACCESS_REPORT.csv, in the order SRAM ifmap, filter, ofmap,
    /// DRAM ifmap, filter, ofmap; each (start, stop).
    pub access_cycles: [(i64, i64); 6],
}

/// The result of simulating one op on one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpProfile {
    /// Op name from the workload.
    pub name: String,
    /// "gemm" or the vector kind ("softmax", "layernorm", ...).
    pub op: String,
    /// GEMM rows M of C[M×N] = A[M×K]·B[K×N]; attention: query positions; vector ops: elements.
    pub m: u64,
    /// GEMM columns N; attention: key/value positions; vector ops: 1.
    pub n: u64,
    /// GEMM contraction length K; attention: head dimension; vector ops: 1.
    pub k: u64,
    /// Independent GEMMs of this shape in the op (batched matmul; attention: batch × heads).
    pub batch: u64,
    /// Operand dtype: how the op's tensors are stored and moved.
    pub dtype: DType,
    /// The precision the matrix math ran at: `dtype`, except for an fp4 GEMM on a machine
    /// without fp4 units, which runs at the fallback [`MachineInfo::math_dtype`] chooses (its
    /// operands still stored and moved in fp4). Peak, utilization and MAC energy are those of
    /// this precision. Vector ops: `dtype`.
    pub math_dtype: DType,
    /// Why the op ran otherwise than asked, in words (the fp4 fallback); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Useful multiply-accumulates of one execution (1 MAC = 2 FLOPs).
    pub macs: u128,
    /// FLOPs of one execution: 2 per MAC plus vector FLOPs.
    pub flops: f64,
    /// Total cycles of the op at the machine clock (compute + stall).
    pub cycles: u64,
    /// Cycles the units do useful work.
    pub compute_cycles: u64,
    /// Cycles lost to fill/drain, exposed memory, tails and overhead.
    pub stall_cycles: u64,
    /// Device time of the op in seconds (see README "What time_s measures").
    pub time_s: f64,
    /// Achieved TFLOP/s = flops / time_s / 1e12.
    pub tflops: f64,
    /// Achieved fraction of the peak of the unit that runs the op, 0..1: the matrix unit's
    /// peak for the math dtype (GEMMs, attention), the vector unit's (TPU VPU, GPU CUDA cores)
    /// for vector ops.
    pub utilization: f64,
    /// Achieved HBM bandwidth as a fraction of the peak: (HBM read + write bytes) / time_s /
    /// the chip's peak HBM bandwidth, 0..1 (0 when the peak is unknown).
    #[serde(default)]
    pub hbm_bw_fraction: f64,
    /// Fraction of the PEs/tensor-core lanes that hold useful work in the mapped tiles, 0..1.
    pub mapping_efficiency: f64,
    /// The core clock the op ran at as a fraction of the nominal clock of its unit, where a
    /// power governor chose it ([`crate::energy::power_governed_clock_hz`]; 1 when the power
    /// limit did not bind); absent on machines without a power limit. The reported core
    /// switching energy is scaled to this clock ([`crate::energy::energy_at_clock`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_fraction: Option<f64>,
    /// Energy of one execution.
    pub energy_pj: f64,
    /// energy_pj / macs, in pJ per MAC.
    pub pj_per_mac: f64,
    /// Where the op's time went.
    pub time_breakdown_s: TimeBreakdown,
    /// Largest non-compute share of time: a [`TimeBreakdown::parts`] name, or none.
    pub main_stall: String,
    /// Activity counters of one execution.
    pub counters: Counters,
    /// Energy of one execution by component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy: Option<EnergyBreakdown>,
    /// The mapping / kernel plan chosen, machine-specific; absent when the model has none.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub plan: serde_json::Value,
    /// SCALE-Sim 3.0.0 report values (SCALE-Sim compatible mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scalesim: Option<ScaleSimReport>,
    /// Times the run executes this op: a model's repeated layers are simulated once and
    /// counted `repeat` times in the totals. Omitted from JSON when 1.
    #[serde(default, skip_serializing_if = "Repeat::is_one")]
    pub repeat: Repeat,
}

/// How many times an op runs ([`OpProfile::repeat`]); 1 by default. Serializes as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Repeat(pub u64);

impl Default for Repeat {
    fn default() -> Self {
        Repeat(1)
    }
}

impl Repeat {
    pub fn is_one(&self) -> bool {
        self.0 == 1
    }
}

/// One level of a chip's memory hierarchy, outermost (HBM/DRAM) first in
/// [`MachineInfo::memory`]. Named, so a chip with other levels (SBUF/PSUM, an Infinity Cache)
/// fits without a new field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryLevel {
    /// Level name: `hbm`, `l2`, `smem`, `vmem`, `cmem`, `sram`, ...
    pub name: String,
    /// Capacity of the level on the whole chip, in bytes, where the config gives it.
    pub capacity_bytes: Option<u64>,
    /// Peak bandwidth of the level on the whole chip, in bytes/s, where the model uses one.
    pub bandwidth_bytes_per_s: Option<f64>,
}

impl MemoryLevel {
    pub fn new(
        name: &str,
        capacity_bytes: Option<u64>,
        bandwidth_bytes_per_s: Option<f64>,
    ) -> Self {
        MemoryLevel {
            name: name.to_string(),
            capacity_bytes,
            bandwidth_bytes_per_s,
        }
    }
}

/// The typed facts of a machine that reports, plots, comparisons and the system layer read:
/// nothing above the models parses a machine's JSON. The report's `"machine"` object is produced
/// from it ([`MachineInfo::to_json`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineInfo {
    /// Short name, e.g. "tpu_v5p" or "h100".
    pub name: String,
    pub kind: MachineKind,
    /// Model variant of families with several (`native`, `scalesim`, `pe`); `None` otherwise.
    pub mode: Option<String>,
    /// Clock in Hz that `cycles` count.
    pub clock_hz: f64,
    /// Dense peak FLOP/s per dtype of the unit that runs GEMMs of that dtype (2 FLOPs per MAC;
    /// 0 for a dtype the chip cannot run).
    pub peak_flops: Vec<(DType, f64)>,
    /// Peak FLOP/s of the vector units (TPU VPU, GPU CUDA cores) for elementwise work; 0 when
    /// the model has none.
    pub vector_peak_flops: f64,
    /// Memory levels, outermost first.
    pub memory: Vec<MemoryLevel>,
    /// What the machine's predictions were checked against (the config's `[validation]`).
    pub validation: crate::config::ValidationStatus,
    /// Thermal design power of the chip in W, if the config gives one.
    pub tdp_w: Option<f64>,
    /// Price of one chip for one hour in USD (`[cost]`), if the config gives one.
    pub usd_per_chip_hour: Option<f64>,
    /// Model-specific parameters as they appear in the report's `"machine"` object (array
    /// shape, SM count, SRAM sizes, ...): typed in the model, serialized at the edge.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl MachineInfo {
    /// Facts with nothing known but a name and a kind (no peak, no memory levels): the start
    /// a model fills in.
    pub fn new(name: &str, kind: MachineKind) -> MachineInfo {
        MachineInfo {
            name: name.to_string(),
            kind,
            mode: None,
            clock_hz: 0.0,
            peak_flops: Vec::new(),
            vector_peak_flops: 0.0,
            memory: Vec::new(),
            validation: crate::config::ValidationStatus::default(),
            tdp_w: None,
            usd_per_chip_hour: None,
            details: serde_json::Map::new(),
        }
    }

    /// Dense peak FLOP/s of every dtype from a model's formula.
    pub fn peaks(peak: impl Fn(DType) -> f64) -> Vec<(DType, f64)> {
        DType::ALL.iter().map(|&d| (d, peak(d))).collect()
    }

    /// Dense peak FLOP/s of a dtype (0 when the chip cannot run it).
    pub fn peak_flops(&self, dtype: DType) -> f64 {
        self.peak_flops
            .iter()
            .find(|(d, _)| *d == dtype)
            .map_or(0.0, |(_, f)| *f)
    }

    /// The precision a GEMM of `dtype` runs its matrix math at on this machine.
    ///
    /// `dtype` itself, except for an fp4 type (NVFP4, MXFP4: [`DType::is_fp4`]) on a machine
    /// without fp4 units (fp4 peak 0): that op runs at the *next supported precision*, the
    /// fastest of bf16, fp16 and fp8 on this machine, a tie going to the wider format (bf16
    /// first). So fp8 where the machine has fp8 units faster than its 16-bit path (H100, H200,
    /// TPU7x), bf16 otherwise (A100; TPUs whose configs model fp8 at the bf16 rate because they
    /// have no fp8 speed-up: v4, v5e, v5p, v6e). The operands stay stored in fp4 (weights and
    /// activations kept in fp4 in memory, upcast in the kernel, as weight-only/mixed-input
    /// kernels do), so the bytes are fp4's and only the math changes; the upcast's own
    /// instructions are not modelled.
    pub fn math_dtype(&self, dtype: DType) -> DType {
        if !dtype.is_fp4() || self.peak_flops(dtype) > 0.0 {
            return dtype;
        }
        let mut best = DType::Bf16;
        for d in [DType::Fp16, DType::Fp8] {
            if self.peak_flops(d) > self.peak_flops(best) {
                best = d;
            }
        }
        best
    }

    /// Dense peak FLOP/s that ops of `dtype` run at: the peak of [`MachineInfo::math_dtype`]
    /// (an fp4 op on a machine without fp4 units is judged against its fallback's peak).
    pub fn effective_peak_flops(&self, dtype: DType) -> f64 {
        self.peak_flops(self.math_dtype(dtype))
    }

    /// A memory level by name.
    pub fn memory_level(&self, name: &str) -> Option<&MemoryLevel> {
        self.memory.iter().find(|l| l.name == name)
    }

    /// Off-chip (HBM/DRAM) bandwidth in bytes/s: the first memory level's (0 if unknown).
    pub fn hbm_bandwidth_bytes_per_s(&self) -> f64 {
        self.memory
            .first()
            .and_then(|l| l.bandwidth_bytes_per_s)
            .unwrap_or(0.0)
    }

    /// The `"machine"` object of a report: the model's details plus the keys every consumer
    /// relies on: `name`, `kind`, `clock_mhz`, `hbm_bandwidth_gbps`, `main_dtype`, `peak_tflops`
    /// (dense, the peak `main_dtype` ops run at: [`MachineInfo::effective_peak_flops`]),
    /// `peak_tflops_by_dtype` (the units' peaks: 0 for a dtype the chip has no units for, e.g.
    /// fp4 on every shipped machine but b200), `tdp_w` (null if unknown).
    pub fn to_json(&self, main_dtype: DType) -> serde_json::Value {
        use serde_json::Value;
        let standard = MachineJson {
            name: self.name.clone(),
            kind: self.kind,
            mode: self.mode.clone(),
            clock_mhz: self.clock_hz / 1e6,
            hbm_bandwidth_gbps: self.hbm_bandwidth_bytes_per_s() / 1e9,
            main_dtype,
            peak_tflops: self.effective_peak_flops(main_dtype) / 1e12,
            peak_tflops_by_dtype: self
                .peak_flops
                .iter()
                .map(|(d, f)| (d.as_str().to_string(), f / 1e12))
                .collect(),
            tdp_w: self.tdp_w,
            validation: self.validation.clone(),
        };
        // The model's details first, then the standard keys (which win on a clash).
        let mut obj = self.details.clone();
        if let Ok(Value::Object(std_keys)) = serde_json::to_value(&standard) {
            obj.extend(std_keys);
        }
        Value::Object(obj)
    }
}

/// A model's own keys of the report's `"machine"` object ([`MachineInfo::details`]) from its
/// typed struct (`SystolicParams`, `ScaleSimParams`, `SimtParams`): the struct is the schema
/// (`archsim schema report`), the map is what the report serializes.
pub fn details_of<T: Serialize>(params: &T) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(params) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// The keys every report's `"machine"` object has ([`MachineInfo::to_json`]); the object also
/// carries the machine model's own parameters (config values such as `array_rows` or
/// `sm_count`, which differ between the systolic, SCALE-Sim and SIMT models).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MachineJson {
    /// Short name of the machine (config file stem), e.g. "tpu_v5p" or "h100".
    pub name: String,
    /// Model family: systolic or simt.
    pub kind: MachineKind,
    /// Systolic model mode (native, scalesim, pe); absent on SIMT machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Clock the `cycles` fields count, in MHz.
    pub clock_mhz: f64,
    /// Peak off-chip (HBM/DRAM) bandwidth, in GB/s (10^9 bytes/s).
    pub hbm_bandwidth_gbps: f64,
    /// The run's main dtype: the one carrying the most FLOPs, which `peak_tflops` refers to.
    pub main_dtype: DType,
    /// Dense peak of the main dtype (its fp4 fallback's on a machine without fp4 units), in
    /// TFLOP/s (10^12 FLOP/s, 1 MAC = 2 FLOPs).
    pub peak_tflops: f64,
    /// Dense peak per supported dtype, in TFLOP/s (10^12 FLOP/s, 1 MAC = 2 FLOPs).
    pub peak_tflops_by_dtype: std::collections::BTreeMap<String, f64>,
    /// Thermal design power, in W; null when the config gives none.
    pub tdp_w: Option<f64>,
    /// How far the machine's model is validated: the config's `[validation]` (measured rows,
    /// MAPE, dtypes; "no measured rows" when it has none).
    pub validation: crate::config::ValidationStatus,
}

/// A machine's facts as one run reports them: [`MachineInfo`] and the run's main dtype (the one
/// carrying the most FLOPs), which `peak_tflops` refers to. Serializes as the report's
/// `"machine"` object.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineReport {
    pub info: MachineInfo,
    pub main_dtype: DType,
}

impl MachineReport {
    /// Facts with nothing known but a name and a kind, bf16 main dtype ([`MachineInfo::new`]).
    pub fn unknown(name: &str, kind: MachineKind) -> MachineReport {
        MachineReport {
            info: MachineInfo::new(name, kind),
            main_dtype: DType::Bf16,
        }
    }

    /// Dense peak FLOP/s the run's main dtype runs at (its fp4 fallback's on a machine without
    /// fp4 units: [`MachineInfo::effective_peak_flops`]).
    pub fn peak_flops(&self) -> f64 {
        self.info.effective_peak_flops(self.main_dtype)
    }
}

/// The report's `"machine"` object: all of [`MachineJson`] (the keys every machine has) plus the
/// machine model's own keys ([`MachineInfo::details`]). `jobs::schema` adds those as a
/// `oneOf` of the models' typed key sets (systolic native/PE, SCALE-Sim mode, SIMT), which this
/// layer does not know.
impl schemars::JsonSchema for MachineReport {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MachineReport".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let common = generator.subschema_for::<MachineJson>();
        schemars::json_schema!({
            "description": "The machine the run simulated: the keys every machine has and \
                            the keys of its model.",
            "type": "object",
            "allOf": [common],
        })
    }
}

impl Serialize for MachineReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.info.to_json(self.main_dtype).serialize(s)
    }
}

/// A hardware model. Both the systolic and the SIMT model implement it; nothing else knows which
/// one runs. A model fixes its [`MachineInfo`] when it is built; the accessors below read it.
pub trait Machine: Send + Sync {
    /// The machine's typed facts: name, kind, clock, peaks, memory levels, TDP, price.
    fn info(&self) -> &MachineInfo;
    /// Per-action energies and static power.
    fn energy_table(&self) -> &EnergyTable;
    /// Plan and simulate one op. Energy fields are filled later by the engine ([`crate::run`]).
    fn simulate(&self, op: &Op) -> Result<OpProfile>;

    /// Short name, e.g. "tpu_v5p" or "h100".
    fn name(&self) -> &str {
        &self.info().name
    }
    fn kind(&self) -> MachineKind {
        self.info().kind
    }
    /// Clock in Hz that `cycles` count.
    fn clock_hz(&self) -> f64 {
        self.info().clock_hz
    }
    /// Dense peak FLOP/s for a dtype (2 FLOPs per MAC).
    fn peak_flops(&self, dtype: DType) -> f64 {
        self.info().peak_flops(dtype)
    }
    /// Off-chip memory bandwidth in bytes/s (roofline).
    fn hbm_bandwidth_bytes_per_s(&self) -> f64 {
        self.info().hbm_bandwidth_bytes_per_s()
    }
}

/// The roofline of an elementwise / reduction op on a machine's vector units (Williams,
/// Waterman, Patterson, "Roofline", CACM 2009), the part both machine families share:
/// `compute_s = flops / vector FLOP/s`; the op's transfer time `memory_s` (the model's: bytes
/// over effective bandwidth, with its own latency terms) is hidden under compute up to
/// `compute_s` and the rest is exposed as `memory_stall_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorRoofline {
    pub compute_s: f64,
    pub memory_s: f64,
    pub memory_stall_s: f64,
}

impl VectorRoofline {
    pub fn new(flops: f64, vector_flops_per_s: f64, memory_s: f64) -> Self {
        let compute_s = flops / vector_flops_per_s;
        VectorRoofline {
            compute_s,
            memory_s,
            memory_stall_s: (memory_s - compute_s).max(0.0),
        }
    }

    /// "memory" when the transfer takes longer than the arithmetic, else "compute".
    pub fn bound(&self) -> &'static str {
        if self.memory_s > self.compute_s {
            "memory"
        } else {
            "compute"
        }
    }
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

/// Achieved HBM bandwidth of an op as a fraction of the peak: (HBM read + write bytes) /
/// `time_s` / `peak_bytes_per_s`, clamped to 0..1; 0 when the time or the peak is 0.
pub fn hbm_bw_fraction(p: &OpProfile, peak_bytes_per_s: f64) -> f64 {
    if p.time_s > 0.0 && peak_bytes_per_s > 0.0 {
        (p.counters.hbm_bytes() / p.time_s / peak_bytes_per_s).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

impl OpProfile {
    /// Record the precision the math ran at (`math`, from [`MachineInfo::math_dtype`]) and,
    /// when it is not the operand dtype, the note saying so.
    pub fn set_math_dtype(&mut self, machine: &str, math: DType) {
        self.math_dtype = math;
        let units = if self.dtype.is_fp4() {
            "fp4"
        } else {
            self.dtype.as_str()
        };
        self.note = (math != self.dtype).then(|| {
            format!(
                "{machine} has no {units} units: {} operands are stored and moved at {} bits/element incl. block scales and upcast to {} for the math",
                self.dtype.long_name(),
                self.dtype.bits_per_element(),
                math.as_str()
            )
        });
    }
}

/// Start a profile with the shape fields of an op filled in (`math_dtype` = `dtype`).
pub fn profile_for(op: &Op) -> OpProfile {
    match op {
        Op::Gemm(g) => OpProfile {
            name: g.name.clone(),
            op: "gemm".into(),
            m: g.m,
            n: g.n,
            k: g.k,
            batch: g.batch,
            dtype: g.dtype,
            math_dtype: g.dtype,
            macs: g.macs(),
            flops: g.flops(),
            ..Default::default()
        },
        Op::Attention(a) => OpProfile {
            name: a.name.clone(),
            op: "attention".into(),
            m: a.seq_q,
            n: a.seq_kv,
            k: a.head_dim,
            batch: a.batch * a.heads,
            dtype: a.dtype,
            math_dtype: a.dtype,
            macs: a.macs(),
            flops: a.flops(),
            ..Default::default()
        },
        Op::Vector(v) => OpProfile {
            name: v.name.clone(),
            op: v.kind.as_str().into(),
            m: v.elements,
            n: 1,
            k: 1,
            batch: 1,
            dtype: v.dtype,
            math_dtype: v.dtype,
            macs: 0,
            flops: v.flops(),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_with(peaks: &[(DType, f64)]) -> MachineInfo {
        let mut i = MachineInfo::new("m", MachineKind::Simt);
        i.peak_flops =
            MachineInfo::peaks(|d| peaks.iter().find(|(x, _)| *x == d).map_or(0.0, |(_, f)| *f));
        i
    }

    #[test]
    fn fp4_falls_back_to_the_next_supported_precision() {
        use DType::*;
        // fp4 units: fp4 runs as itself.
        let b200 = info_with(&[
            (Bf16, 1.0),
            (Fp16, 1.0),
            (Fp8, 2.0),
            (Fp4, 4.0),
            (Mxfp4, 4.0),
        ]);
        assert_eq!(b200.math_dtype(Fp4), Fp4);
        assert_eq!(b200.math_dtype(Mxfp4), Mxfp4);
        // fp8 faster than bf16, no fp4: fp8 (H100, TPU7x).
        let h100 = info_with(&[(Bf16, 1.0), (Fp16, 1.0), (Fp8, 2.0)]);
        assert_eq!(h100.math_dtype(Fp4), Fp8);
        assert_eq!(h100.effective_peak_flops(Mxfp4), 2.0);
        assert_eq!(h100.peak_flops(Fp4), 0.0);
        // No fp8 (A100) or fp8 without a speed-up (TPU v5p): bf16.
        assert_eq!(info_with(&[(Bf16, 1.0), (Fp16, 1.0)]).math_dtype(Fp4), Bf16);
        let v5p = info_with(&[(Bf16, 1.0), (Fp16, 1.0), (Fp8, 1.0)]);
        assert_eq!(v5p.math_dtype(Fp4), Bf16);
        // Only fp16 units: fp16.
        assert_eq!(info_with(&[(Fp16, 1.0)]).math_dtype(Fp4), Fp16);
        // Other dtypes never fall back (fp8 on a chip without fp8 stays an error of the model).
        assert_eq!(h100.math_dtype(Int8), Int8);
        assert_eq!(info_with(&[(Bf16, 1.0)]).math_dtype(Fp8), Fp8);
    }

    #[test]
    fn the_note_appears_only_on_a_fallback() {
        let op = Op::Gemm(crate::workload::Gemm::new("g", 1, 1, 1).with_dtype(DType::Fp4));
        let mut p = profile_for(&op);
        assert_eq!(p.math_dtype, DType::Fp4);
        p.set_math_dtype("b200", DType::Fp4);
        assert!(p.note.is_none());
        p.set_math_dtype("h100", DType::Fp8);
        assert_eq!(p.math_dtype, DType::Fp8);
        let note = p.note.clone().unwrap();
        assert!(note.starts_with("h100 has no fp4 units"), "{note}");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["math_dtype"], "fp8");
        assert_eq!(json["note"], note.as_str());
        // A profile without a note serializes no `note` key.
        let plain = serde_json::to_value(profile_for(&op)).unwrap();
        assert!(plain.get("note").is_none());
    }
}
