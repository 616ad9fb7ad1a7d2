//! SCALE-Sim 3.0.0 compatible systolic model (`tests/data/scalesim/MODEL.md`).
//!
//! Reproduces SCALE-Sim's per-layer reports (COMPUTE_REPORT, BANDWIDTH_REPORT,
//! DETAILED_ACCESS_REPORT) analytically: folds are not overlapped, physical R and C enter the
//! fill/drain terms, OS folds cost `T+R+C−2` and WS/IS folds `2R+C+T−2`, and Total Cycles =
//! folds·per_fold − 1 + stalls. Nothing walks cycles: see [`layer`] for the cost of each part.
//!
//! SCALE-Sim has no clock; archsim reports time at 1 GHz (`describe()` says so). Word size is one
//! byte (`single_layer_sim.run`), so bytes = words in the counters.
//!
//! Batch: SCALE-Sim has no batch dimension; a GEMM with `batch > 1` (or a conv with several
//! images) is simulated as that many independent layers, one after another, and summed.
//!
//! Vector ops: SCALE-Sim has no vector unit, so they are rejected with an input error.

pub mod calc_dram;
pub mod geometry;
pub mod layer;
pub mod user;
pub mod write_buffer;

use crate::config::scalesim_cfg::ScaleSimConfig;
use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::{finish_profile, profile_for, Counters, Machine, MachineKind, OpProfile};
use crate::workload::{DType, Op};
pub use geometry::{Layer, Mapping};
pub use layer::{simulate_layer, LayerResult};

/// The clock archsim assumes to turn SCALE-Sim cycles into seconds (SCALE-Sim has none).
pub const SCALESIM_CLOCK_HZ: f64 = 1.0e9;

/// A SCALE-Sim 3.0.0 compatible machine built from a `.cfg`.
#[derive(Debug, Clone)]
pub struct ScaleSimMachine {
    cfg: ScaleSimConfig,
    energy: EnergyTable,
}

impl ScaleSimMachine {
    pub fn new(cfg: ScaleSimConfig) -> ScaleSimMachine {
        ScaleSimMachine {
            cfg,
            energy: EnergyTable::default(),
        }
    }

    pub fn config(&self) -> &ScaleSimConfig {
        &self.cfg
    }

    /// Simulate one SCALE-Sim layer (no batch).
    pub fn simulate_layer(&self, layer: &Layer) -> LayerResult {
        simulate_layer(&self.cfg, layer)
    }
}

