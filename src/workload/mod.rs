//! Workload front-end: the operations a workload is made of, before and after lowering.
//!
//! Flow: `kernels/*.toml` ([`kernels`]) and SCALE-Sim topology CSVs ([`topology`]) are parsed into
//! a [`Workload`] of [`Layer`]s; [`crate::lower`] turns every layer into [`Op`]s: GEMMs
//! ([`Gemm`], C[M×N] = A[M×K]·B[K×N], `batch` independent copies) and vector work ([`VectorOp`]).

pub mod kernels;
pub mod model;
pub mod topology;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Largest single GEMM dimension accepted (2^32). Products are computed in u128.
pub const MAX_DIM: u64 = 1 << 32;

/// The one check of a GEMM/layer dimension given by a user (kernels .toml, topology CSV,
/// `--gemm`): a whole number from 1 to [`MAX_DIM`]. The message names the key and the value; the
/// caller adds where it was written.
pub fn check_dim(key: &str, v: i128) -> std::result::Result<u64, String> {
    if v <= 0 {
        Err(format!("{key} = {v}: must be at least 1"))
    } else if v > MAX_DIM as i128 {
        Err(format!(
            "{key} = {v} is larger than the supported maximum 2^32"
        ))
    } else {
        Ok(v as u64)
    }
}

/// Largest GEMM accepted, in multiply-accumulates (2^96: far beyond any real workload, and exact
/// in u128 with room for sums over many ops).
pub const MAX_MACS: u128 = 1 << 96;

/// Operand data type. Accumulation is always f32 (int32 for int8).
///
/// The two fp4 types are *block-scaled*: every element is a 4-bit E2M1 value (1 sign, 2 exponent,
/// 1 mantissa bit) and each block of consecutive elements along the contraction dimension (K)
/// shares one 8-bit scale factor, stored beside the data. Their storage is therefore not a whole
/// number of bytes per element ([`DType::bits_per_element`]): 4.5 bits for NVFP4, 4.25 for MXFP4.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Fp32,
    #[default]
    Bf16,
    Fp16,
    Fp8,
    Int8,
    /// NVFP4: E2M1 elements with one FP8 E4M3 scale per block of 16 elements (plus one FP32
    /// per-tensor scale, negligible and not counted). NVIDIA, "Introducing NVFP4 for Efficient
    /// and Accurate Low-Precision Inference" (developer blog, 2025) and the cuBLAS
    /// `CUBLASLT_MATMUL_MATRIX_SCALE_VEC16_UE4M3` block-scaling mode. Parsed from `fp4`, `nvfp4`
    /// or `e2m1`; reported as `fp4`.
    Fp4,
    /// MXFP4: E2M1 elements with one E8M0 (power-of-two) scale per block of 32 elements. OCP
    /// Microscaling Formats (MX) Specification v1.0 (2023), §5 "Concrete MX-compliant formats"
    /// (MXFP4: element FP4 E2M1, block size 32, scale E8M0). Reported as `mxfp4`.
    Mxfp4,
}

impl DType {
    pub const ALL: [DType; 7] = [
        DType::Fp32,
        DType::Bf16,
        DType::Fp16,
        DType::Fp8,
        DType::Int8,
        DType::Fp4,
        DType::Mxfp4,
    ];

    /// Bits of one element alone, without any shared scale (what sets how many elements an MMA
    /// instruction or a 128-byte tile row holds).
    pub fn element_bits(self) -> u32 {
        match self {
            DType::Fp32 => 32,
            DType::Bf16 | DType::Fp16 => 16,
            DType::Fp8 | DType::Int8 => 8,
            DType::Fp4 | DType::Mxfp4 => 4,
        }
    }

    /// The shared scale of a block-scaled type: (elements per block, bits of the scale); `None`
    /// for the others. NVFP4: 16 elements share one FP8 E4M3 scale (NVIDIA NVFP4 blog, 2025);
    /// MXFP4: 32 elements share one E8M0 scale (OCP MX spec v1.0, §5).
    pub fn scale_block(self) -> Option<(u64, u64)> {
        match self {
            DType::Fp4 => Some((16, 8)),
            DType::Mxfp4 => Some((32, 8)),
            _ => None,
        }
    }

    /// True for the block-scaled 4-bit types (NVFP4, MXFP4): the ones that run on fp4 units.
    pub fn is_fp4(self) -> bool {
        matches!(self, DType::Fp4 | DType::Mxfp4)
    }

    /// Storage bits per element including the shared scales: `element_bits + scale_bits /
    /// block` (NVFP4 4 + 8/16 = 4.5; MXFP4 4 + 8/32 = 4.25; sources as [`DType::scale_block`]).
    /// Exact in f64 (a binary fraction).
    pub fn bits_per_element(self) -> f64 {
        let scale = self
            .scale_block()
            .map_or(0.0, |(block, bits)| bits as f64 / block as f64);
        self.element_bits() as f64 + scale
    }

    /// Storage bytes per element including the shared scales ([`DType::bits_per_element`] / 8):
    /// 4, 2, 1 for the plain types, 0.5625 for NVFP4, 0.53125 for MXFP4. The models move
    /// operand tiles at this average; [`DType::bytes_for_rows`] gives the exact size of a
    /// tensor whose rows end in a partial block.
    pub fn bytes_per_element(self) -> f64 {
        self.bits_per_element() / 8.0
    }

