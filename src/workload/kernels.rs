//! `kernels/*.toml` workload files.
//!
//! ```toml
//! name = "my_model"            # optional; defaults to the file stem
//! description = "..."          # optional
//! dtype = "bf16"               # default dtype of every layer (fp32, bf16, fp16, fp8, int8,
//!                              # fp4 = NVFP4 (also "nvfp4", "e2m1"), mxfp4)
//!
//! [[layer]]
//! type = "gemm"                # C[m×n] = A[m×k]·B[k×n], `batch` times
//! name = "qkv"
//! m = 2048
//! n = 36864
//! k = 12288
//! batch = 1                    # optional (1)
//! shared_b = false             # optional: B (weights) shared by all batch elements
//!
//! [[layer]]
//! type = "conv2d"              # NHWC, lowered by im2col: M = batch·out_h·out_w, N = filters, K = kh·kw·in_c
//! name = "conv1"
//! batch = 1                    # optional (1)
//! in_h = 224
//! in_w = 224
//! in_c = 3
//! filters = 64
//! kernel = 7                   # or kernel_h / kernel_w
//! stride = 2                   # optional (1)
//! padding = 3                  # optional (0), on each side
//!
//! [[layer]]
//! type = "attention"           # QK^T, softmax, AV per (batch, head)
//! name = "attn"
//! batch = 1
//! heads = 96
//! seq_q = 2048
//! seq_kv = 2048
//! head_dim = 128
//! kv_heads = 8                 # optional (= heads): GQA/MQA, K/V shared by heads/kv_heads heads
//! head_dim_v = 128             # optional (= head_dim)
//! causal = true                # optional (false): causal mask
//! fused = true                 # optional (false): one FlashAttention kernel, no S² through HBM
//!
//! [[layer]]
//! type = "softmax"             # or layernorm, rmsnorm, gelu, silu, relu, add, mul, pool
//! name = "ln1"
//! elements = 25165824
//! ```
//! An optional `[tokens]` table maps op-name prefixes to the tokens they process (`prefill = 2048`),
//! for tokens/s. Every layer may also set its own `dtype`. Unknown keys, missing keys, zero or negative
//! dimensions and duplicated names are errors that name the file, line and key.

