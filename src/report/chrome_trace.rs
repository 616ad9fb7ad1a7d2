//! Chrome trace event format (JSON object form), which Perfetto (ui.perfetto.dev) and
//! chrome://tracing open: one process per machine, its ops laid end to end as complete spans
//! (`"ph": "X"`, `ts`/`dur` in µs), each with nested child spans for where its time goes (compute,
//! fill/drain, memory stall, tail, overhead), and counter tracks (`"ph": "C"`) for utilization and
//! power per op. Reference: "Trace Event Format", Google, 2016 (docs.google.com/document/d/
//! 1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
//!
//! Times are kept in integer picoseconds while laying out, so a child span never ends after its
//! parent and the output is byte-for-byte deterministic.

use super::Exporter;
use crate::error::{Error, Result};
use crate::fsio::OutputFile;
use crate::machine::OpProfile;
use crate::run::RunReport;
use serde_json::{json, Value};

/// Thread id of the op spans within each machine's process.
const OPS_TID: u64 = 1;

/// Render runs (label, report) as one trace; machine `i` is process `i + 1`. The bytes are those
/// of [`TraceWriter`] and [`MachineTimeline`] fed the same runs batch by batch (the streamed
/// `run --format trace` and the comparison jobs' trace.json).
pub fn render(runs: &[(&str, &RunReport)]) -> Result<Vec<u8>> {
    let labels: Vec<&str> = runs.iter().map(|(l, _)| *l).collect();
    let mut w = TraceWriter::default();
    let mut out = TraceWriter::head(&labels)?;
    for (i, (label, run)) in runs.iter().enumerate() {
        let (mut m, ev) =
            MachineTimeline::start(i as u64 + 1, label, run.machine.info.kind.as_str());
        out.push_str(&w.events(&ev)?);
        out.push_str(&m.write_ops(&mut w, &run.ops)?);
        out.push_str(&w.events(&m.finish())?);
    }
    out.push_str(&w.tail());
    Ok(out.into_bytes())
}

/// Writes the trace document piece by piece: [`head`](Self::head), then events in order
/// ([`events`](Self::events)), then [`tail`](Self::tail). One event per line: small, diffable,
/// and still one JSON object.
#[derive(Debug, Default)]
pub struct TraceWriter {
    /// Events written so far (the separator goes before every event but the first).
    written: u64,
}

impl TraceWriter {
    /// The document up to the first event: display unit, generator and the machines' labels.
    pub fn head(labels: &[&str]) -> Result<String> {
        let other = json!({
            "generator": "archsim",
            "version": env!("CARGO_PKG_VERSION"),
            "machines": labels,
        });
        let mut out = String::from("{\"displayTimeUnit\":\"ns\",\"otherData\":");
        out.push_str(&ser(&other)?);
        out.push_str(",\"traceEvents\":[\n");
        Ok(out)
    }

    /// Events, each on its own line, comma-separated from the ones before.
    pub fn events(&mut self, ev: &[Value]) -> Result<String> {
        let mut out = String::new();
        for e in ev {
            if self.written > 0 {
                out.push_str(",\n");
            }
            out.push_str(&ser(e)?);
            self.written += 1;
        }
        Ok(out)
    }

    /// The end of the document.
    pub fn tail(&self) -> String {
        if self.written > 0 { "\n]}\n" } else { "]}\n" }.to_string()
    }
}

fn ser(v: &Value) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot serialize trace: {e}")))
}

/// One machine's process in a trace: its ops laid end to end from time 0, in order, fed a batch
/// at a time. Times are integer picoseconds, so batching never changes a byte.
#[derive(Debug, Clone)]
pub struct MachineTimeline {
    pid: u64,
    /// End of the last op laid out, ps.
    t: u64,
    /// Index of the next op.
    idx: usize,
}

