//! Streamed exporters: every format of `archsim run` (table, CSV, JSON, SCALE-Sim reports,
//! Chrome trace) written batch by batch of ops, so a 10^6-op run never holds its profiles
//! ([`crate::run::Streamer`]). Their bytes equal the whole-run exporters' ([`super::table`],
//! [`super::csv`], [`super::json`], [`super::scalesim`], [`super::chrome_trace`]) for the same
//! run (a run without a `--model` summary), which the tests check.

use super::chrome_trace::{MachineTimeline, TraceWriter};
use super::csv::{run_columns, Column};
use super::{scalesim, table, Format};
use crate::error::{Error, Result};
use crate::machine::{MachineReport, OpProfile};
use crate::run::Total;

/// Bytes for each file of a format, in the order of [`StreamExporter::file_names`].
pub type Chunks = Vec<Vec<u8>>;

/// A format written in three parts: the head (machine), each batch of ops, the tail (totals).
/// Each part is one chunk of bytes per file the format writes.
pub trait StreamExporter {
    /// Names of the files written under `--out DIR` (one for every format but scalesim's three).
    fn file_names(&self) -> &'static [&'static str];
    /// Bytes before the first op.
    fn begin(&mut self, machine: &MachineReport) -> Result<Chunks>;
    /// Bytes of a batch of ops, in order.
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks>;
    /// Bytes after the last op.
    fn end(&mut self, total: &Total) -> Result<Chunks>;
}

/// The streamed exporter of a format. `name_width` is the table's op column width for the run's
/// op names ([`table::name_width`]), known before the first op is simulated.
pub fn stream_exporter(format: Format, name_width: usize) -> Box<dyn StreamExporter> {
    match format {
        Format::Table => Box::new(TableStream {
            w: name_width,
            notes: table::Notes::default(),
        }),
        Format::Csv => Box::new(CsvStream),
        Format::Json => Box::new(JsonStream { first: true }),
        Format::Scalesim => Box::new(ScaleSimStream { next_layer: 0 }),
        Format::Trace => Box::new(TraceStream {
            writer: TraceWriter::default(),
            timeline: None,
        }),
    }
}

struct TableStream {
    w: usize,
    notes: table::Notes,
}

impl StreamExporter for TableStream {
    fn file_names(&self) -> &'static [&'static str] {
        &["report.txt"]
    }
    fn begin(&mut self, machine: &MachineReport) -> Result<Chunks> {
        Ok(vec![table::head(&machine.info, self.w).into_bytes()])
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks> {
        let mut s = String::new();
        for p in ops {
            s.push_str(&table::op_line(p, self.w));
            self.notes.add(p);
        }
        Ok(vec![s.into_bytes()])
    }
    fn end(&mut self, total: &Total) -> Result<Chunks> {
        let mut s = table::total_line(total, self.w);
        s.push_str(&self.notes.render());
        Ok(vec![s.into_bytes()])
    }
}

struct CsvStream;

/// Rows written by a CSV writer (its quoting), as bytes.
fn csv_rows(rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let err = |e: csv::Error| Error::internal(format!("CSV writing failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::internal(format!("CSV writing failed: {e}")))
}

impl StreamExporter for CsvStream {
    fn file_names(&self) -> &'static [&'static str] {
        &["ops.csv"]
    }
    fn begin(&mut self, _: &MachineReport) -> Result<Chunks> {
        Ok(vec![csv_rows(std::iter::once(
            run_columns().map(|c| c.name.to_string()).collect(),
        ))?])
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks> {
        let columns: Vec<&Column> = run_columns().collect();
        Ok(vec![csv_rows(
            ops.iter()
                .map(|p| columns.iter().map(|c| (c.op)(p)).collect()),
        )?])
    }
    fn end(&mut self, total: &Total) -> Result<Chunks> {
        Ok(vec![csv_rows(std::iter::once(
            run_columns()
                .map(|c| c.total.map_or(String::new(), |f| f(total)))
                .collect(),
        ))?])
    }
}

struct JsonStream {
    first: bool,
}

/// `v` as pretty JSON (serde_json's two-space layout) with every line after the first indented
/// by `indent` spaces, as it appears nested at that depth in a pretty document. Strings never
/// hold a raw newline in JSON, so indenting by line is exact.
fn pretty_at<T: serde::Serialize + ?Sized>(v: &T, indent: usize) -> Result<String> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::internal(format!("JSON serialization failed: {e}")))?;
    let pad = " ".repeat(indent);
    Ok(s.replace('\n', &format!("\n{pad}")))
}

