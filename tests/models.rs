//! Model cards: parameter counts against published totals, KV-cache bytes per token, FLOPs per
//! token against the closed forms, and whole-model runs (repeated layers, memory feasibility,
//! fused vs unfused attention).

mod common;

use archsim::registry;
use archsim::run::model::{memory_needs, model_flops, simulate_model};
use archsim::workload::model::lower::{lower, Phase, RunSpec};
use archsim::workload::model::{self, ModelCard};
use archsim::workload::DType;
use common::archsim;

fn card(name: &str) -> ModelCard {
    model::load(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b
}

/// Published sizes (shared/reference/models/MODELS.md, copied with sources in tests/data/models.csv).
#[test]
fn parameter_counts_match_published_totals() {
    let rows = common::repo_file("tests/data/models.csv");
    let mut n = 0;
    for line in rows.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let (name, total, active) = (f[0], f[1], f[2]);
        let p = card(name).params();
        let total: f64 = total.parse().unwrap();
        assert!(
            rel(p.total as f64, total) < 0.01,
            "{name}: {} vs published {total}",
            p.total
        );
        if !active.is_empty() {
            let active: f64 = active.parse().unwrap();
            assert!(
                rel(p.active as f64, active) < 0.01,
                "{name}: active {} vs {active}",
                p.active
            );
        }
        n += 1;
    }
    assert_eq!(n, 7);
    // Exact where an exact count is published: Llama 3 70B = 70,553,706,496.
    assert_eq!(card("llama3_70b").params().total, 70_553_706_496);
}

#[test]
fn kv_cache_bytes_per_token_exact() {
    for (name, bytes) in [
        ("llama3_8b", 131_072),
        ("llama3_70b", 327_680),
        ("llama3_405b", 516_096),
        ("gpt3_175b", 4_718_592),
        ("mixtral_8x7b", 131_072),
        ("mixtral_8x22b", 229_376),
        // MLA caches the 512-dim latent and the 64-dim RoPE key: 61 · 576 · 2 B.
        ("deepseek_v3", 70_272),
    ] {
        assert_eq!(card(name).kv_bytes_per_token(DType::Bf16), bytes, "{name}");
    }
    assert_eq!(card("llama3_405b").kv_bytes_per_token(DType::Fp8), 258_048);
}

fn train(name: &str, seq: u64) -> (ModelCard, RunSpec) {
    let c = card(name);
    let mut s = RunSpec::new(Phase::Train, &c);
    s.seq = seq;
    s.dtype = DType::Bf16;
    (c, s)
}

/// PaLM's count (Chowdhery et al. 2022, App. B): 6·N + 12·L·H·Q·T per trained token, N the
/// non-embedding active parameters (the LM head included), attention over all T pairs.
#[test]
fn training_flops_per_token_match_6n_plus_attention() {
    for name in [
        "llama3_8b",
        "llama3_70b",
        "llama3_405b",
        "mixtral_8x7b",
        "mixtral_8x22b",
        "deepseek_v3",
        "gpt3_175b",
    ] {
        let (c, s) = train(name, 4096);
        let lowered = lower(&c, &s).unwrap();
        let (causal, full) = model_flops(&lowered);
        let t = s.tokens() as f64;
        let (qk, v) = c.attn_dims();
        let attn_full = 6.0 * c.layers as f64 * c.heads as f64 * (qk + v) as f64 * s.seq as f64;
        let closed = 6.0 * c.params().active_matmul as f64 + attn_full;
        assert!(
            rel(full / t, closed) < 0.01,
            "{name}: {} vs {closed}",
            full / t
        );
        // Causal: each query sees (T+1)/2 keys on average.
        let closed_causal = 6.0 * c.params().active_matmul as f64
            + attn_full * (s.seq + 1) as f64 / (2 * s.seq) as f64;
        assert!(
            rel(causal / t, closed_causal) < 0.01,
            "{name}: causal {} vs {closed_causal}",
            causal / t
        );
    }
}

