//! SCALE-Sim-mode energy: the documented default table is named in the machine report, charges
//! no static power, and a `.cfg` can name its own TOML table (`[energy] Table`), whose bad
//! keys and values are input errors naming the file, line and key.

mod common;

use archsim::machine::Machine;
use archsim::workload::{Gemm, Op};
use common::{repo_file, write, SCALESIM_CFG};

fn gemm() -> Op {
    Op::Gemm(Gemm::new("g".to_string(), 256, 256, 256))
}

fn machine_in(dir: &std::path::Path, extra: &str) -> archsim::Result<Box<dyn Machine>> {
    let text = format!("{}\n{extra}", repo_file(SCALESIM_CFG));
    let p = write(dir, "arr.cfg", text);
    archsim::registry::load(common::path_str(&p))?.build(None)
}

#[test]
fn default_table_is_named_shown_and_dynamic_only() {
    let d = common::tempdir();
    let m = machine_in(d.path(), "").unwrap();
    let table = &m.info().details["energy_table"];
    assert!(
        table["name"].as_str().unwrap().contains("Horowitz"),
        "{table}"
    );
    assert_eq!(table["values"]["static_w"], 0.0);
    assert_eq!(table["values"]["mac_int8_pj"], 0.3);
    let p = m.simulate(&gemm()).unwrap();
    let e = archsim::energy::energy(m.energy_table(), &p.counters, p.math_dtype, p.time_s);
    assert_eq!(e.static_pj, 0.0);
    assert!(e.compute_pj > 0.0 && e.sram_pj > 0.0 && e.hbm_pj > 0.0);
}

#[test]
fn a_user_table_replaces_the_default_and_is_named() {
    let d = common::tempdir();
    write(d.path(), "mine.toml", "static_w = 2.0\nmac_bf16_pj = 1.0\n");
    let m = machine_in(d.path(), "[energy]\nTable = mine.toml\n").unwrap();
    assert_eq!(m.info().details["energy_table"]["name"], "mine.toml");
    assert_eq!(m.energy_table().static_w, 2.0);
    let p = m.simulate(&gemm()).unwrap();
    let e = archsim::energy::energy(m.energy_table(), &p.counters, p.math_dtype, p.time_s);
    assert!((e.static_pj - 2.0 * p.time_s * 1e12).abs() < 1e-6 * e.static_pj);
}

#[test]
fn bad_tables_are_input_errors_with_file_line_and_key() {
    let d = common::tempdir();
    write(
        d.path(),
        "typo.toml",
        "static_w = 1.0\nsram_pj_per_bite = 3.0\n",
    );
    write(d.path(), "neg.toml", "hbm_pj_per_byte = -4.0\n");
    for (file, want) in [
        ("typo.toml", ["typo.toml:2", "sram_pj_per_bite"]),
        ("neg.toml", ["neg.toml:1", "hbm_pj_per_byte"]),
        ("missing.toml", ["arr.cfg:", "energy.Table"]),
    ] {
        let e = machine_in(d.path(), &format!("[energy]\nTable = {file}\n"))
            .err()
            .unwrap_or_else(|| panic!("{file} accepted"));
        assert_eq!(e.exit_code(), 2, "{e}");
        let msg = e.to_string();
        for w in want {
            assert!(msg.contains(w), "{file}: `{msg}` lacks `{w}`");
        }
    }
}

#[test]
fn the_text_report_names_the_table() {
    let o = common::archsim(["run", "--config", SCALESIM_CFG, "--gemm", "64,64,64"]);
    common::assert_ok(&o);
    let out = common::stdout(&o);
    assert!(out.contains("energy table: builtin:scalesim-45nm"), "{out}");
}