    /// Exact storage bytes of `rows` rows of `row_len` elements, scale blocks running along a
    /// row (the contraction dimension K, as the NVFP4 and MX layouts block it): per row
    /// `row_len · element_bits + ceil(row_len / block) · scale_bits` bits (a partial block still
    /// carries its scale), the total rounded up to whole bytes. u128: no overflow for any
    /// u64 sizes. E.g. a 4096×4096 NVFP4 matrix = 4096²/2 data + 4096²/16 scale bytes.
    pub fn bytes_for_rows(self, rows: u64, row_len: u64) -> u128 {
        let row_bits = row_len as u128 * self.element_bits() as u128
            + self.scale_block().map_or(0, |(block, bits)| {
                (row_len as u128).div_ceil(block as u128) * bits as u128
            });
        (rows as u128 * row_bits).div_ceil(8)
    }

    /// Exact storage bytes of `elements` elements laid out as one row
    /// ([`DType::bytes_for_rows`]`(1, elements)`).
    pub fn bytes_for(self, elements: u64) -> u128 {
        self.bytes_for_rows(1, elements)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DType::Fp32 => "fp32",
            DType::Bf16 => "bf16",
            DType::Fp16 => "fp16",
            DType::Fp8 => "fp8",
            DType::Int8 => "int8",
            DType::Fp4 => "fp4",
            DType::Mxfp4 => "mxfp4",
        }
    }

    /// Long name for messages: `fp4` is "fp4 (NVFP4)".
    pub fn long_name(self) -> &'static str {
        match self {
            DType::Fp4 => "fp4 (NVFP4)",
            DType::Mxfp4 => "mxfp4 (MXFP4)",
            d => d.as_str(),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Ok(DType::Fp32),
            "bf16" | "bfloat16" => Ok(DType::Bf16),
            "fp16" | "f16" | "float16" | "half" => Ok(DType::Fp16),
            "fp8" | "f8" | "e4m3" => Ok(DType::Fp8),
            "int8" | "i8" => Ok(DType::Int8),
            "fp4" | "nvfp4" | "e2m1" => Ok(DType::Fp4),
            "mxfp4" => Ok(DType::Mxfp4),
            _ => Err(format!(
                "unsupported dtype `{s}`; expected one of fp32, bf16, fp16, fp8, int8, fp4 (nvfp4), mxfp4"
            )),
        }
    }
}

/// One matrix multiply: C[M×N] = A[M×K]·B[K×N], repeated `batch` times with different operands.
/// A is the "ifmap"/activations, B the "filter"/weights (SCALE-Sim naming).
#[derive(Debug, Clone, PartialEq, Hash, Eq, Serialize, Deserialize)]
pub struct Gemm {
    pub name: String,
    pub m: u64,
    pub n: u64,
    pub k: u64,
    pub batch: u64,
    pub dtype: DType,
    /// True when B is a weight shared by every batch element (e.g. a conv filter applied per
    /// image); false when each batch element has its own B (attention QK^T per head).
    #[serde(default)]
    pub shared_b: bool,
    /// The convolution this GEMM was lowered from (im2col), if any. SCALE-Sim mode needs it for
    /// its address-based DRAM counts (an ifmap pixel is read by several windows), native modes
    /// to count real HBM bytes instead of the inflated im2col matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvShape>,
}

/// Geometry of the convolution behind an im2col GEMM (NHWC, one image; `batch` images in M).
#[derive(Debug, Clone, Copy, PartialEq, Hash, Eq, Serialize, Deserialize)]
pub struct ConvShape {
    pub batch: u64,
    /// Input height and width including padding.
    pub in_h: u64,
    pub in_w: u64,
    pub in_c: u64,
    pub kernel_h: u64,
    pub kernel_w: u64,
    pub stride: u64,
    pub out_h: u64,
    pub out_w: u64,
}

