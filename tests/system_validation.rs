//! The system layer against its measured rows (`archsim validate`'s training and serving
//! tables; nothing is fitted to these rows): the errors the model achieves, rounded up, and
//! the direction of the error, so a change that makes a set better for the wrong reason (or
//! worse) fails here. Bounds are what the model achieves on this commit, rounded up.
mod common;

use archsim::jobs::validate::{pod, serving, SummaryRow};
use common::data_dir as data;

fn rows() -> Vec<SummaryRow> {
    pod::run(data())
        .unwrap()
        .into_iter()
        .chain(serving::run(data()).unwrap())
        .flat_map(|t| t.summary)
        .collect()
}

#[test]
fn training_and_serving_errors_stay_within_what_the_model_achieves() {
    let rows = rows();
    for r in &rows {
        println!(
            "{:45} rows {:3}  MAPE {:6.2}%  bias {:+7.2}%",
            r.group, r.rows, r.mean_err_pct, r.mean_signed_err_pct
        );
    }
    let get = |g: &str| {
        rows.iter()
            .find(|r| r.group == g)
            .unwrap_or_else(|| panic!("no group {g}"))
    };
    // (group, rows, MAPE bound %). Megatron was 6.8 % (iteration) / 6.7 % (MFU) until the
    // power-limited GPU plan search ranked plans by the clock their power allows: A100 GEMMs
    // got closer to the measured A100 GEMM rows (evaluation 10.9 -> 9.8 %, still predicted
    // slower than measured), which moves this optimistic prediction further (7.7 %): what the
    // model misses here is in the training step, not in the GEMMs. MaxText v4 MFU was 8.6 %
    // until the native TPU rule-4 fix (output writes overlap the next step) moved the TPU fit's
    // clock fraction 0.845 -> 0.850: the v4 prediction, already optimistic (+8.6 %), became
    // 0.6 % faster (9.2 %, bias +9.2 %); nothing in the TPU fit sees these rows.
    let checks = [
        ("Megatron A100 iteration_time", 9, 8.0),
        ("Megatron A100 MFU", 5, 8.0),
        ("MaxText v5e MFU", 24, 9.5),
        ("MaxText v4 MFU", 4, 9.5),
        ("all rows", 30, 12.5),
    ];
    let mut fails = Vec::new();
    for (g, n, bound) in checks {
        let r = get(g);
        if r.rows != n || r.mean_err_pct > bound {
            fails.push(format!(
                "{g}: {} rows, {:.2}% > {bound}%",
                r.rows, r.mean_err_pct
            ));
        }
    }
    // Megatron on A100: the model is optimistic (shorter iterations, higher MFU) on every
    // set; a sign flip means the model changed and this test's bounds need a look.
    let (it, mfu) = (
        get("Megatron A100 iteration_time"),
        get("Megatron A100 MFU"),
    );
    if it.mean_signed_err_pct > 0.0 || mfu.mean_signed_err_pct < 0.0 {
        fails.push(format!(
            "Megatron bias changed sign: iteration {:+.2}%, MFU {:+.2}%",
            it.mean_signed_err_pct, mfu.mean_signed_err_pct
        ));
    }
    assert!(fails.is_empty(), "{fails:?}");
}
