//! Whole LLMs from a model card: the shape of a decoder-only transformer (dense or MoE; MHA, GQA,
//! MQA or DeepSeek's MLA), its parameter counts, KV-cache bytes, FLOPs per token and memory
//! needs, and its lowering to ops for a phase (prefill, decode, train) in [`lower`].
//!
//! Cards come from `kernels/models/*.toml` (shipped ones are embedded), from a Hugging Face
//! `config.json` ([`hf`]: the Llama, Mixtral and DeepSeek-V3 families), or from MaxText's
//! synthetic decoder rule (`maxtext_<S>`, [`maxtext`]).
//!
//! Conventions (`docs/MODELS.md`): `d` hidden size, `L` layers, `h` query heads, `kv` KV heads,
//! `hd` head dim, `F` FFN size, `V` vocabulary. Parameter formulas follow the shapes of the
//! MaxText / Hugging Face implementations of each family (sources in each card).

pub mod hf;
pub mod lower;

use super::DType;
use crate::config::{from_toml, key_error, key_location};
use crate::error::{Error, Location, Result};
use serde::{Deserialize, Serialize};

/// Feed-forward block kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FfnKind {
    /// Gated: gate and up projections (d→F each), SiLU(gate)·up, down projection (F→d): 3·d·F
    /// weights (Shazeer 2020, "GLU Variants Improve Transformer"; Llama).
    Swiglu,
    /// Two matrices d→F→d with GELU between (GPT-2/3).
    Gelu,
}

/// Normalization kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    /// RMSNorm (Zhang & Sennrich 2019): one weight vector.
    Rmsnorm,
    /// LayerNorm (Ba et al. 2016): weight and bias vectors.
    Layernorm,
}

impl NormKind {
    /// Parameters of one norm over `d` features.
    pub fn params(self, d: u64) -> u64 {
        match self {
            NormKind::Rmsnorm => d,
            NormKind::Layernorm => 2 * d,
        }
    }
}

/// Position encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionKind {
    /// Rotary embeddings (Su et al. 2021): no parameters, an elementwise op on Q and K.
    Rope,
    /// Learned absolute positions (GPT-2/3): a `max_positions × d` table.
    Learned,
}

/// Mixture-of-experts block (Shazeer et al. 2017; Mixtral; DeepSeekMoE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moe {
    /// Routed experts per MoE layer.
    pub experts: u64,
    /// Routed experts each token is sent to.
    pub top_k: u64,
    /// Shared experts every token goes through (DeepSeek), 0 for none.
    pub shared_experts: u64,
    /// Intermediate size of one expert (SwiGLU).
    pub expert_ffn: u64,
    /// The first `dense_layers` layers use a dense FFN of the card's `ffn_size` instead.
    pub dense_layers: u64,
    /// Expert buffers are sized to this multiple of the mean tokens per expert, and the grouped
    /// expert GEMMs compute the padded buffers (the capacity factor of Switch Transformer,
    /// Fedus et al. 2022 §2.2). 1.0 = perfectly balanced routing (the default).
    pub load_imbalance: f64,
}

/// Multi-head latent attention (DeepSeek-V2 §2.1, arXiv 2405.04434; DeepSeek-V3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mla {
    /// Rank of the query down-projection (0: queries projected directly from `d`).
    pub q_lora_rank: u64,
    /// Rank of the compressed KV latent (what the KV cache stores, with the RoPE key).
    pub kv_lora_rank: u64,
    /// Per-head query/key dims without and with rotary position.
    pub qk_nope_head_dim: u64,
    pub qk_rope_head_dim: u64,
    /// Per-head value dim.
    pub v_head_dim: u64,
}

/// The shape of a decoder-only transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: String,
    pub description: String,
    /// Where the shape was read (repository, file, commit).
    pub source: String,
    pub hidden: u64,
    pub layers: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub ffn: FfnKind,
    pub ffn_size: u64,
    pub vocab: u64,
    pub tied_embeddings: bool,
    pub norm: NormKind,
    pub position: PositionKind,
    /// Rows of the learned position table (0 with RoPE).
    pub max_positions: u64,
    /// Biases on the linear layers (GPT-3: yes; Llama, Mixtral, DeepSeek: no).
    pub linear_bias: bool,
    /// Trained with dropout (Megatron GPT: attention and hidden dropout 0.1, whose masks
    /// Korthikanti et al. 2022 Table 2 count; Llama, MaxText defaults: none). Training only.
    pub dropout: bool,
    pub moe: Option<Moe>,
    pub mla: Option<Mla>,
    /// Default dtype of weights, activations and KV cache.
    pub dtype: DType,
}

