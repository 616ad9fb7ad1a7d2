//! The fp4 dtypes end to end through the binary: NVFP4 (`--dtype fp4`) and MXFP4 (`--dtype
//! mxfp4`) on a machine with fp4 units (b200) run faster than fp8 and move fp4 bytes (block
//! scales included); on machines without fp4 units (h100, a100, tpu_v5p, tpu7x) they run at the
//! fallback precision, keep fp4 bytes, and say so (`math_dtype`, `note`).

mod common;

use common::archsim;
use serde_json::Value;

/// `archsim run --config CONFIG --gemm 8192,8192,8192 --dtype DTYPE --format json`, parsed.
fn run(config: &str, dtype: &str) -> Value {
    let o = archsim([
        "run",
        "--config",
        config,
        "--gemm",
        "8192,8192,8192",
        "--dtype",
        dtype,
        "--format",
        "json",
    ]);
    assert!(
        o.status.success(),
        "{config} {dtype}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn op(run: &Value) -> &Value {
    &run["ops"][0]
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A and B of an 8192³ GEMM at `bytes_per_element`: the least an op can read from HBM.
fn operand_bytes(bytes_per_element: f64) -> f64 {
    2.0 * 8192.0 * 8192.0 * bytes_per_element
}

#[test]
fn b200_runs_fp4_natively_and_faster_than_fp8() {
    let fp8 = run("b200", "fp8");
    let peaks = &fp8["machine"]["peak_tflops_by_dtype"];
    // 9,000 TF dense FP4 (DGX B200, docs/SPECS.md [ML-acc]), twice the fp8 peak.
    assert!((f(&peaks["fp4"]) - 9000.0).abs() < 10.0, "{peaks}");
    assert_eq!(f(&peaks["fp4"]), 2.0 * f(&peaks["fp8"]));
    assert_eq!(f(&peaks["mxfp4"]), f(&peaks["fp4"]));
    for dtype in ["fp4", "mxfp4"] {
        let r = run("b200", dtype);
        let p = op(&r);
        assert_eq!(p["dtype"], dtype);
        assert_eq!(p["math_dtype"], dtype, "b200 has fp4 tensor cores");
        assert!(p.get("note").is_none(), "{p}");
        assert!(p["plan"]["math"]
            .as_str()
            .unwrap()
            .starts_with("fp4 tensor core"));
        // tcgen05 fp4 geometry: 128 bytes of K per stage = 256 elements, MMA k = 64.
        assert_eq!(p["plan"]["cta_tile"][2], 256, "{}", p["plan"]);
        assert_eq!(p["plan"]["mma_shape"][2], 64, "{}", p["plan"]);
        let (t4, t8) = (f(&p["time_s"]), f(&op(&fp8)["time_s"]));
        assert!(t4 < 0.6 * t8, "{dtype} {t4} s vs fp8 {t8} s");
        // Judged against the fp4 peak; the run's peak is the fp4 one.
        assert!((f(&r["machine"]["peak_tflops"]) - f(&peaks["fp4"])).abs() < 1e-6);
        let u = f(&p["utilization"]);
        assert!(u > 0.3 && u <= 1.0, "{u}");
        // Fewer HBM bytes than fp8, and at least the fp4 operands with their scales.
        let bpe = if dtype == "fp4" { 0.5625 } else { 0.53125 };
        let read = f(&p["counters"]["hbm_read_bytes"]);
        assert!(read >= operand_bytes(bpe) * 0.999, "{read}");
        assert!(read < f(&op(&fp8)["counters"]["hbm_read_bytes"]));
        // Less energy than fp8 (fewer bytes, cheaper MACs, shorter time).
        assert!(f(&p["energy_pj"]) < f(&op(&fp8)["energy_pj"]));
    }
}

#[test]
fn h100_falls_back_to_fp8_and_says_so() {
    let fp8 = run("h100", "fp8");
    let r = run("h100", "fp4");
    let p = op(&r);
    assert_eq!(p["dtype"], "fp4");
    assert_eq!(p["math_dtype"], "fp8");
    let note = p["note"].as_str().unwrap();
    assert!(
        note.contains("h100 has no fp4 units") && note.contains("upcast to fp8"),
        "{note}"
    );
    assert!(note.contains("4.5 bits/element"), "{note}");
    assert_eq!(f(&r["machine"]["peak_tflops_by_dtype"]["fp4"]), 0.0);
    // Judged against the fp8 peak it runs at, not against 0.
    assert_eq!(
        f(&r["machine"]["peak_tflops"]),
        f(&r["machine"]["peak_tflops_by_dtype"]["fp8"])
    );
    let u = f(&p["utilization"]);
    assert!(u > 0.3 && u <= 1.0, "{u}");
    assert!(p["plan"]["math"].as_str().unwrap().contains("upcast"));
    // The kernel has the fp8 geometry (BK = 128 elements, wgmma k = 32).
    assert_eq!(p["plan"]["cta_tile"][2], 128, "{}", p["plan"]);
    assert_eq!(p["plan"]["mma_shape"][2], 32, "{}", p["plan"]);
    // fp8 speed (a compute-bound GEMM), fp4 bytes.
    let (t4, t8) = (f(&p["time_s"]), f(&op(&fp8)["time_s"]));
    assert!((t4 / t8 - 1.0).abs() < 0.05, "{t4} vs {t8}");
    let read = f(&p["counters"]["hbm_read_bytes"]);
    assert!(read >= operand_bytes(0.5625) * 0.999, "{read}");
    assert!(read < 0.7 * f(&op(&fp8)["counters"]["hbm_read_bytes"]));
}

#[test]
fn machines_without_fp8_or_fp4_speedup_fall_back_to_bf16() {
    // tpu_v5p: no fp4 units, fp8 without speed-up (docs/SPECS.md [GC-v5p]); a100: no fp8.
    for config in ["tpu_v5p", "a100"] {
        let bf16 = run(config, "bf16");
        for dtype in ["fp4", "mxfp4"] {
            let r = run(config, dtype);
            let p = op(&r);
            assert_eq!(p["dtype"], dtype);
            assert_eq!(p["math_dtype"], "bf16", "{config} {dtype}");
            let note = p["note"].as_str().unwrap();
            assert!(
                note.contains(&format!("{config} has no fp4 units"))
                    && note.contains("upcast to bf16"),
                "{note}"
            );
            assert_eq!(f(&r["machine"]["peak_tflops_by_dtype"][dtype]), 0.0);
            let (t4, t16) = (f(&p["time_s"]), f(&op(&bf16)["time_s"]));
            assert!(t4 <= t16 * 1.01, "{config} {dtype}: {t4} vs bf16 {t16}");
            assert!(
                f(&p["counters"]["hbm_read_bytes"])
                    < 0.5 * f(&op(&bf16)["counters"]["hbm_read_bytes"])
            );
        }
    }
    // tpu7x has fp8 at twice the bf16 rate: fp4 runs at fp8.
    let p7 = run("tpu7x", "fp4");
    assert_eq!(op(&p7)["math_dtype"], "fp8");
}

#[test]
fn fp4_aliases_kernel_files_and_table_notes() {
    for alias in ["nvfp4", "e2m1"] {
        let r = run("b200", alias);
        assert_eq!(op(&r)["dtype"], "fp4", "{alias}");
    }
    // A kernels file with `dtype = "fp4"`: the table prints the fallback note once.
    let dir = std::env::temp_dir().join(format!("archsim_fp4_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let k = dir.join("k.toml");
    std::fs::write(
        &k,
        "dtype = \"fp4\"\n[[layer]]\ntype = \"gemm\"\nname = \"a\"\nm = 64\nn = 128\nk = 256\n\
         [[layer]]\ntype = \"gemm\"\nname = \"b\"\nm = 64\nn = 128\nk = 256\n",
    )
    .unwrap();
    let o = archsim(["run", "--config", "h100", "--workload", k.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8(o.stdout).unwrap();
    let notes: Vec<&str> = table.lines().filter(|l| l.starts_with("note")).collect();
    assert_eq!(notes.len(), 1, "{table}");
    assert!(notes[0].contains("2 ops") && notes[0].contains("upcast to fp8"));
    // No note on a run that needs none.
    let o = archsim([
        "run", "--config", "b200", "--gemm", "64,64,64", "--dtype", "fp4",
    ]);
    assert!(!String::from_utf8(o.stdout).unwrap().contains("note"));
}