impl Gemm {
    pub fn new(name: impl Into<String>, m: u64, n: u64, k: u64) -> Self {
        Gemm {
            name: name.into(),
            m,
            n,
            k,
            batch: 1,
            dtype: DType::Bf16,
            shared_b: false,
            conv: None,
        }
    }
    pub fn with_dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }
    pub fn with_batch(mut self, batch: u64) -> Self {
        self.batch = batch;
        self
    }
    /// Multiply-accumulates: M·N·K·batch in u128 (saturating: four factors of 2^32 would be
    /// 2^128; [`Gemm::check_size`] rejects GEMMs above [`MAX_MACS`] before they are simulated).
    pub fn macs(&self) -> u128 {
        (self.m as u128)
            .saturating_mul(self.n as u128)
            .saturating_mul(self.k as u128)
            .saturating_mul(self.batch as u128)
    }

    /// Reject shapes the models do not support: a zero dimension, a dimension above
    /// [`MAX_DIM`], or more than [`MAX_MACS`] multiply-accumulates.
    pub fn check_size(&self) -> crate::error::Result<()> {
        use crate::error::{Error, Location};
        let loc = || Location::file("<workload>").key(self.name.clone());
        for (k, v) in [
            ("m", self.m),
            ("n", self.n),
            ("k", self.k),
            ("batch", self.batch),
        ] {
            check_dim(k, v as i128)
                .map_err(|m| Error::input(loc(), format!("GEMM `{}`: {m}", self.name)))?;
        }
        if self.macs() > MAX_MACS {
            return Err(Error::input(
                loc(),
                format!(
                    "GEMM `{}` ({}x{}x{} x{}) has {} MACs, more than the supported 2^96",
                    self.name,
                    self.m,
                    self.n,
                    self.k,
                    self.batch,
                    self.macs()
                ),
            ));
        }
        Ok(())
    }
    /// FLOPs = 2·MACs (one multiply + one add), the convention of vendor peak figures.
    pub fn flops(&self) -> f64 {
        2.0 * self.macs() as f64
    }
    /// Minimum bytes moved: A, B read once, C written once (operand dtype for all three), at
    /// the dtype's storage bytes per element including block scales
    /// ([`DType::bytes_per_element`]).
    pub fn min_bytes(&self) -> f64 {
        let e = self.dtype.bytes_per_element();
        let b = self.batch as f64;
        let bmul = if self.shared_b { 1.0 } else { b };
        let (m, n, k) = (self.m as f64, self.n as f64, self.k as f64);
        e * (b * (m * k) + bmul * (k * n) + b * (m * n))
    }
    /// Arithmetic intensity in FLOP per byte of minimum traffic.
    pub fn intensity(&self) -> f64 {
        self.flops() / self.min_bytes().max(1.0)
    }
}

/// Kind of a non-GEMM (vector-unit / CUDA-core) operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorKind {
    Softmax,
    Layernorm,
    Rmsnorm,
    Gelu,
    Silu,
    Relu,
    Add,
    Mul,
    Pool,
    /// Rotary position embedding on Q and K (Su et al. 2021): `x·cos + rotate(x)·sin`.
    Rope,
    /// A copy / gather with no arithmetic (embedding lookup, MoE token dispatch).
    Copy,
    /// The mixed-precision AdamW step over fp32 master weights (Loshchilov & Hutter 2019;
    /// Micikevicius et al. 2018): reads weight, gradient and both moments, and the gradient once
    /// more for the global gradient-norm clip (Megatron-LM `clip_grad_norm_fp32`, the
    /// `clip_grad` default 1.0); writes weight and both moments, and the 16-bit model copy of
    /// the weight (Megatron-LM `_copy_main_params_to_model_params`): 20 B read + 14 B written
    /// per parameter.
    Adam,
    /// Dropout (Srivastava et al. 2014) as its own kernel: reads the input, writes the output and
    /// a 1-byte keep mask per element (PyTorch's `bool` mask; the masks Korthikanti et al. 2022
    /// Table 2 count as activations).
    Dropout,
    /// Megatron-LM's fused bias-dropout-add after the attention and MLP output projections
    /// (`bias_dropout_add_fused_train`): reads the branch output and the residual, writes the
    /// sum and the 1-byte dropout mask.
    DropoutAdd,
}

impl VectorKind {
    /// Floating-point operations per element (exp/div/rsqrt counted as several; from the usual
    /// transformer FLOP accounting, e.g. Kaplan et al. 2020 App. and the PaLM MFU appendix).
    pub fn flops_per_element(self) -> f64 {
        match self {
            VectorKind::Softmax => 5.0,
            VectorKind::Layernorm => 8.0,
            VectorKind::Rmsnorm => 5.0,
            VectorKind::Gelu => 14.0,
            VectorKind::Silu => 5.0,
            VectorKind::Relu | VectorKind::Add | VectorKind::Mul => 1.0,
            VectorKind::Pool => 9.0,
            // 2 multiplies + 1 add per element.
            VectorKind::Rope => 3.0,
            VectorKind::Copy => 0.0,
            // m ← β1·m + (1−β1)·g (3), v ← β2·v + (1−β2)·g² (4), w ← w − η·(m̂/(√v̂ + ε) + λ·w)
            // (sqrt, div and 3 more: counted 5).
            VectorKind::Adam => 12.0,
            // Compare the random draw with the keep probability, scale by 1/(1 − p) (the
            // Philox draw runs on integer units, not counted).
            VectorKind::Dropout => 2.0,
            // The same and the residual add.
            VectorKind::DropoutAdd => 3.0,
        }
    }
    /// Number of tensors of `elements` read.
    pub fn inputs(self) -> u64 {
        match self {
            VectorKind::Add | VectorKind::Mul | VectorKind::DropoutAdd => 2,
            // weight, gradient (twice: the norm clip, the update), first and second moment
            VectorKind::Adam => 5,
            _ => 1,
        }
    }
    /// Number of tensors of `elements` written.
    pub fn outputs(self) -> u64 {
        match self {
            VectorKind::Adam => 3,
            _ => 1,
        }
    }
    /// Bytes written per element besides the `outputs` tensors: the 1-byte dropout mask, and
    /// the 16-bit model copy of the Adam step's fp32 master weight.
    pub fn extra_write_bytes_per_element(self) -> u64 {
        match self {
            VectorKind::Dropout | VectorKind::DropoutAdd => 1,
            VectorKind::Adam => 2,
            _ => 0,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            VectorKind::Softmax => "softmax",
            VectorKind::Layernorm => "layernorm",
            VectorKind::Rmsnorm => "rmsnorm",
            VectorKind::Gelu => "gelu",
            VectorKind::Silu => "silu",
            VectorKind::Relu => "relu",
            VectorKind::Add => "add",
            VectorKind::Mul => "mul",
            VectorKind::Pool => "pool",
            VectorKind::Rope => "rope",
            VectorKind::Copy => "copy",
            VectorKind::Adam => "adam",
            VectorKind::Dropout => "dropout",
            VectorKind::DropoutAdd => "dropout_add",
        }
    }
}

