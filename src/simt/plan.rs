//! GEMM kernel planning as cuBLAS/CUTLASS would do it: the candidate kernel configurations of
//! each architecture, their resource use (shared memory, registers, threads → occupancy) and the
//! grid they launch (tiles, split-K, clusters, waves).
//!
//! Sources for the candidate spaces:
//! * Ampere (sm_80): CUTLASS 2.x `DefaultGemmConfiguration`/profiler kernels — threadblock tiles
//!   128×256, 256×128, 128×128, 128×64, 64×128, 64×64 with BK = 32 (16-bit) or 64, 3–6
//!   `cp.async` stages, warp tiles 64×64 (or 32×64), `mma.sync.m16n8k16` (tf32: m16n8k8,
//!   8-bit: m16n8k32) — CUTLASS docs `efficient_gemm.md`, "Multistage" pipelining.
//! * Hopper (sm_90): CUTLASS 3.x `KernelTmaWarpSpecializedCooperative`/`Pingpong` — one producer
//!   warpgroup issuing TMA loads, one or two consumer warpgroups issuing `wgmma.m64nNk16`, tiles
//!   64/128/256 × 64/128/256 with BK = 128 bytes (the 128-B TMA swizzle), stage count "auto" =
//!   as many as fit in 227 KiB, thread-block clusters up to 2×2 with TMA multicast, persistent
//!   tile scheduler with rasterization swizzle (CUTLASS docs `gemm_api_3x.md`,
//!   `cute/0x_gemm_tutorial.md`; NVIDIA Hopper tuning guide: "TMA", "thread block clusters").
//! * Blackwell (sm_100): CUTLASS 3.x sm100 `tcgen05.mma` kernels — one thread issues MMAs of
//!   128×N×16 (or 2-SM 256×N×16) per CTA, accumulators in TMEM (double-buffered so the epilogue
//!   overlaps the next tile), TMA loads, clusters (CUTLASS `blackwell_functionality.md`).
//! * AMD CDNA 3/4 (`cdna3`, `cdna4`): hipBLASLt/Tensile "MFMA" kernels — a workgroup of 4
//!   wavefronts (2×2) with macro tiles 256×256 down to 64×64 and depth BK of 64 or 128 bytes,
//!   each wavefront issuing `v_mfma_f32_32x32xK` on its SIMD's matrix core from A/B fragments it
//!   reads out of the LDS (`ds_read_b128`); global loads run `PrefetchGlobalRead` stages ahead
//!   into VGPRs and are written to the LDS before use, so one of the pipeline's stages lives in
//!   registers and the others in the LDS. Instruction shapes per dtype from the AMD CDNA 3 and
//!   CDNA 4 ISA reference guides ([`mfma_k`]); only the 32×32 family is planned.
//! * fp32 on CUDA cores: the classic SGEMM blocking (128×128×8 threadblock, 8×8 per thread,
//!   double-buffered shared memory; CUTLASS `SIMT` kernels, Volkov/Demmel 2008).

use super::config::{Arch, SimtConfig};
use crate::workload::{DType, Gemm};
use serde::Serialize;

/// Which matrix instruction the kernel's main loop uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MmaKind {
    /// Per-warp `mma.sync` (A and B fragments loaded to registers with `ldmatrix`).
    MmaSync,
    /// Per-warpgroup `wgmma.mma_async` with A and B read from shared memory.
    Wgmma,
    /// `tcgen05.mma` issued by a single thread; accumulators in tensor memory.
    Tcgen05,
    /// AMD `v_mfma` issued per wavefront (64 lanes) on its SIMD's matrix core, A and B
    /// fragments read from the LDS into VGPRs (`ds_read`), accumulators in AccVGPRs.
    Mfma,
    /// FP32 FFMA on CUDA cores (SGEMM).
    CudaCoreFfma,
}

