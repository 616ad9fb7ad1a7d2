//! Warp-level simulation of one SM running the resident CTAs of a GEMM kernel plan.
//!
//! Every warp runs an in-order instruction stream built from the plan (async copies, barriers,
//! fragment loads, MMAs, MMA waits, stage releases, epilogue stores). A discrete-event loop
//! always issues the warp that can issue earliest, honouring:
//! * the sub-partition's warp scheduler: one warp-instruction per cycle per sub-partition
//!   (NVIDIA Ampere/Hopper tuning guides; `[SB-gpus]`, `[GPGPU-H100]`);
//! * the tensor-core pipe of each sub-partition: an MMA occupies it for
//!   `MACs / (FMA per clock per sub-partition)` cycles and its result is ready `mma_latency`
//!   cycles after that (Accel-Sim tensor latency/initiation `[GPGPU-A100]`, `[GPGPU-H100]`);
//! * the shared-memory pipe of the SM (bytes per clock, latency) for `ldmatrix` and for
//!   `wgmma`/`tcgen05` operands read straight from shared memory;
//! * the SM's share of the L2/HBM bandwidth (a FIFO pipe of bytes per clock) plus the load
//!   latency (L2 hit / HBM miss mix) for `cp.async`/TMA stage loads and epilogue stores;
//! * barriers: `__syncthreads` (multistage kernels), full/empty mbarriers of the warp-specialized
//!   pipeline (CUTLASS `PipelineTmaAsync`), `wgmma.wait_group(1)`.
//!
//! The caller simulates enough main-loop iterations to reach steady state and extrapolates the
//! rest of K from the measured steady-state period ([`SmResult::period_cycles`]).

use super::plan::{KernelPlan, MmaKind};

/// Machine-side inputs of one SM simulation (all per SM, in cycles and bytes per cycle).
#[derive(Debug, Clone)]
pub struct SmParams {
    pub sub_partitions: usize,
    /// Tensor-core (or FP32-pipe for SGEMM) FMA per clock per sub-partition.
    pub fma_per_clk_per_sp: f64,
    pub mma_latency: f64,
    pub smem_bytes_per_clk: f64,
    pub smem_latency: f64,
    /// This SM's share of the memory system's bandwidth for stage loads, bytes per cycle.
    pub mem_bytes_per_clk: f64,
    /// Latency of one stage load (mix of L2 hits and HBM misses), cycles.
    pub mem_latency: f64,
    /// Latency until an epilogue store is acknowledged, cycles.
    pub store_latency: f64,
    /// `__syncthreads` / mbarrier round trip, cycles.
    pub barrier_cycles: f64,
}

/// Problem-side inputs derived from the plan.
#[derive(Debug, Clone)]
pub struct SmWork {
    /// Resident CTAs on this SM.
    pub ctas: usize,
    /// Main-loop iterations to simulate.
    pub iters: usize,
    /// Bytes one CTA loads from L2 per stage (after cluster multicast).
    pub stage_load_bytes: f64,
    /// Bytes one CTA writes in its epilogue.
    pub epilogue_bytes: f64,
    pub operand_bytes: f64,
}

/// What the simulation measured.
#[derive(Debug, Clone, Default)]
pub struct SmResult {
    /// Cycle at which iteration k's MMAs completed (max over resident CTAs).
    pub iter_done: Vec<f64>,
    /// Cycle at which the last CTA finished its epilogue.
    pub end: f64,
    /// Steady-state cycles per main-loop iteration (all resident CTAs advancing one BK step).
    pub period_cycles: f64,
    /// Tensor-pipe busy cycles per iteration on the busiest sub-partition.
    pub tc_busy_per_iter: f64,
    /// Number of instructions the simulation issued (for diagnostics).
    pub issued: u64,
}

