//! Embeds every shipped hardware config (`configs/*.toml`) and workload (`kernels/*.toml`,
//! `kernels/*.csv`) into the binary, so `--config tpu_v5` works from any directory.
use std::fmt::Write as _;
use std::path::Path;

fn embed(dir: &str, exts: &[&str], out: &mut String, fn_name: &str) {
    println!("cargo:rerun-if-changed={dir}");
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    writeln!(out, "/// Shipped files of `{dir}/`: (file name, contents).").unwrap();
    writeln!(
        out,
        "pub fn {fn_name}() -> &'static [(&'static str, &'static str)] {{ &["
    )
    .unwrap();
    for p in entries {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !exts.contains(&ext) {
            continue;
        }
        println!("cargo:rerun-if-changed={}", p.display());
        let abs = std::fs::canonicalize(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "] }}").unwrap();
}

fn main() {
    let mut out = String::new();
    embed("configs", &["toml"], &mut out, "configs");
    embed("configs/systems", &["toml"], &mut out, "systems");
    embed("kernels", &["toml", "csv"], &mut out, "kernels");
    embed("kernels/models", &["toml"], &mut out, "models");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
