//! Validation set: the native TPU model against measured GEMM times on real TPUs
//! (`tests/data/tpu_measured.csv`, rows copied from `measured_gemm.csv` with their sources).
//!
//! # What is fitted, and on what
//! Only general parameters, never one row, and only on the rows whose `split` is
//! `calibration` (11 of 43, named in the CSV); the error is reported on every row, split into
//! calibration and evaluation:
//! * `device_overhead_us`: the fixed device time of one op (what a profiler trace shows for a
//!   128³ GEMM). Shipped configs carry the default-state clock fraction as
//!   `chip.kernel_efficiency`, and with it the overhead fitted jointly with the clock fractions,
//!   as `chip.dispatch_overhead_us` (the report also shows the fit at the nominal clock).
//! * `host_overhead_us`: what host timing (`timeit` around a jitted call with
//!   `block_until_ready`) adds on top of the device time (timing scope `host`).
//! * `clock_fraction` per power state (beyond the brief's two parameters; the report also shows
//!   the fit without it): the sustained clock as a fraction of the nominal one.
//!   Google's own 7x microbenchmark reaches 83% of peak on huge GEMMs at the default DVFS state
//!   and 94–96% with `--xla_tpu_dvfs_p_state=7` (SPECS §1.4), on the same chip: a power-state
//!   effect no per-op model can produce, so it is one general parameter per power state.
//! * `mac_rate` of the 256×256-array chips (v6e, 7x): 1 or 2 MACs/PE/cycle, the question SPECS
//!   §1.3 leaves open.
//!
//! Fixed, not fitted: every config value (cited), the HBM latency (300 ns prior) and efficiency
//! (0.87, measured on 7x). A 7x row measures one TensorCore (one JAX device), so it is simulated
//! on a one-core chip with half the HBM bandwidth. Pallas rows with fixed block sizes are run
//! with that tiling forced (grid order m, n, k), XLA rows with the mapper's choice.
//!
//! Regimes: `small` = M·N·K ≤ 2^30 (dispatch and latency dominate); otherwise `memory-bound`
//! when the simulated exposed memory time exceeds the MXU time, else `compute-bound`.

