//! Streamed exporters: the table, CSV and JSON of `archsim run` written batch by batch of ops,
//! so a 10^6-op run never holds its profiles ([`crate::run::Streamer`]). Their bytes equal the
//! whole-run exporters' ([`super::table`], [`super::csv`], [`super::json`]) for the same run (a
//! run without a `--model` summary), which the tests check.

use super::csv::{run_columns, Column};
use super::{table, Format};
use crate::error::{Error, Result};
use crate::machine::{MachineReport, OpProfile};
use crate::run::Total;

/// A format written in three parts: the head (machine), each batch of ops, the tail (totals).
pub trait StreamExporter {
    /// Name of the file written under `--out DIR`.
    fn file_name(&self) -> &'static str;
    /// Bytes before the first op.
    fn begin(&mut self, machine: &MachineReport) -> Result<Vec<u8>>;
    /// Bytes of a batch of ops, in order.
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Vec<u8>>;
    /// Bytes after the last op.
    fn end(&mut self, total: &Total) -> Result<Vec<u8>>;
}

/// The streamed exporter of a format, if it has one (table, csv, json). `name_width` is the
/// table's op column width for the run's op names ([`table::name_width`]), known before the
/// first op is simulated.
pub fn stream_exporter(format: Format, name_width: usize) -> Option<Box<dyn StreamExporter>> {
    match format {
        Format::Table => Some(Box::new(TableStream {
            w: name_width,
            notes: table::Notes::default(),
        })),
        Format::Csv => Some(Box::new(CsvStream)),
        Format::Json => Some(Box::new(JsonStream { first: true })),
        Format::Scalesim | Format::Trace => None,
    }
}

struct TableStream {
    w: usize,
    notes: table::Notes,
}

impl StreamExporter for TableStream {
    fn file_name(&self) -> &'static str {
        "report.txt"
    }
    fn begin(&mut self, machine: &MachineReport) -> Result<Vec<u8>> {
        Ok(table::head(&machine.info, self.w).into_bytes())
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Vec<u8>> {
        let mut s = String::new();
        for p in ops {
            s.push_str(&table::op_line(p, self.w));
            self.notes.add(p);
        }
        Ok(s.into_bytes())
    }
    fn end(&mut self, total: &Total) -> Result<Vec<u8>> {
        let mut s = table::total_line(total, self.w);
        s.push_str(&self.notes.render());
        Ok(s.into_bytes())
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
    fn file_name(&self) -> &'static str {
        "ops.csv"
    }
    fn begin(&mut self, _: &MachineReport) -> Result<Vec<u8>> {
        csv_rows(std::iter::once(
            run_columns().map(|c| c.name.to_string()).collect(),
        ))
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Vec<u8>> {
        let columns: Vec<&Column> = run_columns().collect();
        csv_rows(
            ops.iter()
                .map(|p| columns.iter().map(|c| (c.op)(p)).collect()),
        )
    }
    fn end(&mut self, total: &Total) -> Result<Vec<u8>> {
        csv_rows(std::iter::once(
            run_columns()
                .map(|c| c.total.map_or(String::new(), |f| f(total)))
                .collect(),
        ))
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
    fn file_name(&self) -> &'static str {
        "report.json"
    }
    fn begin(&mut self, machine: &MachineReport) -> Result<Vec<u8>> {
        Ok(format!(
            "{{\n  \"machine\": {},\n  \"ops\": [",
            pretty_at(machine, 2)?
        )
        .into_bytes())
    }
    fn ops(&mut self, ops: &[OpProfile]) -> Result<Vec<u8>> {
        let mut s = String::new();
        for p in ops {
            s.push_str(if self.first { "\n    " } else { ",\n    " });
            self.first = false;
            s.push_str(&pretty_at(p, 4)?);
        }
        Ok(s.into_bytes())
    }
    fn end(&mut self, total: &Total) -> Result<Vec<u8>> {
        let close = if self.first { "]" } else { "\n  ]" };
        Ok(format!("{close},\n  \"total\": {}\n}}\n", pretty_at(total, 2)?).into_bytes())
    }
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
        for format in [Format::Table, Format::Csv, Format::Json] {
            let expect = &super::super::exporter(format).export(&whole).unwrap()[0].bytes;
            for split in [1usize, 3, 100] {
                let w = table::name_width(ops.iter().map(|o| o.name().len()));
                let mut ex = stream_exporter(format, w).unwrap();
                let mut out = ex.begin(&whole.machine).unwrap();
                for chunk in whole.ops.chunks(split) {
                    out.extend(ex.ops(chunk).unwrap());
                }
                out.extend(ex.end(&whole.total).unwrap());
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(expect),
                    "{format:?} split {split}"
                );
            }
        }
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