/// Parameter counts of a model, split as the formulas build them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ParamCount {
    /// Every parameter (routed experts included; DeepSeek's MTP module excluded).
    pub total: u64,
    /// Parameters one token uses: everything but the routed experts not chosen (top-k of E);
    /// the convention of published "active" counts (Mixtral's 12.9 B, DeepSeek-V3's 37 B).
    pub active: u64,
    /// Active parameters a token multiplies with: `active` without the input embedding (a
    /// lookup). The `N` of `2·N` forward and `6·N` training FLOPs per token (Kaplan et al.
    /// 2020 §2.1).
    pub active_matmul: u64,
    /// Input embedding (+ learned positions) and LM head.
    pub embedding: u64,
}

impl ModelCard {
    /// Query heads per KV head (GQA group size; 1 for MHA, `heads` for MQA).
    pub fn group(&self) -> u64 {
        self.heads / self.kv_heads
    }

    /// Number of layers with a dense FFN and with an MoE block.
    pub fn dense_and_moe_layers(&self) -> (u64, u64) {
        match &self.moe {
            Some(m) => (m.dense_layers, self.layers - m.dense_layers),
            None => (self.layers, 0),
        }
    }

    /// Attention weights of one layer.
    /// GQA/MHA: `d·h·hd` (Q) + `2·d·kv·hd` (K, V) + `h·hd·d` (O) (MODELS.md conventions), plus
    /// biases when `linear_bias`. MLA (DeepSeek-V2 §2.1.2, eq. 9–14; weights as in the HF
    /// `DeepseekV3Attention`): `d·q_r` + norm(q_r) + `q_r·h·(nope+rope)` +
    /// `d·(kv_r+rope)` + norm(kv_r) + `kv_r·h·(nope+v)` + `h·v·d`.
    pub fn attention_params(&self) -> u64 {
        let d = self.hidden;
        let h = self.heads;
        if let Some(m) = &self.mla {
            let qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
            let q = if m.q_lora_rank > 0 {
                d * m.q_lora_rank + self.norm.params(m.q_lora_rank) + m.q_lora_rank * h * qk
            } else {
                d * h * qk
            };
            let kv = d * (m.kv_lora_rank + m.qk_rope_head_dim)
                + self.norm.params(m.kv_lora_rank)
                + m.kv_lora_rank * h * (m.qk_nope_head_dim + m.v_head_dim);
            return q + kv + h * m.v_head_dim * d;
        }
        let qkv_out = (h + 2 * self.kv_heads) * self.head_dim;
        let w = d * qkv_out + h * self.head_dim * d;
        let b = if self.linear_bias { qkv_out + d } else { 0 };
        w + b
    }

    /// Weights of a dense FFN of intermediate size `f`: SwiGLU `3·d·f`, GELU `2·d·f` (+ biases
    /// `f + d` when `linear_bias`).
    pub fn ffn_params(&self, f: u64) -> u64 {
        let d = self.hidden;
        match self.ffn {
            FfnKind::Swiglu => 3 * d * f,
            FfnKind::Gelu => 2 * d * f + if self.linear_bias { f + d } else { 0 },
        }
    }

    /// Parameters of the model ([`ParamCount`]).
    pub fn params(&self) -> ParamCount {
        let d = self.hidden;
        let norms = 2 * self.norm.params(d); // pre-attention and pre-FFN norm
        let attn = self.attention_params();
        let (n_dense, n_moe) = self.dense_and_moe_layers();
        let dense_layer = attn + norms + self.ffn_params(self.ffn_size);
        let (moe_total, moe_active) = match &self.moe {
            Some(m) => {
                let expert = self.ffn_params(m.expert_ffn);
                let router = d * m.experts;
                let shared = m.shared_experts * expert;
                (
                    attn + norms + router + shared + m.experts * expert,
                    attn + norms + router + shared + m.top_k * expert,
                )
            }
            None => (0, 0),
        };
        let input_emb = self.vocab * d
            + if self.position == PositionKind::Learned {
                self.max_positions * d
            } else {
                0
            };
        let head = if self.tied_embeddings {
            0
        } else {
            self.vocab * d
        };
        let final_norm = self.norm.params(d);
        let body = n_dense * dense_layer + n_moe * moe_total + final_norm;
        let active_body = n_dense * dense_layer + n_moe * moe_active + final_norm;
        // The LM head multiplies every token's hidden state (tied or not); the input embedding
        // is a lookup.
        let active_matmul = active_body + self.vocab * d;
        ParamCount {
            total: body + input_emb + head,
            active: active_body + input_emb + head,
            active_matmul,
            embedding: input_emb + head,
        }
    }