/// One GEMM kernel configuration and the grid it launches for a given problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelPlan {
    pub mma: MmaKind,
    /// CTA tile BM×BN×BK (elements).
    pub cta_tile: [u32; 3],
    /// Warp tile (warp M × warp N); for warpgroup kernels the warpgroup's tile / 4 in M.
    pub warp_tile: [u32; 2],
    /// Warps that issue MMAs (consumers) per CTA.
    pub mma_warps: u32,
    /// Extra warps per CTA that only load (TMA producer warpgroup) or run the epilogue.
    pub helper_warps: u32,
    /// Shared-memory pipeline stages.
    pub stages: u32,
    pub split_k: u32,
    /// Stream-K decomposition (persistent kernels): the tiles × k-iterations of the whole
    /// problem are split evenly over the SMs, partial tiles fixed up through an fp32 workspace
    /// (Osama et al., "Stream-K", PPoPP 2023; CUTLASS 3.x `StreamKScheduler`), which removes
    /// the wave tail. False: data-parallel tiles in waves.
    pub stream_k: bool,
    /// Thread-block cluster (CTAs along M, CTAs along N) sharing loads by TMA multicast.
    pub cluster: [u32; 2],
    /// Rasterization swizzle width (tiles) of the tile scheduler.
    pub swizzle: u32,
    /// Tiles along M and N, per batch element.
    pub tiles_m: u64,
    pub tiles_n: u64,
    /// CTAs (work tiles) of the whole launch: tiles_m × tiles_n × batch × split_k.
    pub ctas: u64,
    pub ctas_per_sm: u32,
    /// ceil(ctas / (SMs × ctas_per_sm)).
    pub waves: u64,
    /// Resident warps / maximum warps per SM.
    pub occupancy: f64,
    pub smem_bytes_per_cta: u32,
    pub regs_per_thread: u32,
    /// Main-loop iterations per CTA: ceil(K / split_k / BK).
    pub k_iters: u64,
    /// MMA instruction shape (m, n, k) as issued by one warp / warpgroup / thread.
    pub mma_shape: [u32; 3],
}

impl KernelPlan {
    /// The plan as the `plan` JSON of an op profile.
    pub fn to_json(&self, math: &str) -> serde_json::Value {
        serde_json::json!({
            "kernel": match self.mma {
                MmaKind::MmaSync => "mma.sync + cp.async multistage",
                MmaKind::Wgmma => "wgmma + TMA, warp-specialized",
                MmaKind::Tcgen05 => "tcgen05.mma (TMEM) + TMA, warp-specialized",
                MmaKind::Mfma => "v_mfma (wavefront 64) + LDS, global prefetch to VGPRs",
                MmaKind::CudaCoreFfma => "SIMT FFMA (CUDA cores)",
            },
            "math": math,
            "cta_tile": self.cta_tile,
            "warp_tile": self.warp_tile,
            "mma_shape": self.mma_shape,
            "mma_warps": self.mma_warps,
            "helper_warps": self.helper_warps,
            "stages": self.stages,
            "split_k": self.split_k,
            "decomposition": if self.stream_k { "stream_k" } else { "data_parallel" },
            "cluster": self.cluster,
            "swizzle": self.swizzle,
            "tiles": [self.tiles_m, self.tiles_n],
            "ctas": self.ctas,
            "ctas_per_sm": self.ctas_per_sm,
            "waves": self.waves,
            "occupancy": self.occupancy,
            "smem_bytes_per_cta": self.smem_bytes_per_cta,
            "regs_per_thread": self.regs_per_thread,
            "k_iters": self.k_iters,
        })
    }
    pub fn warps_per_cta(&self) -> u32 {
        self.mma_warps + self.helper_warps
    }
}

/// Bytes of one operand element as stored in memory and moved through L2 and shared memory:
/// the dtype's storage including block scales ([`DType::bytes_per_element`]: 0.5625 for NVFP4,
/// 0.53125 for MXFP4, whose scale factors travel with the data to the tensor cores).
pub fn operand_bytes(dtype: DType) -> f64 {
    dtype.bytes_per_element()
}

