use archsim::*;
fn main() {
    for name in ["tpu_v4","tpu_v5e","tpu_v5p","tpu_v5","tpu_v6e","tpu7x"] {
        let cfg = config::load(name).unwrap();
        let m = cfg.build(None).unwrap();
        for (mm,nn,kk) in [(128u64,128u64,128u64),(1024,1024,1024),(8192,8192,8192),(1,12288,12288),(2048,36864,12288)] {
            let p = m.simulate(&Op::Gemm(Gemm::new("g",mm,nn,kk))).unwrap();
            println!("{name} {mm}x{nn}x{kk}: t={:.3}us util={:.3} main={} tb={:?} plan={}", p.time_s*1e6, p.utilization, p.main_stall, p.time_breakdown_s, p.plan);
        }
    }
}