    /// KV-cache bytes per token of context, all layers, at `dtype`.
    /// GQA/MHA: `2·L·kv·hd·bytes` (K and V, MODELS.md). MLA caches the compressed latent and
    /// the shared RoPE key: `L·(kv_lora_rank + qk_rope_head_dim)·bytes` (DeepSeek-V2 §2.1.2,
    /// Table 1).
    pub fn kv_bytes_per_token(&self, dtype: DType) -> u64 {
        // Rows of cached vectors per token and their length (block scales run along a row).
        let (rows, len) = match &self.mla {
            Some(m) => (self.layers, m.kv_lora_rank + m.qk_rope_head_dim),
            None => (self.layers * 2 * self.kv_heads, self.head_dim),
        };
        u64::try_from(dtype.bytes_for_rows(rows, len)).unwrap_or(u64::MAX)
    }

    /// Attention query/key and value dims per head as the prefill/train kernels see them.
    pub fn attn_dims(&self) -> (u64, u64) {
        match &self.mla {
            Some(m) => (m.qk_nope_head_dim + m.qk_rope_head_dim, m.v_head_dim),
            None => (self.head_dim, self.head_dim),
        }
    }

    /// Check the shape; `at` gives the location of a key (file and line).
    fn validate(&self, at: &dyn Fn(&str) -> Location) -> Result<()> {
        let bad = |key: &str, msg: String| Err(Error::input(at(key), msg));
        for (key, v) in [
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("heads", self.heads),
            ("kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("ffn_size", self.ffn_size),
            ("vocab", self.vocab),
        ] {
            if v == 0 {
                return bad(key, format!("{key} = 0: must be at least 1"));
            }
            if v > super::MAX_DIM {
                return bad(
                    key,
                    format!("{key} = {v} is larger than the supported 2^32"),
                );
            }
        }
        if !self.hidden.is_multiple_of(self.heads) {
            return bad(
                "heads",
                format!(
                    "heads = {} does not divide hidden = {}",
                    self.heads, self.hidden
                ),
            );
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            return bad(
                "kv_heads",
                format!(
                    "kv_heads = {} does not divide heads = {} (each KV head serves a whole group of query heads)",
                    self.kv_heads, self.heads
                ),
            );
        }
        if self.position == PositionKind::Learned && self.max_positions == 0 {
            return bad(
                "max_positions",
                "learned positions need max_positions (rows of the position table)".into(),
            );
        }
        if let Some(m) = &self.moe {
            for (key, v) in [
                ("moe.experts", m.experts),
                ("moe.top_k", m.top_k),
                ("moe.expert_ffn", m.expert_ffn),
            ] {
                if v == 0 {
                    return bad(key, format!("{key} = 0: must be at least 1"));
                }
            }
            if m.top_k > m.experts {
                return bad(
                    "moe.top_k",
                    format!("top_k = {} is more than the {} experts", m.top_k, m.experts),
                );
            }
            if m.dense_layers > self.layers {
                return bad(
                    "moe.dense_layers",
                    format!(
                        "dense_layers = {} is more than layers = {}",
                        m.dense_layers, self.layers
                    ),
                );
            }
            if !(1.0..=1e3).contains(&m.load_imbalance) {
                return bad(
                    "moe.load_imbalance",
                    format!(
                        "load_imbalance = {}: must be at least 1.0 (the busiest expert gets that multiple of the mean tokens)",
                        m.load_imbalance
                    ),
                );
            }
            if self.ffn != FfnKind::Swiglu {
                return bad(
                    "ffn",
                    "MoE experts are SwiGLU in every supported family; set ffn = \"swiglu\"".into(),
                );
            }
        }
        if let Some(m) = &self.mla {
            for (key, v) in [
                ("mla.kv_lora_rank", m.kv_lora_rank),
                ("mla.qk_nope_head_dim", m.qk_nope_head_dim),
                ("mla.qk_rope_head_dim", m.qk_rope_head_dim),
                ("mla.v_head_dim", m.v_head_dim),
            ] {
                if v == 0 {
                    return bad(key, format!("{key} = 0: must be at least 1"));
                }
            }
        }
        // Every product the lowering forms must stay far inside u64.
        let p = self.params_u128();
        if p > (1u128 << 50) {
            return bad(
                "hidden",
                format!("the card describes {p} parameters, more than the supported 2^50"),
            );
        }
        Ok(())
    }

    /// A u128 upper bound of the parameter count, for the size check before the u64 formulas.
    fn params_u128(&self) -> u128 {
        let d = self.hidden as u128;
        let l = self.layers as u128;
        let f = self
            .ffn_size
            .max(self.moe.as_ref().map_or(0, |m| m.expert_ffn)) as u128;
        let e = self
            .moe
            .as_ref()
            .map_or(1, |m| m.experts + m.shared_experts + 1) as u128;
        let hd = (self.heads as u128)
            * (self.head_dim as u128).max(self.mla.as_ref().map_or(0, |m| {
                m.qk_nope_head_dim
                    + m.qk_rope_head_dim
                    + m.v_head_dim
                    + m.kv_lora_rank
                    + m.q_lora_rank
            }) as u128);
        l * (4 * d * hd + 3 * d * f * e + d * e)
            + 2 * (self.vocab as u128) * d
            + (self.max_positions as u128) * d
    }
}

/// The TOML of a model card (`kernels/models/*.toml`). Every key is documented in
/// `docs/MODELS.md`; unknown keys are rejected.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CardFile {
    /// Short name; default: the file stem.
    name: Option<String>,
    /// One line saying what the model is.
    #[serde(default)]
    description: String,
    /// Where the shapes come from.
    #[serde(default)]
    source: String,
    /// d, the model width (elements).
    hidden: i64,
    /// Decoder layers.
    layers: i64,
    /// Query heads.
    heads: i64,
    /// KV heads (MHA = heads, GQA, MQA = 1); must divide `heads`. Default: `heads`.
    kv_heads: Option<i64>,
    /// Per-head dimension (elements). Default: hidden / heads.
    head_dim: Option<i64>,
    /// "swiglu" (3 matrices) or "gelu" (2 matrices).
    ffn: String,
    /// Intermediate size of the dense FFN (elements).
    ffn_size: i64,
    /// Vocabulary size (tokens).
    vocab: i64,
    /// The LM head shares the input embedding.
    #[serde(default)]
    tied_embeddings: bool,
    /// "rmsnorm" or "layernorm".
    #[serde(default = "rmsnorm")]
    norm: String,
    /// "rope" or "learned" (needs `max_positions`).
    #[serde(default = "rope")]
    position: String,
    /// Learned position embeddings: positions (tokens).
    #[serde(default)]
    max_positions: i64,
    /// Biases on linear layers (GPT-3).
    #[serde(default)]
    linear_bias: bool,
    /// Trained with dropout on the attention probabilities and after the attention and MLP
    /// blocks (Megatron GPT). Costs training steps only.
    #[serde(default)]
    dropout: bool,
    /// Default dtype of weights, activations and KV cache (bf16, fp16, fp32, fp8, int8, fp4,
    /// mxfp4).
    #[serde(default = "bf16")]
    dtype: String,
    /// `[moe]`: mixture of experts; absent for a dense model.
    moe: Option<MoeFile>,
    /// `[mla]`: DeepSeek multi-head latent attention; absent for GQA/MHA.
    mla: Option<MlaFile>,
}