impl FromStr for VectorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "softmax" => VectorKind::Softmax,
            "layernorm" => VectorKind::Layernorm,
            "rmsnorm" => VectorKind::Rmsnorm,
            "gelu" => VectorKind::Gelu,
            "silu" | "swish" => VectorKind::Silu,
            "relu" => VectorKind::Relu,
            "add" | "residual" | "residual_add" => VectorKind::Add,
            "mul" => VectorKind::Mul,
            "pool" | "maxpool" | "avgpool" => VectorKind::Pool,
            "rope" => VectorKind::Rope,
            "copy" | "gather" => VectorKind::Copy,
            "adam" | "adamw" => VectorKind::Adam,
            "dropout" => VectorKind::Dropout,
            "dropout_add" | "bias_dropout_add" => VectorKind::DropoutAdd,
            _ => {
                return Err(format!(
                    "unknown vector op `{s}`; expected softmax, layernorm, rmsnorm, gelu, silu, relu, add, mul, pool, rope, copy, adam, dropout or dropout_add"
                ))
            }
        })
    }
}

/// Elementwise / reduction work on `elements` values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VectorOp {
    pub name: String,
    pub kind: VectorKind,
    pub elements: u64,
    pub dtype: DType,
}

impl VectorOp {
    pub fn flops(&self) -> f64 {
        self.elements as f64 * self.kind.flops_per_element()
    }
    /// Bytes of one tensor of the op (`elements` values, block scales included:
    /// [`DType::bytes_for`]).
    pub fn tensor_bytes(&self) -> f64 {
        self.dtype.bytes_for(self.elements) as f64
    }
    /// Bytes read from memory: `inputs` tensors.
    pub fn read_bytes(&self) -> f64 {
        (self.dtype.bytes_for(self.elements) * self.kind.inputs() as u128) as f64
    }
    /// Bytes read + written from/to memory when the op runs as its own kernel: the inputs and
    /// the outputs.
    pub fn bytes(&self) -> f64 {
        self.read_bytes() + self.write_bytes()
    }
    /// Bytes written: `outputs` tensors, and the kind's extra bytes per element (dropout mask,
    /// Adam's 16-bit weight copy).
    pub fn write_bytes(&self) -> f64 {
        (self.dtype.bytes_for(self.elements) * self.kind.outputs() as u128
            + self.elements as u128 * self.kind.extra_write_bytes_per_element() as u128)
            as f64
    }
}

/// A lowered operation: what a machine simulates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Gemm(Gemm),
    Vector(VectorOp),
    /// Attention as one fused kernel (FlashAttention).
    Attention(AttentionOp),
}

impl Op {
    pub fn name(&self) -> &str {
        match self {
            Op::Gemm(g) => &g.name,
            Op::Vector(v) => &v.name,
            Op::Attention(a) => &a.name,
        }
    }
    /// Rename the op.
    pub fn set_name(&mut self, name: String) {
        match self {
            Op::Gemm(g) => g.name = name,
            Op::Vector(v) => v.name = name,
            Op::Attention(a) => a.name = name,
        }
    }
    pub fn dtype(&self) -> DType {
        match self {
            Op::Gemm(g) => g.dtype,
            Op::Vector(v) => v.dtype,
            Op::Attention(a) => a.dtype,
        }
    }
    pub fn flops(&self) -> f64 {
        match self {
            Op::Gemm(g) => g.flops(),
            Op::Vector(v) => v.flops(),
            Op::Attention(a) => a.flops(),
        }
    }
}

/// Attention run as one kernel, FlashAttention-style (Dao et al. 2022, "FlashAttention";
/// Dao 2023, "FlashAttention-2"; Shah et al. 2024, "FlashAttention-3"): Q, K and V tiles in
/// on-chip memory, the softmax computed online, the `seq_q × seq_kv` score matrix never written
/// to HBM. Query heads share K/V in groups of `heads / kv_heads` (GQA, Ainslie et al. 2023).
/// With `causal`, query `i` sees the keys up to its own position (queries are the last `seq_q`
/// positions of the `seq_kv` keys), and tiles wholly above the diagonal are skipped.
/// `backward` is the FlashAttention backward pass (5 matmuls of the forward's size instead of 2,
/// FlashAttention-2 §3.2).
#[derive(Debug, Clone, PartialEq, Hash, Eq, Serialize, Deserialize)]
pub struct AttentionOp {
    pub name: String,
    pub batch: u64,
    /// Query heads.
    pub heads: u64,
    /// Key/value heads (divides `heads`).
    pub kv_heads: u64,
    /// Query positions processed now (the prompt in prefill, 1 in a decode step).
    pub seq_q: u64,
    /// Key/value positions (the context, KV cache included).
    pub seq_kv: u64,
    /// Per-head dim of queries and keys.
    pub head_dim: u64,
    /// Per-head dim of values (= `head_dim` except in MLA).
    pub head_dim_v: u64,
    pub causal: bool,
    #[serde(default)]
    pub backward: bool,
    pub dtype: DType,
}