#[derive(Clone, Copy, Debug)]
enum Uop {
    /// Ampere prologue: issue this warp's share of the loads of stages 0..S-1.
    PrologueLoads,
    /// Issue this warp's share of the loads of stage k + S − 1 (multistage).
    LoadAhead,
    /// cp.async.wait_group + __syncthreads on stage k.
    BarrierFull,
    /// Wait for the full mbarrier of stage k (warp-specialized consumers).
    WaitFull,
    /// Producer: wait until stage slot of iteration k − S is released, then TMA-load stage k.
    ProduceStage,
    /// Load fragments for MMA step `kk` (ldmatrix / LDS): n instructions of `bytes` total.
    Frag { kk: u32 },
    /// Issue the MMAs of step kk (waiting for their fragments when they come from registers).
    Mma { kk: u32 },
    /// wgmma.wait_group(1): wait for the previous iteration's MMAs, then release its stage.
    WaitPrevAndRelease,
    /// Blackwell: tcgen05.commit → empty barrier arrives when this iteration's MMAs complete.
    CommitRelease,
    /// Wait for all MMAs of this warp (or, for epilogue warps, of the CTA) to complete.
    WaitAllMma,
    /// Store the accumulators to global memory.
    Epilogue,
}

#[derive(Clone, Debug)]
struct Warp {
    cta: usize,
    sp: usize,
    /// Instruction stream: prologue, per-iteration body (repeated), tail.
    prologue: Vec<Uop>,
    body: Vec<Uop>,
    tail: Vec<Uop>,
    iter: usize,
    pc: usize,
    phase: u8, // 0 prologue, 1 body, 2 tail, 3 done
    ready: f64,
    /// Cycle of this warp's last issue: the scheduler prefers the least recently issued warp
    /// among those that can issue at the same cycle (loose round robin).
    last_issue: f64,
    frag_ready: [f64; 2],
    /// MMA completion per iteration of this warp.
    mma_done: Vec<f64>,
    role_issues_mma: bool,
    role_produces: bool,
    load_share: f64,
    epi_share: f64,
}

struct CtaState {
    /// Arrival time of each stage's data, once all its parts are issued.
    full_at: Vec<Option<f64>>,
    full_parts: Vec<u32>,
    full_max: Vec<f64>,
    /// Time each iteration's stage slot was released by all consumers.
    released: Vec<Option<f64>>,
    rel_cnt: Vec<u32>,
    rel_max: Vec<f64>,
    bar_cnt: Vec<u32>,
    bar_max: Vec<f64>,
    /// Completion of iteration k's MMAs over all MMA warps of the CTA.
    iter_done: Vec<f64>,
    iter_cnt: Vec<u32>,
    all_mma_done: Option<f64>,
    end: f64,
}

impl CtaState {
    /// One producer's part of stage `st` lands at `arr`; the stage is full (its data usable)
    /// when all `producers` parts have landed, at the latest arrival.
    fn stage_part_arrives(&mut self, st: usize, arr: f64, producers: u32) {
        self.full_parts[st] += 1;
        self.full_max[st] = self.full_max[st].max(arr);
        if self.full_parts[st] == producers {
            self.full_at[st] = Some(self.full_max[st]);
        }
    }
}

