//! A simple area and die-cost model for swept designs, so a sweep's Pareto front can weigh time
//! and energy against what the silicon costs. It is a first-order model of the parts a sweep
//! changes (MAC array, on-chip SRAM, off-chip memory interface), not a floor plan: control,
//! I/O other than the memory PHY, and packaging are left out, so use it to compare points of
//! one sweep, not to price a product.
//!
//! Every constant is at 28 nm, the node of its sources (TPU v1, Jouppi et al., "In-Datacenter
//! Performance Analysis of a Tensor Processing Unit", ISCA 2017, Fig. 2 floor plan of a
//! ≤ 331 mm² die; wafer price from Khan & Mann, "AI Chips: What They Are and Why They Matter",
//! CSET 2020).

use crate::machine::MachineInfo;
use crate::workload::DType;

/// Area of one MAC unit with its PE registers, mm²: TPU v1's matrix unit is 24 % of a
/// ≤ 331 mm² die for 65,536 8-bit MACs, 0.24 × 331 / 65,536 (Jouppi et al. 2017).
pub const MAC_AREA_MM2: f64 = 0.24 * 331.0 / 65_536.0;

/// On-chip SRAM, mm² per MiB: TPU v1's 24 MiB unified buffer is 29 % of the die,
/// 0.29 × 331 / 24 (Jouppi et al. 2017).
pub const SRAM_MM2_PER_MIB: f64 = 0.29 * 331.0 / 24.0;

/// Off-chip memory interface (PHY + controller), mm² per GB/s: TPU v1's DRAM port is 3 % of the
/// die for 34 GB/s of DDR3, 0.03 × 331 / 34 (Jouppi et al. 2017). ASSUMPTION: area grows
/// linearly with bandwidth; an HBM PHY is denser per GB/s, so this overstates wide interfaces.
pub const PHY_MM2_PER_GBPS: f64 = 0.03 * 331.0 / 34.0;

/// 300 mm wafer price at 28 nm, USD (Khan & Mann, CSET 2020).
pub const WAFER_COST_USD: f64 = 2891.0;
/// Wafer diameter, mm.
pub const WAFER_DIAMETER_MM: f64 = 300.0;
/// Defect density, defects per cm². ASSUMPTION: a mature node's order of magnitude.
pub const DEFECTS_PER_CM2: f64 = 0.1;
/// Clustering parameter α of the negative-binomial yield model. ASSUMPTION: α = 3, the value
/// commonly used for logic (Stapper's model; Cunningham, IEEE Trans. Semicond. Manuf. 1990).
pub const YIELD_ALPHA: f64 = 3.0;

/// Area and cost of one design point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaCost {
    /// MAC array + on-chip SRAM + memory interface, mm².
    pub area_mm2: f64,
    /// Cost of one good die, USD.
    pub die_cost_usd: f64,
}

/// MAC units of a machine: its dense bf16 peak (the largest peak of any dtype when bf16 is 0)
/// over 2 FLOPs per MAC per cycle. For a SCALE-Sim `.cfg` that is rows × cols.
pub fn mac_units(info: &MachineInfo) -> f64 {
    let peak = match info.peak_flops(DType::Bf16) {
        p if p > 0.0 => p,
        _ => info.peak_flops.iter().map(|(_, f)| *f).fold(0.0, f64::max),
    };
    if info.clock_hz > 0.0 {
        peak / (2.0 * info.clock_hz)
    } else {
        0.0
    }
}

/// On-chip SRAM bytes: the capacities of every memory level but the first (off-chip) one.
pub fn sram_bytes(info: &MachineInfo) -> f64 {
    info.memory
        .iter()
        .skip(1)
        .filter_map(|l| l.capacity_bytes)
        .map(|b| b as f64)
        .sum()
}

/// Gross dies per wafer: πr²/A − πd/√(2A) (Hennessy & Patterson, Computer Architecture: A
/// Quantitative Approach, ch. 1).
pub fn dies_per_wafer(area_mm2: f64) -> f64 {
    let r = WAFER_DIAMETER_MM / 2.0;
    let d = std::f64::consts::PI * r * r / area_mm2
        - std::f64::consts::PI * WAFER_DIAMETER_MM / (2.0 * area_mm2).sqrt();
    d.max(0.0)
}

/// Negative-binomial die yield: (1 + A·D₀/α)^−α, A in cm² (Stapper; Cunningham 1990).
pub fn die_yield(area_mm2: f64) -> f64 {
    (1.0 + area_mm2 / 100.0 * DEFECTS_PER_CM2 / YIELD_ALPHA).powf(-YIELD_ALPHA)
}

/// Area and die cost of a machine: area = MACs × [`MAC_AREA_MM2`] + SRAM MiB ×
/// [`SRAM_MM2_PER_MIB`] + off-chip GB/s × [`PHY_MM2_PER_GBPS`]; cost = wafer cost ÷ (dies per
/// wafer × yield). NaN when the machine has no MAC units or the die does not fit a wafer.
///
/// GPUs (SIMT) are priced by the same parts; their tensor-core MAC lanes are counted from the
/// peak, so the figure is the matrix-and-memory part of the die, not the whole GPU.
pub fn area_cost(info: &MachineInfo) -> AreaCost {
    let macs = mac_units(info);
    let sram_mib = sram_bytes(info) / (1024.0 * 1024.0);
    let gbps = info.hbm_bandwidth_bytes_per_s() / 1e9;
    let area_mm2 = macs * MAC_AREA_MM2 + sram_mib * SRAM_MM2_PER_MIB + gbps * PHY_MM2_PER_GBPS;
    let good = dies_per_wafer(area_mm2) * die_yield(area_mm2);
    let ok = macs > 0.0 && area_mm2.is_finite() && good >= 1.0;
    AreaCost {
        area_mm2: if macs > 0.0 { area_mm2 } else { f64::NAN },
        die_cost_usd: if ok { WAFER_COST_USD / good } else { f64::NAN },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{MachineKind, MemoryLevel};

    fn array(rows: u64, cols: u64, sram_kb: u64) -> MachineInfo {
        let mut i = MachineInfo::new("t", MachineKind::Systolic);
        i.clock_hz = 1e9;
        i.peak_flops = MachineInfo::peaks(|_| 2.0 * (rows * cols) as f64 * 1e9);
        i.memory = vec![
            MemoryLevel::new("dram", None, Some(100e9)),
            MemoryLevel::new("sram", Some(sram_kb * 1024), None),
        ];
        i
    }

    #[test]
    fn tpu_v1_parts_add_up_to_its_floor_plan() {
        // 256×256 MACs + 24 MiB + 34 GB/s: 24 % + 29 % + 3 % of 331 mm².
        let mut i = array(256, 256, 24 * 1024);
        i.memory[0] = MemoryLevel::new("dram", None, Some(34e9));
        let a = area_cost(&i);
        assert!((a.area_mm2 - 0.56 * 331.0).abs() < 1e-6, "{}", a.area_mm2);
    }

    #[test]
    fn bigger_arrays_cost_more_per_mm2_through_yield() {
        let small = area_cost(&array(64, 64, 256));
        let big = area_cost(&array(512, 512, 4096));
        assert!(big.area_mm2 > small.area_mm2);
        assert!(big.die_cost_usd / big.area_mm2 > small.die_cost_usd / small.area_mm2);
        assert!(die_yield(100.0) < die_yield(10.0) && die_yield(0.0) == 1.0);
        assert!(area_cost(&MachineInfo::new("x", MachineKind::Simt))
            .die_cost_usd
            .is_nan());
    }
}