impl MachineTimeline {
    /// Process `pid` named `label (kind)`: the timeline and its metadata events.
    pub fn start(pid: u64, label: &str, kind: &str) -> (MachineTimeline, Vec<Value>) {
        let pname = if kind.is_empty() {
            label.to_string()
        } else {
            format!("{label} ({kind})")
        };
        let ev = vec![
            json!({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                   "args": {"name": pname}}),
            json!({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
                   "args": {"sort_index": pid}}),
            json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": OPS_TID,
                   "args": {"name": "ops"}}),
        ];
        (MachineTimeline { pid, t: 0, idx: 0 }, ev)
    }

    /// The events of the next ops (span, children, counters), after those already laid out.
    pub fn ops(&mut self, ops: &[OpProfile]) -> Vec<Value> {
        let mut ev = Vec::new();
        for p in ops {
            let dur = ps(p.time_s);
            op_events(&mut ev, self.pid, self.idx, p, self.t, dur);
            self.t = self.t.saturating_add(dur);
            self.idx += 1;
        }
        ev
    }

    /// The next ops' events as trace text ([`TraceWriter::events`]), one op at a time, so only
    /// one op's events are ever held as JSON values.
    pub fn write_ops(&mut self, w: &mut TraceWriter, ops: &[OpProfile]) -> Result<String> {
        let mut out = String::new();
        for p in ops {
            out.push_str(&w.events(&self.ops(std::slice::from_ref(p)))?);
        }
        Ok(out)
    }

    /// Counters back to zero after the last op.
    pub fn finish(&self) -> Vec<Value> {
        let (pid, t) = (self.pid, self.t);
        vec![
            json!({"name": "utilization_pct", "ph": "C", "pid": pid, "ts": us(t),
                   "args": {"utilization_pct": 0.0}}),
            json!({"name": "power_w", "ph": "C", "pid": pid, "ts": us(t),
                   "args": {"power_w": 0.0}}),
        ]
    }
}

/// Exporter of one run to `trace.json` (label = the machine's `name`).
pub struct ChromeTraceExporter;

impl Exporter for ChromeTraceExporter {
    fn export(&self, run: &RunReport) -> Result<Vec<OutputFile>> {
        let label = run.machine.info.name.as_str();
        Ok(vec![OutputFile {
            name: "trace.json".into(),
            bytes: render(&[(label, run)])?,
        }])
    }
}