/// Simulate the resident CTAs of `plan` on one SM.
pub fn simulate_sm(plan: &KernelPlan, p: &SmParams, w: &SmWork) -> SmResult {
    let n = w.iters.max(1);
    let s = plan.stages.max(2) as usize;
    let [bm, bn, bk] = plan.cta_tile;
    let [_, _, k_mma] = plan.mma_shape;
    let kk_n = (bk / k_mma.max(1)).max(1);
    let nsp = p.sub_partitions.max(1);

    // Per-instruction tensor-pipe occupancy and counts per MMA step.
    let (mma_instr_per_step, occ_per_instr, smem_bytes_per_step, frag_bytes, frag_instr) =
        match plan.mma {
            MmaKind::MmaSync => {
                let [wm, wn] = plan.warp_tile;
                let n_mma = (wm / 16) * (wn / 8);
                let occ = (16 * 8 * k_mma) as f64 / p.fma_per_clk_per_sp;
                let fb = ((wm + wn) * k_mma) as f64 * w.operand_bytes;
                // ldmatrix.x4 moves 512 B per warp-instruction.
                (n_mma, occ, 0.0, fb, (fb / 512.0).ceil().max(1.0) as u32)
            }
            MmaKind::CudaCoreFfma => {
                let [wm, wn] = plan.warp_tile;
                // Each thread owns (wm·wn/32) outputs: that many FFMA per k, 1 warp-instr each.
                let n_ffma = wm * wn / 32;
                let occ = 32.0 / p.fma_per_clk_per_sp;
                let fb = ((wm + wn) * k_mma) as f64 * w.operand_bytes;
                // LDS.128 per thread = 512 B per warp-instruction.
                (n_ffma, occ, 0.0, fb, (fb / 512.0).ceil().max(1.0) as u32)
            }
            MmaKind::Wgmma => {
                // wgmma m64nNk per warpgroup, (BM / warpgroups) / 64 of them per k-step; each
                // warp's quarter (16 rows) runs on its sub-partition's tensor core; A (64×k) and
                // B (N×k) are read from shared memory by every instruction.
                let [wm, _] = plan.warp_tile;
                let n_instr = (wm * 4 / 64).max(1);
                let occ = (16 * bn * k_mma) as f64 / p.fma_per_clk_per_sp;
                let sb = (n_instr * (16 + bn / 4) * k_mma) as f64 * w.operand_bytes;
                (n_instr, occ, sb, 0.0, 0)
            }
            MmaKind::Tcgen05 => {
                // One thread issues BM×BN×k on all four tensor cores of the SM.
                let occ = (bm * bn * k_mma) as f64 / (p.fma_per_clk_per_sp * nsp as f64);
                let sb = ((bm + bn) * k_mma) as f64 * w.operand_bytes;
                (1, occ, sb, 0.0, 0)
            }
        };

    // Build warps.
    let mut warps: Vec<Warp> = Vec::new();
    let mma_warps = plan.mma_warps as usize;
    for c in 0..w.ctas {
        let base = warps.len();
        let mk = |sp: usize| Warp {
            cta: c,
            sp,
            prologue: Vec::new(),
            body: Vec::new(),
            tail: Vec::new(),
            iter: 0,
            pc: 0,
            phase: 0,
            ready: 0.0,
            last_issue: -1.0,
            frag_ready: [0.0; 2],
            mma_done: vec![0.0; n],
            role_issues_mma: false,
            role_produces: false,
            load_share: 0.0,
            epi_share: 0.0,
        };
        match plan.mma {
            MmaKind::MmaSync | MmaKind::CudaCoreFfma => {
                for i in 0..mma_warps {
                    let mut wp = mk((base + i) % nsp);
                    wp.role_issues_mma = true;
                    wp.role_produces = true;
                    wp.load_share = w.stage_load_bytes / mma_warps as f64;
                    wp.epi_share = w.epilogue_bytes / mma_warps as f64;
                    wp.prologue = vec![Uop::PrologueLoads];
                    let mut body = vec![Uop::LoadAhead, Uop::BarrierFull, Uop::Frag { kk: 0 }];
                    for kk in 0..kk_n {
                        if kk + 1 < kk_n {
                            body.push(Uop::Frag { kk: kk + 1 });
                        }
                        body.push(Uop::Mma { kk });
                    }
                    wp.body = body;
                    wp.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
                    warps.push(wp);
                }
            }
            MmaKind::Wgmma => {
                let mut pr = mk(base % nsp);
                pr.role_produces = true;
                pr.load_share = w.stage_load_bytes;
                pr.body = vec![Uop::ProduceStage];
                warps.push(pr);
                for i in 0..mma_warps {
                    let mut wp = mk(i % nsp);
                    wp.role_issues_mma = true;
                    wp.epi_share = w.epilogue_bytes / mma_warps as f64;
                    let mut body = vec![Uop::WaitFull];
                    for kk in 0..kk_n {
                        body.push(Uop::Mma { kk });
                    }
                    body.push(Uop::WaitPrevAndRelease);
                    wp.body = body;
                    wp.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
                    warps.push(wp);
                }
            }
            MmaKind::Tcgen05 => {
                let mut pr = mk(0);
                pr.role_produces = true;
                pr.load_share = w.stage_load_bytes;
                pr.body = vec![Uop::ProduceStage];
                warps.push(pr);
                let mut mw = mk(1 % nsp);
                mw.role_issues_mma = true;
                let mut body = vec![Uop::WaitFull];
                for kk in 0..kk_n {
                    body.push(Uop::Mma { kk });
                }
                body.push(Uop::CommitRelease);
                mw.body = body;
                warps.push(mw);
                for i in 0..4 {
                    let mut ep = mk(i % nsp);
                    ep.epi_share = w.epilogue_bytes / 4.0;
                    ep.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
                    ep.phase = 2;
                    warps.push(ep);
                }
            }
        }
    }
    for wp in warps.iter_mut() {
        if wp.phase == 0 && wp.prologue.is_empty() {
            wp.phase = if wp.body.is_empty() { 2 } else { 1 };
        }
    }
    let mma_warps_per_cta = match plan.mma {
        MmaKind::Tcgen05 => 1,
        _ => mma_warps as u32,
    };
    let producers_per_cta = match plan.mma {
        MmaKind::MmaSync | MmaKind::CudaCoreFfma => mma_warps as u32,
        _ => 1,
    };
    let mut ctas: Vec<CtaState> = (0..w.ctas)
        .map(|_| CtaState {
            full_at: vec![None; n],
            full_parts: vec![0; n],
            full_max: vec![0.0; n],
            released: vec![None; n],
            rel_cnt: vec![0; n],
            rel_max: vec![0.0; n],
            bar_cnt: vec![0; n],
            bar_max: vec![0.0; n],
            iter_done: vec![0.0; n],
            iter_cnt: vec![0; n],
            all_mma_done: None,
            end: 0.0,
        })
        .collect();

    let mut sp_free = vec![0.0f64; nsp];
    let mut tc_free = vec![0.0f64; nsp];
    let mut smem_free = 0.0f64;
    let mut mem_free = 0.0f64;
    let mut issued: u64 = 0;

    // Issue a stage load of `bytes` at time t; returns arrival time.
    let load = |t: f64, bytes: f64, mem_free: &mut f64| -> f64 {
        let start = t.max(*mem_free);
        *mem_free = start + bytes / p.mem_bytes_per_clk;
        *mem_free + p.mem_latency
    };

    loop {
        // Find the warp that can issue earliest.
        let mut best: Option<(usize, f64, f64)> = None;
        for (wi, wp) in warps.iter().enumerate() {
            if wp.phase == 3 {
                continue;
            }
            let uop = current(wp);
            let Some(uop) = uop else { continue };
            let cs = &ctas[wp.cta];
            let k = wp.iter;
            let dep: Option<f64> = match uop {
                Uop::BarrierFull => None, // handled specially below (collective)
                Uop::WaitFull => cs.full_at[k],
                Uop::ProduceStage => {
                    if k >= s {
                        cs.released[k - s]
                    } else {
                        Some(0.0)
                    }
                }
                Uop::Mma { kk } => {
                    if matches!(plan.mma, MmaKind::MmaSync | MmaKind::CudaCoreFfma) {
                        Some(wp.frag_ready[(kk % 2) as usize])
                    } else {
                        Some(0.0)
                    }
                }
                Uop::WaitPrevAndRelease => {
                    if k >= 1 {
                        Some(wp.mma_done[k - 1])
                    } else {
                        Some(0.0)
                    }
                }
                Uop::WaitAllMma => {
                    if wp.role_issues_mma {
                        Some(wp.mma_done[n - 1])
                    } else {
                        cs.all_mma_done
                    }
                }
                _ => Some(0.0),
            };
            let t = match uop {
                Uop::BarrierFull => {
                    // Arrive happens at issue; the warp can always arrive.
                    Some(wp.ready.max(sp_free[wp.sp]))
                }
                _ => dep.map(|d| wp.ready.max(d).max(sp_free[wp.sp])),
            };
            if let Some(t) = t {
                if best.is_none_or(|(_, bt, bl)| t < bt || (t == bt && wp.last_issue < bl)) {
                    best = Some((wi, t, wp.last_issue));
                }
            }
        }
        let Some((wi, t, _)) = best else { break };
        if !t.is_finite() {
            break; // every warp parked: cannot happen for well-formed streams
        }
        issued += 1;
        let uop = current(&warps[wi]).unwrap_or(Uop::Epilogue);
        let (cta, sp, k) = (warps[wi].cta, warps[wi].sp, warps[wi].iter);
        let mut issue_cycles = 1.0;
        let mut blocked_until: Option<f64> = None;
        match uop {
            Uop::PrologueLoads => {
                let share = warps[wi].load_share;
                for st in 0..(s - 1).min(n) {
                    let arr = load(t, share, &mut mem_free);
                    ctas[cta].stage_part_arrives(st, arr, producers_per_cta);
                }
                issue_cycles = ((s - 1) as f64 * (share / 512.0).ceil()).max(1.0);
            }
            Uop::LoadAhead => {
                let st = k + s - 1;
                if st < n {
                    let share = warps[wi].load_share;
                    let arr = load(t, share, &mut mem_free);
                    ctas[cta].stage_part_arrives(st, arr, producers_per_cta);
                    issue_cycles = (share / 512.0).ceil().max(1.0);
                }
            }
            Uop::BarrierFull => {
                let cs = &mut ctas[cta];
                cs.bar_cnt[k] += 1;
                cs.bar_max[k] = cs.bar_max[k].max(t);
                if cs.bar_cnt[k] == mma_warps as u32 {
                    // Last arrival: release everybody at max(arrivals, data) + barrier cost.
                    let data = cs.full_at[k].unwrap_or(cs.full_max[k]);
                    let rel = cs.bar_max[k].max(data) + p.barrier_cycles;
                    for w2 in warps.iter_mut() {
                        if w2.cta == cta && w2.ready.is_infinite() {
                            // Parked at this barrier: released by the last arrival.
                            w2.ready = rel;
                        }
                    }
                    blocked_until = Some(rel);
                } else {
                    // Park: the warp waits until the last arrival releases it.
                    blocked_until = Some(f64::INFINITY);
                }
            }
            Uop::WaitFull => {
                blocked_until = Some(t + p.barrier_cycles.min(4.0));
            }
            Uop::ProduceStage => {
                let share = warps[wi].load_share;
                let arr = load(t, share, &mut mem_free);
                ctas[cta].full_at[k] = Some(arr);
                issue_cycles = 2.0;
            }
            Uop::Frag { kk } => {
                let start = t.max(smem_free);
                smem_free = start + frag_bytes / p.smem_bytes_per_clk;
                warps[wi].frag_ready[(kk % 2) as usize] = smem_free + p.smem_latency;
                issue_cycles = frag_instr as f64;
            }
            Uop::Mma { .. } => {
                let occ = mma_instr_per_step as f64 * occ_per_instr;
                let done;
                // Operands read from shared memory during the MMA: each sub-partition's tensor
                // core gets its share of the SM's shared-memory bandwidth (tcgen05: all of it),
                // so an MMA lasts at least as long as its operand reads.
                if plan.mma == MmaKind::Tcgen05 {
                    let start = tc_free.iter().fold(t, |a, &b| a.max(b));
                    let smem_cycles = smem_bytes_per_step / p.smem_bytes_per_clk;
                    let end = start + occ.max(smem_cycles);
                    for f in tc_free.iter_mut() {
                        *f = end;
                    }
                    done = end + p.mma_latency;
                } else {
                    let start = t.max(tc_free[sp]);
                    let smem_cycles = smem_bytes_per_step / (p.smem_bytes_per_clk / nsp as f64);
                    let end = start + occ.max(smem_cycles);
                    tc_free[sp] = end;
                    done = end + p.mma_latency;
                }
                let wp = &mut warps[wi];
                wp.mma_done[k] = wp.mma_done[k].max(done);
                issue_cycles = mma_instr_per_step as f64;
            }
            Uop::WaitPrevAndRelease => {
                if k >= 1 {
                    release(&mut ctas[cta], k - 1, t, mma_warps_per_cta);
                }
            }
            Uop::CommitRelease => {
                let d = warps[wi].mma_done[k];
                release(&mut ctas[cta], k, d, mma_warps_per_cta);
            }
            Uop::WaitAllMma => {
                if warps[wi].role_issues_mma && plan.mma == MmaKind::Wgmma {
                    release(&mut ctas[cta], n - 1, t, mma_warps_per_cta);
                }
            }
            Uop::Epilogue => {
                let b = warps[wi].epi_share;
                let done = load(t, b, &mut mem_free) - p.mem_latency + p.store_latency;
                issue_cycles = (b / 512.0).ceil().max(1.0);
                blocked_until = Some(done);
                let cs = &mut ctas[cta];
                cs.end = cs.end.max(done);
            }
        }
        sp_free[sp] = t + issue_cycles;
        let wp = &mut warps[wi];
        wp.last_issue = t;
        wp.ready = match blocked_until {
            Some(b) => b.max(t + issue_cycles),
            None => t + issue_cycles,
        };
        // Record iteration completion when an MMA warp leaves an iteration.
        let leaving_iter = advance(wp, n);
        if let Some(done_k) = leaving_iter {
            if wp.role_issues_mma {
                let d = wp.mma_done[done_k];
                let cs = &mut ctas[cta];
                cs.iter_done[done_k] = cs.iter_done[done_k].max(d);
                cs.iter_cnt[done_k] += 1;
                if done_k == n - 1 && cs.iter_cnt[done_k] == mma_warps_per_cta {
                    cs.all_mma_done = Some(cs.iter_done[done_k]);
                }
            }
        }
        if issued > 50_000_000 {
            break; // defensive: cannot happen for the plans we build
        }
    }

    let mut iter_done = vec![0.0f64; n];
    let mut end: f64 = 0.0;
    for cs in &ctas {
        for (k, d) in cs.iter_done.iter().enumerate() {
            iter_done[k] = iter_done[k].max(*d);
        }
        end = end.max(cs.end);
    }
    end = end.max(iter_done[n - 1]);
    let tc_busy_per_iter = {
        let per_cta = (bm as f64 * bn as f64 * bk as f64) / (p.fma_per_clk_per_sp * nsp as f64);
        per_cta * w.ctas as f64
    };
    // Bounds no schedule can beat: the tensor pipes and the memory pipe.
    let floor = tc_busy_per_iter.max(w.stage_load_bytes * w.ctas as f64 / p.mem_bytes_per_clk);
    let period_cycles = if n >= 4 {
        // Steady state: per-CTA period over the second half of the simulated iterations (the
        // resident CTAs advance together), the slowest CTA.
        let a = n / 2;
        ctas.iter()
            .map(|cs| (cs.iter_done[n - 1] - cs.iter_done[a - 1]) / (n - a) as f64)
            .fold(0.0f64, f64::max)
            .max(floor)
    } else {
        // Too few iterations to see a steady state: the bound.
        floor
    };
    SmResult {
        iter_done,
        end,
        period_cycles: period_cycles.max(1e-9),
        tc_busy_per_iter,
        issued,
    }
}

