//! The PE-level machine: seeded operands, both grids per batch element, products checked against
//! ndarray, and the op's profile.

use super::*;

/// Deterministic splitmix64 generator for the seeded operand values.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);
impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    /// Integer in [-lim, lim].
    pub fn next_int(&mut self, lim: i64) -> f32 {
        ((self.next_u64() % (2 * lim as u64 + 1)) as i64 - lim) as f32
    }
}

fn seed_of(g: &Gemm) -> u64 {
    // FNV-1a over the name and shape: the same op always gets the same operands.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let shape = format!("{}|{}|{}|{}|{}", g.name, g.m, g.n, g.k, g.dtype);
    for b in shape.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Largest |difference| allowed between the PE product and the ndarray product of the same
/// operand values: f32 accumulation-order rounding, relative to Σ|a·b| of the element.
fn tolerance(abs_sum: f32) -> f32 {
    abs_sum * 1e-5 + 1e-6
}

/// Compare a PE product with ndarray's matmul of the same (f32-converted) operands; returns the
/// largest absolute difference, or an internal error if it exceeds f32 accumulation rounding.
pub fn check_against_ndarray(
    a: &Array2<f32>,
    b: &Array2<f32>,
    product: &Array2<f32>,
) -> Result<f32> {
    let reference = a.dot(b);
    let abs = a.mapv(f32::abs).dot(&b.mapv(f32::abs));
    let mut max_err = 0f32;
    for ((x, y), s) in product.iter().zip(reference.iter()).zip(abs.iter()) {
        let d = (x - y).abs();
        if d > tolerance(*s) {
            return Err(Error::internal(format!(
                "PE-level product differs from the ndarray matmul: {x} vs {y} (bound {})",
                tolerance(*s)
            )));
        }
        max_err = max_err.max(d);
    }
    Ok(max_err)
}

/// Totals of one GEMM's batch on the PE grid.
#[derive(Debug, Default)]
struct PeTotals {
    /// SCALE-Sim-timed cycles.
    cycles: u64,
    folds: u64,
    /// Largest |PE − ndarray| over all products.
    max_err: f32,
    /// Cycles of the overlapped (TPU-style) run; 0 for OS.
    overlapped: u64,
}

/// The 15 distinct values of FP4 E2M1 (OCP MX spec v1.0, FP4 E2M1 encoding: ±{0, 0.5, 1, 1.5,
/// 2, 3, 4, 6}).
const E2M1_VALUES: [f32; 15] = [
    -6.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
];

/// Seeded operands of one batch element, A (M×K) then B (K×N), drawn from `rng` row by row:
/// integers in [-8, 8] for int8/fp8, E2M1 values for fp4/mxfp4 (block scales of 1), uniform in
/// [-1, 1) otherwise.
fn seeded_operands(g: &Gemm, rng: &mut SplitMix) -> (Array2<f32>, Array2<f32>) {
    let (m, n, k) = (g.m as usize, g.n as usize, g.k as usize);
    let mut gen = |rows: usize, cols: usize| -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| match g.dtype {
            DType::Int8 | DType::Fp8 => rng.next_int(8),
            DType::Fp4 | DType::Mxfp4 => {
                E2M1_VALUES[(rng.next_u64() % E2M1_VALUES.len() as u64) as usize]
            }
            _ => rng.next_f32(),
        })
    };
    let a = gen(m, k);
    let b = gen(k, n);
    (a, b)
}

/// One batch element: the SCALE-Sim-timed grid in the GEMM's dtype (bf16 for bf16/fp16), and
/// for WS/IS the overlapped grid on the same f32-converted operands, each product checked
/// against ndarray; adds the cycles, folds and error into `tot`.
fn run_batch_element(
    g: &Gemm,
    a: Array2<f32>,
    b: Array2<f32>,
    (r, c, df): (u64, u64, Dataflow),
    tot: &mut PeTotals,
) -> Result<()> {
    let (res, a32, b32) = match g.dtype {
        DType::Bf16 | DType::Fp16 => {
            let ah = a.mapv(bf16::from_f32);
            let bh = b.mapv(bf16::from_f32);
            let res = simulate(&ah, &bh, r, c, df)?;
            (res, ah.mapv(|x| x.to_f32()), bh.mapv(|x| x.to_f32()))
        }
        _ => (simulate(&a, &b, r, c, df)?, a, b),
    };
    let err = check_against_ndarray(&a32, &b32, &res.product)?;
    tot.max_err = tot.max_err.max(err);
    tot.cycles += res.cycles;
    tot.folds += res.folds;
    if df != Dataflow::Os {
        let ov = simulate_overlapped(&a32, &b32, r, c, df)?;
        let err = check_against_ndarray(&a32, &b32, &ov.product)?;
        tot.max_err = tot.max_err.max(err);
        tot.overlapped += ov.cycles;
    }
    Ok(())
}

