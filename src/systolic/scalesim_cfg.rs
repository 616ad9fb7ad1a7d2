//! SCALE-Sim 3.0.0 `.cfg` reader (`scale_config.read_conf_file`, MODEL.md §1.1).
//!
//! The format is Python `configparser`: `[section]` headers, `key = value` or `key : value`,
//! `#`/`;` comment lines, key names case-insensitive, section names case-sensitive (as Python has
//! them). Every key SCALE-Sim 3.0.0 reads is required here too, so a `.cfg` that loads in archsim
//! loads in SCALE-Sim and vice versa. Departures, each an error where SCALE-Sim would misbehave:
//! * zero/negative array dims and SRAM sizes (SCALE-Sim divides by them or builds empty buffers);
//! * an unknown `Dataflow` (SCALE-Sim only warns, then crashes later);
//! * an `InterfaceBandwidth` other than CALC/USER (SCALE-Sim silently returns a half-read config);
//!   CALC/USER are accepted in any letter case here;
//! * a `[layout]` bank bandwidth not divisible by its bank count (SCALE-Sim asserts in
//!   `read_buffer.set_params`);
//! * `SparsitySupport = true` and `UseRamulatorTrace = True`: not modelled by archsim, a clear
//!   "not supported" error instead of silently wrong numbers.
//!
//! Why a hand-written reader and not an INI crate: a `.cfg` must read here exactly as SCALE-Sim's
//! Python `configparser` reads it (key names folded to lower case but section names not, `=` or
//! `:`, which lines are comments, what a duplicate key does), so a config gives the same machine
//! in both tools; a general INI crate has its own rules on each of these points. The reader is
//! also where every error gets its file, line and key (`tests/scalesim_cfg_errors.rs`).

use crate::energy::EnergyTable;
use crate::error::{Error, Location, Result};
use crate::systolic::scalesim::energy::ScaleSimEnergy;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// SCALE-Sim dataflow (`[architecture_presets] Dataflow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Output stationary.
    Os,
    /// Weight (filter) stationary.
    Ws,
    /// Input (ifmap) stationary.
    Is,
}

impl Dataflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Dataflow::Os => "os",
            Dataflow::Ws => "ws",
            Dataflow::Is => "is",
        }
    }
}

/// `[run_presets] InterfaceBandwidth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BandwidthMode {
    /// SCALE-Sim estimates the DRAM bandwidth needed; reads never stall
    /// (`memory/read_buffer_estimate_bw.py`).
    Calc,
    /// User-given DRAM bandwidths; reads and writes can stall (`memory/read_buffer.py`).
    User,
}

impl BandwidthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BandwidthMode::Calc => "CALC",
            BandwidthMode::User => "USER",
        }
    }
}

/// A parsed SCALE-Sim 3.0.0 config. Sizes are in kB of 1-byte words (MODEL.md §0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleSimConfig {
    /// `[general] run_name`: the output sub-folder name.
    pub run_name: String,
    /// `ArrayHeight`: PE rows R.
    pub array_rows: u64,
    /// `ArrayWidth`: PE columns C.
    pub array_cols: u64,
    pub ifmap_sram_kb: u64,
    pub filter_sram_kb: u64,
    pub ofmap_sram_kb: u64,
    pub ifmap_offset: i64,
    pub filter_offset: i64,
    pub ofmap_offset: i64,
    pub dataflow: Dataflow,
    /// `Bandwidth` list (words/cycle). Read only in USER mode (empty in CALC mode, as SCALE-Sim);
    /// only element 0 is used, as the OFMAP drain bandwidth (MODEL.md §4).
    pub bandwidth_words_per_cycle: Vec<u64>,
    pub read_request_buffer: u64,
    pub write_request_buffer: u64,
    pub bw_mode: BandwidthMode,
    pub ifmap_custom_layout: bool,
    pub filter_custom_layout: bool,
    /// `[layout] IfmapSRAMBankBandwidth`: in USER mode the ifmap DRAM→SRAM bandwidth.
    pub ifmap_sram_bank_bandwidth: u64,
    pub ifmap_sram_bank_num: u64,
    pub ifmap_sram_bank_port: u64,
    /// `[layout] FilterSRAMBankBandwidth`: in USER mode the filter DRAM→SRAM bandwidth.
    pub filter_sram_bank_bandwidth: u64,
    pub filter_sram_bank_num: u64,
    pub filter_sram_bank_port: u64,
    /// `[sparsity] SparsitySupport` (always false: true is rejected).
    pub sparsity_support: bool,
    /// `[run_presets] UseRamulatorTrace` (always false: true is rejected).
    pub use_ramulator_trace: bool,
    /// `[energy] Table` (archsim's, optional; SCALE-Sim ignores the section): the energy table
    /// charged in SCALE-Sim mode, the documented default when absent
    /// ([`crate::systolic::scalesim::energy`]).
    #[serde(skip)]
    pub energy: ScaleSimEnergy,
}

