//! Fuzzing on stable Rust: property tests feed arbitrary bytes and arbitrary structured inputs
//! to every parser. Any panic fails the test; every error must be an input error (exit code 2).
//! Case counts are bounded so CI stays fast.

use archsim::workload::{kernels, topology, DType};
use proptest::prelude::*;

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A field value that is sometimes valid, sometimes hostile.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..5000).prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("4294967297".to_string()),
        Just("1.5".to_string()),
        Just("".to_string()),
        Just("2:4".to_string()),
        "[a-zA-Z_ ]{0,6}",
    ]
}

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..5000).prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        Just("0".to_string()),
        Just("1e30".to_string()),
        Just("\"bf16\"".to_string()),
        Just("\"fp4\"".to_string()),
        Just("true".to_string()),
        Just("[1, 2]".to_string()),
        "\"[a-z]{0,5}\"",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type".to_string()),
        Just("name".to_string()),
        Just("m".to_string()),
        Just("n".to_string()),
        Just("k".to_string()),
        Just("batch".to_string()),
        Just("dtype".to_string()),
        Just("in_h".to_string()),
        Just("in_w".to_string()),
        Just("in_c".to_string()),
        Just("filters".to_string()),
        Just("kernel".to_string()),
        Just("stride".to_string()),
        Just("padding".to_string()),
        Just("heads".to_string()),
        Just("seq_q".to_string()),
        Just("seq_kv".to_string()),
        Just("head_dim".to_string()),
        Just("elements".to_string()),
        "[a-z_]{1,8}",
    ]
}

proptest! {
    #![proptest_config(cfg())]

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