/// Megatron-LM's count for GPT-3 (Narayanan et al. 2021, eq. 3 without recomputation):
/// 72·B·s·L·h²·(1 + s/6h + V/16Lh).
#[test]
fn gpt3_training_flops_match_megatron() {
    let (c, mut s) = train("gpt3_175b", 2048);
    s.batch = 8;
    let (_, full) = model_flops(&lower(&c, &s).unwrap());
    let (b, sq, l, h, v) = (8.0, 2048.0, 96.0, 12288.0, 50257.0);
    let megatron = 72.0 * b * sq * l * h * h * (1.0 + sq / (6.0 * h) + v / (16.0 * l * h));
    assert!(rel(full, megatron) < 0.01, "{full:e} vs {megatron:e}");
}

#[test]
fn recompute_adds_a_forward_and_shrinks_activations() {
    let m = registry::load("h100").unwrap().build(None).unwrap();
    let (c, s) = train("llama3_8b", 2048);
    let plain = simulate_model(m.as_ref(), &c, &s).unwrap();
    let re = simulate_model(
        m.as_ref(),
        &c,
        &RunSpec {
            recompute: true,
            context_parallel: 1,
            sequence_parallel: 1,
            recompute_attention: false,
            ..s.clone()
        },
    )
    .unwrap();
    let (p, r) = (plain.model.unwrap(), re.model.unwrap());
    assert_eq!(p.model_flops, r.model_flops);
    // Hardware FLOPs: 3× forward → 4× forward for the layers.
    let ratio = r.hardware_flops / p.hardware_flops;
    assert!(ratio > 1.25 && ratio < 1.34, "{ratio}");
    assert!(r.memory.activation_bytes * 4 < p.memory.activation_bytes);
    assert!(r.time_s > p.time_s);
}

#[test]
fn repeated_layers_are_simulated_once_and_counted() {
    let m = registry::load("tpu_v5p").unwrap().build(None).unwrap();
    let c = card("llama3_405b");
    let s = RunSpec::new(Phase::Prefill, &c);
    let r = simulate_model(m.as_ref(), &c, &s).unwrap();
    let layer_ops: Vec<_> = r.ops.iter().filter(|p| p.repeat.0 == 126).collect();
    assert!(layer_ops.len() >= 10, "{}", layer_ops.len());
    let sum: f64 = r.ops.iter().map(|p| p.time_s * p.repeat.0 as f64).sum();
    assert!(rel(r.total.time_s, sum) < 1e-12);
    let per_layer: f64 = layer_ops.iter().map(|p| p.time_s).sum();
    assert!(r.total.time_s > 126.0 * per_layer);
    let model = r.model.unwrap();
    assert_eq!(model.tokens, 2048);
    assert!(rel(model.tokens_per_s, 2048.0 / r.total.time_s) < 1e-12);
}