/// Bytes of one output element: 16-bit in → 16-bit out, fp8 and fp4 → bf16 out
/// (`torch._scaled_mm` default; cuBLASLt block-scaled NVFP4/MXFP4 GEMMs with a bf16 D),
/// int8 → int32 (`torch._int_mm`), fp32 → fp32.
pub fn output_bytes(dtype: DType) -> u32 {
    match dtype {
        DType::Fp32 | DType::Int8 => 4,
        DType::Bf16 | DType::Fp16 | DType::Fp8 | DType::Fp4 | DType::Mxfp4 => 2,
    }
}

/// Base shape (without grid) of one candidate.
struct Shape {
    bm: u32,
    bn: u32,
    bk: u32,
    mma_warps: u32,
    helper_warps: u32,
    warp_m: u32,
    warp_n: u32,
}

/// Enumerate the candidate plans for a GEMM on a machine (before simulation). `math` is the
/// precision the MMAs run at (the GEMM's dtype, or its fp4 fallback): it sets the tile and
/// instruction shapes, while shared-memory stages hold the operands in their storage dtype
/// (an fp4 fallback kernel stages fp4 and upcasts on the way to the MMA, as CUTLASS's
/// mixed-input GEMMs do). `tensor` is false for fp32 on CUDA cores.
pub fn candidates(cfg: &SimtConfig, g: &Gemm, math: DType, tensor: bool) -> Vec<KernelPlan> {
    let elem_bits = math.element_bits();
    let kind = mma_kind(cfg.arch, tensor);
    let shapes = base_shapes(kind, elem_bits);
    let k_mma = if kind == MmaKind::Mfma {
        mfma_k(cfg.arch, math)
    } else {
        // MMA k of one instruction: 32 bytes of K (m16n8k16 for 16-bit, k8 tf32, k32 8-bit,
        // k64 fp4: tcgen05.mma kind::mxf4nvf4, CUTLASS `blackwell_functionality.md`).
        256 / elem_bits
    };
    let planner = Planner {
        cfg,
        g,
        kind,
        elem_bits,
        storage_bytes: operand_bytes(g.dtype),
        k_mma,
        sms: cfg.sm.count as u64,
        warp: cfg.sm.warp_size,
    };
    let mut out = Vec::new();
    for s in &shapes {
        planner.shape_plans(s, &mut out);
    }
    out
}

/// The matrix instruction of the architecture (or FFMA on CUDA cores when not `tensor`).
fn mma_kind(arch: Arch, tensor: bool) -> MmaKind {
    if !tensor {
        MmaKind::CudaCoreFfma
    } else {
        match arch {
            Arch::Ampere => MmaKind::MmaSync,
            Arch::Hopper => MmaKind::Wgmma,
            Arch::Blackwell => MmaKind::Tcgen05,
            Arch::Cdna3 | Arch::Cdna4 => MmaKind::Mfma,
        }
    }
}

/// K of the 32×32×K MFMA instruction a CDNA kernel uses for `math` (AMD "CDNA 3 Instruction Set
/// Architecture" and "CDNA 4 ISA" reference guides, MFMA opcode tables):
/// * CDNA 3: `v_mfma_f32_32x32x8_{bf16,f16}`, `v_mfma_f32_32x32x16_fp8_fp8`,
///   `v_mfma_i32_32x32x16_i8`, `v_mfma_f32_32x32x4_xf32` (TF32) — 16 bytes of K each;
/// * CDNA 4: `v_mfma_f32_32x32x16_{bf16,f16}`, `v_mfma_i32_32x32x32_i8`,
///   `v_mfma_f32_32x32x64_f8f6f4` (fp8, and fp4 in `v_mfma_scale_f32_32x32x64_f8f6f4`);
///   CDNA 4 has no TF32 MFMA (taken as CDNA 3's shape, never planned: its rate is 0).
pub fn mfma_k(arch: Arch, math: DType) -> u32 {
    let cdna4 = arch == Arch::Cdna4;
    match math {
        DType::Bf16 | DType::Fp16 => {
            if cdna4 {
                16
            } else {
                8
            }
        }
        DType::Fp8 => {
            if cdna4 {
                64
            } else {
                16
            }
        }
        DType::Int8 => {
            if cdna4 {
                32
            } else {
                16
            }
        }
        DType::Fp4 | DType::Mxfp4 => 64,
        DType::Fp32 => 4,
    }
}