use super::{SummaryRow, ValidationTable};
use crate::error::{Error, Location, Result};
use crate::registry::{self, HardwareConfig};
use crate::systolic::config::SystolicConfig;
use crate::systolic::native::{CoreSplit, LoopOrder, NativeTpuMachine, Tiling};
use crate::workload::{DType, Gemm};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One measured row (`tests/data/tpu_measured.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredRow {
    pub device: String,
    pub dtype: String,
    pub batch: u64,
    #[serde(rename = "M")]
    pub m: u64,
    #[serde(rename = "N")]
    pub n: u64,
    #[serde(rename = "K")]
    pub k: u64,
    pub time_us: f64,
    pub measured_tflops: f64,
    pub percent_of_peak: f64,
    pub peak_tflops_used: f64,
    pub timing: String,
    pub quality: String,
    pub source_id: String,
    pub source: String,
    pub notes: String,
    /// `calibration` or `evaluation`.
    pub split: String,
    /// `xla` (the mapper chooses) or `bm=..;bk=..;bn=..` (a Pallas kernel's fixed blocks).
    pub tiling: String,
    /// `default` or `p_state_7` (`--xla_tpu_dvfs_p_state=7`).
    pub power_state: String,
    /// `device` (profiler trace) or `host` (host timer incl. dispatch).
    pub scope: String,
}

impl MeasuredRow {
    pub fn label(&self) -> String {
        let dev = self
            .device
            .split(" (")
            .next()
            .unwrap_or(&self.device)
            .to_string();
        let t = if self.tiling == "xla" {
            "xla".to_string()
        } else {
            format!("pallas {}", self.tiling)
        };
        let extra = if self.notes.contains("transposed") {
            " rhsT"
        } else if self.notes.contains("ReLU") {
            " +relu"
        } else {
            ""
        };
        format!(
            "{dev} {}x{}x{} {t}{extra} {} {}",
            self.m, self.n, self.k, self.scope, self.power_state
        )
    }
    pub fn is_calibration(&self) -> bool {
        self.split == "calibration"
    }
}

/// The fitted general parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TpuParams {
    pub device_overhead_us: f64,
    pub host_overhead_us: f64,
    pub clock_fraction_default: f64,
    pub clock_fraction_p_state_7: f64,
    /// MACs per PE per cycle of the 256×256-array chips (v6e, 7x).
    pub mac_rate_256: f64,
}

/// Prediction for one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub label: String,
    pub split: String,
    pub scope: String,
    pub regime: String,
    pub measured_us: f64,
    pub predicted_us: f64,
    pub err_pct: f64,
}

/// Everything the TPU validation produces.
#[derive(Debug, Clone, Serialize)]
pub struct TpuValidation {
    pub params: TpuParams,
    /// The fit with the clock fractions held at 1 (nominal clocks), for comparison.
    pub nominal_clock_params: TpuParams,
    pub rows: Vec<RowResult>,
    pub tables: Vec<ValidationTable>,
}

/// Read the CSV.
pub fn load_rows(path: &Path) -> Result<Vec<MeasuredRow>> {
    let mut rd = csv::Reader::from_path(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, r) in rd.deserialize::<MeasuredRow>().enumerate() {
        out.push(r.map_err(|e| {
            Error::input(Location::path(path).line(i + 2), format!("bad row: {e}"))
        })?);
    }
    Ok(out)
}

fn shipped(name: &str) -> Result<SystolicConfig> {
    match registry::load(name)?.hw {
        HardwareConfig::Systolic(c) => Ok(*c),
        _ => Err(Error::internal(format!("{name} is not a systolic config"))),
    }
}

/// The config a row runs on, before the fitted parameters are applied.
fn base_config(row: &MeasuredRow) -> Result<Option<SystolicConfig>> {
    let d = row.device.as_str();
    Ok(if d.starts_with("TPU v5e") {
        Some(shipped("tpu_v5e")?)
    } else if d.starts_with("TPU v6e") {
        Some(shipped("tpu_v6e")?)
    } else if d.starts_with("TPU7x") {
        // One TensorCore = one JAX device: one core with its half of the chip's HBM bandwidth.
        let mut c = shipped("tpu7x")?;
        if d.contains("one TensorCore") {
            c.hbm.bandwidth_gbps /= c.chip.cores as f64;
            c.chip.cores = 1;
        }
        Some(c)
    } else {
        None
    })
}

fn forced_tiling(row: &MeasuredRow) -> Option<Tiling> {
    if row.tiling == "xla" {
        return None;
    }
    let mut bm = 0;
    let mut bk = 0;
    let mut bn = 0;
    for part in row.tiling.split(';') {
        let (k, v) = part.split_once('=')?;
        let v: u64 = v.trim().parse().ok()?;
        match k.trim() {
            "bm" => bm = v,
            "bk" => bk = v,
            "bn" => bn = v,
            _ => return None,
        }
    }
    Some(Tiling {
        tm: bm,
        tn: bn,
        tk: bk,
        order: LoopOrder::MOuter,
        split: CoreSplit::None,
    })
}

/// Simulated device time without overhead (s), and whether memory dominates, for one row at a
/// clock fraction and 256-array MAC rate.
fn model_time(
    row: &MeasuredRow,
    base: &SystolicConfig,
    frac: f64,
    mac256: f64,
) -> Result<(f64, bool)> {
    let mut c = base.clone();
    c.chip.clock_mhz *= frac;
    c.chip.dispatch_overhead_us = 0.0;
    // The fraction fitted here is what the shipped configs carry as `kernel_efficiency`.
    c.chip.kernel_efficiency = 1.0;
    if c.array.rows == 256 {
        c.array.mac_rate = mac256;
    }
    let m = NativeTpuMachine::new(c, "validation");
    let dtype: DType = row.dtype.parse().map_err(|e: String| Error::internal(e))?;
    let g = Gemm::new(row.label(), row.m, row.n, row.k)
        .with_dtype(dtype)
        .with_batch(row.batch.max(1));
    let p = m.simulate_gemm(&g, forced_tiling(row))?;
    let tb = &p.time_breakdown_s;
    let mxu =
        tb.compute_s + tb.fill_drain_s + tb.tail_s + tb.clock_throttle_s + tb.kernel_efficiency_s;
    Ok((p.time_s, tb.memory_stall_s > mxu))
}

const FRACS: std::ops::RangeInclusive<u32> = 140..=200; // × 0.005 → 0.70 … 1.00

fn frac_of(i: u32) -> f64 {
    i as f64 * 0.005
}

/// Model time (s) and memory-bound flag, per clock fraction, for mac_rate 1 and 2.
type RowTimes = [Vec<(f64, bool)>; 2];

/// Cached model times: `[row][mac_rate_index][frac_index]`.
struct Cache {
    times: Vec<RowTimes>,
}

fn predict(row: &MeasuredRow, model_s: f64, p: &TpuParams) -> f64 {
    let mut t = model_s * 1e6 + p.device_overhead_us;
    if row.scope == "host" {
        t += p.host_overhead_us;
    }
    t
}

fn frac_index(f: f64) -> usize {
    ((f / 0.005).round() as u32).clamp(*FRACS.start(), *FRACS.end()) as usize
        - *FRACS.start() as usize
}

fn lookup(cache: &Cache, i: usize, row: &MeasuredRow, p: &TpuParams) -> (f64, bool) {
    let f = if row.power_state == "p_state_7" {
        p.clock_fraction_p_state_7
    } else {
        p.clock_fraction_default
    };
    let mi = if p.mac_rate_256 >= 1.5 { 1 } else { 0 };
    cache.times[i][mi][frac_index(f)]
}

fn mape(rows: &[MeasuredRow], cache: &Cache, p: &TpuParams, only_cal: bool) -> f64 {
    let mut s = 0.0;
    let mut n = 0.0;
    for (i, r) in rows.iter().enumerate() {
        if only_cal && !r.is_calibration() {
            continue;
        }
        let pred = predict(r, lookup(cache, i, r, p).0, p);
        s += ((pred - r.time_us) / r.time_us).abs();
        n += 1.0;
    }
    if n > 0.0 {
        100.0 * s / n
    } else {
        0.0
    }
}

/// Fit the general parameters on the calibration rows by coordinate descent over fixed grids
/// (deterministic): MAPE of the calibration rows is the objective.
fn fit(rows: &[MeasuredRow], cache: &Cache, fit_clock: bool) -> TpuParams {
    let mut p = TpuParams {
        device_overhead_us: 1.0,
        host_overhead_us: 50.0,
        clock_fraction_default: 1.0,
        clock_fraction_p_state_7: 1.0,
        mac_rate_256: 2.0,
    };
    let best_of =
        |p: &TpuParams, set: &dyn Fn(&mut TpuParams, f64), vals: &mut dyn Iterator<Item = f64>| {
            let mut best = (f64::INFINITY, 0.0);
            for v in vals {
                let mut q = *p;
                set(&mut q, v);
                let e = mape(rows, cache, &q, true);
                if e < best.0 - 1e-12 {
                    best = (e, v);
                }
            }
            best.1
        };
    for _ in 0..6 {
        let v = best_of(&p, &|q, v| q.mac_rate_256 = v, &mut [1.0, 2.0].into_iter());
        p.mac_rate_256 = v;
        if fit_clock {
            let v = best_of(
                &p,
                &|q, v| q.clock_fraction_default = v,
                &mut FRACS.map(frac_of),
            );
            p.clock_fraction_default = v;
            let v = best_of(
                &p,
                &|q, v| q.clock_fraction_p_state_7 = v,
                &mut FRACS.map(frac_of),
            );
            p.clock_fraction_p_state_7 = v;
        }
        let v = best_of(
            &p,
            &|q, v| q.device_overhead_us = v,
            &mut (0..=1000).map(|i| i as f64 * 0.01),
        );
        p.device_overhead_us = v;
        let v = best_of(
            &p,
            &|q, v| q.host_overhead_us = v,
            &mut (0..=600).map(|i| i as f64 * 0.5),
        );
        p.host_overhead_us = v;
    }
    p
}

/// Run the whole TPU validation: load, fit on the calibration rows, evaluate every row.
pub fn validate(data_dir: &Path) -> Result<Option<TpuValidation>> {
    let path = data_dir.join("tpu_measured.csv");
    if !path.exists() {
        return Ok(None);
    }
    let all = load_rows(&path)?;
    let mut rows = Vec::new();
    let mut bases = Vec::new();
    for r in all {
        if let Some(b) = base_config(&r)? {
            rows.push(r);
            bases.push(b);
        }
    }
    let times: Vec<Result<RowTimes>> = rows
        .par_iter()
        .zip(bases.par_iter())
        .map(|(r, b)| {
            let mut out: RowTimes = [Vec::new(), Vec::new()];
            for (mi, mac) in [1.0, 2.0].into_iter().enumerate() {
                if b.array.rows != 256 && mi == 1 {
                    out[1] = out[0].clone();
                    continue;
                }
                for fi in FRACS {
                    out[mi].push(model_time(r, b, frac_of(fi), mac)?);
                }
            }
            Ok(out)
        })
        .collect();
    let cache = Cache {
        times: times.into_iter().collect::<Result<Vec<_>>>()?,
    };
    let params = fit(&rows, &cache, true);
    // The same fit with the clocks held at their nominal values, to show what the power-state
    // parameter buys.
    let nominal = fit(&rows, &cache, false);
    let nominal_pairs = |f: &dyn Fn(&MeasuredRow) -> bool| -> Vec<(f64, f64)> {
        rows.iter()
            .enumerate()
            .filter(|(_, r)| f(r))
            .map(|(i, r)| {
                (
                    r.time_us,
                    predict(r, lookup(&cache, i, r, &nominal).0, &nominal),
                )
            })
            .collect()
    };
    let mut results = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (t, mem) = lookup(&cache, i, r, &params);
        let pred = predict(r, t, &params);
        let regime = if (r.m as u128) * (r.n as u128) * (r.k as u128) <= 1 << 30 {
            "small"
        } else if mem {
            "memory-bound"
        } else {
            "compute-bound"
        };
        results.push(RowResult {
            label: r.label(),
            split: r.split.clone(),
            scope: r.scope.clone(),
            regime: regime.into(),
            measured_us: r.time_us,
            predicted_us: pred,
            err_pct: (pred - r.time_us) / r.time_us * 100.0,
        });
    }
    let pairs = |f: &dyn Fn(&RowResult) -> bool| -> Vec<(f64, f64)> {
        results
            .iter()
            .filter(|r| f(r))
            .map(|r| (r.measured_us, r.predicted_us))
            .collect()
    };
    let summary = vec![
        SummaryRow::from_pairs("all rows", &pairs(&|_| true), "time_us, MAPE"),
        SummaryRow::from_pairs(
            "device-timed (trace)",
            &pairs(&|r| r.scope == "device"),
            "quality A",
        ),
        SummaryRow::from_pairs(
            "host-timed (incl. dispatch)",
            &pairs(&|r| r.scope == "host"),
            "quality B",
        ),
        SummaryRow::from_pairs(
            "calibration",
            &pairs(&|r| r.split == "calibration"),
            "rows the parameters were fitted on",
        ),
        SummaryRow::from_pairs(
            "evaluation",
            &pairs(&|r| r.split == "evaluation"),
            "held-out rows",
        ),
        SummaryRow::from_pairs(
            "evaluation, device-timed",
            &pairs(&|r| r.split == "evaluation" && r.scope == "device"),
            "held-out trace rows",
        ),
        SummaryRow::from_pairs(
            "compute-bound",
            &pairs(&|r| r.regime == "compute-bound"),
            "M·N·K > 2^30, MXU time dominates",
        ),
        SummaryRow::from_pairs(
            "memory-bound",
            &pairs(&|r| r.regime == "memory-bound"),
            "exposed DMA dominates",
        ),
        SummaryRow::from_pairs("small", &pairs(&|r| r.regime == "small"), "M·N·K <= 2^30"),
        SummaryRow::from_pairs(
            "all rows, nominal clock",
            &nominal_pairs(&|_| true),
            &format!(
                "clock_fraction fixed at 1 (overheads refitted: device {:.2} us, host {:.1} us)",
                nominal.device_overhead_us, nominal.host_overhead_us
            ),
        ),
        SummaryRow::from_pairs(
            "device-timed, nominal clock",
            &nominal_pairs(&|r| r.scope == "device"),
            "clock_fraction fixed at 1",
        ),
        SummaryRow::from_pairs(
            "evaluation, nominal clock",
            &nominal_pairs(&|r| !r.is_calibration()),
            "clock_fraction fixed at 1",
        ),
    ];
    let mut summary = summary;
    // Per device and split, overall and on GEMMs of at least 10 GFLOP (rows and results are
    // in the same order). Every row is bf16.
    let mut devices: Vec<&str> = rows.iter().map(|r| r.device.as_str()).collect();
    devices.sort();
    devices.dedup();
    for dev in devices {
        for split in ["calibration", "evaluation"] {
            let pick = |big: bool| -> Vec<(f64, f64)> {
                rows.iter()
                    .zip(&results)
                    .filter(|(row, res)| {
                        row.device == dev
                            && res.split == split
                            && (!big
                                || 2.0 * (row.m * row.n * row.k * row.batch.max(1)) as f64 >= 10e9)
                    })
                    .map(|(_, res)| (res.measured_us, res.predicted_us))
                    .collect()
            };
            let short = dev.split(" (").next().unwrap_or(dev);
            for (big, label) in [(false, ""), (true, " / >= 10 GFLOP")] {
                let p = pick(big);
                if !p.is_empty() {
                    summary.push(SummaryRow::from_pairs(
                        &format!("{short} bf16 / {split}{label}"),
                        &p,
                        "per device and dtype",
                    ));
                }
            }
        }
    }
    let fitted = format!(
        "fitted on {} calibration rows: device_overhead_us={:.2}, host_overhead_us={:.1}, clock_fraction default={:.3} (shipped TPU configs: kernel_efficiency) p_state_7={:.3}, mac_rate(256x256 chips)={}",
        rows.iter().filter(|r| r.is_calibration()).count(),
        params.device_overhead_us,
        params.host_overhead_us,
        params.clock_fraction_default,
        params.clock_fraction_p_state_7,
        params.mac_rate_256
    );
    let table = ValidationTable {
        title: "TPU native model vs measured GEMM time (MAPE)".into(),
        source: format!("tests/data/tpu_measured.csv; {fitted}"),
        summary,
    };
    let per_row = ValidationTable {
        title: "TPU native model, per row (error = predicted vs measured time)".into(),
        source: "tests/data/tpu_measured.csv".into(),
        summary: results
            .iter()
            .map(|r| {
                let mut s =
                    SummaryRow::from_pairs(&r.label, &[(r.measured_us, r.predicted_us)], "");
                s.note = format!(
                    "{} {} measured {:.1} us, predicted {:.1} us",
                    r.split, r.regime, r.measured_us, r.predicted_us
                );
                s
            })
            .collect(),
    };
    Ok(Some(TpuValidation {
        params,
        nominal_clock_params: nominal,
        rows: results,
        tables: vec![table, per_row],
    }))
}

/// Run the TPU reference set (for `archsim validate`).
pub fn run(data_dir: &Path) -> Result<Vec<ValidationTable>> {
    Ok(validate(data_dir)?.map(|v| v.tables).unwrap_or_default())
}