/// One `key = value` entry with its line.
struct Entry {
    value: String,
    line: usize,
}

/// Sections → lowercased keys → entries, plus the line of each section header.
struct Ini {
    file: String,
    sections: HashMap<String, (usize, HashMap<String, Entry>)>,
}

impl Ini {
    fn parse(src: &str, file: &str) -> Result<Ini> {
        let mut sections: HashMap<String, (usize, HashMap<String, Entry>)> = HashMap::new();
        let mut current: Option<String> = None;
        for (i, raw) in src.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| {
                    Error::input(
                        Location::file(file).line(line_no),
                        format!("section header `{line}` is missing its closing `]`"),
                    )
                })?;
                let name = name.trim().to_string();
                sections
                    .entry(name.clone())
                    .or_insert((line_no, HashMap::new()));
                current = Some(name);
                continue;
            }
            let sep = line.find(['=', ':']).ok_or_else(|| {
                Error::input(
                    Location::file(file).line(line_no),
                    format!("expected `key = value` or `key: value`, found `{line}`"),
                )
            })?;
            let key = line[..sep].trim().to_ascii_lowercase();
            let value = line[sep + 1..].trim().to_string();
            if key.is_empty() {
                return Err(Error::input(
                    Location::file(file).line(line_no),
                    "empty key name before the separator",
                ));
            }
            let sec = current.as_ref().ok_or_else(|| {
                Error::input(
                    Location::file(file).line(line_no).key(key.clone()),
                    "key outside any section; put it under a `[section]` header",
                )
            })?;
            let (_, map) = sections.get_mut(sec).expect("section inserted above");
            if let Some(prev) = map.get(&key) {
                return Err(Error::input(
                    Location::file(file)
                        .line(line_no)
                        .key(format!("{sec}.{key}")),
                    format!("duplicate key (first given on line {})", prev.line),
                ));
            }
            map.insert(
                key,
                Entry {
                    value,
                    line: line_no,
                },
            );
        }
        Ok(Ini {
            file: file.to_string(),
            sections,
        })
    }

    /// The raw value of a required key and its line.
    fn get(&self, section: &str, key: &str) -> Result<(&str, usize)> {
        let dotted = format!("{section}.{key}");
        let Some((sec_line, map)) = self.sections.get(section) else {
            return Err(Error::input(
                Location::file(&self.file).line(1).key(dotted),
                format!(
                    "missing section `[{section}]` (SCALE-Sim 3.0.0 requires it; section names \
                     are case-sensitive)"
                ),
            ));
        };
        match map.get(&key.to_ascii_lowercase()) {
            Some(e) => Ok((e.value.as_str(), e.line)),
            None => Err(Error::input(
                Location::file(&self.file).line(*sec_line).key(dotted),
                format!(
                    "missing key `{key}` in section `[{section}]` (SCALE-Sim 3.0.0 requires it)"
                ),
            )),
        }
    }

    fn err(&self, section: &str, key: &str, line: usize, msg: impl Into<String>) -> Error {
        Error::input(
            Location::file(&self.file)
                .line(line)
                .key(format!("{section}.{key}")),
            msg,
        )
    }

    /// An integer key (Python `int(...)`).
    fn int(&self, section: &str, key: &str) -> Result<(i64, usize)> {
        let (v, line) = self.get(section, key)?;
        v.parse::<i64>().map(|x| (x, line)).map_err(|_| {
            self.err(
                section,
                key,
                line,
                format!("`{v}` is not an integer; give a whole number"),
            )
        })
    }

    /// A positive integer key.
    fn positive(&self, section: &str, key: &str, what: &str) -> Result<u64> {
        let (v, line) = self.int(section, key)?;
        if v <= 0 {
            return Err(self.err(
                section,
                key,
                line,
                format!("{what} must be a positive integer, got {v}"),
            ));
        }
        Ok(v as u64)
    }

    /// A boolean key (configparser `getboolean`: 1/yes/true/on, 0/no/false/off).
    fn boolean(&self, section: &str, key: &str) -> Result<(bool, usize)> {
        let (v, line) = self.get(section, key)?;
        match v.to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => Ok((true, line)),
            "0" | "no" | "false" | "off" => Ok((false, line)),
            _ => Err(self.err(
                section,
                key,
                line,
                format!("`{v}` is not a boolean; use True or False"),
            )),
        }
    }
}