#[test]
fn memory_feasibility() {
    let h100 = registry::load("h100").unwrap().build(None).unwrap();
    // Llama 3 8B bf16 decode at batch 1 fits an 80 GB H100; 405B does not.
    let c = card("llama3_8b");
    let r = simulate_model(h100.as_ref(), &c, &RunSpec::new(Phase::Decode, &c)).unwrap();
    let m = r.model.unwrap();
    assert_eq!(m.memory.fits, Some(true));
    assert_eq!(m.memory.weights_bytes, c.params().total * 2);
    assert_eq!(m.memory.kv_cache_bytes, 2049 * 131_072);
    let c = card("llama3_405b");
    let r = simulate_model(h100.as_ref(), &c, &RunSpec::new(Phase::Decode, &c)).unwrap();
    let m = r.model.unwrap();
    assert_eq!(m.memory.fits, Some(false));
    assert!(m.memory.needed_bytes > m.memory.capacity_bytes.unwrap());
    // Expert weights are weights, not activations: a DeepSeek-V3 decode step holds little.
    let c = card("deepseek_v3");
    let mut s = RunSpec::new(Phase::Decode, &c);
    s.batch = 32;
    let mem = memory_needs(&c, &s, &lower(&c, &s).unwrap());
    assert!(mem.activation_bytes < 1 << 30, "{}", mem.activation_bytes);
    // Unfused attention holds the score matrix: 32 heads × 8192² × 2 bytes, in and out.
    let c = card("llama3_8b");
    let mut s = RunSpec::new(Phase::Prefill, &c);
    s.seq = 8192;
    s.fused_attention = false;
    let mem = memory_needs(&c, &s, &lower(&c, &s).unwrap());
    assert!(
        mem.activation_bytes >= 2 * 32 * 8192 * 8192 * 2,
        "{}",
        mem.activation_bytes
    );
    // Training needs 16 bytes per parameter before activations (ZeRO §3.1).
    let (c, s) = train("llama3_8b", 2048);
    let mem = memory_needs(&c, &s, &lower(&c, &s).unwrap());
    let p = c.params().total;
    assert_eq!(
        mem.weights_bytes + mem.gradient_bytes + mem.optimizer_bytes,
        16 * p
    );
    // Stored activations per layer ≈ Korthikanti et al.'s 34·s·b·h bytes for GPT-3 with
    // FlashAttention (no s² term; their count includes dropout masks we do not have).
    let (c, s) = train("gpt3_175b", 2048);
    let mem = memory_needs(&c, &s, &lower(&c, &s).unwrap());
    let per_layer = mem.activation_bytes as f64 / 96.0 / (2048.0 * 12288.0);
    assert!((30.0..40.0).contains(&per_layer), "{per_layer}");
}

#[test]
fn decode_attention_is_memory_bound_and_reads_the_kv_cache() {
    for cfg in ["h100", "tpu_v5p"] {
        let m = registry::load(cfg).unwrap().build(None).unwrap();
        let c = card("llama3_70b");
        let mut s = RunSpec::new(Phase::Decode, &c);
        s.batch = 8;
        s.context = 8192;
        let r = simulate_model(m.as_ref(), &c, &s).unwrap();
        let a = r
            .ops
            .iter()
            .find(|p| p.op == "attention")
            .expect("fused attention op");
        assert_eq!(a.main_stall, "memory_stall", "{cfg}");
        // Reads the whole cache of one layer once: 8 · 8193 · 2 · 8 · 128 · 2 bytes.
        let kv_layer = 8.0 * 8193.0 * 2.0 * 8.0 * 128.0 * 2.0;
        let read = a.counters.hbm_read_bytes;
        assert!(
            read >= kv_layer && read < kv_layer * 1.05,
            "{cfg}: {read} vs {kv_layer}"
        );
    }
}

#[test]
fn fused_attention_skips_the_score_matrix_traffic() {
    for cfg in ["h100", "tpu_v5p", "a100", "b200"] {
        let m = registry::load(cfg).unwrap().build(None).unwrap();
        let c = card("llama3_8b");
        let mut s = RunSpec::new(Phase::Prefill, &c);
        s.seq = 8192;
        let fused = simulate_model(m.as_ref(), &c, &s).unwrap();
        let unfused = simulate_model(
            m.as_ref(),
            &c,
            &RunSpec {
                fused_attention: false,
                ..s.clone()
            },
        )
        .unwrap();
        let attn = |r: &archsim::run::RunReport| -> (f64, f64) {
            r.ops
                .iter()
                .filter(|p| p.name.contains(".attention"))
                .map(|p| (p.time_s, p.counters.hbm_bytes()))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
        };
        let (tf, bf) = attn(&fused);
        let (tu, bu) = attn(&unfused);
        // The unfused softmax alone moves 2 · 32 heads · 8192² · 2 bytes.
        assert!(bu > 8.0 * bf, "{cfg}: {bu} vs {bf}");
        assert!(tf < tu, "{cfg}: fused {tf} vs unfused {tu}");
        assert_eq!(
            fused.model.as_ref().unwrap().model_flops,
            unfused.model.as_ref().unwrap().model_flops
        );
    }
}

