//! Costing one kernel plan from the SM simulation: the steady and tail waves (or stream-K
//! passes) simulated on one SM and extrapolated to the whole grid, tile quantization, and the
//! traffic helpers of [`super::GpuMachine::traffic`].

use super::*;

/// Best near-square r×c footprint (`r·BM + c·BN`) of a rasterized block of output tiles
/// covering `conc_tiles` tiles.
pub(super) fn rasterized_footprint(p: &KernelPlan, conc_tiles: f64, bm: f64, bn: f64) -> f64 {
    let mut best = f64::INFINITY;
    let tm = p.tiles_m as f64;
    let tn = p.tiles_n as f64;
    let mut r = 1.0;
    // r beyond the concurrent tile count cannot shrink the footprint further.
    while r <= tm.min(conc_tiles.ceil()) {
        let c = (conc_tiles / r).ceil().min(tn);
        if r * c >= conc_tiles.min(tm * tn) {
            best = best.min(r * bm + c * bn);
        }
        r += 1.0;
    }
    best
}

/// Shared-memory bytes read (fragments / MMA operands) and register-file bytes (fragments and
/// accumulator read/write) of a plan's whole launch. `elem_bytes`: operand bytes as staged in
/// shared memory (storage dtype); `frag_bytes`: bytes of a register fragment element (the MMA's
/// precision: an fp4 fallback upcasts on the way to the registers).
pub(super) fn smem_read_and_reg_bytes(
    p: &KernelPlan,
    elem_bytes: f64,
    frag_bytes: f64,
) -> (f64, f64) {
    let [bm, bn, bk] = p.cta_tile;
    let (bm, bn, bk) = (bm as f64, bn as f64, bk as f64);
    let k_per_split = p.k_iters as f64 * bk;
    let ctas = p.ctas as f64;
    let padded_macs = ctas * bm * bn * k_per_split;
    let [mm, mn, mk] = p.mma_shape;
    match p.mma {
        MmaKind::MmaSync | MmaKind::Mfma | MmaKind::CudaCoreFfma => {
            let [wm, wn] = p.warp_tile;
            let per_iter = p.mma_warps as f64 * (wm + wn) as f64 * bk * elem_bytes;
            let instrs = padded_macs / (mm as f64 * mn as f64 * mk as f64).max(1.0);
            let per_instr = (mm * mk + mn * mk) as f64 * frag_bytes + 2.0 * (mm * mn) as f64 * 4.0;
            (ctas * p.k_iters as f64 * per_iter, instrs * per_instr)
        }
        MmaKind::Wgmma => {
            let wgs = (p.mma_warps / 4).max(1) as f64;
            let per_iter = wgs * (bm / wgs + bn) * bk * elem_bytes;
            let acc = padded_macs / mk as f64 * 2.0 * 4.0;
            (ctas * p.k_iters as f64 * per_iter, acc)
        }
        MmaKind::Tcgen05 => {
            let per_iter = (bm + bn) * bk * elem_bytes;
            let acc = padded_macs / mk as f64 * 2.0 * 4.0;
            (ctas * p.k_iters as f64 * per_iter, acc)
        }
    }
}

/// Epilogue cycles a simulation exposes after its last main-loop iteration.
pub(super) fn exposed_epilogue(r: &SmResult) -> f64 {
    (r.end - r.iter_done.last().copied().unwrap_or(0.0)).max(0.0)
}

/// Cycle breakdown of a plan being costed (at the sustained clock), summed over its waves.
#[derive(Debug, Default)]
pub(super) struct CycleSums {
    pub(super) cycles: f64,
    pub(super) compute: f64,
    pub(super) memory: f64,
    pub(super) fill: f64,
    pub(super) tail: f64,
}

impl CycleSums {
    /// Tile quantization: padded MACs inside used tiles are tail, not compute.
    pub(super) fn tile_quantization(&mut self, g: &Gemm, p: &KernelPlan) {
        let useful = g.macs() as f64;
        let padded = p.ctas as f64
            * p.cta_tile[0] as f64
            * p.cta_tile[1] as f64
            * p.k_iters as f64
            * p.cta_tile[2] as f64;
        let q = (useful / padded.max(1.0)).clamp(0.0, 1.0);
        self.tail += self.compute * (1.0 - q);
        self.compute *= q;
    }