/// The CTA / warp tile shapes the library offers for this instruction (see the module doc);
/// BK counts elements of `elem_bits` bits.
fn base_shapes(kind: MmaKind, elem_bits: u32) -> Vec<Shape> {
    match kind {
        MmaKind::CudaCoreFfma => sgemm_shapes(),
        MmaKind::MmaSync => mma_sync_shapes(elem_bits),
        MmaKind::Wgmma => wgmma_shapes(elem_bits),
        MmaKind::Tcgen05 => tcgen05_shapes(elem_bits),
        MmaKind::Mfma => mfma_shapes(elem_bits),
    }
}

/// SGEMM on CUDA cores: (BM, BN, warps along M, warps along N) with BK = 8.
fn sgemm_shapes() -> Vec<Shape> {
    let mut shapes = Vec::new();
    for (bm, bn, wm, wn) in [
        (128, 128, 2, 4),
        (128, 64, 2, 2),
        (64, 64, 2, 2),
        (256, 128, 4, 4),
    ] {
        shapes.push(Shape {
            bm,
            bn,
            bk: 8,
            mma_warps: wm * wn,
            helper_warps: 0,
            warp_m: bm / wm,
            warp_n: bn / wn,
        });
    }
    shapes
}

/// Ampere multistage `mma.sync` tiles, each with BK of 64 and 128 bytes.
fn mma_sync_shapes(elem_bits: u32) -> Vec<Shape> {
    let mut shapes = Vec::new();
    let tiles: [(u32, u32, u32, u32); 8] = [
        (256, 128, 4, 2),
        (128, 256, 2, 4),
        (128, 128, 2, 2),
        (128, 64, 2, 2),
        (64, 128, 2, 2),
        (64, 64, 2, 2),
        (256, 64, 4, 1),
        (64, 256, 1, 4),
    ];
    for (bm, bn, wm, wn) in tiles {
        for bk_bytes in [64, 128] {
            shapes.push(Shape {
                bm,
                bn,
                bk: bk_bytes * 8 / elem_bits,
                mma_warps: wm * wn,
                helper_warps: 0,
                warp_m: bm / wm,
                warp_n: bn / wn,
            });
        }
    }
    shapes
}

/// Hopper warp-specialized `wgmma` tiles with BK = 128 bytes.
fn wgmma_shapes(elem_bits: u32) -> Vec<Shape> {
    let mut shapes = Vec::new();
    // (BM, BN, consumer warpgroups); +1 producer warpgroup.
    for (bm, bn, wgs) in [
        (128, 256, 2),
        (256, 128, 2),
        (128, 128, 2),
        (128, 128, 1),
        (64, 256, 1),
        (64, 128, 1),
        (128, 64, 2),
        (64, 64, 1),
    ] {
        shapes.push(Shape {
            bm,
            bn,
            bk: 1024 / elem_bits,
            mma_warps: 4 * wgs,
            helper_warps: 4,
            warp_m: bm / wgs / 4,
            warp_n: bn,
        });
    }
    shapes
}

