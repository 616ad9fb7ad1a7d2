//! Fuzzing on stable Rust: property tests feed arbitrary bytes and arbitrary structured inputs
//! to every parser. Any panic fails the test; every error must be an input error (exit code 2).
//! Case counts are bounded so CI stays fast.

mod common;

use archsim::workload::{kernels, topology, DType};
use proptest::prelude::*;
use proptest::sample::select;

/// One of `values`, each as likely as the others.
fn literal(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(values).prop_map(String::from)
}

/// A decimal integer: small and positive, or any `i64`.
fn integer() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..5000).prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
    ]
}

/// Hostile or edge-case field values: out of range, not integers, empty, a sparsity ratio.
const ODD_FIELDS: &[&str] = &[
    "0",
    "-1",
    "18446744073709551616",
    "4294967297",
    "1.5",
    "",
    "2:4",
];

/// TOML values of every type, valid dtypes among them.
const ODD_VALUES: &[&str] = &[
    "0",
    "1e30",
    "\"bf16\"",
    "\"fp4\"",
    "\"mxfp4\"",
    "\"fp6\"",
    "true",
    "[1, 2]",
];

/// Every key a layer or a config section knows.
const KEYS: &[&str] = &[
    "type", "name", "m", "n", "k", "batch", "dtype", "in_h", "in_w", "in_c", "filters", "kernel",
    "stride", "padding", "heads", "seq_q", "seq_kv", "head_dim", "elements",
];

// The weights keep every alternative (each integer kind, each literal, the random text) as
// likely as the others.

/// A field value that is sometimes valid, sometimes hostile.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => integer(),
        ODD_FIELDS.len() as u32 => literal(ODD_FIELDS),
        1 => "[a-zA-Z_ ]{0,6}",
    ]
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => integer(),
        ODD_VALUES.len() as u32 => literal(ODD_VALUES),
        1 => "\"[a-z]{0,5}\"",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        KEYS.len() as u32 => literal(KEYS),
        1 => "[a-z_]{1,8}",
    ]
}

proptest! {
    #![proptest_config(common::proptest_cases(256))]

    #[test]
    fn topology_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        if let Err(e) = topology::parse(&s, "f.csv", "f", DType::Bf16) {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn topology_structured(rows in proptest::collection::vec(proptest::collection::vec(field(), 1..11), 0..6),
                           trailing in any::<bool>()) {
        let mut s = String::from("Layer, a, b, c,\n");
        for (i, r) in rows.iter().enumerate() {
            s.push_str(&format!("l{i}, {}", r.join(", ")));
            if trailing { s.push(','); }
            s.push('\n');
        }
        match topology::parse(&s, "f.csv", "f", DType::Bf16) {
            Ok(w) => {
                for op in w.ops() {
                    if let archsim::Op::Gemm(g) = op {
                        prop_assert!(g.m >= 1 && g.n >= 1 && g.k >= 1);
                    }
                }
            }
            Err(e) => prop_assert_eq!(e.exit_code(), 2),
        }
    }

    #[test]
    fn kernels_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        if let Err(e) = kernels::parse(&s, "k.toml", "k") {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn kernels_structured(ty in prop_oneof![Just("gemm"), Just("conv2d"), Just("attention"), Just("softmax"), Just("bogus")],
                          kvs in proptest::collection::vec((key(), toml_value()), 0..12)) {
        let mut s = format!("[[layer]]\ntype = \"{ty}\"\n");
        let mut seen = std::collections::HashSet::new();
        for (k, v) in kvs {
            if k == "type" || !seen.insert(k.clone()) { continue; }
            s.push_str(&format!("{k} = {v}\n"));
        }
        if let Err(e) = kernels::parse(&s, "k.toml", "k") {
            prop_assert_eq!(e.exit_code(), 2);
            prop_assert!(e.to_string().starts_with("k.toml"), "{}", e);
        }
    }

    #[test]
    fn hardware_config_arbitrary(kind in prop_oneof![Just("systolic"), Just("simt"), Just("x")],
                                 sections in proptest::collection::vec(("[a-z]{1,6}", proptest::collection::vec((key(), toml_value()), 0..5)), 0..4)) {
        let mut s = format!("kind = \"{kind}\"\n");
        for (sec, kvs) in sections {
            s.push_str(&format!("[{sec}]\n"));
            let mut seen = std::collections::HashSet::new();
            for (k, v) in kvs {
                if seen.insert(k.clone()) {
                    s.push_str(&format!("{k} = {v}\n"));
                }
            }
        }
        if let Err(e) = archsim::registry::parse_toml(&s, "c.toml", "c") {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn hardware_config_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let s = String::from_utf8_lossy(&bytes);
        if let Err(e) = archsim::registry::parse_toml(&s, "c.toml", "c") {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn gemm_flag_arbitrary(s in "[0-9,\\-a-z ]{0,30}") {
        if let Err(e) = archsim::workload::parse_gemm_spec(&s, 1, DType::Bf16) {
            prop_assert_eq!(e.exit_code(), 2);
        }
    }
}