/// JSON Schema of a model card file, for `archsim schema model` and
/// `docs/reference/model-card.md`.
pub fn file_schema(settings: schemars::generate::SchemaSettings) -> schemars::Schema {
    settings.into_generator().into_root_schema_for::<CardFile>()
}

fn rmsnorm() -> String {
    "rmsnorm".into()
}
fn rope() -> String {
    "rope".into()
}
fn bf16() -> String {
    "bf16".into()
}
fn one_f() -> f64 {
    1.0
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MoeFile {
    /// Routed experts.
    experts: i64,
    /// Experts per token.
    top_k: i64,
    /// Always-on (shared) experts.
    #[serde(default)]
    shared_experts: i64,
    /// Intermediate size of one expert's FFN (elements).
    expert_ffn: i64,
    /// Leading dense (non-MoE) layers.
    #[serde(default)]
    dense_layers: i64,
    /// Capacity factor of the busiest expert (≥ 1).
    #[serde(default = "one_f")]
    load_imbalance: f64,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MlaFile {
    /// Rank of the query compression; 0: no query compression.
    #[serde(default)]
    q_lora_rank: i64,
    /// Rank of the compressed KV latent (elements per token, what the KV cache holds).
    kv_lora_rank: i64,
    /// Per-head query/key dimension without rotary embedding (elements).
    qk_nope_head_dim: i64,
    /// Per-head query/key dimension with rotary embedding (elements).
    qk_rope_head_dim: i64,
    /// Per-head value dimension (elements).
    v_head_dim: i64,
}

/// A whole number ≥ 0 from a card, as u64 (negative values name the key).
fn nonneg(at: &dyn Fn(&str) -> Location, key: &str, v: i64) -> Result<u64> {
    u64::try_from(v)
        .map_err(|_| Error::input(at(key), format!("{key} = {v}: must not be negative")))
}

/// Parse a model card TOML; `file` names it in errors, `stem` is the default name.
pub fn parse_card(src: &str, file: &str, stem: &str) -> Result<ModelCard> {
    let f: CardFile = from_toml(src, file)?;
    let at = |key: &str| key_location(src, file, key);
    let enum_of = |key: &str, v: &str, choices: &[&str]| -> Result<String> {
        let l = v.to_ascii_lowercase();
        if choices.contains(&l.as_str()) {
            Ok(l)
        } else {
            Err(key_error(
                src,
                file,
                key,
                format!("{key} = \"{v}\": expected one of {}", choices.join(", ")),
            ))
        }
    };
    let ffn = match enum_of("ffn", &f.ffn, &["swiglu", "gelu"])?.as_str() {
        "swiglu" => FfnKind::Swiglu,
        _ => FfnKind::Gelu,
    };
    let norm = match enum_of("norm", &f.norm, &["rmsnorm", "layernorm"])?.as_str() {
        "rmsnorm" => NormKind::Rmsnorm,
        _ => NormKind::Layernorm,
    };
    let position = match enum_of("position", &f.position, &["rope", "learned"])?.as_str() {
        "rope" => PositionKind::Rope,
        _ => PositionKind::Learned,
    };
    let dtype: DType = f
        .dtype
        .parse()
        .map_err(|m: String| key_error(src, file, "dtype", m))?;
    let heads = nonneg(&at, "heads", f.heads)?;
    let hidden = nonneg(&at, "hidden", f.hidden)?;
    let head_dim = match f.head_dim {
        Some(v) => nonneg(&at, "head_dim", v)?,
        None if heads > 0 => hidden / heads,
        None => 0,
    };
    let moe = match &f.moe {
        Some(m) => Some(Moe {
            experts: nonneg(&at, "moe.experts", m.experts)?,
            top_k: nonneg(&at, "moe.top_k", m.top_k)?,
            shared_experts: nonneg(&at, "moe.shared_experts", m.shared_experts)?,
            expert_ffn: nonneg(&at, "moe.expert_ffn", m.expert_ffn)?,
            dense_layers: nonneg(&at, "moe.dense_layers", m.dense_layers)?,
            load_imbalance: m.load_imbalance,
        }),
        None => None,
    };
    let mla = match &f.mla {
        Some(m) => Some(Mla {
            q_lora_rank: nonneg(&at, "mla.q_lora_rank", m.q_lora_rank)?,
            kv_lora_rank: nonneg(&at, "mla.kv_lora_rank", m.kv_lora_rank)?,
            qk_nope_head_dim: nonneg(&at, "mla.qk_nope_head_dim", m.qk_nope_head_dim)?,
            qk_rope_head_dim: nonneg(&at, "mla.qk_rope_head_dim", m.qk_rope_head_dim)?,
            v_head_dim: nonneg(&at, "mla.v_head_dim", m.v_head_dim)?,
        }),
        None => None,
    };
    let card = ModelCard {
        name: f.name.clone().unwrap_or_else(|| stem.to_string()),
        description: f.description.clone(),
        source: f.source.clone(),
        hidden,
        layers: nonneg(&at, "layers", f.layers)?,
        heads,
        kv_heads: match f.kv_heads {
            Some(v) => nonneg(&at, "kv_heads", v)?,
            None => heads,
        },
        head_dim,
        ffn,
        ffn_size: nonneg(&at, "ffn_size", f.ffn_size)?,
        vocab: nonneg(&at, "vocab", f.vocab)?,
        tied_embeddings: f.tied_embeddings,
        norm,
        position,
        max_positions: nonneg(&at, "max_positions", f.max_positions)?,
        linear_bias: f.linear_bias,
        dropout: f.dropout,
        moe,
        mla,
        dtype,
    };
    card.validate(&at)?;
    Ok(card)
}

/// MaxText's synthetic decoder at `global_parameter_scale` S (a power of two):
/// with `b, r = divmod(log2 S, 3)`: heads and MLP scale `b + (r > 0)`, embedding scale
/// `b + (r > 1)`, layer scale `b`; emb 2048·2^e, heads (query = KV) 16·2^h, MLP 7168·2^m, layers
/// 16·2^l, head dim 128, vocab 32000, SwiGLU, RMSNorm, RoPE, untied embeddings
/// (AI-Hypercomputer/maxtext `configs/base.yml` and `get_individual_scales`; MODELS.md).
pub fn maxtext(scale: u64) -> Option<ModelCard> {
    if scale == 0 || !scale.is_power_of_two() || scale > 1 << 12 {
        return None;
    }
    let (b, r) = (
        (scale.trailing_zeros() / 3) as u64,
        (scale.trailing_zeros() % 3) as u64,
    );
    let head_s = b + u64::from(r > 0);
    let emb_s = b + u64::from(r > 1);
    Some(ModelCard {
        name: format!("maxtext_{scale}"),
        description: format!("MaxText synthetic decoder, global_parameter_scale {scale}"),
        source: "AI-Hypercomputer/maxtext src/MaxText/configs/base.yml, get_individual_scales"
            .into(),
        hidden: 2048 << emb_s,
        layers: 16 << b,
        heads: 16 << head_s,
        kv_heads: 16 << head_s,
        head_dim: 128,
        ffn: FfnKind::Swiglu,
        ffn_size: 7168 << head_s,
        vocab: 32000,
        tied_embeddings: false,
        norm: NormKind::Rmsnorm,
        position: PositionKind::Rope,
        max_positions: 0,
        linear_bias: false,
        dropout: false,
        moe: None,
        mla: None,
        dtype: DType::Bf16,
    })
}

/// Load a model: a path to a card `.toml` or an HF `config.json`, a shipped card name
/// (`llama3_405b`, the files of `kernels/models/`), or `maxtext_<S>`.
pub fn load(spec: &str) -> Result<ModelCard> {
    use crate::fsio::read_input_file;
    use std::path::Path;
    let path = Path::new(spec);
    let stem = crate::fsio::file_stem(spec);
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if path.exists() {
        let src = read_input_file(path)?;
        return if is_json {
            hf::parse(&src, spec, &stem)
        } else {
            parse_card(&src, spec, &stem)
        };
    }
    let name = spec
        .trim_start_matches("kernels/models/")
        .trim_end_matches(".toml");
    if let Some(s) = name.strip_prefix("maxtext_") {
        return s
            .parse::<u64>()
            .ok()
            .and_then(maxtext)
            .ok_or_else(|| {
                Error::setting(
                    "model",
                    format!("`{spec}`: the MaxText scale must be a power of two from 1 to 4096 (maxtext_32)"),
                )
            });
    }
    let shipped = crate::config::embedded::models();
    match shipped
        .iter()
        .find(|(n, _)| n.trim_end_matches(".toml") == name)
    {
        Some((n, src)) => parse_card(src, &format!("<builtin:kernels/models/{n}>"), name),
        None => Err(Error::InputFile {
            path: path.to_path_buf(),
            msg: format!(
                "file not found, and not a shipped model{} (shipped: {}, maxtext_<S>)",
                crate::error::did_you_mean(name, shipped_names()),
                shipped_names().join(", ")
            ),
        }),
    }
}

/// Names of the shipped model cards.
pub fn shipped_names() -> Vec<&'static str> {
    crate::config::embedded::models()
        .iter()
        .map(|(n, _)| n.trim_end_matches(".toml"))
        .collect()
}