/// Blackwell `tcgen05.mma` tiles with BK = 128 bytes (256 fp4 elements: the CUTLASS sm100
/// block-scaled NVFP4/MXFP4 examples use tile K = 256).
fn tcgen05_shapes(elem_bits: u32) -> Vec<Shape> {
    let mut shapes = Vec::new();
    // One MMA-issuing warp, one TMA warp, four epilogue warps (CUTLASS sm100 layout).
    for (bm, bn) in [(128, 256), (128, 128), (128, 64), (64, 128), (64, 256)] {
        shapes.push(Shape {
            bm,
            bn,
            bk: 1024 / elem_bits,
            mma_warps: 1,
            helper_warps: 5,
            warp_m: bm,
            warp_n: bn,
        });
    }
    shapes
}

/// CDNA macro tiles of a 4-wavefront (2×2, or 4×1 / 1×4) workgroup with BK of 64 and 128
/// bytes (Tensile `MT{BM}x{BN}x{DepthU}`, `MIWaveGroup`); each wavefront's tile is a multiple
/// of the 32×32 MFMA.
fn mfma_shapes(elem_bits: u32) -> Vec<Shape> {
    let mut shapes = Vec::new();
    let tiles: [(u32, u32, u32, u32); 9] = [
        (256, 256, 2, 2),
        (256, 128, 2, 2),
        (128, 256, 2, 2),
        (128, 128, 2, 2),
        (128, 64, 2, 2),
        (64, 128, 2, 2),
        (64, 64, 2, 2),
        (256, 64, 4, 1),
        (64, 256, 1, 4),
    ];
    for (bm, bn, wm, wn) in tiles {
        for bk_bytes in [64, 128] {
            shapes.push(Shape {
                bm,
                bn,
                bk: bk_bytes * 8 / elem_bits,
                mma_warps: wm * wn,
                helper_warps: 0,
                warp_m: bm / wm,
                warp_n: bn / wn,
            });
        }
    }
    shapes
}

/// Output tiling of one shape: tiles along M and N, and the CTAs before split-K.
struct Tiling {
    tiles_m: u64,
    tiles_n: u64,
    base_ctas: u64,
}

/// Resource use and residency of one shape at one stage count.
struct Residency {
    stages: u32,
    smem: u32,
    regs: u32,
    ctas_per_sm: u32,
    occupancy: f64,
}

/// What is fixed while enumerating the plans of one GEMM on one machine.
struct Planner<'a> {
    cfg: &'a SimtConfig,
    g: &'a Gemm,
    kind: MmaKind,
    /// Bits of one element of the MMA's precision (tile and instruction geometry).
    elem_bits: u32,
    /// Bytes per operand element as staged in shared memory (storage dtype, block scales
    /// included).
    storage_bytes: f64,
    k_mma: u32,
    sms: u64,
    /// Threads per warp (wavefront).
    warp: u32,
}