    /// The roofline's memory bound (Williams, Waterman, Patterson, CACM 2009): a kernel cannot
    /// move its HBM bytes faster than the achievable HBM bandwidth. The SM simulation paces
    /// epilogue stores at the L2's share (stores retire into L2); an output much larger than
    /// the L2 drains to HBM, so the launch takes at least `hbm_cycles` (HBM read + write bytes
    /// / the peak HBM bandwidth, in cycles: the physical bound, not the calibrated achievable
    /// fraction); what is missing is exposed memory time.
    pub(super) fn hbm_floor(&mut self, hbm_cycles: f64) {
        if self.cycles < hbm_cycles {
            self.memory += hbm_cycles - self.cycles;
            self.cycles = hbm_cycles;
        }
    }

    /// The costed plan with this breakdown and the simulation kept for the report.
    pub(super) fn into_costed(
        self,
        p: &KernelPlan,
        traffic: Traffic,
        sim: SmResult,
        sim_iters: usize,
    ) -> CostedPlan {
        CostedPlan {
            plan: p.clone(),
            traffic,
            cycles: self.cycles,
            compute_cycles: self.compute,
            memory_cycles: self.memory,
            fill_drain_cycles: self.fill,
            tail_cycles: self.tail,
            sim,
            sim_iters,
        }
    }
}

/// The SM simulations of one plan: what one CTA loads per stage and stores in its epilogue, how
/// many main-loop iterations to simulate, and the extrapolation of a simulation to the whole K
/// loop and to every wave.
pub(super) struct PlanSim<'a> {
    pub(super) gpu: &'a GpuMachine,
    pub(super) g: &'a Gemm,
    pub(super) p: &'a KernelPlan,
    pub(super) traffic: &'a Traffic,
    pub(super) clk: f64,
    pub(super) sms: u64,
    /// CTA slots of the machine (SMs × CTAs per SM).
    pub(super) slots: u64,
    pub(super) persistent: bool,
    /// Main-loop iterations simulated.
    pub(super) n_sim: usize,
    /// Bytes one CTA loads per stage, and stores in its epilogue.
    pub(super) stage: f64,
    pub(super) epi_bytes: f64,
}

impl<'a> PlanSim<'a> {
    /// Per-CTA stage and epilogue bytes and the simulated iterations (enough to reach steady
    /// state) of plan `p`.
    pub(super) fn new(
        gpu: &'a GpuMachine,
        g: &'a Gemm,
        p: &'a KernelPlan,
        traffic: &'a Traffic,
        clk: f64,
    ) -> Self {
        let sms = gpu.cfg.sm.count as u64;
        let ctas_per_sm = p.ctas_per_sm as u64;
        PlanSim {
            gpu,
            g,
            p,
            traffic,
            clk,
            sms,
            slots: sms * ctas_per_sm,
            persistent: matches!(p.mma, MmaKind::Wgmma | MmaKind::Tcgen05),
            n_sim: (p.k_iters as usize).min((2 * p.stages as usize + 6).max(12)),
            stage: traffic.l2_to_sm_bytes / (p.ctas as f64 * p.k_iters as f64).max(1.0),
            epi_bytes: (p.cta_tile[0] * p.cta_tile[1]) as f64 * plan::output_bytes(g.dtype) as f64,
        }
    }

    /// Simulate `ctas_on_sm` resident CTAs for `iters` iterations on one of `active_sms` busy
    /// SMs.
    pub(super) fn run_n(&self, ctas_on_sm: u64, active_sms: u64, iters: usize) -> SmResult {
        let params = self
            .gpu
            .sm_params(self.g, self.traffic, active_sms as f64, self.clk);
        sim::simulate_sm(
            self.p,
            &params,
            &SmWork {
                ctas: ctas_on_sm.max(1) as usize,
                iters,
                stage_load_bytes: self.stage,
                epilogue_bytes: self.epi_bytes,
                operand_bytes: plan::operand_bytes(self.g.dtype),
            },
        )
    }

    /// [`Self::run_n`] for the usual number of simulated iterations.
    pub(super) fn run(&self, ctas_on_sm: u64, active_sms: u64) -> SmResult {
        self.run_n(ctas_on_sm, active_sms, self.n_sim)
    }

