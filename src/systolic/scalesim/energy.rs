//! The energy table of SCALE-Sim-compatible mode: a documented default the user can see in every
//! report (`machine.energy_table`) and replace with a TOML table named in the `.cfg`.
//!
//! SCALE-Sim 3.0.0 reports cycles and accesses, not energy; archsim charges the counters of
//! [`super::ScaleSimMachine`] (MACs, SRAM and DRAM bytes; 1 word = 1 byte) with per-action
//! energies, the Accelergy decomposition (Wu, Emer, Sze, ICCAD 2019) that SCALE-Sim v3 also
//! uses for energy. A `.cfg` may name its own table:
//!
//! ```ini
//! [energy]
//! Table = my_energy.toml   ; relative to the .cfg; keys of crate::energy::EnergyTable
//! ```
//!
//! SCALE-Sim's own reader ignores the extra section, so the file stays a valid SCALE-Sim input.

use crate::energy::EnergyTable;
use serde::Serialize;

/// Name of the built-in table in reports.
pub const DEFAULT_TABLE_NAME: &str = "builtin:scalesim-45nm (Horowitz ISSCC 2014)";

/// The energy table a SCALE-Sim-mode machine charges, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleSimEnergy {
    /// [`DEFAULT_TABLE_NAME`] or the path of the user's table as the `.cfg` gives it.
    pub name: String,
    /// The user's table; `None` for the built-in default ([`default_table`]).
    #[serde(skip)]
    pub user: Option<EnergyTable>,
}

impl Default for ScaleSimEnergy {
    fn default() -> Self {
        ScaleSimEnergy {
            name: DEFAULT_TABLE_NAME.to_string(),
            user: None,
        }
    }
}

impl ScaleSimEnergy {
    /// The table to charge for an array with these SRAM buffers (KB): the user's, else
    /// [`default_table`].
    pub fn table(&self, ifmap_kb: u64, filter_kb: u64, ofmap_kb: u64) -> EnergyTable {
        self.user
            .clone()
            .unwrap_or_else(|| default_table(ifmap_kb, filter_kb, ofmap_kb))
    }
}

/// pJ per byte of a 64-bit SRAM access by array size, Horowitz ISSCC 2014 (45 nm): 10 pJ per
/// 64-bit read of an 8 KB array, 20 pJ of 32 KB, 100 pJ of 1 MB. Interpolated linearly in
/// log(size)–log(energy) between those points and extrapolated with the end segments' slopes.
pub fn sram_pj_per_byte(capacity_kb: f64) -> f64 {
    const PTS: [(f64, f64); 3] = [(8.0, 10.0 / 8.0), (32.0, 20.0 / 8.0), (1024.0, 100.0 / 8.0)];
    let kb = if capacity_kb.is_finite() && capacity_kb > 0.0 {
        capacity_kb
    } else {
        PTS[0].0
    };
    let seg = if kb <= PTS[1].0 { 0 } else { 1 };
    let ((x0, y0), (x1, y1)) = (PTS[seg], PTS[seg + 1]);
    let slope = (y1 / y0).ln() / (x1 / x0).ln();
    y0 * (kb / x0).powf(slope)
}

/// The default table of SCALE-Sim mode, 45 nm, every value from Horowitz, "Computing's energy
/// problem", ISSCC 2014 (SCALE-Sim has no process node; 45 nm is the node those figures are
/// quoted at):
/// * a MAC = 8-bit integer multiply (0.2 pJ) + 32-bit add (0.1 pJ) = 0.3 pJ: SCALE-Sim words
///   are one byte and SCALE-Sim has no dtypes, so every `mac_*_pj` is 0.3;
/// * SRAM: [`sram_pj_per_byte`] at the mean of the ifmap, filter and ofmap buffer sizes;
/// * DRAM: 1.3 nJ per 64-bit access (the low end of 1.3–2.6 nJ) = 162.5 pJ/byte, charged as
///   `hbm_pj_per_byte` (SCALE-Sim's DRAM is the machine's off-chip level);
/// * static and active power 0 W: SCALE-Sim has no clock or leakage model; the reported energy
///   is dynamic only. A user table sets `static_w` to charge leakage × time.
///
/// The other keys (vector, register, L2, interconnect, link) have no counter in SCALE-Sim mode
/// and are kept at the [`EnergyTable`] defaults, which multiply zero.
pub fn default_table(ifmap_kb: u64, filter_kb: u64, ofmap_kb: u64) -> EnergyTable {
    // 0.2 pJ (8-bit multiply) + 0.1 pJ (32-bit add), written as their sum.
    let mac = 0.3;
    let mean_kb = (ifmap_kb as f64 + filter_kb as f64 + ofmap_kb as f64) / 3.0;
    EnergyTable {
        mac_fp32_pj: mac,
        mac_bf16_pj: mac,
        mac_fp16_pj: mac,
        mac_fp8_pj: mac,
        mac_fp4_pj: Some(mac),
        mac_int8_pj: mac,
        sram_pj_per_byte: sram_pj_per_byte(mean_kb),
        hbm_pj_per_byte: 1300.0 / 8.0,
        static_w: 0.0,
        active_w: 0.0,
        mac_scale: 1.0,
        ..EnergyTable::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sram_energy_passes_through_horowitz_points_and_grows_with_size() {
        assert!((sram_pj_per_byte(8.0) - 1.25).abs() < 1e-12);
        assert!((sram_pj_per_byte(32.0) - 2.5).abs() < 1e-12);
        assert!((sram_pj_per_byte(1024.0) - 12.5).abs() < 1e-9);
        let (a, b) = (sram_pj_per_byte(64.0), sram_pj_per_byte(512.0));
        assert!(2.5 < a && a < b && b < 12.5, "{a} {b}");
        assert!(sram_pj_per_byte(0.0).is_finite());
    }

    #[test]
    fn default_is_dynamic_only_and_user_table_wins() {
        let e = ScaleSimEnergy::default();
        let t = e.table(256, 256, 256);
        assert_eq!(t.static_w, 0.0);
        assert_eq!(t.mac_int8_pj, t.mac_bf16_pj);
        assert!(t.validate().is_ok());
        let user = EnergyTable {
            static_w: 7.0,
            ..EnergyTable::default()
        };
        let e = ScaleSimEnergy {
            name: "mine.toml".into(),
            user: Some(user.clone()),
        };
        assert_eq!(e.table(1, 1, 1), user);
    }
}