fn release(cs: &mut CtaState, k: usize, t: f64, consumers: u32) {
    cs.rel_cnt[k] += 1;
    cs.rel_max[k] = cs.rel_max[k].max(t);
    if cs.rel_cnt[k] == consumers {
        cs.released[k] = Some(cs.rel_max[k]);
    }
}

fn current(w: &Warp) -> Option<Uop> {
    match w.phase {
        0 => w.prologue.get(w.pc).copied(),
        1 => w.body.get(w.pc).copied(),
        2 => w.tail.get(w.pc).copied(),
        _ => None,
    }
}

/// Move a warp's program counter; returns Some(k) when the warp just finished iteration k.
fn advance(w: &mut Warp, n: usize) -> Option<usize> {
    w.pc += 1;
    let mut left = None;
    loop {
        let len = match w.phase {
            0 => w.prologue.len(),
            1 => w.body.len(),
            2 => w.tail.len(),
            _ => return left,
        };
        if w.pc < len {
            return left;
        }
        w.pc = 0;
        match w.phase {
            0 => w.phase = 1,
            1 => {
                left = Some(w.iter);
                if w.iter + 1 < n {
                    w.iter += 1;
                } else {
                    w.phase = 2;
                }
            }
            _ => w.phase = 3,
        }
        if w.phase == 1 && w.body.is_empty() {
            w.phase = 2;
        }
    }
}