impl Ini {
    /// `[energy] Table = FILE.toml`: read the user's energy table, a path relative to the
    /// `.cfg`'s directory; the default when the section or key is absent. Errors name the TOML
    /// file, line and key, or the `.cfg` line when the file cannot be read.
    fn energy_table(&self) -> Result<ScaleSimEnergy> {
        let Some(entry) = self
            .sections
            .get("energy")
            .and_then(|(_, map)| map.get("table"))
        else {
            return Ok(ScaleSimEnergy::default());
        };
        let given = entry.value.trim();
        if given.is_empty() {
            return Err(self.err(
                "energy",
                "Table",
                entry.line,
                "empty path; name a TOML energy table or drop the key for the default",
            ));
        }
        let dir = std::path::Path::new(&self.file)
            .parent()
            .unwrap_or(std::path::Path::new(""));
        let path = dir.join(given);
        let text = crate::fsio::read_input_file(&path).map_err(|e| {
            self.err(
                "energy",
                "Table",
                entry.line,
                format!("cannot read `{given}`: {e}"),
            )
        })?;
        let file = path.display().to_string();
        let table: EnergyTable = crate::config::from_toml(&text, &file)?;
        if let Err((k, v)) = table.validate() {
            return Err(crate::config::key_error(
                &text,
                &file,
                k,
                format!("{v} is not a valid energy: must be finite and >= 0"),
            ));
        }
        Ok(ScaleSimEnergy {
            name: given.to_string(),
            user: Some(table),
        })
    }
}

const ARCH: &str = "architecture_presets";
const LAYOUT: &str = "layout";

