//! Hugging Face `config.json` → [`ModelCard`], for the families archsim models: `llama`
//! (Llama 2/3/3.1), `mixtral` and `deepseek_v3`. Keys as the `transformers` configuration classes
//! name them (`LlamaConfig`, `MixtralConfig`, `DeepseekV3Config`); a key the family needs and the
//! file lacks, a value of the wrong type, or another `model_type` is an error naming the file,
//! the line and the key.

use super::{FfnKind, Mla, ModelCard, Moe, NormKind, PositionKind};
use crate::error::{Error, Location, Result};
use crate::workload::DType;
use serde_json::{Map, Value};

/// The 1-based line of the first `"key":` in a JSON text (None when absent).
fn json_key_line(src: &str, key: &str) -> Option<usize> {
    let pat = format!("\"{key}\"");
    src.lines()
        .position(|l| {
            l.find(&pat)
                .is_some_and(|i| l[i + pat.len()..].trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

struct Reader<'a> {
    src: &'a str,
    file: &'a str,
    obj: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn loc(&self, key: &str) -> Location {
        let loc = Location::file(self.file).key(key);
        match json_key_line(self.src, key) {
            Some(l) => loc.line(l),
            None => loc,
        }
    }
    fn err(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::input(self.loc(key), msg)
    }
    /// A whole number ≥ 0; `None` when the key is absent or null.
    fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.err(key, format!("{key} = {n}: expected a whole number ≥ 0"))),
            Some(other) => Err(self.err(key, format!("{key} = {other}: expected a whole number"))),
        }
    }
    fn u64(&self, key: &str) -> Result<u64> {
        self.opt_u64(key)?.ok_or_else(|| {
            self.err(
                key,
                format!("missing key `{key}`, which this model family needs"),
            )
        })
    }
    fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(key, format!("{key} = {other}: expected true or false"))),
        }
    }
    fn opt_str(&self, key: &str) -> Result<Option<&str>> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.err(key, format!("{key} = {other}: expected a string"))),
        }
    }
}