impl AttentionOp {
    /// (query, key) pairs one (batch, head) computes: `seq_q·seq_kv`, or with `causal`
    /// `seq_q·(seq_kv − seq_q) + seq_q·(seq_q + 1)/2` (queries at the end of the keys).
    pub fn pairs(&self) -> u128 {
        let (q, kv) = (self.seq_q as u128, self.seq_kv as u128);
        if self.causal {
            let q = q.min(kv);
            q * (kv - q) + q * (q + 1) / 2
        } else {
            q * kv
        }
    }
    /// Multiply-accumulates of the useful pairs: forward `pairs·(head_dim + head_dim_v)` per
    /// (batch, head) (Q·Kᵀ and P·V); backward 2× that (dV, dP, dQ, dK: the model-FLOP
    /// convention of 2× forward; the recomputed Q·Kᵀ is hardware work, counted by the machines).
    pub fn macs(&self) -> u128 {
        let fwd = (self.batch as u128)
            .saturating_mul(self.heads as u128)
            .saturating_mul(self.pairs())
            .saturating_mul((self.head_dim + self.head_dim_v) as u128);
        if self.backward {
            fwd.saturating_mul(2)
        } else {
            fwd
        }
    }
    pub fn flops(&self) -> f64 {
        2.0 * self.macs() as f64
    }
    /// Softmax elements (the score pairs of every batch and head).
    pub fn score_elements(&self) -> f64 {
        self.batch as f64 * self.heads as f64 * self.pairs() as f64
    }
    /// Bytes every fused kernel must move at least: Q, K, V read and O written once (backward:
    /// also O, dO read and dQ, dK, dV written).
    pub fn min_bytes(&self) -> f64 {
        let e = self.dtype.bytes_per_element();
        let b = self.batch as f64;
        let q = b * (self.heads * self.seq_q * self.head_dim) as f64;
        let o = b * (self.heads * self.seq_q * self.head_dim_v) as f64;
        let kv = b * (self.kv_heads * self.seq_kv * (self.head_dim + self.head_dim_v)) as f64;
        let fwd = q + kv + o;
        e * if self.backward { 2.0 * fwd + o } else { fwd }
    }
    /// The op as three unfused kernels: Q·Kᵀ (batched GEMM per (batch, head)), softmax over the
    /// whole score matrix through HBM, P·V. Unfused kernels compute every pair and apply the
    /// causal mask in the softmax, so causal masking saves no work; K/V are expanded to every
    /// query head (`repeat_kv`). Backward: the four gradient GEMMs and the softmax backward.
    pub fn lower_unfused(&self) -> Vec<Op> {
        let b = self.batch * self.heads;
        let g = |suffix: &str, m: u64, n: u64, k: u64| {
            Op::Gemm(Gemm {
                name: format!("{}.{suffix}", self.name),
                m,
                n,
                k,
                batch: b,
                dtype: self.dtype,
                shared_b: false,
                conv: None,
            })
        };
        let softmax = |suffix: &str| {
            Op::Vector(VectorOp {
                name: format!("{}.{suffix}", self.name),
                kind: VectorKind::Softmax,
                elements: b * self.seq_q * self.seq_kv,
                dtype: self.dtype,
            })
        };
        let (q, kv, d, dv) = (self.seq_q, self.seq_kv, self.head_dim, self.head_dim_v);
        if self.backward {
            vec![
                g("dv", kv, dv, q),
                g("dp", q, kv, dv),
                softmax("softmax_bwd"),
                g("dq", q, d, kv),
                g("dk", kv, d, q),
            ]
        } else {
            vec![g("qk", q, kv, d), softmax("softmax"), g("av", q, dv, kv)]
        }
    }
}

/// A convolution layer (NHWC), lowered by im2col to a GEMM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv2d {
    pub name: String,
    pub batch: u64,
    pub in_h: u64,
    pub in_w: u64,
    pub in_c: u64,
    pub filters: u64,
    pub kernel_h: u64,
    pub kernel_w: u64,
    pub stride: u64,
    /// Zero padding on each side.
    pub padding: u64,
    pub dtype: DType,
    /// SCALE-Sim's output-size convention: `ceil((H − Fh + S)/S)` with no padding (true for
    /// layers read from a SCALE-Sim topology CSV), instead of `floor((H + 2P − Fh)/S) + 1`.
    pub scalesim_ceil: bool,
}