/// The PE-level reference as a [`Machine`] (`archsim run --mode pe`): GEMMs run cycle by cycle on
/// one R×C array of the config with seeded random operands and are checked against an ndarray
/// matmul; vector ops are costed by the native VPU rule.
#[derive(Debug, Clone)]
pub struct PeMachine {
    native: NativeTpuMachine,
    info: MachineInfo,
}

impl PeMachine {
    /// Errors when the config's array is larger than [`PE_MAX_SIDE`].
    pub fn new(cfg: SystolicConfig, name: &str) -> Result<Self> {
        let (r, c) = (cfg.array.rows, cfg.array.cols);
        if r > PE_MAX_SIDE || c > PE_MAX_SIDE {
            return Err(Error::setting("mode",
                format!(
                    "PE-level mode accepts arrays up to {PE_MAX_SIDE}×{PE_MAX_SIDE}; `{name}` has {r}×{c} (array.rows × array.cols)"
                ),
            ));
        }
        // One R×C array at 1 MAC/PE/cycle: the PE mode simulates a single MXU.
        let mut info = crate::systolic::native::info(&cfg, name, "pe");
        let one_array = 2.0 * (r * c) as f64 * cfg.clock_hz();
        info.peak_flops = MachineInfo::peaks(|_| one_array);
        Ok(PeMachine {
            native: NativeTpuMachine::new(cfg, name),
            info,
        })
    }

    fn cfg(&self) -> &SystolicConfig {
        self.native.config()
    }

    fn run_gemm(&self, g: &Gemm) -> Result<OpProfile> {
        let cfg = self.cfg();
        let (r, c, df) = (cfg.array.rows, cfg.array.cols, cfg.array.dataflow);
        check_size(g.m, g.n, g.k, g.batch, r, c, df)?;
        let mut rng = SplitMix(seed_of(g));
        let mut tot = PeTotals::default();
        for _ in 0..g.batch {
            let (a, b) = seeded_operands(g, &mut rng);
            run_batch_element(g, a, b, (r, c, df), &mut tot)?;
        }
        Ok(self.gemm_profile(g, &tot))
    }

    /// The op profile of a GEMM from its batch totals: SCALE-Sim-timed cycles split into useful
    /// compute, padding tail and fill/drain, register-traffic counters, and the plan JSON.
    fn gemm_profile(&self, g: &Gemm, tot: &PeTotals) -> OpProfile {
        let cfg = self.cfg();
        let (r, c, df) = (cfg.array.rows, cfg.array.cols, cfg.array.dataflow);
        let (cycles, nfolds) = (tot.cycles, tot.folds);
        let clock = cfg.clock_hz();
        let mut p = profile_for(&Op::Gemm(g.clone()));
        let (_, _, t) = df.spatio_temporal(g.m, g.n, g.k);
        let padded = nfolds as f64 * (r * c) as f64 * t as f64;
        let useful = g.macs() as f64;
        let tb = &mut p.time_breakdown_s;
        tb.compute_s = useful / (r * c) as f64 / clock;
        tb.tail_s = (padded - useful) / (r * c) as f64 / clock;
        tb.fill_drain_s = (cycles as f64 - padded / (r * c) as f64) / clock;
        p.cycles = cycles;
        p.compute_cycles = cycles;
        p.stall_cycles = 0;
        p.time_s = cycles as f64 / clock;
        p.mapping_efficiency = if padded > 0.0 { useful / padded } else { 0.0 };
        let e = g.dtype.bytes_per_element();
        p.counters = Counters {
            macs: g.macs(),
            reg_bytes: useful * (e + 4.0),
            ..Default::default()
        };
        p.plan = json!({
            "model": "pe",
            "dataflow": df.as_str(),
            "array_rows": r,
            "array_cols": c,
            "folds": nfolds,
            "cycles_per_fold": scalesim_cycles_per_fold(g.m, g.n, g.k, r, c, df),
            "verified_against_ndarray": true,
            "tpu_overlapped_cycles": if df == Dataflow::Os { serde_json::Value::Null } else { json!(tot.overlapped) },
            "max_abs_err": tot.max_err,
            "note": "one array; cycles use SCALE-Sim timing (folds not overlapped); tpu_overlapped_cycles is the same GEMM with double-buffered weights (f32 run); memory not modelled",
        });
        // Utilization against one array (the PE mode simulates one MXU).
        finish_profile(&mut p, 2.0 * (r * c) as f64 * clock);
        p
    }
}

impl Machine for PeMachine {
    fn info(&self) -> &MachineInfo {
        &self.info
    }
    fn energy_table(&self) -> &EnergyTable {
        &self.cfg().energy
    }
    fn simulate(&self, op: &Op) -> Result<OpProfile> {
        match op {
            Op::Gemm(g) => self.run_gemm(g),
            Op::Vector(v) => Ok(self.native.simulate_vector(v)),
            // The PE grid steps GEMMs only; fused attention uses the native model.
            Op::Attention(a) => self.native.simulate_attention(op, a),
        }
    }
}
