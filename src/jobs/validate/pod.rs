//! Pod/cluster reference sets (`tests/data/pod/`): measured collectives and measured training
//! steps, predicted by the system layer (`archsim collective` / `archsim train` models).
//!
//! Collectives: the 4× A100 NVLink all-reduce curve (LLMCompass), the TPU v5e all-gathers and the
//! 8× H100 NVSwitch points of the scaling book and nccl-tests issues. Which rows fitted which
//! system-config values is stated in `configs/systems/*.toml` (`CALIBRATED`) and
//! docs/SYSTEMS.md; every other row is an evaluation row.
//!
//! Training: Megatron-LM on Selene (Korthikanti et al. 2022, GPT 22B to 1T on 8 to 2,240 A100s)
//! and MaxText on TPU v5e / v4 (multislice curves). No training row fitted anything: the step
//! time comes from the chip models and the collective configs. Every MaxText remat policy runs
//! as full recomputation; rows without a global batch are skipped. The validation cards of the
//! Megatron GPTs train with dropout (the masks Korthikanti et al. Table 2 counts).

use super::{SummaryRow, ValidationTable};
use crate::error::{Error, Result};
use crate::system::collective::place;
use crate::system::config;
use crate::system::train::{train, PlanConstraints, TrainSpec};
use crate::system::Collective;
use crate::workload::model;
use crate::workload::DType;
use std::collections::BTreeMap;
use std::path::Path;

fn read(path: &Path) -> Result<Vec<csv::StringRecord>> {
    let text = crate::fsio::read_input_file(path)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| {
            x.map_err(|e| Error::InputFile {
                path: path.to_path_buf(),
                msg: format!("CSV: {e}"),
            })
        })
        .collect()
}

/// The shipped system, chips and slice a collective row's system text describes.
fn collective_system(text: &str) -> Option<(&'static str, Option<Vec<u64>>)> {
    if text.starts_with("4x A100") {
        Some(("dgx_a100_ib", None))
    } else if text.starts_with("TPU v5e 8x4 mesh (axis of 4") {
        Some(("tpu_v5e_pod", Some(vec![4, 1])))
    } else if text.starts_with("8x H100") {
        Some(("dgx_h100_ib", None))
    } else {
        None
    }
}

fn unit_scale(unit: &str) -> Option<f64> {
    Some(match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "GB/s" => 1.0,
        "%" => 0.01,
        "TFLOP/s" => 1.0,
        _ => return None,
    })
}

fn collectives(data: &Path) -> Result<Option<ValidationTable>> {
    let path = data.join("pod/calibration_collectives.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut groups: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in read(&path)? {
        let (sys_text, ranks, coll, bytes, metric, value, unit) = (
            &row[0], &row[1], &row[2], &row[4], &row[5], &row[6], &row[7],
        );
        let Some((sys_name, slice)) = collective_system(sys_text) else {
            continue;
        };
        let (Ok(ranks), Ok(bytes), Ok(value)) = (
            ranks.parse::<u64>(),
            bytes.parse::<f64>(),
            value.parse::<f64>(),
        ) else {
            continue; // rows without a size (peak figures) are not points
        };
        let Some(scale) = unit_scale(unit) else {
            continue;
        };
        let op = if coll.starts_with("AllReduce") {
            Collective::AllReduce
        } else if coll.starts_with("AllGather") {
            Collective::AllGather
        } else {
            continue;
        };
        let mut sys = config::load(sys_name)?;
        // Rows measured with NVLink SHARP off or NCCL_ALGO=Ring run without NVLS.
        if coll.contains("SHARP off") || coll.contains("Ring") {
            if let crate::system::config::ScaleUp::Switch {
                in_network_reduction,
                ..
            } = &mut sys.scale_up
            {
                *in_network_reduction = false;
            }
        }
        let p = place(&sys, ranks, slice.as_deref())?;
        let c = p.all(&sys)?.cost(op, bytes);
        let (reference, simulated) = match metric {
            "latency" => (value * scale, c.time_s),
            "busbw" => (value, c.busbw_gbps),
            _ => continue,
        };
        groups
            .entry(format!("{sys_name} {} {metric}", op.as_str()))
            .or_default()
            .push((reference, simulated));
    }
    Ok(Some(ValidationTable {
        title: "collectives (system layer) vs measured".into(),
        source: "tests/data/pod/calibration_collectives.csv (LLMCompass 4x A100 curve; scaling book v5e and 8x H100; nccl-tests issues)".into(),
        summary: groups
            .iter()
            .map(|(g, pairs)| {
                SummaryRow::from_pairs(
                    g,
                    pairs,
                    "fitted rows named in configs/systems (CALIBRATED); the rest evaluation",
                )
            })
            .collect(),
    }))
}

/// A training row's model: the validation cards of tests/data/pod/models, or `maxtext_<S>`.
fn training_model(text: &str, data: &Path) -> Option<String> {
    let card = |n: &str| {
        Some(
            data.join(format!("pod/models/{n}.toml"))
                .display()
                .to_string(),
        )
    };
    if text.starts_with("GPT 22B") {
        card("gpt_22b")
    } else if text.starts_with("GPT-3 175B") {
        card("gpt_175b")
    } else if text.starts_with("MT-NLG 530B") {
        card("mt_nlg_530b")
    } else if text.starts_with("GPT 1T") {
        card("gpt_1t")
    } else if text.starts_with("MaxText 22B") {
        card("maxtext_22b")
    } else if let Some(rest) = text.strip_prefix("MaxText synthetic decoder ") {
        let b = rest.trim_end_matches('B');
        b.parse::<u64>().ok().map(|s| format!("maxtext_{s}"))
    } else {
        None
    }
}