use super::{
    check_dim, Attention, AttentionKernel, AttentionOp, Conv2d, DType, Gemm, Layer, VectorKind,
    VectorOp, Workload,
};
use crate::config::from_toml;
use crate::config::line_col;
use crate::error::{Error, Location, Result};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KernelFile {
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    dtype: Option<String>,
    #[serde(default)]
    tokens: std::collections::BTreeMap<String, i64>,
    #[serde(default)]
    layer: Vec<toml::Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GemmLayer {
    #[serde(rename = "type")]
    _ty: String,
    name: String,
    m: i64,
    n: i64,
    k: i64,
    #[serde(default = "one")]
    batch: i64,
    #[serde(default)]
    shared_b: bool,
    dtype: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvLayer {
    #[serde(rename = "type")]
    _ty: String,
    name: String,
    #[serde(default = "one")]
    batch: i64,
    in_h: i64,
    in_w: i64,
    in_c: i64,
    filters: i64,
    kernel: Option<i64>,
    kernel_h: Option<i64>,
    kernel_w: Option<i64>,
    #[serde(default = "one")]
    stride: i64,
    #[serde(default)]
    padding: i64,
    dtype: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttentionLayer {
    #[serde(rename = "type")]
    _ty: String,
    name: String,
    #[serde(default = "one")]
    batch: i64,
    heads: i64,
    seq_q: i64,
    seq_kv: i64,
    head_dim: i64,
    kv_heads: Option<i64>,
    head_dim_v: Option<i64>,
    causal: Option<bool>,
    fused: Option<bool>,
    dtype: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorLayer {
    #[serde(rename = "type")]
    _ty: String,
    name: String,
    elements: i64,
    dtype: Option<String>,
}

fn one() -> i64 {
    1
}

/// Context for errors inside one `[[layer]]` table.
/// True when a serde message's quoted value text `q` (`NaN`, `inf`, `1e308` written out, `-1`)
/// is this TOML value.
fn value_matches(v: &toml::Value, q: &str) -> bool {
    match v {
        toml::Value::Float(f) => q
            .parse::<f64>()
            .is_ok_and(|x| x == *f || (x.is_nan() && f.is_nan())),
        toml::Value::Integer(i) => q == i.to_string(),
        toml::Value::String(s) => q == s,
        toml::Value::Boolean(b) => q == b.to_string(),
        _ => false,
    }
}

struct LayerCtx<'a> {
    src: &'a str,
    file: &'a str,
    /// Byte range of the layer table in `src`.
    span: std::ops::Range<usize>,
    /// 1-based index of the layer.
    index: usize,
}

impl LayerCtx<'_> {
    /// Line of `key` inside this layer (or the layer's first line).
    fn loc(&self, key: &str) -> Location {
        let start_line = line_col(self.src, self.span.start).0;
        let text =
            &self.src[self.span.start.min(self.src.len())..self.span.end.min(self.src.len())];
        let mut line = start_line;
        for (i, l) in text.lines().enumerate() {
            if let Some((k, _)) = l.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    line = start_line + i;
                    break;
                }
            }
        }
        Location::file(self.file)
            .line(line)
            .key(format!("layer[{}].{key}", self.index))
    }

    fn dim(&self, key: &str, v: i64) -> Result<u64> {
        check_dim(key, v as i128).map_err(|m| Error::input(self.loc(key), m))
    }

    fn dtype(&self, own: &Option<String>, default: DType) -> Result<DType> {
        match own {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|m: String| Error::input(self.loc("dtype"), m)),
        }
    }

    fn de<T: for<'de> Deserialize<'de>>(&self, t: &toml::Table) -> Result<T> {
        T::deserialize(toml::Value::Table(t.clone())).map_err(|e| {
            let msg = e.message().replace('\n', " ");
            let quoted = msg.split('`').nth(1).unwrap_or("").to_string();
            // "unknown field `k`" / "missing field `k`" quote a key; "invalid type: floating
            // point `NaN`, expected i64" quotes the value: blame the key holding it.
            let key = if quoted.is_empty() || t.contains_key(&quoted) {
                quoted
            } else {
                t.iter()
                    .find(|(_, v)| value_matches(v, &quoted))
                    .map_or(quoted.clone(), |(k, _)| k.clone())
            };
            let loc = if key.is_empty() {
                Location::file(self.file)
                    .line(line_col(self.src, self.span.start).0)
                    .key(format!("layer[{}]", self.index))
            } else {
                self.loc(&key)
            };
            Error::input(loc, msg)
        })
    }
}