impl StreamExporter for JsonStream {
    fn file_names(&self) -> &'static [&'static str] {
        &["report.json"]
    }
    fn begin(&mut self, machine: &MachineReport) -> Result<Chunks> {
        Ok(vec![format!(
            "{{\n  \"machine\": {},\n  \"ops\": [",
            pretty_at(machine, 2)?
        )
        .into_bytes()])
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks> {
        let mut s = String::new();
        for p in ops {
            s.push_str(if self.first { "\n    " } else { ",\n    " });
            self.first = false;
            s.push_str(&pretty_at(p, 4)?);
        }
        Ok(vec![s.into_bytes()])
    }
    fn end(&mut self, total: &Total) -> Result<Chunks> {
        let close = if self.first { "]" } else { "\n  ]" };
        Ok(vec![format!(
            "{close},\n  \"total\": {}\n}}\n",
            pretty_at(total, 2)?
        )
        .into_bytes()])
    }
}

/// SCALE-Sim's three per-layer reports, a row per op in each ([`scalesim`]); layer IDs count on
/// across batches.
struct ScaleSimStream {
    next_layer: usize,
}

impl StreamExporter for ScaleSimStream {
    fn file_names(&self) -> &'static [&'static str] {
        &scalesim::FILE_NAMES
    }
    fn begin(&mut self, _: &MachineReport) -> Result<Chunks> {
        Ok(vec![
            scalesim::COMPUTE_HEADER.as_bytes().to_vec(),
            scalesim::BANDWIDTH_HEADER.as_bytes().to_vec(),
            scalesim::DETAIL_HEADER.as_bytes().to_vec(),
        ])
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks> {
        let (mut c, mut b, mut d) = (String::new(), String::new(), String::new());
        for p in ops {
            let (cr, br, dr) = scalesim::op_rows(self.next_layer, p)?;
            self.next_layer += 1;
            c.push_str(&cr);
            b.push_str(&br);
            d.push_str(&dr);
        }
        Ok(vec![c.into_bytes(), b.into_bytes(), d.into_bytes()])
    }
    fn end(&mut self, _: &Total) -> Result<Chunks> {
        Ok(vec![Vec::new(), Vec::new(), Vec::new()])
    }
}

/// The Chrome trace of one machine ([`chrome_trace`]), its events written as the ops come.
struct TraceStream {
    writer: TraceWriter,
    timeline: Option<MachineTimeline>,
}

impl StreamExporter for TraceStream {
    fn file_names(&self) -> &'static [&'static str] {
        &["trace.json"]
    }
    fn begin(&mut self, machine: &MachineReport) -> Result<Chunks> {
        let label = machine.info.name.as_str();
        let mut s = TraceWriter::head(&[label])?;
        let (timeline, ev) = MachineTimeline::start(1, label, machine.info.kind.as_str());
        s.push_str(&self.writer.events(&ev)?);
        self.timeline = Some(timeline);
        Ok(vec![s.into_bytes()])
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Chunks> {
        let t = self.timeline.as_mut().ok_or_else(not_begun)?;
        Ok(vec![t.write_ops(&mut self.writer, ops)?.into_bytes()])
    }
    fn end(&mut self, _: &Total) -> Result<Chunks> {
        let t = self.timeline.as_ref().ok_or_else(not_begun)?;
        let mut s = self.writer.events(&t.finish())?;
        s.push_str(&self.writer.tail());
        Ok(vec![s.into_bytes()])
    }
}

