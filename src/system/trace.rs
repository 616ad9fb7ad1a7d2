//! A Chrome trace (Perfetto) of one training step: a track per pipeline stage with its 1F1B
//! warm-up idle, each micro-batch's compute and exposed communication, the cool-down idle, and
//! the step-end gradient reduction and optimizer — the step's accounting
//! ([`super::train::StepBreakdown`]) laid out in time.

use super::train::TrainReport;
use crate::error::{Error, Result};
use serde_json::{json, Value};

/// Stages drawn at most (the rest are like the last one drawn).
const MAX_STAGES: u64 = 64;

/// The trace of `r`'s step as JSON bytes (Chrome trace event format, microseconds).
pub fn step_trace(reports: &[&TrainReport]) -> Result<Vec<u8>> {
    let mut events: Vec<Value> = Vec::new();
    for (pid, r) in reports.iter().enumerate() {
        let pid = pid as u64 + 1;
        events.push(json!({"ph": "M", "name": "process_name", "pid": pid,
            "args": {"name": format!("{} ({} chips, {})", r.system, r.chips, r.plan.describe())}}));
        let m = r.microbatches.max(1) as f64;
        let b = &r.breakdown_s;
        let per_compute = b.compute / m;
        let comm_per_mb: Vec<(String, f64)> = ["tp", "cp", "ep", "pp", "fsdp"]
            .iter()
            .filter_map(|k| b.exposed_comm.get(*k).map(|v| (format!("{k} comm"), v / m)))
            .collect();
        let pp = r.plan.pp;
        let vp = r.plan.vp.max(1) as f64;
        let per_mb = per_compute + comm_per_mb.iter().map(|c| c.1).sum::<f64>();
        let t_b = per_mb * r.backward_share;
        let t_f = per_mb - t_b;
        for stage in 0..pp.min(MAX_STAGES) {
            let tid = stage + 1;
            events.push(
                json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                "args": {"name": format!("stage {stage}")}}),
            );
            let mut t = 0.0;
            let mut span = |name: &str, cat: &str, dur: f64, t: &mut f64| {
                if dur > 0.0 {
                    events.push(
                        json!({"ph": "X", "name": name, "cat": cat, "pid": pid, "tid": tid,
                        "ts": *t * 1e6, "dur": dur * 1e6}),
                    );
                    *t += dur;
                }
            };
            // 1F1B: stage s waits s forward slots before its first micro-batch and idles
            // (pp − 1 − s) backward slots at the end; interleaving divides both by vp.
            let warm = stage as f64 * t_f / vp;
            let cool = (pp - 1 - stage) as f64 * t_b / vp;
            span("bubble (warm-up)", "bubble", warm, &mut t);
            for i in 0..r.microbatches.min(256) {
                span(&format!("micro-batch {i}"), "compute", per_compute, &mut t);
                for (name, d) in &comm_per_mb {
                    span(name, "comm", *d, &mut t);
                }
            }
            if r.microbatches > 256 {
                let rest = (r.microbatches - 256) as f64 * per_mb;
                span(
                    &format!("micro-batches 256..{}", r.microbatches),
                    "compute",
                    rest,
                    &mut t,
                );
            }
            span("bubble (cool-down)", "bubble", cool, &mut t);
            if let Some(d) = b.exposed_comm.get("dp") {
                span("dp gradient all-reduce (exposed)", "comm", *d, &mut t);
            }
            if let Some(d) = b.exposed_comm.get("embedding") {
                span("tied embedding gradient exchange", "comm", *d, &mut t);
            }
            span("optimizer", "compute", b.overhead, &mut t);
        }
    }
    serde_json::to_vec_pretty(&json!({"traceEvents": events, "displayTimeUnit": "ms"}))
        .map_err(|e| Error::internal(e.to_string()))
}

/// A Chrome trace of one serving cycle on each replica (up to 16 tracks): the batched prefill
/// step, then the decode steps (the first 64 drawn one by one, the rest as one span).
pub fn serve_trace(reports: &[&super::serve::ServeReport]) -> Result<Vec<u8>> {
    let mut events: Vec<Value> = Vec::new();
    for (pid, r) in reports.iter().enumerate() {
        let pid = pid as u64 + 1;
        events.push(json!({"ph": "M", "name": "process_name", "pid": pid,
            "args": {"name": format!("{} ({} chips, {} replicas of {}, batch {})", r.system, r.chips, r.replicas, r.plan, r.batch)}}));
        // Disaggregated: the first replicas prefill only, the rest decode only.
        let prefill_only = r.disaggregated.as_ref().map_or(0, |d| d.prefill_replicas);
        for rep in 0..r.replicas.min(16) {
            let tid = rep + 1;
            let (does_prefill, does_decode, role) = match &r.disaggregated {
                None => (true, true, "replica"),
                Some(_) if rep < prefill_only => (true, false, "prefill replica"),
                Some(_) => (false, true, "decode replica"),
            };
            events.push(
                json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                "args": {"name": format!("{role} {rep}")}}),
            );
            let mut t = 0.0;
            let mut span = |name: String, cat: &str, dur: f64, t: &mut f64| {
                if dur > 0.0 {
                    events.push(
                        json!({"ph": "X", "name": name, "cat": cat, "pid": pid, "tid": tid,
                        "ts": *t * 1e6, "dur": dur * 1e6}),
                    );
                    *t += dur;
                }
            };
            if does_prefill {
                span(
                    format!("prefill {} prompts x {} tokens", r.batch, r.input_len),
                    "prefill",
                    r.prefill_step_s,
                    &mut t,
                );
            }
            if !does_decode {
                continue;
            }
            let shown = r.output_len.min(64);
            for i in 0..shown {
                span(
                    format!("decode step {i} (batch {})", r.batch),
                    "decode",
                    r.decode_step_s,
                    &mut t,
                );
            }
            if r.output_len > shown {
                let rest = (r.output_len - shown) as f64 * r.decode_step_s;
                span(
                    format!("decode steps {shown}..{}", r.output_len),
                    "decode",
                    rest,
                    &mut t,
                );
            }
        }
    }
    serde_json::to_vec_pretty(&json!({"traceEvents": events, "displayTimeUnit": "ms"}))
        .map_err(|e| Error::internal(e.to_string()))
}