/// Parse a kernel TOML file. `file` names it in errors; `stem` is the default workload name.
pub fn parse(src: &str, file: &str, stem: &str) -> Result<Workload> {
    let kf: KernelFile = from_toml(src, file)?;
    let default_dtype = match &kf.dtype {
        None => DType::Bf16,
        Some(s) => s.parse().map_err(|m: String| {
            Error::input(
                Location::file(file)
                    .key("dtype")
                    .line(crate::config::toml_key_line(src, "dtype").unwrap_or(1)),
                m,
            )
        })?,
    };
    if kf.layer.is_empty() {
        return Err(Error::input(
            Location::file(file).key("layer"),
            "workload has no layers: add at least one [[layer]] table",
        ));
    }
    let mut layers = Vec::with_capacity(kf.layer.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, spanned) in kf.layer.iter().enumerate() {
        let ctx = LayerCtx {
            src,
            file,
            span: spanned.span(),
            index: i + 1,
        };
        let t = spanned.get_ref();
        let ty = match t.get("type") {
            Some(toml::Value::String(s)) => s.as_str(),
            _ => {
                return Err(Error::input(
                    ctx.loc("type"),
                    "missing or non-string `type`: expected gemm, conv2d, attention, or a vector op (softmax, layernorm, rmsnorm, gelu, silu, relu, add, mul, pool, rope, copy, adam)",
                ))
            }
        };
        let layer = match ty {
            "gemm" => {
                let l: GemmLayer = ctx.de(t)?;
                Layer::Gemm(Gemm {
                    name: l.name,
                    m: ctx.dim("m", l.m)?,
                    n: ctx.dim("n", l.n)?,
                    k: ctx.dim("k", l.k)?,
                    batch: ctx.dim("batch", l.batch)?,
                    dtype: ctx.dtype(&l.dtype, default_dtype)?,
                    shared_b: l.shared_b,
                    conv: None,
                })
            }
            "conv2d" | "conv" => {
                let l: ConvLayer = ctx.de(t)?;
                let (kh, kw) = match (l.kernel, l.kernel_h, l.kernel_w) {
                    (Some(k), None, None) => (ctx.dim("kernel", k)?, ctx.dim("kernel", k)?),
                    (None, Some(h), Some(w)) => (ctx.dim("kernel_h", h)?, ctx.dim("kernel_w", w)?),
                    _ => {
                        return Err(Error::input(
                            ctx.loc("kernel"),
                            "give either `kernel` (square) or both `kernel_h` and `kernel_w`",
                        ))
                    }
                };
                if l.padding < 0 {
                    return Err(Error::input(
                        ctx.loc("padding"),
                        format!("padding = {}: must be 0 or more", l.padding),
                    ));
                }
                let c = Conv2d {
                    name: l.name,
                    batch: ctx.dim("batch", l.batch)?,
                    in_h: ctx.dim("in_h", l.in_h)?,
                    in_w: ctx.dim("in_w", l.in_w)?,
                    in_c: ctx.dim("in_c", l.in_c)?,
                    filters: ctx.dim("filters", l.filters)?,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride: ctx.dim("stride", l.stride)?,
                    padding: l.padding as u64,
                    dtype: ctx.dtype(&l.dtype, default_dtype)?,
                    scalesim_ceil: false,
                };
                if c.in_h + 2 * c.padding < kh || c.in_w + 2 * c.padding < kw {
                    return Err(Error::input(
                        ctx.loc("kernel"),
                        format!(
                            "kernel {kh}x{kw} is larger than the padded input {}x{}",
                            c.in_h + 2 * c.padding,
                            c.in_w + 2 * c.padding
                        ),
                    ));
                }
                Layer::Conv2d(c)
            }
            "attention" => {
                let l: AttentionLayer = ctx.de(t)?;
                let plain = l.kv_heads.is_none()
                    && l.head_dim_v.is_none()
                    && l.causal.is_none()
                    && l.fused.is_none();
                let heads = ctx.dim("heads", l.heads)?;
                let head_dim = ctx.dim("head_dim", l.head_dim)?;
                if plain {
                    Layer::Attention(Attention {
                        name: l.name,
                        batch: ctx.dim("batch", l.batch)?,
                        heads,
                        seq_q: ctx.dim("seq_q", l.seq_q)?,
                        seq_kv: ctx.dim("seq_kv", l.seq_kv)?,
                        head_dim,
                        dtype: ctx.dtype(&l.dtype, default_dtype)?,
                    })
                } else {
                    let kv_heads = match l.kv_heads {
                        Some(v) => ctx.dim("kv_heads", v)?,
                        None => heads,
                    };
                    if !heads.is_multiple_of(kv_heads) {
                        return Err(Error::input(
                            ctx.loc("kv_heads"),
                            format!("kv_heads = {kv_heads} does not divide heads = {heads}"),
                        ));
                    }
                    let seq_q = ctx.dim("seq_q", l.seq_q)?;
                    let seq_kv = ctx.dim("seq_kv", l.seq_kv)?;
                    let causal = l.causal.unwrap_or(false);
                    if causal && seq_q > seq_kv {
                        return Err(Error::input(
                            ctx.loc("seq_q"),
                            format!("causal attention with seq_q = {seq_q} > seq_kv = {seq_kv}: queries are the last seq_q of the keys"),
                        ));
                    }
                    Layer::AttentionKernel(AttentionKernel {
                        op: AttentionOp {
                            name: l.name,
                            batch: ctx.dim("batch", l.batch)?,
                            heads,
                            kv_heads,
                            seq_q,
                            seq_kv,
                            head_dim,
                            head_dim_v: match l.head_dim_v {
                                Some(v) => ctx.dim("head_dim_v", v)?,
                                None => head_dim,
                            },
                            causal,
                            backward: false,
                            dtype: ctx.dtype(&l.dtype, default_dtype)?,
                        },
                        fused: l.fused.unwrap_or(false),
                    })
                }
            }
            other => {
                let kind: VectorKind = other.parse().map_err(|_| {
                    Error::input(
                        ctx.loc("type"),
                        format!("unknown layer type `{other}`: expected gemm, conv2d, attention, or a vector op (softmax, layernorm, rmsnorm, gelu, silu, relu, add, mul, pool, rope, copy, adam)"),
                    )
                })?;
                let l: VectorLayer = ctx.de(t)?;
                Layer::Vector(VectorOp {
                    name: l.name,
                    kind,
                    elements: ctx.dim("elements", l.elements)?,
                    dtype: ctx.dtype(&l.dtype, default_dtype)?,
                })
            }
        };
        let lname = match &layer {
            Layer::Gemm(g) => &g.name,
            Layer::Conv2d(c) => &c.name,
            Layer::Attention(a) => &a.name,
            Layer::AttentionKernel(a) => &a.op.name,
            Layer::Vector(v) => &v.name,
        };
        if lname.trim().is_empty() {
            return Err(Error::input(ctx.loc("name"), "layer name is empty"));
        }
        if let Some(prev) = names.insert(lname.clone(), i + 1) {
            return Err(Error::input(
                ctx.loc("name"),
                format!(
                    "duplicated layer name `{lname}` (also layer {prev}); names must be unique"
                ),
            ));
        }
        layers.push(layer);
    }
    let mut tokens = std::collections::BTreeMap::new();
    for (prefix, n) in kf.tokens {
        if n <= 0 {
            return Err(Error::input(
                Location::file(file).key(format!("tokens.{prefix}")).line(
                    crate::config::toml_key_line(src, &format!("tokens.{prefix}")).unwrap_or(1),
                ),
                format!("tokens.{prefix} = {n}: must be at least 1"),
            ));
        }
        tokens.insert(prefix, n as u64);
    }
    Ok(Workload {
        name: kf.name.unwrap_or_else(|| stem.to_string()),
        layers,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
dtype = "bf16"

[[layer]]
type = "gemm"
name = "a"
m = 4
n = 8
k = 16

[[layer]]
type = "conv2d"
name = "c"
in_h = 8
in_w = 8
in_c = 3
filters = 4
kernel = 3
padding = 1

[[layer]]
type = "attention"
name = "att"
heads = 2
seq_q = 4
seq_kv = 6
head_dim = 8

[[layer]]
type = "softmax"
name = "s"
elements = 100
dtype = "fp32"
"#;

    #[test]
    fn parses_every_layer_type() {
        let w = parse(GOOD, "k.toml", "k").unwrap();
        assert_eq!(w.layers.len(), 4);
        let ops = w.ops();
        assert_eq!(ops.len(), 6); // attention → qk, softmax, av
        match &ops[1] {
            crate::workload::Op::Gemm(g) => assert_eq!((g.m, g.n, g.k), (64, 4, 27)),
            _ => panic!(),
        }
    }

    #[test]
    fn errors_name_file_line_key() {
        let cases: Vec<(String, &str, &str)> = vec![
            (GOOD.replace("m = 4", "m = 0"), "k.toml:8", "layer[1].m"),
            (GOOD.replace("m = 4", "m = -4"), "k.toml:8", "at least 1"),
            (
                GOOD.replace("k = 16", "k = 16\nfoo = 1"),
                "k.toml:11",
                "foo",
            ),
            (GOOD.replace("filters = 4\n", ""), "k.toml", "filters"),
            (
                GOOD.replace("name = \"c\"", "name = \"a\""),
                "k.toml",
                "duplicated",
            ),
            (
                GOOD.replace("type = \"softmax\"", "type = \"fft\""),
                "k.toml",
                "unknown layer type",
            ),
            (
                GOOD.replace("dtype = \"fp32\"", "dtype = \"fp6\""),
                "k.toml",
                "unsupported dtype",
            ),
            (GOOD.replace("m = 4", "m = 4.5"), "k.toml", "m"),
            (GOOD.replace("m = 4", "m = \"4\""), "k.toml", "m"),
            (
                GOOD.replace("[[layer]]\ntype = \"gemm\"", "[[layer]\ntype = \"gemm\""),
                "k.toml:5",
                "",
            ),
            ("name = \"x\"\n".to_string(), "k.toml", "no layers"),
            (GOOD.replace("m = 4", "m = 99999999999"), "k.toml:8", "2^32"),
        ];
        for (src, loc, needle) in cases {
            let e = parse(&src, "k.toml", "k").unwrap_err();
            let m = e.to_string();
            assert!(m.starts_with(loc), "{m}");
            assert!(m.contains(needle), "{needle} not in {m}");
            assert_eq!(e.exit_code(), 2);
        }
    }
}