#[test]
fn maxtext_scale_rule() {
    // MODELS.md: S = 32 gives emb 8192, 64 heads, mlp 28672, 32 layers.
    let c = model::maxtext(32).unwrap();
    assert_eq!(
        (c.hidden, c.heads, c.ffn_size, c.layers),
        (8192, 64, 28672, 32)
    );
    let c = model::maxtext(1).unwrap();
    assert_eq!(
        (c.hidden, c.heads, c.ffn_size, c.layers),
        (2048, 16, 7168, 16)
    );
    assert!(model::maxtext(3).is_none());
    assert_eq!(card("maxtext_32").name, "maxtext_32");
}

#[test]
fn run_model_json_has_the_model_object() {
    let out = archsim([
        "run",
        "--config",
        "h100",
        "--model",
        "llama3_8b",
        "--phase",
        "decode",
        "--batch",
        "4",
        "--context",
        "1024",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["model"];
    for key in [
        "name",
        "params",
        "active_params",
        "layers",
        "phase",
        "batch",
        "seq",
        "model_flops",
        "hardware_flops",
        "time_s",
        "tokens_per_s",
    ] {
        assert!(!m[key].is_null(), "missing {key}");
    }
    for key in [
        "weights_bytes",
        "kv_cache_bytes",
        "activation_bytes",
        "capacity_bytes",
        "fits",
    ] {
        assert!(!m["memory"][key].is_null(), "missing memory.{key}");
    }
    assert_eq!(m["phase"], "decode");
    assert_eq!(m["tokens"], 4);
    assert_eq!(m["memory"]["fits"], true);
    // A model that does not fit is named on stderr.
    let out = archsim([
        "run",
        "--config",
        "h100",
        "--model",
        "llama3_405b",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("warning: llama3_405b") && err.contains("does not fit"),
        "{err}"
    );
}

/// Hugging Face configs of the MoE families read to the same shapes as the shipped cards.
#[test]
fn hf_configs_of_moe_families() {
    let dir = common::tempdir();
    let mixtral = r#"{
  "model_type": "mixtral",
  "hidden_act": "silu",
  "hidden_size": 4096,
  "intermediate_size": 14336,
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "num_local_experts": 8,
  "num_experts_per_tok": 2,
  "vocab_size": 32000,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16"
}"#;
    let dsv3 = r#"{
  "model_type": "deepseek_v3",
  "hidden_act": "silu",
  "hidden_size": 7168,
  "intermediate_size": 18432,
  "moe_intermediate_size": 2048,
  "num_attention_heads": 128,
  "num_key_value_heads": 128,
  "num_hidden_layers": 61,
  "n_routed_experts": 256,
  "n_shared_experts": 1,
  "num_experts_per_tok": 8,
  "first_k_dense_replace": 3,
  "moe_layer_freq": 1,
  "q_lora_rank": 1536,
  "kv_lora_rank": 512,
  "qk_nope_head_dim": 128,
  "qk_rope_head_dim": 64,
  "v_head_dim": 128,
  "vocab_size": 129280,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16"
}"#;
    for (file, text, shipped) in [
        ("mixtral.json", mixtral, "mixtral_8x7b"),
        ("dsv3.json", dsv3, "deepseek_v3"),
    ] {
        let p = dir.path().join(file);
        std::fs::write(&p, text).unwrap();
        let hf = model::load(p.to_str().unwrap()).unwrap();
        assert_eq!(hf.params(), card(shipped).params(), "{shipped}");
        assert_eq!(
            hf.kv_bytes_per_token(DType::Bf16),
            card(shipped).kv_bytes_per_token(DType::Bf16)
        );
    }
}
