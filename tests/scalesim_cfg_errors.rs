//! A bad SCALE-Sim `.cfg` given to `archsim::registry::load` is an input error (exit code 2)
//! naming the file, the line and the key; never a panic.

mod common;

use common::{line_starting, repo_file, SCALESIM_CFG};

fn stock() -> String {
    repo_file(SCALESIM_CFG)
}

fn load_text(text: &str) -> archsim::Result<archsim::LoadedConfig> {
    common::load_file("bad.cfg", text)
}

#[test]
fn stock_config_loads_and_builds_a_scalesim_machine() {
    let c = load_text(&stock()).unwrap();
    assert_eq!(c.name, "calc_32x32_ws");
    let m = c.build(None).unwrap();
    let info = m.info();
    assert_eq!(info.mode.as_deref(), Some("scalesim"));
    assert_eq!(info.details["dataflow"], "ws");
    assert_eq!(info.details["rows"], 32);
    // Other modes are refused for a .cfg.
    let e = c.build(Some(archsim::SimMode::Native)).err().unwrap();
    assert_eq!(e.exit_code(), 2);
}

#[test]
fn bad_values_name_file_line_and_key() {
    let cases = [
        (
            "ArrayHeight:    32",
            "ArrayHeight: 0",
            "architecture_presets.ArrayHeight",
        ),
        (
            "ArrayWidth:     32",
            "ArrayWidth: -1",
            "architecture_presets.ArrayWidth",
        ),
        (
            "Dataflow : ws",
            "Dataflow : xs",
            "architecture_presets.Dataflow",
        ),
        (
            "IfmapSRAMBankNum: 10",
            "IfmapSRAMBankNum: 4",
            "layout.IfmapSRAMBankBandwidth",
        ),
        (
            "SparsitySupport : false",
            "SparsitySupport : true",
            "sparsity.SparsitySupport",
        ),
        (
            "UseRamulatorTrace: False",
            "UseRamulatorTrace: True",
            "run_presets.UseRamulatorTrace",
        ),
        (
            "InterfaceBandwidth: CALC",
            "InterfaceBandwidth: MAX",
            "run_presets.InterfaceBandwidth",
        ),
        (
            "OfmapSramSzkB:   256",
            "OfmapSramSzkB: 2.5",
            "architecture_presets.OfmapSramSzkB",
        ),
    ];
    let src = stock();
    for (from, to, key) in cases {
        assert!(src.contains(from), "{from}");
        let text = src.replace(from, to);
        let name = key.rsplit('.').next().unwrap();
        let line = line_starting(&text, name);
        let e = load_text(&text).err().unwrap();
        let s = e.to_string();
        assert_eq!(e.exit_code(), 2, "{s}");
        assert!(s.contains(key), "{s}");
        assert!(s.contains(&format!("bad.cfg:{line}")), "line {line}: {s}");
    }
}

#[test]
fn missing_key_and_binary_garbage() {
    let text = stock().replace("ReadRequestBuffer: 32\n", "");
    let e = load_text(&text).err().unwrap();
    assert!(e.to_string().contains("ReadRequestBuffer"), "{e}");
    assert_eq!(e.exit_code(), 2);
    let e = common::load_file("bin.cfg", [0xffu8, 0xfe, 0x00, 0x41])
        .err()
        .unwrap();
    assert_eq!(e.exit_code(), 2);
}