/// Parse a Hugging Face `config.json`; `file` names it in errors, `stem` is the fallback name.
pub fn parse(src: &str, file: &str, stem: &str) -> Result<ModelCard> {
    let v: Value = serde_json::from_str(src).map_err(|e| {
        Error::input(
            Location::file(file).line(e.line()).column(e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let Value::Object(obj) = &v else {
        return Err(Error::input(
            Location::file(file).line(1),
            "a config.json must be a JSON object",
        ));
    };
    let r = Reader { src, file, obj };
    let family = r.opt_str("model_type")?.ok_or_else(|| {
        r.err(
            "model_type",
            "missing key `model_type` (\"llama\", \"mixtral\" or \"deepseek_v3\")",
        )
    })?;
    if !matches!(family, "llama" | "mixtral" | "deepseek_v3") {
        return Err(r.err(
            "model_type",
            format!(
                "model_type \"{family}\" is not a supported family; archsim reads \"llama\", \"mixtral\" and \"deepseek_v3\" (write a model card .toml for others, see docs/MODELS.md)"
            ),
        ));
    }
    if let Some(act) = r.opt_str("hidden_act")? {
        if act != "silu" {
            return Err(r.err(
                "hidden_act",
                format!(
                    "hidden_act \"{act}\": the {family} family is modelled with SwiGLU (\"silu\")"
                ),
            ));
        }
    }
    let hidden = r.u64("hidden_size")?;
    let heads = r.u64("num_attention_heads")?;
    let kv_heads = r.opt_u64("num_key_value_heads")?.unwrap_or(heads);
    let head_dim = match r.opt_u64("head_dim")? {
        Some(h) => h,
        None if heads > 0 => hidden / heads,
        None => 0,
    };
    let dtype = match r.opt_str("torch_dtype")?.or(r.opt_str("dtype")?) {
        Some("float32") => DType::Fp32,
        Some("float16") => DType::Fp16,
        _ => DType::Bf16,
    };
    let mut card = ModelCard {
        name: stem.to_string(),
        description: format!("{family} model read from {file}"),
        source: file.to_string(),
        hidden,
        layers: r.u64("num_hidden_layers")?,
        heads,
        kv_heads,
        head_dim,
        ffn: FfnKind::Swiglu,
        ffn_size: r.u64("intermediate_size")?,
        vocab: r.u64("vocab_size")?,
        tied_embeddings: r.opt_bool("tie_word_embeddings")?.unwrap_or(false),
        norm: NormKind::Rmsnorm,
        position: PositionKind::Rope,
        max_positions: 0,
        linear_bias: r.opt_bool("attention_bias")?.unwrap_or(false),
        dropout: false,
        moe: None,
        mla: None,
        dtype,
    };
    match family {
        "mixtral" => {
            card.moe = Some(Moe {
                experts: r.u64("num_local_experts")?,
                top_k: r.u64("num_experts_per_tok")?,
                shared_experts: 0,
                expert_ffn: card.ffn_size,
                dense_layers: 0,
                load_imbalance: 1.0,
            })
        }
        "deepseek_v3" => {
            if let Some(f) = r.opt_u64("moe_layer_freq")? {
                if f != 1 {
                    return Err(r.err(
                        "moe_layer_freq",
                        format!("moe_layer_freq = {f}: only every-layer MoE (1) is modelled"),
                    ));
                }
            }
            card.moe = Some(Moe {
                experts: r.u64("n_routed_experts")?,
                top_k: r.u64("num_experts_per_tok")?,
                shared_experts: r.opt_u64("n_shared_experts")?.unwrap_or(0),
                expert_ffn: r.u64("moe_intermediate_size")?,
                dense_layers: r.opt_u64("first_k_dense_replace")?.unwrap_or(0),
                load_imbalance: 1.0,
            });
            let mla = Mla {
                q_lora_rank: r.opt_u64("q_lora_rank")?.unwrap_or(0),
                kv_lora_rank: r.u64("kv_lora_rank")?,
                qk_nope_head_dim: r.u64("qk_nope_head_dim")?,
                qk_rope_head_dim: r.u64("qk_rope_head_dim")?,
                v_head_dim: r.u64("v_head_dim")?,
            };
            card.head_dim = mla.v_head_dim;
            card.mla = Some(mla);
            if card.linear_bias {
                return Err(r.err(
                    "attention_bias",
                    "attention_bias = true is not modelled for MLA",
                ));
            }
        }
        _ => {}
    }
    let at = |key: &str| {
        // Card keys map back to the HF names for error locations.
        let hf = match key {
            "hidden" => "hidden_size",
            "layers" => "num_hidden_layers",
            "heads" => "num_attention_heads",
            "kv_heads" => "num_key_value_heads",
            "ffn_size" => "intermediate_size",
            "vocab" => "vocab_size",
            "moe.experts" => {
                if family == "mixtral" {
                    "num_local_experts"
                } else {
                    "n_routed_experts"
                }
            }
            "moe.top_k" => "num_experts_per_tok",
            "moe.expert_ffn" => "moe_intermediate_size",
            "moe.dense_layers" => "first_k_dense_replace",
            other => other.strip_prefix("mla.").unwrap_or(other),
        };
        r.loc(hf)
    };
    card.validate(&at)?;
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LLAMA3_8B: &str = r#"{
  "architectures": ["LlamaForCausalLM"],
  "hidden_act": "silu",
  "hidden_size": 4096,
  "intermediate_size": 14336,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "vocab_size": 128256
}"#;

    #[test]
    fn llama_config_matches_the_card() {
        let hf = parse(LLAMA3_8B, "config.json", "llama3_8b").unwrap();
        let card = super::super::load("llama3_8b").unwrap();
        assert_eq!(hf.params(), card.params());
        assert_eq!(hf.kv_bytes_per_token(DType::Bf16), 131_072);
    }

    #[test]
    fn errors_name_line_and_key() {
        let bad = LLAMA3_8B.replace("\"llama\"", "\"gpt2\"");
        let e = parse(&bad, "c.json", "c").unwrap_err().to_string();
        assert!(e.contains("c.json:6") && e.contains("model_type"), "{e}");
        let bad = LLAMA3_8B.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5");
        let e = parse(&bad, "c.json", "c").unwrap_err().to_string();
        assert!(
            e.contains("c.json:9") && e.contains("num_key_value_heads"),
            "{e}"
        );
        let bad = LLAMA3_8B.replace("\"hidden_size\": 4096,\n", "");
        let e = parse(&bad, "c.json", "c").unwrap_err().to_string();
        assert!(e.contains("hidden_size"), "{e}");
    }
}
