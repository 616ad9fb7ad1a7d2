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
    /// Threads per warp (wavefront): a warp-wide load/store instruction moves 16 B per thread.
    pub warp_size: usize,
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

impl SmParams {
    /// Bytes one warp-wide 128-bit load or store instruction moves (`ldmatrix.x4`, LDS.128,
    /// `cp.async` 16 B, `ds_read_b128`, `global_load_dwordx4`): 16 B per thread.
    pub fn bytes_per_warp_instr(&self) -> f64 {
        16.0 * self.warp_size as f64
    }
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
    let mut sm = Sm::new(plan, p, w);
    sm.run();
    sm.into_result()
}

/// Per-MMA-step cost of the plan's matrix instruction: how many instructions one k-step
/// issues, how long each occupies the tensor pipe, and the shared-memory operand / fragment
/// traffic that goes with it.
struct StepCosts {
    mma_instr_per_step: u32,
    occ_per_instr: f64,
    /// Operand bytes the MMAs of one step read straight from shared memory.
    smem_bytes_per_step: f64,
    /// Fragment bytes one warp loads (ldmatrix / LDS) per step, and in how many instructions.
    frag_bytes: f64,
    frag_instr: u32,
}

impl StepCosts {
    /// Per-instruction tensor-pipe occupancy and counts per MMA step of `plan`'s instruction.
    fn new(plan: &KernelPlan, p: &SmParams, w: &SmWork) -> StepCosts {
        let [bm, bn, _] = plan.cta_tile;
        let [_, _, k_mma] = plan.mma_shape;
        let nsp = p.sub_partitions.max(1);
        let (mma_instr_per_step, occ_per_instr, smem_bytes_per_step, frag_bytes, frag_instr) =
            match plan.mma {
                MmaKind::MmaSync => {
                    let [wm, wn] = plan.warp_tile;
                    let n_mma = (wm / 16) * (wn / 8);
                    let occ = (16 * 8 * k_mma) as f64 / p.fma_per_clk_per_sp;
                    let fb = ((wm + wn) * k_mma) as f64 * w.operand_bytes;
                    // ldmatrix.x4 moves 512 B per warp-instruction.
                    let instr = (fb / p.bytes_per_warp_instr()).ceil().max(1.0) as u32;
                    (n_mma, occ, 0.0, fb, instr)
                }
                MmaKind::Mfma => {
                    // v_mfma_f32_32x32xK per wavefront on its SIMD's matrix core; A and B
                    // fragments read from the LDS with ds_read_b128 (1 KiB per wave64 instr).
                    let [wm, wn] = plan.warp_tile;
                    let n_mma = (wm / 32).max(1) * (wn / 32).max(1);
                    let occ = (32 * 32 * k_mma) as f64 / p.fma_per_clk_per_sp;
                    let fb = ((wm + wn) * k_mma) as f64 * w.operand_bytes;
                    let instr = (fb / p.bytes_per_warp_instr()).ceil().max(1.0) as u32;
                    (n_mma, occ, 0.0, fb, instr)
                }
                MmaKind::CudaCoreFfma => {
                    let [wm, wn] = plan.warp_tile;
                    // Each thread owns (wm·wn/warp) outputs: that many FFMA per k, 1 warp-instr each.
                    let n_ffma = wm * wn / p.warp_size as u32;
                    let occ = p.warp_size as f64 / p.fma_per_clk_per_sp;
                    let fb = ((wm + wn) * k_mma) as f64 * w.operand_bytes;
                    // LDS.128 per thread = 512 B per warp-instruction.
                    let instr = (fb / p.bytes_per_warp_instr()).ceil().max(1.0) as u32;
                    (n_ffma, occ, 0.0, fb, instr)
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
        StepCosts {
            mma_instr_per_step,
            occ_per_instr,
            smem_bytes_per_step,
            frag_bytes,
            frag_instr,
        }
    }
}

impl Warp {
    /// A warp of CTA `cta` on sub-partition `sp` with no role and an empty instruction stream.
    fn new(cta: usize, sp: usize, n: usize) -> Warp {
        Warp {
            cta,
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
        }
    }
}

/// Shape of the warps to build: iterations, MMA steps per iteration, sub-partitions.
#[derive(Clone, Copy)]
struct WarpLayout {
    n: usize,
    kk_n: u32,
    nsp: usize,
    mma_warps: usize,
}

/// Per-iteration body of a multistage (Ampere / SIMT) warp: load ahead, barrier, then the
/// MMA steps with the fragments of step kk + 1 loaded while step kk's MMAs issue.
fn multistage_body(kk_n: u32) -> Vec<Uop> {
    let mut body = vec![Uop::LoadAhead, Uop::BarrierFull, Uop::Frag { kk: 0 }];
    for kk in 0..kk_n {
        if kk + 1 < kk_n {
            body.push(Uop::Frag { kk: kk + 1 });
        }
        body.push(Uop::Mma { kk });
    }
    body
}

/// Per-iteration body of a warp-specialized MMA warp: wait for the full stage, issue the MMA
/// steps, then `release` the stage.
fn consumer_body(kk_n: u32, release: Uop) -> Vec<Uop> {
    let mut body = vec![Uop::WaitFull];
    for kk in 0..kk_n {
        body.push(Uop::Mma { kk });
    }
    body.push(release);
    body
}

/// Multistage CTA (`mma.sync` / SIMT FFMA): every warp loads its share of each stage, meets
/// the others at the stage barrier, issues MMAs and stores its share of the epilogue.
fn multistage_warps(c: usize, base: usize, l: WarpLayout, w: &SmWork, warps: &mut Vec<Warp>) {
    for i in 0..l.mma_warps {
        let mut wp = Warp::new(c, (base + i) % l.nsp, l.n);
        wp.role_issues_mma = true;
        wp.role_produces = true;
        wp.load_share = w.stage_load_bytes / l.mma_warps as f64;
        wp.epi_share = w.epilogue_bytes / l.mma_warps as f64;
        wp.prologue = vec![Uop::PrologueLoads];
        wp.body = multistage_body(l.kk_n);
        wp.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
        warps.push(wp);
    }
}

/// Hopper warp-specialized CTA: one TMA producer warp, consumer warpgroups issuing `wgmma`
/// and releasing the previous stage after `wgmma.wait_group(1)`, each storing its share.
fn wgmma_warps(c: usize, base: usize, l: WarpLayout, w: &SmWork, warps: &mut Vec<Warp>) {
    let mut pr = Warp::new(c, base % l.nsp, l.n);
    pr.role_produces = true;
    pr.load_share = w.stage_load_bytes;
    pr.body = vec![Uop::ProduceStage];
    warps.push(pr);
    for i in 0..l.mma_warps {
        let mut wp = Warp::new(c, i % l.nsp, l.n);
        wp.role_issues_mma = true;
        wp.epi_share = w.epilogue_bytes / l.mma_warps as f64;
        wp.body = consumer_body(l.kk_n, Uop::WaitPrevAndRelease);
        wp.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
        warps.push(wp);
    }
}

/// Blackwell CTA: one TMA warp, one `tcgen05.mma`-issuing warp committing each stage's release,
/// four epilogue warps that wait for all MMAs of the CTA.
fn tcgen05_warps(c: usize, l: WarpLayout, w: &SmWork, warps: &mut Vec<Warp>) {
    let mut pr = Warp::new(c, 0, l.n);
    pr.role_produces = true;
    pr.load_share = w.stage_load_bytes;
    pr.body = vec![Uop::ProduceStage];
    warps.push(pr);
    let mut mw = Warp::new(c, 1 % l.nsp, l.n);
    mw.role_issues_mma = true;
    mw.body = consumer_body(l.kk_n, Uop::CommitRelease);
    warps.push(mw);
    for i in 0..4 {
        let mut ep = Warp::new(c, i % l.nsp, l.n);
        ep.epi_share = w.epilogue_bytes / 4.0;
        ep.tail = vec![Uop::WaitAllMma, Uop::Epilogue];
        ep.phase = 2;
        warps.push(ep);
    }
}

/// Set up the warp roles and instruction streams of every resident CTA, each warp starting in
/// the first non-empty phase of its stream.
fn build_warps(plan: &KernelPlan, w: &SmWork, l: WarpLayout) -> Vec<Warp> {
    let mut warps: Vec<Warp> = Vec::new();
    for c in 0..w.ctas {
        let base = warps.len();
        match plan.mma {
            MmaKind::MmaSync | MmaKind::Mfma | MmaKind::CudaCoreFfma => {
                multistage_warps(c, base, l, w, &mut warps)
            }
            MmaKind::Wgmma => wgmma_warps(c, base, l, w, &mut warps),
            MmaKind::Tcgen05 => tcgen05_warps(c, l, w, &mut warps),
        }
    }
    for wp in warps.iter_mut() {
        if wp.phase == 0 && wp.prologue.is_empty() {
            wp.phase = if wp.body.is_empty() { 2 } else { 1 };
        }
    }
    warps
}

impl CtaState {
    /// Empty pipeline state of one CTA running `n` main-loop iterations.
    fn new(n: usize) -> CtaState {
        CtaState {
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
        }
    }

    /// One consumer releases the stage slot of iteration `k` at `t`; the slot is free once all
    /// `consumers` released it, at the latest release.
    fn release(&mut self, k: usize, t: f64, consumers: u32) {
        self.rel_cnt[k] += 1;
        self.rel_max[k] = self.rel_max[k].max(t);
        if self.rel_cnt[k] == consumers {
            self.released[k] = Some(self.rel_max[k]);
        }
    }

    /// One MMA warp left iteration `k` with its MMAs completing at `d`; after the last
    /// iteration of all `mma_warps` warps the CTA's accumulators are complete.
    fn mma_warp_left_iteration(&mut self, k: usize, d: f64, n: usize, mma_warps: u32) {
        self.iter_done[k] = self.iter_done[k].max(d);
        self.iter_cnt[k] += 1;
        if k == n - 1 && self.iter_cnt[k] == mma_warps {
            self.all_mma_done = Some(self.iter_done[k]);
        }
    }
}

/// State of the event simulation of one SM: the warps, their CTAs and the shared pipes.
struct Sm<'a> {
    plan: &'a KernelPlan,
    p: &'a SmParams,
    w: &'a SmWork,
    /// Simulated iterations, pipeline stages, sub-partitions.
    n: usize,
    s: usize,
    nsp: usize,
    costs: StepCosts,
    mma_warps: usize,
    mma_warps_per_cta: u32,
    producers_per_cta: u32,
    warps: Vec<Warp>,
    ctas: Vec<CtaState>,
    /// Cycle each sub-partition's scheduler / tensor pipe is free again.
    sp_free: Vec<f64>,
    tc_free: Vec<f64>,
    /// Cycle the SM's shared-memory pipe / memory pipe is free again.
    smem_free: f64,
    mem_free: f64,
    issued: u64,
}

impl<'a> Sm<'a> {
    /// Set up the warps, CTA states and idle pipes of one SM running `w` with `plan`.
    fn new(plan: &'a KernelPlan, p: &'a SmParams, w: &'a SmWork) -> Sm<'a> {
        let n = w.iters.max(1);
        let s = plan.stages.max(2) as usize;
        let [_, _, bk] = plan.cta_tile;
        let [_, _, k_mma] = plan.mma_shape;
        let kk_n = (bk / k_mma.max(1)).max(1);
        let nsp = p.sub_partitions.max(1);
        let costs = StepCosts::new(plan, p, w);
        let mma_warps = plan.mma_warps as usize;
        let layout = WarpLayout {
            n,
            kk_n,
            nsp,
            mma_warps,
        };
        let warps = build_warps(plan, w, layout);
        let mma_warps_per_cta = match plan.mma {
            MmaKind::Tcgen05 => 1,
            _ => mma_warps as u32,
        };
        let producers_per_cta = match plan.mma {
            MmaKind::MmaSync | MmaKind::Mfma | MmaKind::CudaCoreFfma => mma_warps as u32,
            _ => 1,
        };
        Sm {
            plan,
            p,
            w,
            n,
            s,
            nsp,
            costs,
            mma_warps,
            mma_warps_per_cta,
            producers_per_cta,
            warps,
            ctas: (0..w.ctas).map(|_| CtaState::new(n)).collect(),
            sp_free: vec![0.0f64; nsp],
            tc_free: vec![0.0f64; nsp],
            smem_free: 0.0f64,
            mem_free: 0.0f64,
            issued: 0,
        }
    }

    /// The scheduler loop: always issue the warp that can issue earliest until every warp is
    /// done (or parked for good).
    fn run(&mut self) {
        while let Some((wi, t)) = self.pick_warp() {
            if !t.is_finite() {
                break; // every warp parked: cannot happen for well-formed streams
            }
            self.issued += 1;
            self.issue(wi, t);
            if self.issued > 50_000_000 {
                break; // defensive: cannot happen for the plans we build
            }
        }
    }

    /// Find the warp that can issue earliest (ties: the least recently issued one) and when.
    fn pick_warp(&self) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64, f64)> = None;
        for (wi, wp) in self.warps.iter().enumerate() {
            if wp.phase == 3 {
                continue;
            }
            let Some(uop) = current(wp) else { continue };
            if let Some(t) = self.issue_time(wp, uop) {
                if best.is_none_or(|(_, bt, bl)| t < bt || (t == bt && wp.last_issue < bl)) {
                    best = Some((wi, t, wp.last_issue));
                }
            }
        }
        best.map(|(wi, t, _)| (wi, t))
    }