    /// Cycles of one wave from a simulation: measured part + extrapolated main loop, as
    /// (total, main-loop, compute-busy part of the main loop).
    pub(super) fn wave_parts(&self, r: &SmResult) -> (f64, f64, f64) {
        let k_iters = self.p.k_iters as f64;
        let extra = (k_iters - self.n_sim as f64).max(0.0) * r.period_cycles;
        let total = r.end + extra;
        let main = (k_iters * r.period_cycles).min(total);
        let busy = (k_iters * r.tc_busy_per_iter).min(main);
        (total, main, busy)
    }

    /// Stream-K: every SM runs ceil(tiles × k_iters / SMs) main-loop iterations back to back,
    /// then the fix-up. Returns the breakdown, the simulation and its iteration count.
    pub(super) fn stream_k(&self) -> (CycleSums, SmResult, usize) {
        let (p, sms) = (self.p, self.sms);
        let iters = p.ctas.saturating_mul(p.k_iters).div_ceil(sms) as f64;
        let n_sk = (iters as usize).clamp(1, self.n_sim);
        let r = self.run_n(1, sms, n_sk);
        let extra = (iters - n_sk as f64).max(0.0) * r.period_cycles;
        let main = iters * r.period_cycles;
        let busy = (iters * r.tc_busy_per_iter).min(main);
        let epi = exposed_epilogue(&r);
        let tiles_per_sm = (p.ctas as f64 / sms as f64).ceil() + 1.0;
        let later_epi = if p.mma == MmaKind::Wgmma {
            epi * (tiles_per_sm - 1.0)
        } else {
            0.0
        };
        let fix = self.gpu.stream_k_fixup_cycles(p, self.clk);
        let total = (r.end + extra).max(main) + later_epi + fix;
        let useful = self.g.macs() as f64;
        let padded = p.ctas as f64
            * p.cta_tile[0] as f64
            * p.cta_tile[1] as f64
            * (p.k_iters * p.cta_tile[2] as u64) as f64;
        let q = (useful / padded.max(1.0)).clamp(0.0, 1.0);
        let sums = CycleSums {
            cycles: total,
            compute: busy * q,
            memory: main - busy,
            fill: total - main,
            tail: busy * (1.0 - q),
        };
        (sums, r, n_sk)
    }

    /// The `full_waves` full waves: the first simulated, later ones extrapolated; adds them to
    /// `sums` and returns the simulation.
    pub(super) fn full_waves(&self, full_waves: u64, sums: &mut CycleSums) -> SmResult {
        let p = self.p;
        let r = self.run(p.ctas_per_sm as u64, self.sms);
        let (total, main, busy) = self.wave_parts(&r);
        let epi_exposed = exposed_epilogue(&r);
        // Persistent kernels: later tiles reuse the running pipeline; the producer prefetches
        // during the epilogue (Hopper) and TMEM double buffering hides the epilogue
        // (Blackwell).
        let later = if self.persistent {
            main + if p.mma == MmaKind::Wgmma {
                epi_exposed
            } else {
                0.0
            }
        } else {
            total
        };
        let w = full_waves as f64;
        sums.cycles += total + (w - 1.0) * later;
        sums.compute += busy * w;
        sums.memory += (main - busy) * w;
        sums.fill += (total - main) + (w - 1.0) * (later - main);
        r
    }

    /// The partial last wave of `rem` CTAs; its idle share is tail. Adds it to `sums` and
    /// returns the simulation.
    pub(super) fn tail_wave(&self, rem: u64, full_waves: u64, sums: &mut CycleSums) -> SmResult {
        let sms = self.sms;
        // Block scheduler spreads the remaining CTAs over the SMs.
        let per_sm = rem.div_ceil(sms);
        let active = rem.min(sms);
        let r = self.run(per_sm, active);
        let (total, main, busy) = self.wave_parts(&r);
        let used = rem as f64 / (per_sm * sms) as f64;
        let (total, main) = if self.persistent && full_waves > 0 {
            (main + exposed_epilogue(&r), main)
        } else {
            (total, main)
        };
        sums.cycles += total;
        // The idle share of the last wave is tail (wave quantization).
        sums.compute += busy * used;
        sums.memory += (main - busy) * used;
        sums.fill += (total - main) * used;
        sums.tail += total * (1.0 - used);
        r
    }
}