impl Planner<'_> {
    /// All plans of one shape: its resource use, then every stage count that fits and every
    /// grid (split-K, cluster, decomposition) for it.
    fn shape_plans(&self, s: &Shape, out: &mut Vec<KernelPlan>) {
        let g = self.g;
        let sm = &self.cfg.sm;
        let tiles_m = g.m.div_ceil(s.bm as u64);
        let tiles_n = g.n.div_ceil(s.bn as u64);
        let base_ctas = tiles_m
            .saturating_mul(tiles_n)
            .saturating_mul(g.batch.max(1));
        let tiling = Tiling {
            tiles_m,
            tiles_n,
            base_ctas,
        };
        let splits = self.split_k_choices(s, base_ctas);
        let stage_bytes = (((s.bm + s.bn) * s.bk) as f64 * self.storage_bytes).ceil() as u32;
        let epi_smem = self.epilogue_smem(s);
        let threads = self.warp * (s.mma_warps + s.helper_warps);
        let regs = self.regs_per_thread(s, stage_bytes, threads);
        if regs > sm.max_regs_per_thread {
            return;
        }
        for &stages in &self.stage_choices(stage_bytes, epi_smem) {
            if stages < 2 {
                continue;
            }
            let smem = self.smem_stages(stages) * stage_bytes + epi_smem + 1024;
            if smem > sm.smem_bytes {
                continue;
            }
            let ctas_per_sm = self.ctas_per_sm(smem, regs, threads);
            if ctas_per_sm == 0 {
                continue;
            }
            let occupancy = (ctas_per_sm * threads) as f64 / sm.max_threads as f64;
            let res = Residency {
                stages,
                smem,
                regs,
                ctas_per_sm,
                occupancy,
            };
            self.grid_plans(s, &tiling, &splits, &res, out);
        }
    }

    /// Split-K only when the output tiles cannot fill the machine (cuBLAS heuristic, CUTLASS
    /// `GemmSplitKParallel` / stream-K motivation), and each split keeps ≥ 4 BK iterations.
    fn split_k_choices(&self, s: &Shape, base_ctas: u64) -> Vec<u32> {
        let mut splits = vec![1u32];
        if base_ctas < self.sms {
            for s_k in [2u32, 3, 4, 6, 8, 12, 16] {
                if base_ctas * s_k as u64 <= 2 * self.sms
                    && self.g.k / s_k as u64 >= 4 * s.bk as u64
                {
                    splits.push(s_k);
                }
            }
        }
        splits
    }

    /// Thread-block clusters tried (TMA multicast exists on Hopper and Blackwell only).
    fn clusters(&self) -> &'static [[u32; 2]] {
        match self.kind {
            MmaKind::Wgmma | MmaKind::Tcgen05 => &[[1, 1], [2, 1], [1, 2], [2, 2]],
            _ => &[[1, 1]],
        }
    }

    /// Shared memory of the epilogue: Hopper/Blackwell epilogues stage C through shared memory
    /// for the TMA store.
    fn epilogue_smem(&self, s: &Shape) -> u32 {
        match self.kind {
            MmaKind::Wgmma | MmaKind::Tcgen05 => {
                s.bm.min(128) * s.bn.min(64) * output_bytes(self.g.dtype)
            }
            _ => 0,
        }
    }

    /// Stages of the pipeline held in shared memory (LDS): all of them, except on CDNA where
    /// the newest stage is prefetched into VGPRs (Tensile `PrefetchGlobalRead`) and written to
    /// the LDS only when a buffer there is free.
    fn smem_stages(&self, stages: u32) -> u32 {
        if self.kind == MmaKind::Mfma {
            stages.saturating_sub(1).max(1)
        } else {
            stages
        }
    }

    /// Registers per thread: accumulators + fragments + addressing (CUTLASS-like budgets; on
    /// CDNA plus the stage prefetched into VGPRs).
    fn regs_per_thread(&self, s: &Shape, stage_bytes: u32, threads: u32) -> u32 {
        let w = self.warp;
        match self.kind {
            MmaKind::MmaSync => {
                let acc = s.warp_m * s.warp_n / w;
                let frag = 2 * (s.warp_m + s.warp_n) * self.k_mma * self.elem_bits / 32 / w;
                acc + frag + 40
            }
            MmaKind::Mfma => {
                let acc = s.warp_m * s.warp_n / w;
                let frag = 2 * (s.warp_m + s.warp_n) * self.k_mma * self.elem_bits / 32 / w;
                let prefetch = stage_bytes.div_ceil(4 * threads.max(1));
                acc + frag + prefetch + 40
            }
            MmaKind::CudaCoreFfma => {
                s.warp_m * s.warp_n / w + 2 * (s.warp_m + s.warp_n) / w * 2 + 30
            }
            // Consumer warpgroups hold the accumulators (setmaxnreg rebalances producer → consumer).
            MmaKind::Wgmma => (s.warp_m * 4 * s.warp_n / 128 + 40).min(232),
            MmaKind::Tcgen05 => 64,
        }
    }

    /// Pipeline stage counts tried: 2–6 for multistage kernels (CDNA: 2–4, i.e. 1–3 LDS
    /// buffers and one stage in VGPRs); for warp-specialized kernels
    /// "StageCountAutoCarveout": as many as fit in shared memory (at most 8).
    fn stage_choices(&self, stage_bytes: u32, epi_smem: u32) -> Vec<u32> {
        match self.kind {
            MmaKind::MmaSync | MmaKind::CudaCoreFfma => (2..=6).collect(),
            MmaKind::Mfma => (2..=4).collect(),
            // "StageCountAutoCarveout": as many as fit.
            _ => {
                let n = self.cfg.sm.smem_bytes.saturating_sub(epi_smem + 1024) / stage_bytes.max(1);
                vec![n.min(8)]
            }
        }
    }

    /// Occupancy: CTAs per SM limited by smem, registers, threads, CTA slots.
    fn ctas_per_sm(&self, smem: u32, regs: u32, threads: u32) -> u32 {
        let sm = &self.cfg.sm;
        let by_smem = sm.smem_bytes / smem;
        let by_regs = sm.registers / (regs * threads).max(1);
        let by_threads = sm.max_threads / threads;
        let mut ctas_per_sm = by_smem.min(by_regs).min(by_threads).min(sm.max_ctas);
        if matches!(self.kind, MmaKind::Wgmma | MmaKind::Tcgen05) {
            // Persistent warp-specialized kernels run one CTA per SM.
            ctas_per_sm = ctas_per_sm.min(1);
        }
        ctas_per_sm
    }

    /// MMA instruction shape (m, n, k) as issued by one warp / warpgroup / thread.
    fn mma_shape(&self, s: &Shape) -> [u32; 3] {
        match self.kind {
            MmaKind::MmaSync => [16, 8, self.k_mma],
            MmaKind::Mfma => [32, 32, self.k_mma],
            MmaKind::CudaCoreFfma => [1, self.warp, 1],
            MmaKind::Wgmma => [64, s.bn, self.k_mma],
            MmaKind::Tcgen05 => [s.bm, s.bn, self.k_mma],
        }
    }

    /// The grids of one shape at one stage count: every split-K, cluster and (for persistent
    /// kernels with a partial last wave) the stream-K decomposition too.
    fn grid_plans(
        &self,
        s: &Shape,
        tiling: &Tiling,
        splits: &[u32],
        res: &Residency,
        out: &mut Vec<KernelPlan>,
    ) {
        let Tiling {
            tiles_m,
            tiles_n,
            base_ctas,
        } = *tiling;
        for &split_k in splits {
            for &cluster in self.clusters() {
                if (cluster[0] > 1 && tiles_m < 2) || (cluster[1] > 1 && tiles_n < 2) {
                    continue;
                }
                let ctas = base_ctas.saturating_mul(split_k as u64);
                let slots = self.sms * res.ctas_per_sm as u64;
                let waves = ctas.div_ceil(slots);
                let k_per = self.g.k.div_ceil(split_k as u64);
                let persistent = matches!(self.kind, MmaKind::Wgmma | MmaKind::Tcgen05);
                let stream_k_too = persistent && split_k == 1 && ctas % slots != 0;
                for stream_k in [false, true] {
                    if stream_k && !stream_k_too {
                        continue;
                    }
                    out.push(KernelPlan {
                        stream_k,
                        mma: self.kind,
                        cta_tile: [s.bm, s.bn, s.bk],
                        warp_tile: [s.warp_m, s.warp_n],
                        mma_warps: s.mma_warps,
                        helper_warps: s.helper_warps,
                        stages: res.stages,
                        split_k,
                        cluster,
                        swizzle: 8,
                        tiles_m,
                        tiles_n,
                        ctas,
                        ctas_per_sm: res.ctas_per_sm,
                        waves,
                        occupancy: res.occupancy,
                        smem_bytes_per_cta: res.smem,
                        regs_per_thread: res.regs,
                        k_iters: k_per.div_ceil(s.bk as u64).max(1),
                        mma_shape: self.mma_shape(s),
                    });
                }
            }
        }
    }
}