fn not_begun() -> Error {
    Error::internal("trace stream used before begin".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use crate::run;
    use crate::workload::{DType, Gemm, Op};

    /// Streamed bytes equal the whole-run exporter's, batch boundaries anywhere.
    #[test]
    fn streamed_formats_equal_the_whole_run_exporters() {
        let machine = registry::load("tpu_v5e").unwrap().build(None).unwrap();
        let mut ops: Vec<Op> = (1..=7u64)
            .map(|i| {
                Op::Gemm(Gemm {
                    dtype: if i == 3 { DType::Fp4 } else { DType::Bf16 },
                    ..Gemm::new(format!("g\"{i},x"), 100 * i, 64 * i + 1, 3000 / i)
                })
            })
            .collect();
        ops.push(Op::Gemm(Gemm::new(
            "a_very_long_layer_name_that_is_cut_in_the_table_xx",
            8,
            8,
            8,
        )));
        let whole = run::simulate_ops(machine.as_ref(), &ops).unwrap();
        for format in [Format::Table, Format::Csv, Format::Json, Format::Trace] {
            assert_streamed_equal(format, &ops, &whole);
        }
    }

    /// Stream `whole`'s profiles through `format`'s streamed exporter in batches of 1, 3 and
    /// 100 ops and compare every file with the whole-run exporter's.
    fn assert_streamed_equal(format: Format, ops: &[Op], whole: &run::RunReport) {
        let expect = super::super::exporter(format).export(whole).unwrap();
        for split in [1usize, 3, 100] {
            let w = table::name_width(ops.iter().map(|o| o.name().len()));
            let mut ex = stream_exporter(format, w);
            let names = ex.file_names();
            assert_eq!(names.len(), expect.len(), "{format:?}");
            let mut out = ex.begin(&whole.machine).unwrap();
            let mut add = |chunks: Chunks| {
                assert_eq!(chunks.len(), names.len());
                for (o, c) in out.iter_mut().zip(chunks) {
                    o.extend(c);
                }
            };
            for chunk in whole.ops.chunks(split) {
                add(ex.ops(chunk).unwrap());
            }
            add(ex.end(&whole.total).unwrap());
            for (i, f) in expect.iter().enumerate() {
                assert_eq!(names[i], f.name, "{format:?}");
                assert_eq!(
                    String::from_utf8_lossy(&out[i]),
                    String::from_utf8_lossy(&f.bytes),
                    "{format:?} {} split {split}",
                    f.name
                );
            }
        }
    }

    /// SCALE-Sim's three reports streamed equal the whole-run exporter's (a .cfg machine).
    #[test]
    fn streamed_scalesim_reports_equal_the_whole_run_exporter() {
        let cfg = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/scalesim/configs/calc_32x32_os.cfg"
        );
        let machine = registry::load(cfg).unwrap().build(None).unwrap();
        let ops: Vec<Op> = (1..=9u64)
            .map(|i| Op::Gemm(Gemm::new(format!("l{i}"), 16 * i, 40 + i, 300 / i)))
            .collect();
        let whole = run::simulate_ops(machine.as_ref(), &ops).unwrap();
        assert!(whole.ops.iter().all(|p| p.scalesim.is_some()));
        assert_streamed_equal(Format::Scalesim, &ops, &whole);
    }

    /// Ops not simulated in SCALE-Sim mode are refused by the streamed scalesim format too,
    /// naming the setting (exit 2).
    #[test]
    fn streamed_scalesim_refuses_native_ops() {
        let mut ex = stream_exporter(Format::Scalesim, 8);
        let e = ex.ops(&[OpProfile::default()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("SCALE-Sim mode"), "{e}");
    }

    /// The streamed engine gives the profiles and total of `simulate_ops`.
    #[test]
    fn streamer_equals_simulate_ops() {
        let machine = registry::load("h100").unwrap().build(None).unwrap();
        let ops: Vec<Op> = (1..=(run::STREAM_BATCH_OPS as u64 + 5))
            .map(|i| {
                Op::Gemm(Gemm::new(
                    format!("g{i}"),
                    16 + i % 97,
                    32 + i % 13,
                    64 + i % 31,
                ))
            })
            .collect();
        let whole = run::simulate_ops(machine.as_ref(), &ops).unwrap();
        let mut got = Vec::new();
        let mut sink = |ps: &[OpProfile]| {
            got.extend_from_slice(ps);
            Ok(())
        };
        let mut s = run::stream(machine.as_ref(), &mut sink);
        for op in ops.iter().cloned() {
            s.push(op).unwrap();
        }
        let total = s.finish().unwrap();
        assert_eq!(total, whole.total);
        assert_eq!(got, whole.ops);
    }
}
