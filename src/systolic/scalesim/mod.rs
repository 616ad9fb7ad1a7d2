//! SCALE-Sim 3.0.0 compatible systolic model (`docs/scalesim/MODEL.md`).
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
pub mod energy;
pub mod geometry;
pub mod layer;
pub mod user;
pub mod window_walk;
pub mod write_buffer;

use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::machine::{finish_profile, profile_for, Counters, Machine, MachineKind, OpProfile};
use crate::machine::{MachineInfo, MemoryLevel};
use crate::systolic::scalesim_cfg::{BandwidthMode, ScaleSimConfig};
use crate::workload::Op;
pub use geometry::{Layer, Mapping};
pub use layer::{simulate_layer, simulate_layer_analytic, LayerResult, MAX_CALC_WALK};
use serde::Serialize;

/// The clock archsim assumes to turn SCALE-Sim cycles into seconds (SCALE-Sim has none).
pub const SCALESIM_CLOCK_HZ: f64 = 1.0e9;

/// A SCALE-Sim 3.0.0 compatible machine built from a `.cfg`.
#[derive(Debug, Clone)]
pub struct ScaleSimMachine {
    cfg: ScaleSimConfig,
    energy: EnergyTable,
    info: MachineInfo,
}

impl ScaleSimMachine {
    pub fn new(cfg: ScaleSimConfig) -> ScaleSimMachine {
        let energy = cfg
            .energy
            .table(cfg.ifmap_sram_kb, cfg.filter_sram_kb, cfg.ofmap_sram_kb);
        let mut info = info(&cfg);
        // The table is part of what the report shows: its name and every value.
        info.details.insert(
            "energy_table".into(),
            serde_json::to_value(ScaleSimEnergyJson {
                name: cfg.energy.name.clone(),
                values: energy.clone(),
            })
            .unwrap_or_default(),
        );
        ScaleSimMachine { info, cfg, energy }
    }

    pub fn config(&self) -> &ScaleSimConfig {
        &self.cfg
    }
}

pub fn info(c: &ScaleSimConfig) -> MachineInfo {
    let mut info = MachineInfo::new(&c.run_name, MachineKind::Systolic);
    info.mode = Some("scalesim".into());
    info.clock_hz = SCALESIM_CLOCK_HZ;
    // R·C MACs per cycle, 2 FLOPs each, for every dtype (SCALE-Sim has no dtypes).
    let peak = 2.0 * c.array_rows as f64 * c.array_cols as f64 * SCALESIM_CLOCK_HZ;
    info.peak_flops = MachineInfo::peaks(|_| peak);
    // USER mode: ifmap + filter read bandwidth + ofmap drain bandwidth (words = bytes).
    // CALC mode estimates the bandwidth it needs instead; the nominal figure is the 10+10
    // words/cycle first-fill rate plus the C-word ofmap drain (`single_layer_sim.run`).
    let words = match c.bw_mode {
        BandwidthMode::User => {
            c.ifmap_sram_bank_bandwidth + c.filter_sram_bank_bandwidth + c.ofmap_drain_bw()
        }
        BandwidthMode::Calc => 20 + c.array_cols,
    };
    info.memory = vec![MemoryLevel::new(
        "dram",
        None,
        Some(words as f64 * SCALESIM_CLOCK_HZ),
    )];
    let kb = |k: u64| Some(k.saturating_mul(1024));
    info.memory.extend([
        MemoryLevel::new("sram_ifmap", kb(c.ifmap_sram_kb), None),
        MemoryLevel::new("sram_filter", kb(c.filter_sram_kb), None),
        MemoryLevel::new("sram_ofmap", kb(c.ofmap_sram_kb), None),
    ]);
    info.details = crate::machine::details_of(&ScaleSimParams {
        rows: c.array_rows,
        cols: c.array_cols,
        dataflow: c.dataflow.as_str().to_string(),
        ifmap_sram_kb: c.ifmap_sram_kb,
        filter_sram_kb: c.filter_sram_kb,
        ofmap_sram_kb: c.ofmap_sram_kb,
        bw_mode: c.bw_mode.as_str().to_string(),
        bandwidth_words_per_cycle: c.bandwidth_words_per_cycle.clone(),
        ifmap_dram_bw_words_per_cycle: c.ifmap_sram_bank_bandwidth,
        filter_dram_bw_words_per_cycle: c.filter_sram_bank_bandwidth,
        word_bytes: 1,
        clock_hz: SCALESIM_CLOCK_HZ,
        note: "SCALE-Sim 3.0.0 compatible mode: cycles reproduce SCALE-Sim exactly; \
               SCALE-Sim has no clock, time_s assumes 1 GHz; 1 word = 1 byte"
            .to_string(),
        energy_table: None,
    });
    info
}