impl Machine for ScaleSimMachine {
    fn name(&self) -> &str {
        &self.cfg.run_name
    }
    fn kind(&self) -> MachineKind {
        MachineKind::Systolic
    }
    fn describe(&self) -> serde_json::Value {
        let c = &self.cfg;
        serde_json::json!({
            "name": c.run_name,
            "kind": "systolic",
            "mode": "scalesim",
            "rows": c.array_rows,
            "cols": c.array_cols,
            "dataflow": c.dataflow.as_str(),
            "ifmap_sram_kb": c.ifmap_sram_kb,
            "filter_sram_kb": c.filter_sram_kb,
            "ofmap_sram_kb": c.ofmap_sram_kb,
            "bw_mode": c.bw_mode.as_str(),
            "bandwidth_words_per_cycle": c.bandwidth_words_per_cycle,
            "ifmap_dram_bw_words_per_cycle": c.ifmap_sram_bank_bandwidth,
            "filter_dram_bw_words_per_cycle": c.filter_sram_bank_bandwidth,
            "word_bytes": 1,
            "clock_hz": SCALESIM_CLOCK_HZ,
            "note": "SCALE-Sim 3.0.0 compatible mode: cycles reproduce SCALE-Sim exactly; \
                     SCALE-Sim has no clock, time_s assumes 1 GHz; 1 word = 1 byte",
        })
    }
    fn clock_hz(&self) -> f64 {
        SCALESIM_CLOCK_HZ
    }
    /// R·C MACs per cycle, 2 FLOPs each, for every dtype (SCALE-Sim has no dtypes).
    fn peak_flops(&self, _dtype: DType) -> f64 {
        2.0 * self.cfg.array_rows as f64 * self.cfg.array_cols as f64 * SCALESIM_CLOCK_HZ
    }
    /// USER mode: ifmap + filter read bandwidth + ofmap drain bandwidth (words = bytes).
    /// CALC mode estimates the bandwidth it needs instead; the nominal figure is the 10+10
    /// words/cycle first-fill rate plus the C-word ofmap drain (`single_layer_sim.run`).
    fn hbm_bandwidth_bytes_per_s(&self) -> f64 {
        let c = &self.cfg;
        let words = match c.bw_mode {
            crate::config::scalesim_cfg::BandwidthMode::User => {
                c.ifmap_sram_bank_bandwidth + c.filter_sram_bank_bandwidth + c.ofmap_drain_bw()
            }
            crate::config::scalesim_cfg::BandwidthMode::Calc => 20 + c.array_cols,
        };
        words as f64 * SCALESIM_CLOCK_HZ
    }
    fn energy_table(&self) -> &EnergyTable {
        &self.energy
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        let g = match op {
            Op::Gemm(g) => g,
            Op::Vector(v) => {
                return Err(Error::input(
                    Location::file("<workload>").key(v.name.clone()),
                    format!(
                        "SCALE-Sim mode has no vector unit: op `{}` ({}) cannot run on a SCALE-Sim \
                         .cfg machine; drop the vector ops or use an archsim .toml config",
                        v.name,
                        v.kind.as_str()
                    ),
                ))
            }
        };
        let (layer, copies) = Layer::from_gemm(g)?;
        let one = simulate_layer(&self.cfg, &layer);
        let mut p = profile_for(op);
        let mut rep = one.to_report();
        // `copies` independent layers, one after another: counts and cycles add up.
        let k = copies as u128;
        let mul = |x: u64| u64::try_from(x as u128 * k).unwrap_or(u64::MAX);
        let muli = |x: i64| i64::try_from(x as i128 * k as i128).unwrap_or(i64::MAX);
        if copies > 1 {
            rep.total_cycles_incl_prefetch = muli(rep.total_cycles_incl_prefetch);
            rep.total_cycles = mul(rep.total_cycles);
            rep.stall_cycles = mul(rep.stall_cycles);
            rep.sram_ifmap_reads = mul(rep.sram_ifmap_reads);
            rep.sram_filter_reads = mul(rep.sram_filter_reads);
            rep.sram_ofmap_writes = mul(rep.sram_ofmap_writes);
            rep.dram_ifmap_reads = mul(rep.dram_ifmap_reads);
            rep.dram_filter_reads = mul(rep.dram_filter_reads);
            rep.dram_ofmap_writes = mul(rep.dram_ofmap_writes);
        }
        let (r, c) = (self.cfg.array_rows as f64, self.cfg.array_cols as f64);
        p.cycles = rep.total_cycles;
        p.stall_cycles = rep.stall_cycles;
        p.compute_cycles = rep.total_cycles - rep.stall_cycles;
        p.time_s = p.cycles as f64 / SCALESIM_CLOCK_HZ;
        p.mapping_efficiency = one.mapping_efficiency_pct / 100.0;
        // Useful work = MACs/(R·C) cycles; the rest of the fold cycles is fill/drain and
        // padding; stalls are memory.
        let useful_cycles = (p.macs as f64 / (r * c)).min(p.compute_cycles as f64);
        p.time_breakdown_s.compute_s = useful_cycles / SCALESIM_CLOCK_HZ;
        p.time_breakdown_s.fill_drain_s =
            (p.compute_cycles as f64 - useful_cycles) / SCALESIM_CLOCK_HZ;
        p.time_breakdown_s.memory_stall_s = p.stall_cycles as f64 / SCALESIM_CLOCK_HZ;
        p.counters = Counters {
            macs: p.macs,
            sram_read_bytes: rep.sram_ifmap_reads as f64 + rep.sram_filter_reads as f64,
            sram_write_bytes: rep.sram_ofmap_writes as f64,
            hbm_read_bytes: rep.dram_ifmap_reads as f64 + rep.dram_filter_reads as f64,
            hbm_write_bytes: rep.dram_ofmap_writes as f64,
            ..Default::default()
        };
        p.plan = serde_json::json!({
            "mode": "scalesim",
            "dataflow": self.cfg.dataflow.as_str(),
            "sr": Mapping::new(&layer, self.cfg.dataflow, self.cfg.array_rows, self.cfg.array_cols).sr,
            "sc": Mapping::new(&layer, self.cfg.dataflow, self.cfg.array_rows, self.cfg.array_cols).sc,
            "t": Mapping::new(&layer, self.cfg.dataflow, self.cfg.array_rows, self.cfg.array_cols).t,
            "row_folds": one.row_folds,
            "col_folds": one.col_folds,
            "cycles_per_fold": u64::try_from(one.cycles_per_fold).unwrap_or(u64::MAX),
            "layers_simulated": copies,
            "dram_reads_exact": one.dram_reads_exact,
        });
        p.scalesim = Some(rep);
        finish_profile(&mut p, self.peak_flops(g.dtype));
        Ok(p)
    }
}
