//! Behaviour of the SIMT GPU model on known cases.
use archsim::machine::Machine;
use archsim::validate::gpu::machine;
use archsim::workload::{DType, Gemm, Op};

fn run(cfg: &str, m: u64, n: u64, k: u64, dtype: DType) -> archsim::OpProfile {
    let mach = machine(cfg).unwrap();
    mach.simulate(&Op::Gemm(Gemm::new("g", m, n, k).with_dtype(dtype))).unwrap()
}

#[test]
#[ignore]
fn print_plans() {
    let spec = std::env::var("GEMM").unwrap_or("h100,8192,8192,8192,fp32".into());
    let v: Vec<&str> = spec.split(',').collect();
    let p = run(v[0], v[1].parse().unwrap(), v[2].parse().unwrap(), v[3].parse().unwrap(), v[4].parse().unwrap());
    println!("{}", serde_json::to_string_pretty(&p).unwrap());
}