    /// Earliest cycle `wp` can issue `uop`: its own readiness, its sub-partition's scheduler
    /// and the dependency of the instruction; None while the dependency is not yet known.
    fn issue_time(&self, wp: &Warp, uop: Uop) -> Option<f64> {
        match uop {
            // Arrive happens at issue; the warp can always arrive.
            Uop::BarrierFull => Some(wp.ready.max(self.sp_free[wp.sp])),
            _ => self
                .dependency(wp, uop)
                .map(|d| wp.ready.max(d).max(self.sp_free[wp.sp])),
        }
    }

    /// Cycle the data / event `uop` of `wp` waits for (None: not yet known).
    fn dependency(&self, wp: &Warp, uop: Uop) -> Option<f64> {
        let cs = &self.ctas[wp.cta];
        let k = wp.iter;
        let (s, n) = (self.s, self.n);
        match uop {
            Uop::BarrierFull => None, // handled specially (collective)
            Uop::WaitFull => cs.full_at[k],
            Uop::ProduceStage => {
                if k >= s {
                    cs.released[k - s]
                } else {
                    Some(0.0)
                }
            }
            Uop::Mma { kk } => {
                if matches!(
                    self.plan.mma,
                    MmaKind::MmaSync | MmaKind::Mfma | MmaKind::CudaCoreFfma
                ) {
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
        }
    }

    /// Issue the current instruction of warp `wi` at cycle `t` and advance the warp.
    fn issue(&mut self, wi: usize, t: f64) {
        let uop = current(&self.warps[wi]).unwrap_or(Uop::Epilogue);
        let (cta, k) = (self.warps[wi].cta, self.warps[wi].iter);
        let n = self.n;
        let consumers = self.mma_warps_per_cta;
        let mut issue_cycles = 1.0;
        let mut blocked_until: Option<f64> = None;
        match uop {
            Uop::PrologueLoads => issue_cycles = self.prologue_loads(wi, t),
            Uop::LoadAhead => issue_cycles = self.load_ahead(wi, t),
            Uop::BarrierFull => blocked_until = Some(self.barrier_full(cta, k, t)),
            Uop::WaitFull => {
                blocked_until = Some(t + self.p.barrier_cycles.min(4.0));
            }
            Uop::ProduceStage => {
                let share = self.warps[wi].load_share;
                let arr = self.load(t, share);
                self.ctas[cta].full_at[k] = Some(arr);
                issue_cycles = 2.0;
            }
            Uop::Frag { kk } => issue_cycles = self.load_fragments(wi, kk, t),
            Uop::Mma { .. } => issue_cycles = self.issue_mma(wi, t),
            Uop::WaitPrevAndRelease => {
                if k >= 1 {
                    self.ctas[cta].release(k - 1, t, consumers);
                }
            }
            Uop::CommitRelease => {
                let d = self.warps[wi].mma_done[k];
                self.ctas[cta].release(k, d, consumers);
            }
            Uop::WaitAllMma => {
                if self.warps[wi].role_issues_mma && self.plan.mma == MmaKind::Wgmma {
                    self.ctas[cta].release(n - 1, t, consumers);
                }
            }
            Uop::Epilogue => {
                let (cycles, done) = self.epilogue(wi, t);
                issue_cycles = cycles;
                blocked_until = Some(done);
            }
        }
        self.retire(wi, t, issue_cycles, blocked_until);
    }

    /// Issue a stage load of `bytes` at time t through the SM's memory pipe; returns arrival.
    fn load(&mut self, t: f64, bytes: f64) -> f64 {
        let start = t.max(self.mem_free);
        self.mem_free = start + bytes / self.p.mem_bytes_per_clk;
        self.mem_free + self.p.mem_latency
    }

    /// Ampere prologue: warp `wi`'s share of the loads of stages 0..S-1; returns issue cycles.
    fn prologue_loads(&mut self, wi: usize, t: f64) -> f64 {
        let (cta, share) = (self.warps[wi].cta, self.warps[wi].load_share);
        for st in 0..(self.s - 1).min(self.n) {
            let arr = self.load(t, share);
            self.ctas[cta].stage_part_arrives(st, arr, self.producers_per_cta);
        }
        ((self.s - 1) as f64 * (share / self.p.bytes_per_warp_instr()).ceil()).max(1.0)
    }

    /// Warp `wi`'s share of the loads of stage k + S − 1 (if any); returns issue cycles.
    fn load_ahead(&mut self, wi: usize, t: f64) -> f64 {
        let (cta, k) = (self.warps[wi].cta, self.warps[wi].iter);
        let st = k + self.s - 1;
        if st < self.n {
            let share = self.warps[wi].load_share;
            let arr = self.load(t, share);
            self.ctas[cta].stage_part_arrives(st, arr, self.producers_per_cta);
            (share / self.p.bytes_per_warp_instr()).ceil().max(1.0)
        } else {
            1.0
        }
    }

    /// `__syncthreads` on stage k: arrive at `t`; returns the cycle the warp is blocked until
    /// (infinite while parked; the last arrival releases every parked warp of the CTA).
    fn barrier_full(&mut self, cta: usize, k: usize, t: f64) -> f64 {
        let cs = &mut self.ctas[cta];
        cs.bar_cnt[k] += 1;
        cs.bar_max[k] = cs.bar_max[k].max(t);
        if cs.bar_cnt[k] == self.mma_warps as u32 {
            // Last arrival: release everybody at max(arrivals, data) + barrier cost.
            let data = cs.full_at[k].unwrap_or(cs.full_max[k]);
            let rel = cs.bar_max[k].max(data) + self.p.barrier_cycles;
            for w2 in self.warps.iter_mut() {
                if w2.cta == cta && w2.ready.is_infinite() {
                    // Parked at this barrier: released by the last arrival.
                    w2.ready = rel;
                }
            }
            rel
        } else {
            // Park: the warp waits until the last arrival releases it.
            f64::INFINITY
        }
    }

    /// Fragment loads of MMA step `kk` through the shared-memory pipe; returns issue cycles.
    fn load_fragments(&mut self, wi: usize, kk: u32, t: f64) -> f64 {
        let start = t.max(self.smem_free);
        self.smem_free = start + self.costs.frag_bytes / self.p.smem_bytes_per_clk;
        self.warps[wi].frag_ready[(kk % 2) as usize] = self.smem_free + self.p.smem_latency;
        self.costs.frag_instr as f64
    }

    /// Issue the MMAs of one step on the tensor pipe(s); returns issue cycles.
    fn issue_mma(&mut self, wi: usize, t: f64) -> f64 {
        let (sp, k) = (self.warps[wi].sp, self.warps[wi].iter);
        let p = self.p;
        let c = &self.costs;
        let occ = c.mma_instr_per_step as f64 * c.occ_per_instr;
        let done;
        // Operands read from shared memory during the MMA: each sub-partition's tensor
        // core gets its share of the SM's shared-memory bandwidth (tcgen05: all of it),
        // so an MMA lasts at least as long as its operand reads.
        if self.plan.mma == MmaKind::Tcgen05 {
            let start = self.tc_free.iter().fold(t, |a, &b| a.max(b));
            let smem_cycles = c.smem_bytes_per_step / p.smem_bytes_per_clk;
            let end = start + occ.max(smem_cycles);
            for f in self.tc_free.iter_mut() {
                *f = end;
            }
            done = end + p.mma_latency;
        } else {
            let start = t.max(self.tc_free[sp]);
            let smem_cycles = c.smem_bytes_per_step / (p.smem_bytes_per_clk / self.nsp as f64);
            let end = start + occ.max(smem_cycles);
            self.tc_free[sp] = end;
            done = end + p.mma_latency;
        }
        let wp = &mut self.warps[wi];
        wp.mma_done[k] = wp.mma_done[k].max(done);
        c.mma_instr_per_step as f64
    }

    /// Store warp `wi`'s share of the accumulators; returns (issue cycles, store acknowledged).
    fn epilogue(&mut self, wi: usize, t: f64) -> (f64, f64) {
        let b = self.warps[wi].epi_share;
        let done = self.load(t, b) - self.p.mem_latency + self.p.store_latency;
        let cs = &mut self.ctas[self.warps[wi].cta];
        cs.end = cs.end.max(done);
        ((b / self.p.bytes_per_warp_instr()).ceil().max(1.0), done)
    }

    /// After an issue: occupy the sub-partition's scheduler, set when the warp is ready again,
    /// advance its program counter and record iteration completion when an MMA warp leaves an
    /// iteration.
    fn retire(&mut self, wi: usize, t: f64, issue_cycles: f64, blocked_until: Option<f64>) {
        let wp = &mut self.warps[wi];
        self.sp_free[wp.sp] = t + issue_cycles;
        wp.last_issue = t;
        wp.ready = match blocked_until {
            Some(b) => b.max(t + issue_cycles),
            None => t + issue_cycles,
        };
        let leaving_iter = advance(wp, self.n);
        if let Some(done_k) = leaving_iter {
            if wp.role_issues_mma {
                let d = wp.mma_done[done_k];
                self.ctas[wp.cta].mma_warp_left_iteration(
                    done_k,
                    d,
                    self.n,
                    self.mma_warps_per_cta,
                );
            }
        }
    }

    /// Collect the measurements: per-iteration completion, end, and the steady-state period
    /// (never below the tensor-pipe and memory-pipe bounds).
    fn into_result(self) -> SmResult {
        let (p, w, n, nsp) = (self.p, self.w, self.n, self.nsp);
        let [bm, bn, bk] = self.plan.cta_tile;
        let mut iter_done = vec![0.0f64; n];
        let mut end: f64 = 0.0;
        for cs in &self.ctas {
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
        // The last S − 1 iterations load nothing ahead (no stages left to fill), so they run
        // faster than the steady state; the window ends before them.
        let drain = (self.plan.stages.max(2) as usize - 1).min(n);
        let (a, e) = (n / 2, n - drain);
        let period_cycles = if n >= 4 && e > a {
            // Steady state over the second half of the simulated iterations, drain excluded:
            // the SM's combined progress. Each resident CTA c advances at 1 / P_c iterations
            // per cycle (P_c its own period in the window); together they complete Σ_c 1/P_c
            // iterations per cycle, so all of them advance one BK step every `ctas / Σ_c 1/P_c`
            // cycles, the harmonic mean of the P_c. Over the rest of K a CTA that falls behind
            // in the short window takes the issue slots the others leave, so the SM's
            // throughput (iterations per cycle, as an IPC), not the slowest CTA's window, sets
            // the period.
            let rate_sum: f64 = self
                .ctas
                .iter()
                .map(|cs| {
                    let p_c = (cs.iter_done[e - 1] - cs.iter_done[a - 1]) / (e - a) as f64;
                    1.0 / p_c.max(1e-9)
                })
                .sum();
            (self.ctas.len() as f64 / rate_sum).max(floor)
        } else {
            // Too few iterations to see a steady state: the bound.
            floor
        };
        SmResult {
            iter_done,
            end,
            period_cycles: period_cycles.max(1e-9),
            tc_busy_per_iter,
            issued: self.issued,
        }
    }
}

/// The instruction at a warp's program counter (None once done).
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