impl Conv2d {
    /// Output height and width.
    ///
    /// Standard: `floor((H + 2P − Fh)/S) + 1` (PyTorch Conv2d docs). SCALE-Sim:
    /// `ceil((H − Fh + S)/S)` (`topology_utils.topo_calc_hyperparams`; MODEL.md §1.2), which gives
    /// one extra row/column whenever `(H − Fh) % S ≠ 0`.
    pub fn out_hw(&self) -> (u64, u64) {
        let f = |h: u64, fh: u64| -> u64 {
            if self.scalesim_ceil {
                (h + self.stride - fh).div_ceil(self.stride)
            } else {
                (h + 2 * self.padding - fh) / self.stride + 1
            }
        };
        (f(self.in_h, self.kernel_h), f(self.in_w, self.kernel_w))
    }
    /// im2col lowering: M = batch·E_h·E_w output pixels, N = filters, K = Fh·Fw·C.
    pub fn to_gemm(&self) -> Gemm {
        let (eh, ew) = self.out_hw();
        Gemm {
            name: self.name.clone(),
            m: self.batch * eh * ew,
            n: self.filters,
            k: self.kernel_h * self.kernel_w * self.in_c,
            batch: 1,
            dtype: self.dtype,
            shared_b: true,
            conv: Some(ConvShape {
                batch: self.batch,
                in_h: self.in_h + 2 * self.padding,
                in_w: self.in_w + 2 * self.padding,
                in_c: self.in_c,
                kernel_h: self.kernel_h,
                kernel_w: self.kernel_w,
                stride: self.stride,
                out_h: eh,
                out_w: ew,
            }),
        }
    }
}

/// Multi-head attention core (scores and weighted sum), lowered to
/// `QK^T` (batched GEMM), softmax (vector) and `AV` (batched GEMM). The Q/K/V and output
/// projections are ordinary GEMM layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub name: String,
    pub batch: u64,
    pub heads: u64,
    /// Query length (tokens processed now: the prompt in prefill, 1 in a decode step).
    pub seq_q: u64,
    /// Key/value length (context incl. the KV cache).
    pub seq_kv: u64,
    pub head_dim: u64,
    pub dtype: DType,
}

impl Attention {
    /// Lowering (Vaswani et al. 2017, eq. 1): S = Q·K^T per (batch, head): M = seq_q,
    /// N = seq_kv, K = head_dim; P = softmax(S) over seq_q·seq_kv elements; O = P·V: M = seq_q,
    /// N = head_dim, K = seq_kv.
    /// The same ops as [`AttentionOp::lower_unfused`] of the non-causal MHA op.
    pub fn lower(&self) -> Vec<Op> {
        AttentionOp {
            name: self.name.clone(),
            batch: self.batch,
            heads: self.heads,
            kv_heads: self.heads,
            seq_q: self.seq_q,
            seq_kv: self.seq_kv,
            head_dim: self.head_dim,
            head_dim_v: self.head_dim,
            causal: false,
            backward: false,
            dtype: self.dtype,
        }
        .lower_unfused()
    }
}

/// An attention layer run fused (one [`AttentionOp`] kernel) or unfused
/// ([`AttentionOp::lower_unfused`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionKernel {
    pub op: AttentionOp,
    pub fused: bool,
}

/// One layer of a workload, before lowering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    Gemm(Gemm),
    Conv2d(Conv2d),
    Attention(Attention),
    /// Attention with KV heads, causal masking or fusion (`kv_heads`, `causal`, `fused` in a
    /// kernels file).
    AttentionKernel(AttentionKernel),
    Vector(VectorOp),
}

/// Load a workload from a path (`.toml` kernel file or SCALE-Sim topology `.csv`) or a shipped
/// name (`gpt3_175b_layer`, `resnet50`, ...: the files of `kernels/`, embedded in the binary).
/// `dtype` overrides every layer's dtype (topology CSVs default to bf16).
pub fn load(spec: &str, dtype: Option<DType>) -> crate::error::Result<Workload> {
    let stem = crate::fsio::file_stem(spec);
    let (src, file, ext) = load_source(spec)?;
    let mut w = match ext.as_deref() {
        Some("csv") => topology::parse(&src, &file, &stem, dtype.unwrap_or(DType::Bf16))?,
        _ => kernels::parse(&src, &file, &stem)?,
    };
    if let Some(d) = dtype {
        w.set_dtype(d);
    }
    Ok(w)
}