/// Plan constraints from a row's parallelism text.
fn training_plan(text: &str, chips: u64, global_batch: u64) -> PlanConstraints {
    let num = |key: &str| -> Option<u64> {
        let i = text.find(key)?;
        let digits: String = text[i + key.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    };
    let mut c = PlanConstraints {
        // Full recomputation, and MaxText's other remat policies (e.g. qkv_proj_offloaded) as
        // the nearest modelled one.
        // A row that names no policy leaves it to the planner.
        recompute: if text.contains("full activation recompute") || text.contains("remat") {
            Some(true)
        } else if text.contains("recompute") {
            Some(false)
        } else {
            None
        },
        selective_recompute: text
            .contains("selective recompute")
            .then_some(true)
            .or(text.contains("recompute").then_some(false)),
        // Megatron-LM of 2022 and these MaxText runs predate asynchronous TP: their TP
        // collectives run between the GEMMs.
        tp_overlap: Some(false),
        // A row that says its gradient all-reduce is not overlapped (Korthikanti et al. §6.3).
        dp_overlap: text.contains("not overlapped").then_some(false),
        // Megatron's full-recomputation rows ran TP without sequence parallelism.
        sp: text.contains("no sequence parallel").then_some(false),
        ..Default::default()
    };
    if text.contains("FSDP") {
        // MaxText: ICI FSDP[ x TP] x DCN-DP, one micro-batch per step.
        let fsdp = num("FSDP").unwrap_or(1);
        let tp = num("TP").unwrap_or(1);
        let dcn = num("DCN-DP").unwrap_or(1);
        c.fsdp = Some(fsdp);
        c.tp = Some(tp);
        c.dcn_dp = Some(dcn);
        c.dp = Some(chips / (fsdp * tp * dcn).max(1));
        c.pp = Some(1);
        c.mbs = Some(global_batch / (fsdp * dcn * c.dp.unwrap_or(1)).max(1));
    } else {
        // Megatron: TPn PPn DPn mbsn interleave m=v.
        c.tp = num("TP");
        c.pp = num("PP");
        c.dp = num("DP");
        c.fsdp = Some(1);
        c.mbs = num("mbs").or(Some(1));
        c.vp = num("interleave m=").or(Some(1));
    }
    c
}

fn training(data: &Path) -> Result<Option<ValidationTable>> {
    let path = data.join("pod/calibration_training.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut groups: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in read(&path)? {
        let (sys_text, chips, model_text, seq, gb, par, metric, value, unit) = (
            &row[0], &row[1], &row[2], &row[4], &row[5], &row[6], &row[7], &row[8], &row[9],
        );
        let (Ok(chips), Ok(seq), Ok(gb), Ok(value)) = (
            chips.parse::<u64>(),
            seq.parse::<u64>(),
            gb.parse::<u64>(),
            value.parse::<f64>(),
        ) else {
            continue;
        };
        let (sys_name, family, dtype) = if sys_text.starts_with("Selene") {
            ("dgx_a100_ib", "Megatron A100", DType::Fp16)
        } else if sys_text.starts_with("TPU v5e") {
            ("tpu_v5e_pod", "MaxText v5e", DType::Bf16)
        } else if sys_text.starts_with("TPU v4") {
            ("tpu_v4_pod", "MaxText v4", DType::Bf16)
        } else {
            continue;
        };
        let Some(model_spec) = training_model(model_text, data) else {
            continue;
        };
        let Some(scale) = unit_scale(unit) else {
            continue;
        };
        let sys = config::load(sys_name)?;
        let card = model::load(&model_spec)?;
        let spec = TrainSpec {
            card,
            chips,
            global_batch: gb,
            seq,
            dtype,
            tokens: None,
            slice: None,
            // Megatron-LM of Korthikanti et al. (2022) predates FlashAttention in Megatron: its
            // attention core is unfused (the s² scores through HBM), in the full-recompute rows
            // and in the selective-recompute rows (which recompute exactly that core in the
            // backward pass instead of storing s²: `recompute=selective`). MaxText on TPU uses
            // a fused (flash/splash) kernel.
            fused_attention: family != "Megatron A100",
        };
        let forced = training_plan(&format!("{par}; {}", &row[11]), chips, gb);
        let out = match train(&sys, &spec, &forced) {
            Ok(o) => o,
            Err(_) => continue,
        };
        let r = &out.best;
        let simulated = match metric {
            "iteration_time" => r.step_time_s,
            "MFU" => r.mfu,
            "throughput_per_chip" => r.model_tflops_per_chip,
            _ => continue,
        };
        groups
            .entry(format!("{family} {metric}"))
            .or_default()
            .push((value * scale, simulated));
    }
    Ok(Some(ValidationTable {
        title: "training steps (system layer) vs measured".into(),
        source: "tests/data/pod/calibration_training.csv (Korthikanti et al. 2022 on Selene; MaxText TPU v5e/v4 READMEs)".into(),
        summary: groups
            .iter()
            .map(|(g, pairs)| SummaryRow::from_pairs(g, pairs, "evaluation rows (nothing fitted to them)"))
            .collect(),
    }))
}

/// Run both pod sets (each only when its file exists).
pub fn run(data: &Path) -> Result<Vec<ValidationTable>> {
    Ok([collectives(data)?, training(data)?]
        .into_iter()
        .flatten()
        .collect())
}