/// The SCALE-Sim compatible mode's own keys of a report's `"machine"` object: the `.cfg`'s
/// parameters as SCALE-Sim 3.0.0 names them (docs/scalesim/MODEL.md §1.1).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ScaleSimParams {
    /// PE rows R (`ArrayHeight`).
    pub rows: u64,
    /// PE columns C (`ArrayWidth`).
    pub cols: u64,
    /// Dataflow (`Dataflow`): `ws`, `os` or `is`.
    pub dataflow: String,
    /// Ifmap SRAM size (`IfmapSramSzkB`), in kB of 1-byte words (1 kB = 1024 bytes).
    pub ifmap_sram_kb: u64,
    /// Filter SRAM size (`FilterSramSzkB`), in kB of 1-byte words.
    pub filter_sram_kb: u64,
    /// Ofmap SRAM size (`OfmapSramSzkB`), in kB of 1-byte words.
    pub ofmap_sram_kb: u64,
    /// `InterfaceBandwidth`: `CALC` (SCALE-Sim estimates the DRAM bandwidth it needs) or `USER`.
    pub bw_mode: String,
    /// The `Bandwidth` list in words per cycle (USER mode; empty in CALC mode, as SCALE-Sim).
    pub bandwidth_words_per_cycle: Vec<u64>,
    /// Ifmap DRAM→SRAM bandwidth in words per cycle (`[layout] IfmapSRAMBankBandwidth`).
    pub ifmap_dram_bw_words_per_cycle: u64,
    /// Filter DRAM→SRAM bandwidth in words per cycle (`[layout] FilterSRAMBankBandwidth`).
    pub filter_dram_bw_words_per_cycle: u64,
    /// Bytes per word: always 1 (SCALE-Sim counts words; archsim reads them as bytes).
    pub word_bytes: u64,
    /// The clock `time_s` assumes: 1 GHz (SCALE-Sim has none).
    pub clock_hz: f64,
    /// What the mode reproduces and assumes, in words.
    pub note: String,
    /// The energy table the run charges: its name and every value (see `EnergyTable` in
    /// `docs/reference/config-systolic.md`, table `energy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_table: Option<ScaleSimEnergyJson>,
}

/// The energy table a SCALE-Sim mode run charges, as its report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ScaleSimEnergyJson {
    /// Where the values come from, e.g. "builtin:scalesim-45nm (Horowitz ISSCC 2014)".
    pub name: String,
    /// Per-action energies (pJ) and static power (W).
    pub values: EnergyTable,
}