/// The text of a workload file, resolved as [`load`] does (a path, else a shipped file):
/// its text, the name errors give it (the path, or `<builtin:kernels/NAME>`) and its lower-case
/// extension (`csv`, `toml` or none). Any other extension is an input error.
pub fn load_source(
    spec: &str,
) -> crate::error::Result<(std::borrow::Cow<'static, str>, String, Option<String>)> {
    use crate::error::Error;
    use crate::fsio::read_input_file;
    use std::path::Path;
    let path = Path::new(spec);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let check_ext = |ext: Option<&str>| -> crate::error::Result<()> {
        match ext {
            Some("csv") | Some("toml") | None => Ok(()),
            Some(other) => Err(Error::InputFile {
                path: path.to_path_buf(),
                msg: format!("unknown workload file type `.{other}`: expected a kernel .toml or a SCALE-Sim topology .csv"),
            }),
        }
    };
    if path.exists() || spec.contains('/') && ext.is_some() && !is_shipped_path(spec) {
        let src = read_input_file(path)?;
        check_ext(ext.as_deref())?;
        return Ok((std::borrow::Cow::Owned(src), spec.to_string(), ext));
    }
    let shipped = crate::config::embedded::kernels();
    let file_name = path.file_name().and_then(|s| s.to_str()).unwrap_or(spec);
    let found = shipped
        .iter()
        .find(|(n, _)| *n == file_name)
        .or_else(|| {
            shipped
                .iter()
                .find(|(n, _)| *n == format!("{file_name}.toml"))
        })
        .or_else(|| {
            shipped
                .iter()
                .find(|(n, _)| *n == format!("{file_name}.csv"))
        });
    match found {
        Some((n, src)) => {
            let e = Path::new(n)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_string);
            check_ext(e.as_deref())?;
            Ok((
                std::borrow::Cow::Borrowed(*src),
                format!("<builtin:kernels/{n}>"),
                e,
            ))
        }
        None => Err(Error::InputFile {
            path: path.to_path_buf(),
            msg: format!(
                "file not found, and not a shipped workload{} (shipped: {})",
                crate::error::did_you_mean(
                    file_name,
                    shipped
                        .iter()
                        .map(|(n, _)| n.trim_end_matches(".toml").trim_end_matches(".csv"))
                ),
                shipped
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// True for `kernels/NAME` paths of shipped files (so they resolve from any directory).
fn is_shipped_path(spec: &str) -> bool {
    spec.starts_with("kernels/")
        && crate::config::embedded::kernels()
            .iter()
            .any(|(n, _)| spec.ends_with(n))
}

/// A named list of layers, in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub name: String,
    pub layers: Vec<Layer>,
    /// Tokens processed by the ops whose names start with each prefix (e.g. "prefill" → 2048,
    /// "decode" → 1), for tokens/s and cost per million tokens. Empty for non-LLM workloads.
    #[serde(default)]
    pub tokens: std::collections::BTreeMap<String, u64>,
}

impl Workload {
    /// Lower every layer to ops (GEMMs and vector ops), in order.
    pub fn ops(&self) -> Vec<Op> {
        let mut ops = Vec::new();
        for l in &self.layers {
            match l {
                Layer::Gemm(g) => ops.push(Op::Gemm(g.clone())),
                Layer::Conv2d(c) => ops.push(Op::Gemm(c.to_gemm())),
                Layer::Attention(a) => ops.extend(a.lower()),
                Layer::AttentionKernel(a) if a.fused => ops.push(Op::Attention(a.op.clone())),
                Layer::AttentionKernel(a) => ops.extend(a.op.lower_unfused()),
                Layer::Vector(v) => ops.push(Op::Vector(v.clone())),
            }
        }
        ops
    }
    /// Override the dtype of every layer.
    pub fn set_dtype(&mut self, dtype: DType) {
        for l in &mut self.layers {
            match l {
                Layer::Gemm(g) => g.dtype = dtype,
                Layer::Conv2d(c) => c.dtype = dtype,
                Layer::Attention(a) => a.dtype = dtype,
                Layer::AttentionKernel(a) => a.op.dtype = dtype,
                Layer::Vector(v) => v.dtype = dtype,
            }
        }
    }
}

/// Parse a GEMM given as text, `M,N,K` or `M,N,K,BATCH` (the `--gemm` flag); `index` (1-based)
/// names it `gemm{index}_MxNxK`. Errors name the `gemm` setting.
pub fn parse_gemm_spec(s: &str, index: usize, dtype: DType) -> crate::error::Result<Gemm> {
    let parts: Vec<&str> = s.split(',').map(|p| p.trim()).collect();
    if parts.len() != 3 && parts.len() != 4 {
        return Err(crate::error::Error::setting(
            "gemm",
            format!("`{s}`: expected M,N,K or M,N,K,BATCH (e.g. --gemm 4096,4096,4096)"),
        ));
    }
    let mut v = [1u64; 4];
    for (i, p) in parts.iter().enumerate() {
        let key = ["M", "N", "K", "BATCH"][i];
        let x: i128 = p.parse().map_err(|_| {
            crate::error::Error::setting("gemm", format!("`{s}`: {key} = `{p}` is not an integer"))
        })?;
        v[i] = check_dim(key, x)
            .map_err(|m| crate::error::Error::setting("gemm", format!("`{s}`: {m}")))?;
    }
    let name = if parts.len() == 4 {
        format!("gemm{index}_{}x{}x{}x{}", v[0], v[1], v[2], v[3])
    } else {
        format!("gemm{index}_{}x{}x{}", v[0], v[1], v[2])
    };
    Ok(Gemm {
        batch: v[3],
        dtype,
        ..Gemm::new(name, v[0], v[1], v[2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalesim_conv_ceil_convention() {
        // MODEL.md §1.2: conv1 at 224, 7×7, s2 → 110×110 (floor formula gives 109).
        let c = Conv2d {
            name: "conv1".into(),
            batch: 1,
            in_h: 224,
            in_w: 224,
            in_c: 3,
            filters: 64,
            kernel_h: 7,
            kernel_w: 7,
            stride: 2,
            padding: 0,
            dtype: DType::Int8,
            scalesim_ceil: true,
        };
        assert_eq!(c.out_hw(), (110, 110));
        let g = c.to_gemm();
        assert_eq!((g.m, g.n, g.k), (12100, 64, 147));
        let std = Conv2d {
            scalesim_ceil: false,
            padding: 3,
            ..c
        };
        assert_eq!(std.out_hw(), (112, 112));
    }

    #[test]
    fn macs_do_not_overflow() {
        let g = Gemm::new("big", MAX_DIM, MAX_DIM, MAX_DIM);
        assert_eq!(g.macs(), (1u128 << 96));
        assert!(g.check_size().is_ok());
        let huge = g.with_batch(MAX_DIM);
        assert_eq!(huge.macs(), u128::MAX); // saturates instead of overflowing
        let e = huge.check_size().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("2^96"), "{e}");
    }

    #[test]
    fn dtype_parse() {
        assert_eq!("BF16".parse::<DType>().unwrap(), DType::Bf16);
        for s in ["fp4", "NVFP4", "e2m1"] {
            assert_eq!(s.parse::<DType>().unwrap(), DType::Fp4, "{s}");
        }
        assert_eq!("mxfp4".parse::<DType>().unwrap(), DType::Mxfp4);
        let e = "fp6".parse::<DType>().unwrap_err();
        assert!(e.contains("fp4") && e.contains("mxfp4"), "{e}");
        // Every dtype round-trips through its name, in JSON too.
        for d in DType::ALL {
            assert_eq!(d.as_str().parse::<DType>().unwrap(), d);
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }

    #[test]
    fn fp4_storage_includes_block_scales() {
        // NVFP4: 4-bit E2M1 + one E4M3 byte per 16 elements (NVIDIA NVFP4); MXFP4: one E8M0
        // byte per 32 (OCP MX v1.0).
        assert_eq!(DType::Fp4.bits_per_element(), 4.5);
        assert_eq!(DType::Mxfp4.bits_per_element(), 4.25);
        assert_eq!(DType::Fp4.bytes_per_element(), 0.5625);
        assert_eq!(DType::Mxfp4.bytes_per_element(), 0.53125);
        let n = 4096u128 * 4096;
        assert_eq!(DType::Fp4.bytes_for_rows(4096, 4096), n / 2 + n / 16);
        assert_eq!(DType::Mxfp4.bytes_for_rows(4096, 4096), n / 2 + n / 32);
        assert_eq!(DType::Fp4.bytes_for(4096 * 4096), n / 2 + n / 16);
        // A partial block still carries its scale; odd element counts round up to a byte.
        assert_eq!(DType::Fp4.bytes_for(1), 2); // 4 bits + 8 bits -> 2 bytes
        assert_eq!(DType::Fp4.bytes_for(17), 11); // 68 + 16 bits = 84 bits
        assert_eq!(DType::Mxfp4.bytes_for(33), 19); // 132 + 16 bits = 148 bits
                                                    // Scale blocks run along a row: 3 rows of 17 need 2 scales each.
        assert_eq!(
            DType::Fp4.bytes_for_rows(3, 17),
            (3 * (68 + 16) as u128).div_ceil(8)
        );
        // The plain types: whole bytes, no scales; no overflow at u64 sizes.
        assert_eq!(DType::Bf16.bytes_for_rows(4096, 4096), 2 * n);
        assert_eq!(DType::Fp8.bytes_per_element(), 1.0);
        assert_eq!(DType::Fp32.bytes_for(u64::MAX), 4 * u64::MAX as u128);
        // Operand traffic at the average: the fp4 GEMM moves 0.5625/2 of the bf16 bytes.
        let g = Gemm::new("g", 4096, 4096, 4096);
        let ratio = g.clone().with_dtype(DType::Fp4).min_bytes() / g.min_bytes();
        assert_eq!(ratio, 0.5625 / 2.0);
        let v = VectorOp {
            name: "v".into(),
            kind: VectorKind::Add,
            elements: 32,
            dtype: DType::Fp4,
        };
        assert_eq!(v.bytes(), 3.0 * 18.0);
        assert_eq!(v.read_bytes() + v.tensor_bytes(), v.bytes());
    }

    /// Dropout writes a 1-byte mask per element besides its output; the fused bias-dropout-add
    /// reads two tensors; the Adam step moves 20 B read + 14 B written per fp32 parameter.
    #[test]
    fn dropout_masks_and_the_adam_step_bytes() {
        let v = |kind, dtype| VectorOp {
            name: "v".into(),
            kind,
            elements: 1000,
            dtype,
        };
        let d = v(VectorKind::Dropout, DType::Fp16);
        assert_eq!((d.read_bytes(), d.write_bytes()), (2000.0, 3000.0));
        let da = v(VectorKind::DropoutAdd, DType::Fp16);
        assert_eq!((da.read_bytes(), da.write_bytes()), (4000.0, 3000.0));
        let a = v(VectorKind::Adam, DType::Fp32);
        assert_eq!((a.read_bytes(), a.write_bytes()), (20_000.0, 14_000.0));
        assert_eq!(
            "bias_dropout_add".parse::<VectorKind>(),
            Ok(VectorKind::DropoutAdd)
        );
    }
}
