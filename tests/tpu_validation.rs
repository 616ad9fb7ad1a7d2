//! The native TPU model against measured TPU GEMM times (tests/data/tpu_measured.csv).
use archsim::validate::tpu;
use std::path::Path;

#[test]
fn tpu_validation_errors() {
    let v = tpu::validate(Path::new("tests/data")).unwrap().expect("tpu_measured.csv present");
    for t in &v.tables {
        println!("{}", t.render());
    }
    println!("{:?}", v.params);
}