impl Machine for ScaleSimMachine {
    fn info(&self) -> &MachineInfo {
        &self.info
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
            Op::Attention(a) => {
                return Err(Error::input(
                    Location::file("<workload>").key(a.name.clone()),
                    format!(
                        "SCALE-Sim mode simulates GEMMs only: fused attention `{}` cannot run on a \
                         SCALE-Sim .cfg machine; use unfused attention or an archsim .toml config",
                        a.name
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
        let map = Mapping::new(
            &layer,
            self.cfg.dataflow,
            self.cfg.array_rows,
            self.cfg.array_cols,
        );
        p.plan = serde_json::json!({
            "mode": "scalesim",
            "dataflow": self.cfg.dataflow.as_str(),
            "sr": map.sr,
            "sc": map.sc,
            "t": map.t,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systolic::scalesim_cfg::Dataflow;
    use crate::workload::{Conv2d, DType, Gemm, VectorKind, VectorOp};

    fn cfg(df: Dataflow, mode: BandwidthMode) -> ScaleSimConfig {
        ScaleSimConfig {
            run_name: "t".into(),
            array_rows: 32,
            array_cols: 32,
            ifmap_sram_kb: 512,
            filter_sram_kb: 512,
            ofmap_sram_kb: 256,
            ifmap_offset: 0,
            filter_offset: 10_000_000,
            ofmap_offset: 20_000_000,
            dataflow: df,
            bandwidth_words_per_cycle: vec![10],
            read_request_buffer: 32,
            write_request_buffer: 32,
            bw_mode: mode,
            ifmap_custom_layout: false,
            filter_custom_layout: false,
            ifmap_sram_bank_bandwidth: 10,
            ifmap_sram_bank_num: 1,
            ifmap_sram_bank_port: 2,
            filter_sram_bank_bandwidth: 10,
            filter_sram_bank_num: 1,
            filter_sram_bank_port: 2,
            sparsity_support: false,
            use_ramulator_trace: false,
            energy: Default::default(),
        }
    }

    #[test]
    fn profile_fields_match_the_report() {
        let m = ScaleSimMachine::new(cfg(Dataflow::Os, BandwidthMode::Calc));
        let p = m.simulate(&Op::Gemm(Gemm::new("g16", 16, 16, 16))).unwrap();
        let s = p.scalesim.as_ref().unwrap();
        // Reference row calc_32x32_os g16.
        assert_eq!(s.total_cycles, 77);
        assert_eq!(s.total_cycles_incl_prefetch, 609);
        assert_eq!(p.cycles, 77);
        assert_eq!(p.compute_cycles, 77);
        assert!((p.time_s - 77e-9).abs() < 1e-18);
        assert!((p.mapping_efficiency - 0.25).abs() < 1e-12);
        assert!((p.utilization - 4096.0 / (77.0 * 1024.0)).abs() < 1e-12);
        assert_eq!(p.counters.sram_read_bytes, 512.0);
        assert_eq!(p.counters.hbm_write_bytes, 256.0);
        let tb = &p.time_breakdown_s;
        assert!((tb.total_s() - p.time_s).abs() < 1e-15);
        assert_eq!(p.plan["cycles_per_fold"], 78);
        assert_eq!(m.info().mode.as_deref(), Some("scalesim"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["scalesim"]["sram_ofmap_writes"], 320);
    }

    #[test]
    fn batch_is_independent_layers() {
        let m = ScaleSimMachine::new(cfg(Dataflow::Ws, BandwidthMode::Calc));
        let one = m.simulate(&Op::Gemm(Gemm::new("g", 64, 48, 80))).unwrap();
        let three = m
            .simulate(&Op::Gemm(Gemm::new("g", 64, 48, 80).with_batch(3)))
            .unwrap();
        assert_eq!(three.cycles, 3 * one.cycles);
        assert_eq!(three.macs, 3 * one.macs);
        let (a, b) = (one.scalesim.unwrap(), three.scalesim.unwrap());
        assert_eq!(b.sram_ifmap_reads, 3 * a.sram_ifmap_reads);
        assert_eq!(b.overall_util_pct, a.overall_util_pct);
    }

    #[test]
    fn conv_gemm_uses_conv_geometry() {
        let m = ScaleSimMachine::new(cfg(Dataflow::Ws, BandwidthMode::Calc));
        let g = Conv2d {
            name: "r3x3".into(),
            batch: 1,
            in_h: 28,
            in_w: 28,
            in_c: 128,
            filters: 128,
            kernel_h: 3,
            kernel_w: 3,
            stride: 1,
            padding: 0,
            dtype: DType::Int8,
            scalesim_ceil: true,
        }
        .to_gemm();
        let p = m.simulate(&Op::Gemm(g)).unwrap();
        let s = p.scalesim.unwrap();
        // Reference row calc_32x32_ws r3x3.
        assert_eq!(s.total_cycles, 110_879);
        assert_eq!(s.dram_ifmap_reads, 100_352);
        assert_eq!(s.total_cycles_incl_prefetch, 129_217);
    }

    #[test]
    fn vector_ops_are_an_input_error() {
        let m = ScaleSimMachine::new(cfg(Dataflow::Os, BandwidthMode::Calc));
        let v = Op::Vector(VectorOp {
            name: "sm".into(),
            kind: VectorKind::Softmax,
            elements: 10,
            dtype: DType::Bf16,
        });
        let e = m.simulate(&v).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("vector unit"), "{e}");
        let z = m.simulate(&Op::Gemm(Gemm::new("z", 0, 4, 4))).unwrap_err();
        assert_eq!(z.exit_code(), 2);
    }

    #[test]
    fn extreme_dims_do_not_panic_and_stay_fast() {
        let big = 1u64 << 32;
        let t0 = std::time::Instant::now();
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            for mode in [BandwidthMode::Calc, BandwidthMode::User] {
                let m = ScaleSimMachine::new(cfg(df, mode));
                for (mm, n, k) in [(big, big, big), (1, big, 1), (big, 1, 3), (7, 5, big)] {
                    let p = m.simulate(&Op::Gemm(Gemm::new("x", mm, n, k))).unwrap();
                    assert!(p.cycles > 0);
                }
            }
        }
        assert!(t0.elapsed().as_secs_f64() < 60.0, "{:?}", t0.elapsed());
    }

    #[test]
    fn user_mode_small_layer_runs_the_walk() {
        let m = ScaleSimMachine::new(cfg(Dataflow::Ws, BandwidthMode::User));
        let p = m.simulate(&Op::Gemm(Gemm::new("g", 100, 37, 53))).unwrap();
        assert_eq!(p.plan["dram_reads_exact"], true);
        let s = p.scalesim.unwrap();
        assert!(s.dram_ifmap_reads >= 5300);
    }
}

#[cfg(test)]
mod user_limits {
    use super::*;
    use crate::systolic::scalesim_cfg::{BandwidthMode, Dataflow};

    /// Tiny SRAMs in USER mode (SCALE-Sim: minutes to hours per layer) must finish quickly,
    /// exactly or through the bounded fallback.
    #[test]
    fn tiny_sram_user_mode_terminates() {
        let t0 = std::time::Instant::now();
        for df in [Dataflow::Os, Dataflow::Ws, Dataflow::Is] {
            let mut cfg = crate::systolic::scalesim_cfg::ScaleSimConfig::parse(
                include_str!("../../../tests/data/scalesim/configs/user_ulbw_32x32_is.cfg"),
                "u.cfg",
            )
            .unwrap();
            cfg.dataflow = df;
            cfg.ifmap_sram_kb = 1;
            cfg.filter_sram_kb = 1;
            cfg.ofmap_sram_kb = 1;
            assert_eq!(cfg.bw_mode, BandwidthMode::User);
            let layer = Layer::conv(28, 28, 3, 3, 128, 128, 1).unwrap();
            let r = simulate_layer(&cfg, &layer);
            assert!(r.total_cycles >= r.demand_lines - 1);
        }
        assert!(t0.elapsed().as_secs_f64() < 60.0, "{:?}", t0.elapsed());
    }
}
