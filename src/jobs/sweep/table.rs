//! The sweep CSV: one header line, one row per point, rows sorted by point index. All bytes
//! come from [`render`], so a merged or resumed file is byte-identical to an uninterrupted,
//! unsharded run.

use crate::error::{Error, Location, Result};
use crate::fsio::read_input_file;
use std::collections::BTreeMap;
use std::path::Path;

/// A sweep CSV in memory: header and rows keyed by point index (column 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepTable {
    pub header: Vec<String>,
    pub rows: BTreeMap<u64, Vec<String>>,
}

/// `src` up to and including its last newline (all of it when there is none: a lone header
/// line is still parsed, and rejected if it is not one).
pub fn complete_lines(src: &str) -> &str {
    match src.rfind('\n') {
        Some(i) if i + 1 < src.len() => &src[..=i],
        _ => src,
    }
}

/// Render header and rows as CSV bytes (`\n` line ends, quotes only where needed).
pub fn render<'a>(header: &[String], rows: impl Iterator<Item = &'a Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail.
    w.write_record(header).expect("csv into memory");
    for r in rows {
        w.write_record(r).expect("csv into memory");
    }
    w.into_inner().expect("csv into memory")
}

impl SweepTable {
    pub fn to_bytes(&self) -> Vec<u8> {
        render(&self.header, self.rows.values())
    }

    /// Read a sweep CSV. Every row must have the header's width and a unique integer index in
    /// column 0 (a duplicate identical row is tolerated, a conflicting one is an error).
    /// Read a sweep CSV. archsim ends every row with a newline, so text after the last newline
    /// is a row cut short (a partial copy, a full disk): it is dropped, never read as a row with
    /// a truncated value; a resumed sweep simulates that point again.
    pub fn read(path: &Path) -> Result<SweepTable> {
        let src = read_input_file(path)?;
        Self::parse(complete_lines(&src), &path.display().to_string())
    }

    pub fn parse(src: &str, file: &str) -> Result<SweepTable> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(src.as_bytes());
        let bad = |line: u64, msg: String| {
            Error::input(Location::file(file).line(line.max(1) as usize), msg)
        };
        let header: Vec<String> = r
            .headers()
            .map_err(|e| bad(1, format!("not a sweep CSV: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        if header.first().map(String::as_str) != Some("index") {
            return Err(bad(
                1,
                "not a sweep CSV: the first column must be `index`".into(),
            ));
        }
        let mut rows = BTreeMap::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                bad(line, format!("bad CSV row: {e}"))
            })?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let row: Vec<String> = rec.iter().map(str::to_string).collect();
            let idx: u64 = row[0].parse().map_err(|_| {
                bad(
                    line,
                    format!("index `{}` is not a non-negative integer", row[0]),
                )
            })?;
            if let Some(prev) = rows.get(&idx) {
                if prev != &row {
                    return Err(bad(
                        line,
                        format!("point {idx} appears twice with different values"),
                    ));
                }
            }
            rows.insert(idx, row);
        }
        Ok(SweepTable { header, rows })
    }
}

/// `archsim merge`: join shard CSVs of one sweep into one file, rows sorted by index. Headers
/// must match; a point present in two shards must have identical rows. With `expect`, the result
/// must hold exactly the points 0..expect. Returns the merged table (written by the caller).
pub fn merge(inputs: &[&Path], expect: Option<u64>) -> Result<SweepTable> {
    let mut out = SweepTable::default();
    for (i, p) in inputs.iter().enumerate() {
        let t = SweepTable::read(p)?;
        if i == 0 {
            out.header = t.header;
        } else if t.header != out.header {
            return Err(Error::input(
                Location::path(p).line(1),
                format!(
                    "header differs from {}: shards of one sweep have the same columns",
                    inputs[0].display()
                ),
            ));
        }
        for (idx, row) in t.rows {
            if let Some(prev) = out.rows.get(&idx) {
                if prev != &row {
                    return Err(Error::input(
                        Location::path(p),
                        format!("point {idx} differs from the same point in an earlier input; these are not shards of one sweep"),
                    ));
                }
            }
            out.rows.insert(idx, row);
        }
    }
    if let Some(n) = expect {
        let missing: Vec<u64> = (0..n).filter(|i| !out.rows.contains_key(i)).collect();
        let extra = out.rows.keys().filter(|&&i| i >= n).count();
        if !missing.is_empty() || extra > 0 {
            let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
            return Err(Error::setting(
                "points",
                format!(
                    "expected points 0..{n}: {} missing{}{}",
                    missing.len(),
                    if shown.is_empty() {
                        String::new()
                    } else {
                        format!(" (first: {})", shown.join(", "))
                    },
                    if extra > 0 {
                        format!(", {extra} with index >= {n}")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
    Ok(out)
}

/// Indices in 0..=max that are absent (for the merge's gap warning).
pub fn gaps(t: &SweepTable) -> Vec<u64> {
    let Some(&max) = t.rows.keys().next_back() else {
        return Vec::new();
    };
    (0..=max).filter(|i| !t.rows.contains_key(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_parse_round_trip() {
        let header: Vec<String> = ["index", "workload", "k"].map(String::from).to_vec();
        let mut t = SweepTable {
            header,
            rows: BTreeMap::new(),
        };
        t.rows
            .insert(1, ["1", "a,b", "[1, 2]"].map(String::from).to_vec());
        t.rows
            .insert(0, ["0", "x", "\"q\""].map(String::from).to_vec());
        let bytes = t.to_bytes();
        let back = SweepTable::parse(std::str::from_utf8(&bytes).unwrap(), "t.csv").unwrap();
        assert_eq!(back, t);
        assert_eq!(back.to_bytes(), bytes);
        assert!(bytes.starts_with(b"index,workload,k\n0,x,"));
    }

    #[test]
    fn conflicting_duplicate_is_an_error() {
        let e = SweepTable::parse("index,a\n0,1\n0,2\n", "t.csv").unwrap_err();
        assert!(e.to_string().contains("t.csv:3"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }
}