impl ScaleSimConfig {
    /// Parse a SCALE-Sim 3.0.0 `.cfg` text; `file` names it in errors.
    ///
    /// Source: `scale_config.read_conf_file` (every key it reads is required here).
    pub fn parse(src: &str, file: &str) -> Result<Self> {
        let ini = Ini::parse(src, file)?;
        let (run_name, _) = ini.get("general", "run_name")?;
        let (mode, mode_line) = ini.get("run_presets", "InterfaceBandwidth")?;
        let bw_mode = match mode.to_ascii_uppercase().as_str() {
            "CALC" => BandwidthMode::Calc,
            "USER" => BandwidthMode::User,
            _ => {
                return Err(ini.err(
                    "run_presets",
                    "InterfaceBandwidth",
                    mode_line,
                    format!("`{mode}` is not a bandwidth mode; use CALC or USER"),
                ))
            }
        };
        let (ramulator, ram_line) = ini.get("run_presets", "UseRamulatorTrace")?;
        // SCALE-Sim: `ramulator_on == 'True'`; anything else is false.
        let use_ramulator_trace = ramulator.eq_ignore_ascii_case("true");
        if use_ramulator_trace {
            return Err(ini.err(
                "run_presets",
                "UseRamulatorTrace",
                ram_line,
                "Ramulator traces are not supported by archsim's SCALE-Sim mode (the pip package \
                 only has the hooks, MODEL.md §6); set UseRamulatorTrace: False",
            ));
        }
        let array_rows = ini.positive(ARCH, "ArrayHeight", "the array height (PE rows)")?;
        let array_cols = ini.positive(ARCH, "ArrayWidth", "the array width (PE columns)")?;
        let ifmap_sram_kb = ini.positive(ARCH, "IfmapSramSzkB", "the ifmap SRAM size in kB")?;
        let filter_sram_kb = ini.positive(ARCH, "FilterSramSzkB", "the filter SRAM size in kB")?;
        let ofmap_sram_kb = ini.positive(ARCH, "OfmapSramSzkB", "the ofmap SRAM size in kB")?;
        let (ifmap_offset, _) = ini.int(ARCH, "IfmapOffset")?;
        let (filter_offset, _) = ini.int(ARCH, "FilterOffset")?;
        let (ofmap_offset, _) = ini.int(ARCH, "OfmapOffset")?;
        let (df, df_line) = ini.get(ARCH, "Dataflow")?;
        let dataflow = match df.to_ascii_lowercase().as_str() {
            "os" => Dataflow::Os,
            "ws" => Dataflow::Ws,
            "is" => Dataflow::Is,
            _ => {
                return Err(ini.err(
                    ARCH,
                    "Dataflow",
                    df_line,
                    format!("unknown dataflow `{df}`; use os, ws or is"),
                ))
            }
        };
        let read_request_buffer =
            ini.positive(ARCH, "ReadRequestBuffer", "the read request buffer size")?;
        let write_request_buffer =
            ini.positive(ARCH, "WriteRequestBuffer", "the write request buffer size")?;
        let (ifmap_custom_layout, il_line) = ini.boolean(LAYOUT, "IfmapCustomLayout")?;
        let (filter_custom_layout, fl_line) = ini.boolean(LAYOUT, "FilterCustomLayout")?;
        for (on, key, line) in [
            (ifmap_custom_layout, "IfmapCustomLayout", il_line),
            (filter_custom_layout, "FilterCustomLayout", fl_line),
        ] {
            if on {
                return Err(ini.err(
                    LAYOUT,
                    key,
                    line,
                    "custom SRAM layouts (bank-conflict modelling) are not supported by archsim's \
                     SCALE-Sim mode; set it to False",
                ));
            }
        }
        let ifmap_sram_bank_bandwidth = ini.positive(
            LAYOUT,
            "IfmapSRAMBankBandwidth",
            "the ifmap SRAM bank bandwidth",
        )?;
        let ifmap_sram_bank_num =
            ini.positive(LAYOUT, "IfmapSRAMBankNum", "the ifmap SRAM bank count")?;
        let ifmap_sram_bank_port =
            ini.positive(LAYOUT, "IfmapSRAMBankPort", "the ifmap SRAM ports per bank")?;
        let filter_sram_bank_bandwidth = ini.positive(
            LAYOUT,
            "FilterSRAMBankBandwidth",
            "the filter SRAM bank bandwidth",
        )?;
        let filter_sram_bank_num =
            ini.positive(LAYOUT, "FilterSRAMBankNum", "the filter SRAM bank count")?;
        let filter_sram_bank_port = ini.positive(
            LAYOUT,
            "FilterSRAMBankPort",
            "the filter SRAM ports per bank",
        )?;
        // read_buffer.set_params asserts bw_per_bank * num_bank == bw (USER mode only builds
        // those buffers, but the values are read in both modes).
        for (bw, num, key) in [
            (
                ifmap_sram_bank_bandwidth,
                ifmap_sram_bank_num,
                "IfmapSRAMBankBandwidth",
            ),
            (
                filter_sram_bank_bandwidth,
                filter_sram_bank_num,
                "FilterSRAMBankBandwidth",
            ),
        ] {
            if bw % num != 0 {
                let (_, line) = ini.get(LAYOUT, key)?;
                return Err(ini.err(
                    LAYOUT,
                    key,
                    line,
                    format!(
                        "bank bandwidth {bw} is not divisible by the bank count {num} \
                         (SCALE-Sim asserts this in read_buffer.set_params); make it a multiple"
                    ),
                ));
            }
        }
        let bandwidth_words_per_cycle = if bw_mode == BandwidthMode::User {
            let (v, line) = ini.get(ARCH, "Bandwidth")?;
            let mut out = Vec::new();
            for part in v.split(',') {
                let p = part.trim();
                match p.parse::<i64>() {
                    Ok(x) if x > 0 => out.push(x as u64),
                    _ => {
                        return Err(ini.err(
                            ARCH,
                            "Bandwidth",
                            line,
                            format!(
                                "`{p}` is not a positive integer bandwidth (words/cycle); give a \
                                 comma-separated list such as `10` or `10,10,10`"
                            ),
                        ))
                    }
                }
            }
            out
        } else {
            Vec::new()
        };
        let (sparsity_support, sp_line) = {
            let (v, line) = ini.get("sparsity", "SparsitySupport")?;
            (v.eq_ignore_ascii_case("true"), line)
        };
        if sparsity_support {
            return Err(ini.err(
                "sparsity",
                "SparsitySupport",
                sp_line,
                "sparsity is not supported by archsim's SCALE-Sim mode; set SparsitySupport: false",
            ));
        }
        Ok(ScaleSimConfig {
            run_name: run_name.to_string(),
            array_rows,
            array_cols,
            ifmap_sram_kb,
            filter_sram_kb,
            ofmap_sram_kb,
            ifmap_offset,
            filter_offset,
            ofmap_offset,
            dataflow,
            bandwidth_words_per_cycle,
            read_request_buffer,
            write_request_buffer,
            bw_mode,
            ifmap_custom_layout,
            filter_custom_layout,
            ifmap_sram_bank_bandwidth,
            ifmap_sram_bank_num,
            ifmap_sram_bank_port,
            filter_sram_bank_bandwidth,
            filter_sram_bank_num,
            filter_sram_bank_port,
            sparsity_support,
            use_ramulator_trace,
            energy: ini.energy_table()?,
        })
    }

