//! Serving reference set (`tests/data/serving/calibration_serving.csv`): NVIDIA TensorRT-LLM's
//! measured offline throughput on DGX H100 (FP8 checkpoints; Llama 3.1 8B TP1, 3.3 70B TP2,
//! 3.1 405B TP8 at ten input/output lengths), predicted by `archsim serve --scenario offline`.
//! Nothing is fitted to these rows. The KV cache runs in fp8 like the weights (ASSUMPTION: the
//! table does not state the KV-cache dtype). Each row's `chips` is its tensor-parallel size
//! (the set's README): one replica at `tp = chips`, no pipeline (`pp = 1`), as the row states.

use super::{SummaryRow, ValidationTable};
use crate::error::{Error, Result};
use crate::system::config;
use crate::system::serve::{serve, Scenario, ServeSpec};
use crate::workload::model;
use crate::workload::DType;
use std::collections::BTreeMap;
use std::path::Path;

fn model_of(name: &str) -> Option<&'static str> {
    match name {
        "Llama-3.1-8B-Instruct" => Some("llama3_8b"),
        "Llama-3.3-70B-Instruct" => Some("llama3_70b"),
        "Llama-3.1-405B-Instruct" => Some("llama3_405b"),
        _ => None,
    }
}

/// Run the set when its file exists.
pub fn run(data: &Path) -> Result<Vec<ValidationTable>> {
    let path = data.join("serving/calibration_serving.csv");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = crate::fsio::read_input_file(&path)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut groups: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let sys = config::load("dgx_h100_ib")?;
    for row in rdr.records() {
        let row = row.map_err(|e| Error::InputFile {
            path: path.clone(),
            msg: format!("CSV: {e}"),
        })?;
        if &row[1] != "H100" {
            continue;
        }
        let (Ok(chips), Some(m), Ok(measured)) = (
            row[2].parse::<u64>(),
            model_of(&row[3]),
            row[6].parse::<f64>(),
        ) else {
            continue;
        };
        let Some((i, o)) = row[4]
            .rsplit('=')
            .next()
            .and_then(|s| s.split_once('/'))
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        else {
            continue;
        };
        let dtype = if &row[5] == "FP8" {
            DType::Fp8
        } else {
            DType::Bf16
        };
        let spec = ServeSpec {
            card: model::load(m)?,
            chips,
            scenario: Scenario::Offline,
            input_len: i,
            output_len: o,
            dtype,
            kv_dtype: dtype,
            tp: Some(chips),
            pp: Some(1),
            ep: None,
            disaggregate: None,
            chunk_tokens: None,
        };
        let r = serve(&sys, &spec)?;
        groups
            .entry(format!("{m} TP{chips} offline output tokens/s"))
            .or_default()
            .push((measured, r.output_tokens_per_s));
    }
    let mut all = Vec::new();
    let mut summary: Vec<SummaryRow> = groups
        .iter()
        .map(|(g, pairs)| {
            all.extend_from_slice(pairs);
            SummaryRow::from_pairs(g, pairs, "evaluation rows (nothing fitted to them)")
        })
        .collect();
    if !all.is_empty() {
        summary.push(SummaryRow::from_pairs(
            "all rows",
            &all,
            "MAPE over every row",
        ));
    }
    Ok(vec![ValidationTable {
        title: "serving throughput (archsim serve, offline) vs TensorRT-LLM on DGX H100".into(),
        source: "tests/data/serving/calibration_serving.csv (NVIDIA TensorRT-LLM perf-overview @00f37686)".into(),
        summary,
    }])
}