/// Seconds → integer picoseconds (non-finite or negative → 0).
fn ps(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1e12).round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// Picoseconds → µs as a JSON number with 6 decimals (exact at ps resolution).
fn us(p: u64) -> Value {
    let whole = p / 1_000_000;
    let frac = p % 1_000_000;
    // Parse back from the exact decimal text so the JSON number is the shortest round-trip of it.
    let v: f64 = format!("{whole}.{frac:06}").parse().unwrap_or(0.0);
    json!(v)
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn op_events(ev: &mut Vec<Value>, pid: u64, idx: usize, p: &OpProfile, start: u64, dur: u64) {
    let shape = if p.op == "gemm" {
        if p.batch > 1 {
            format!("{}x({}x{}x{})", p.batch, p.m, p.n, p.k)
        } else {
            format!("{}x{}x{}", p.m, p.n, p.k)
        }
    } else {
        format!("{} elements", p.m)
    };
    let power_w = if p.time_s > 0.0 && p.energy_pj.is_finite() {
        p.energy_pj * 1e-12 / p.time_s
    } else {
        0.0
    };
    let mut args = json!({
        "index": idx,
        "op": p.op,
        "shape": shape,
        "m": p.m, "n": p.n, "k": p.k, "batch": p.batch,
        "dtype": p.dtype,
        "time_s": num(p.time_s),
        "tflops": num(p.tflops),
        "utilization_pct": num(p.utilization * 100.0),
        "mapping_efficiency_pct": num(p.mapping_efficiency * 100.0),
        "energy_pj": num(p.energy_pj),
        "pj_per_mac": num(p.pj_per_mac),
        "power_w": num(power_w),
        "main_stall": p.main_stall,
        "hbm_bytes": num(p.counters.hbm_bytes()),
    });
    if let (Some(e), Some(obj)) = (&p.energy, args.as_object_mut()) {
        obj.insert(
            "energy_breakdown_pj".into(),
            serde_json::to_value(e).unwrap_or(Value::Null),
        );
    }
    if !p.plan.is_null() {
        if let Some(obj) = args.as_object_mut() {
            obj.insert("plan".into(), p.plan.clone());
        }
    }
    ev.push(
        json!({"name": p.name, "cat": "op", "ph": "X", "pid": pid, "tid": OPS_TID,
                   "ts": us(start), "dur": us(dur), "args": args}),
    );
    // Children, in order, scaled down if the parts overrun the op's time.
    let parts = p.time_breakdown_s.parts();
    let raw: Vec<u64> = parts.iter().map(|(_, s)| ps(*s)).collect();
    let sum: u128 = raw.iter().map(|&x| x as u128).sum();
    let mut t = start;
    let end = start + dur;
    for ((name, secs), r) in parts.iter().zip(raw) {
        let d = if sum > dur as u128 {
            (r as u128 * dur as u128 / sum) as u64
        } else {
            r
        };
        let d = d.min(end - t);
        if d == 0 {
            continue;
        }
        ev.push(json!({"name": name, "cat": "breakdown", "ph": "X", "pid": pid,
                       "tid": OPS_TID, "ts": us(t), "dur": us(d),
                       "args": {"op": p.name, "seconds": num(*secs),
                                "share_pct": num(if p.time_s > 0.0 { secs / p.time_s * 100.0 } else { 0.0 })}}));
        t += d;
    }
    ev.push(
        json!({"name": "utilization_pct", "ph": "C", "pid": pid, "ts": us(start),
                   "args": {"utilization_pct": num(p.utilization * 100.0)}}),
    );
    ev.push(
        json!({"name": "power_w", "ph": "C", "pid": pid, "ts": us(start),
                   "args": {"power_w": num(power_w)}}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::TimeBreakdown;

    fn op(name: &str, t: f64) -> OpProfile {
        OpProfile {
            name: name.into(),
            op: "gemm".into(),
            m: 128,
            n: 256,
            k: 512,
            batch: 1,
            time_s: t,
            utilization: 0.5,
            energy_pj: 1e6,
            time_breakdown_s: TimeBreakdown {
                compute_s: t * 0.7,
                memory_stall_s: t * 0.2,
                overhead_s: t * 0.1,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn spans_are_end_to_end_and_children_nest() {
        let run = RunReport::of_profiles(
            "tpu",
            crate::machine::MachineKind::Systolic,
            vec![op("a", 1e-6), op("b", 3.3e-6)],
        );
        let v: Value = serde_json::from_slice(&render(&[("TPU", &run)]).unwrap()).unwrap();
        let ev = v["traceEvents"].as_array().unwrap();
        let ops: Vec<&Value> = ev.iter().filter(|e| e["cat"] == "op").collect();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0]["ts"].as_f64().unwrap(), 0.0);
        assert_eq!(ops[1]["ts"].as_f64().unwrap(), 1.0);
        assert!((ops[1]["dur"].as_f64().unwrap() - 3.3).abs() < 1e-9);
        for c in ev.iter().filter(|e| e["cat"] == "breakdown") {
            let (ts, d) = (c["ts"].as_f64().unwrap(), c["dur"].as_f64().unwrap());
            let parent = ops.iter().find(|o| o["name"] == c["args"]["op"]).unwrap();
            let (pts, pd) = (
                parent["ts"].as_f64().unwrap(),
                parent["dur"].as_f64().unwrap(),
            );
            assert!(ts >= pts && ts + d <= pts + pd + 1e-9);
        }
        // Deterministic.
        assert_eq!(
            render(&[("TPU", &run)]).unwrap(),
            render(&[("TPU", &run)]).unwrap()
        );
    }
}