    /// OFMAP drain bandwidth in words/cycle: `Bandwidth[0]` in USER mode, the array width in
    /// CALC mode (`single_layer_sim.run`).
    pub fn ofmap_drain_bw(&self) -> u64 {
        match self.bw_mode {
            BandwidthMode::User => self.bandwidth_words_per_cycle.first().copied().unwrap_or(1),
            BandwidthMode::Calc => self.array_cols,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const GOOD: &str = "[general]
run_name = calc_32x32_os

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:   512
FilterSramSzkB:  512
OfmapSramSzkB:   256
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
";

    #[test]
    fn parses_the_stock_format() {
        let c = ScaleSimConfig::parse(GOOD, "g.cfg").unwrap();
        assert_eq!(c.run_name, "calc_32x32_os");
        assert_eq!((c.array_rows, c.array_cols), (32, 32));
        assert_eq!(
            (c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb),
            (512, 512, 256)
        );
        assert_eq!(c.filter_offset, 10_000_000);
        assert_eq!(c.dataflow, Dataflow::Os);
        assert_eq!(c.bw_mode, BandwidthMode::Calc);
        assert!(c.bandwidth_words_per_cycle.is_empty());
        assert_eq!(c.ofmap_drain_bw(), 32);
    }

    #[test]
    fn keys_are_case_insensitive_and_equals_works() {
        let src = GOOD
            .replace("ArrayHeight:    32", "arrayheight = 16")
            .replace("Dataflow : os", "DATAFLOW=WS")
            .replace("InterfaceBandwidth: CALC", "interfacebandwidth = USER")
            .replace("Bandwidth : 10", "Bandwidth : 20, 30");
        let c = ScaleSimConfig::parse(&src, "g.cfg").unwrap();
        assert_eq!(c.array_rows, 16);
        assert_eq!(c.dataflow, Dataflow::Ws);
        assert_eq!(c.bw_mode, BandwidthMode::User);
        assert_eq!(c.bandwidth_words_per_cycle, vec![20, 30]);
        assert_eq!(c.ofmap_drain_bw(), 20);
    }

    /// Each bad input must fail with exit code 2 and a message naming the key and the line.
    fn bad(src: &str, key: &str, line: usize) -> String {
        let e = ScaleSimConfig::parse(src, "bad.cfg").unwrap_err();
        let s = e.to_string();
        assert_eq!(e.exit_code(), 2, "{s}");
        assert!(s.contains(key), "message should name `{key}`: {s}");
        assert!(
            s.starts_with(&format!("bad.cfg:{line}")),
            "message should point at line {line}: {s}"
        );
        s
    }

    #[test]
    fn bad_inputs_name_key_and_line() {
        bad(
            &GOOD.replace("ArrayHeight:    32", "ArrayHeight: 0"),
            "architecture_presets.ArrayHeight",
            5,
        );
        bad(
            &GOOD.replace("ArrayWidth:     32", "ArrayWidth: -4"),
            "architecture_presets.ArrayWidth",
            6,
        );
        bad(
            &GOOD.replace("IfmapSramSzkB:   512", "IfmapSramSzkB: big"),
            "architecture_presets.IfmapSramSzkB",
            7,
        );
        let s = bad(
            &GOOD.replace("Dataflow : os", "Dataflow : rs"),
            "architecture_presets.Dataflow",
            14,
        );
        assert!(s.contains("os, ws or is"), "{s}");
        // Missing key: points at the section header.
        bad(
            &GOOD.replace("OfmapSramSzkB:   256\n", ""),
            "architecture_presets.OfmapSramSzkB",
            4,
        );
        let s = bad(
            &GOOD.replace("IfmapSRAMBankNum: 10", "IfmapSRAMBankNum: 3"),
            "layout.IfmapSRAMBankBandwidth",
            21,
        );
        assert!(s.contains("divisible"), "{s}");
        let s = bad(
            &GOOD.replace("SparsitySupport : false", "SparsitySupport : true"),
            "sparsity.SparsitySupport",
            30,
        );
        assert!(s.contains("not supported"), "{s}");
        let s = bad(
            &GOOD.replace("UseRamulatorTrace: False", "UseRamulatorTrace: True"),
            "run_presets.UseRamulatorTrace",
            38,
        );
        assert!(s.contains("not supported"), "{s}");
        bad(
            &GOOD.replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST"),
            "run_presets.InterfaceBandwidth",
            37,
        );
        bad(
            &GOOD
                .replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER")
                .replace("Bandwidth : 10", "Bandwidth : 10,x"),
            "architecture_presets.Bandwidth",
            13,
        );
        bad(
            &GOOD.replace("IfmapCustomLayout: False", "IfmapCustomLayout: maybe"),
            "layout.IfmapCustomLayout",
            20,
        );
        bad(
            &GOOD.replace("FilterOffset:   10000000", "FilterOffset: 1e7"),
            "architecture_presets.FilterOffset",
            11,
        );
        bad(
            &GOOD.replace(
                "ReadRequestBuffer: 32",
                "ReadRequestBuffer: 32\nReadRequestBuffer: 8",
            ),
            "architecture_presets.readrequestbuffer",
            17,
        );
    }

    #[test]
    fn missing_section_and_garbage_lines() {
        let e = ScaleSimConfig::parse("[general]\nrun_name = x\n", "m.cfg").unwrap_err();
        assert!(e.to_string().contains("run_presets"), "{e}");
        let e =
            ScaleSimConfig::parse("[general]\nthis line has no separator\n", "m.cfg").unwrap_err();
        assert!(e.to_string().starts_with("m.cfg:2"), "{e}");
        let e = ScaleSimConfig::parse("run_name = x\n", "m.cfg").unwrap_err();
        assert!(e.to_string().starts_with("m.cfg:1"), "{e}");
        let e = ScaleSimConfig::parse("[general\n", "m.cfg").unwrap_err();
        assert!(e.to_string().starts_with("m.cfg:1"), "{e}");
        // Never panics on arbitrary bytes-as-text.
        for s in ["", "[", "=", ":", "[a]\n=\n", "[general]\nrun_name\n"] {
            assert!(ScaleSimConfig::parse(s, "x.cfg").is_err());
        }
    }
}
