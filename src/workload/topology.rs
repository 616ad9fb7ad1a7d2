//! SCALE-Sim topology CSV reader.
//!
//! Format (SCALE-Sim 3.0.0 `topology_utils.py`, see docs/scalesim/MODEL.md §1.2):
//! * the first line is a header and is skipped; blank lines are skipped;
//! * conv rows: `name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filter, stride,`
//! * GEMM rows: `name, M, N, K,` (C[M×N] = A[M×K]·B[K×N]; note the column order M, N, K);
//! * rows are told apart by their field count; one trailing comma is tolerated (SCALE-Sim
//!   *requires* it and silently drops the last field without it; archsim accepts both and never
//!   drops a field);
//! * a layer whose name contains `DP` is depthwise: SCALE-Sim splits it into `channels` layers of
//!   one channel each, and so does archsim;
//! * conv rows use SCALE-Sim's output-size convention `ceil((H − Fh + S)/S)` with no padding.
//!
//! An optional trailing sparsity column (`N:M`, SCALE-Sim 3) is accepted when dense (`N = M`, as
//! SCALE-Sim's default `1:1`) and ignored; a sparse ratio is rejected with a clear error: archsim
//! models dense GEMMs only.

use super::{check_dim, Conv2d, DType, Gemm, Layer, Workload};
use crate::error::{Error, Location, Result};

/// Parse a topology CSV. `file` names the file in errors; `dtype` is given to every layer.
pub fn parse(src: &str, file: &str, name: &str, dtype: DType) -> Result<Workload> {
    let mut layers = Vec::new();
    for_each_layer(src, file, dtype, true, &mut |l| {
        layers.push(l);
        Ok(())
    })?;
    Ok(Workload {
        name: name.to_string(),
        layers,
        tokens: Default::default(),
    })
}

/// Most channels of a depthwise (`DP`) layer, each of which becomes a layer of its own: 2^20,
/// far above real networks (MobileNet's widest depthwise layer has 1,024), so a typo cannot
/// turn one row into billions of layers.
pub const MAX_DEPTHWISE_CHANNELS: u64 = 1 << 20;

/// FNV-1a hash of a layer name: the duplicate check keeps 16 bytes per layer (hash → line)
/// instead of the names, and confirms a hash hit by finding the earlier line with that name.
fn name_hash(name: &str) -> u64 {
    crate::fsio::fnv1a64(name)
}

/// The line (1-based) of the first data row before `before` whose name is `name`, if any.
fn earlier_line_named(src: &str, name: &str, before: usize) -> Option<usize> {
    src.lines()
        .enumerate()
        .skip(1)
        .take(before.saturating_sub(2))
        .find(|(_, l)| l.split(',').next().map(str::trim) == Some(name))
        .map(|(i, _)| i + 1)
}

/// Read a topology CSV row by row, handing each layer to `f` in order without keeping them
/// (so a 10^6-row topology streams in bounded memory). Every row is checked as it is read;
/// `check_duplicates` also refuses a layer name used twice (set it on a validation pass; a
/// second pass over a validated text may skip it). Returns the number of layers; a text with
/// none is an input error.
pub fn for_each_layer(
    src: &str,
    file: &str,
    dtype: DType,
    check_duplicates: bool,
    f: &mut dyn FnMut(Layer) -> Result<()>,
) -> Result<usize> {
    let mut count = 0usize;
    let mut seen = std::collections::HashMap::<u64, usize>::new();
    for (i, raw) in src.lines().enumerate() {
        let line_no = i + 1;
        if i == 0 {
            continue; // header
        }
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut fields: Vec<&str> = line.split(',').map(|f| f.trim()).collect();
        if fields.len() > 1 && fields.last() == Some(&"") {
            fields.pop();
        }
        let loc = || Location::file(file).line(line_no);
        let lname = fields[0].to_string();
        if lname.is_empty() {
            return Err(Error::input(
                loc().key("name"),
                "layer name is empty; the first field of a row is the layer name",
            ));
        }
        // A hash hit: a duplicate if an earlier row has exactly this name.
        if check_duplicates && seen.insert(name_hash(&lname), line_no).is_some() {
            if let Some(prev) = earlier_line_named(src, &lname, line_no) {
                return Err(Error::input(
                    loc().key("name"),
                    format!("duplicated layer name `{lname}` (first used on line {prev}); give every layer a unique name"),
                ));
            }
        }
        if let Some(ratio) = fields.last().filter(|f| f.contains(':')) {
            // SCALE-Sim 3's optional `N:M` column (`topology_utils.load_arrays_*`, default
            // `1:1`): a dense ratio (N = M) is what archsim models, so the field is dropped.
            let nm: Vec<Option<u64>> = ratio.split(':').map(|x| x.trim().parse().ok()).collect();
            match nm.as_slice() {
                [Some(n), Some(m)] if n == m && *n > 0 => {
                    fields.pop();
                }
                [Some(n), Some(m)] if n < m && *n > 0 => {
                    return Err(Error::input(
                        loc().key("sparsity"),
                        format!("N:M sparsity {n}:{m} is not supported (archsim models dense GEMMs); use 1:1 or remove the last field"),
                    ));
                }
                _ => {
                    return Err(Error::input(
                        loc().key("sparsity"),
                        format!("`{ratio}` is not an N:M sparsity ratio with 0 < N ≤ M (for example 1:1 or 2:4)"),
                    ));
                }
            }
        }
        let num = |idx: usize, key: &str| -> Result<u64> {
            let f = fields[idx];
            let col = line
                .split(',')
                .take(idx)
                .map(|s| s.len() + 1)
                .sum::<usize>()
                + 1;
            let v: i128 = f.parse().map_err(|_| {
                Error::input(
                    loc().column(col).key(key),
                    format!("`{f}` is not an integer; {key} must be a positive whole number"),
                )
            })?;
            check_dim(key, v).map_err(|m| Error::input(loc().column(col).key(key), m))
        };
        match fields.len() {
            4 => {
                let g = Gemm {
                    dtype,
                    ..Gemm::new(lname, num(1, "M")?, num(2, "N")?, num(3, "K")?)
                };
                count += 1;
                f(Layer::Gemm(g))?;
            }
            8 => {
                let (h, w) = (num(1, "ifmap_h")?, num(2, "ifmap_w")?);
                let (fh, fw) = (num(3, "filter_h")?, num(4, "filter_w")?);
                let c = num(5, "channels")?;
                let nf = num(6, "num_filter")?;
                let s = num(7, "stride")?;
                if fh > h || fw > w {
                    return Err(Error::input(
                        loc().key("filter_h"),
                        format!("filter {fh}x{fw} is larger than the ifmap {h}x{w}; SCALE-Sim convs have no padding, so pass the padded ifmap size"),
                    ));
                }
                let conv = |name: String, ch: u64| Conv2d {
                    name,
                    batch: 1,
                    in_h: h,
                    in_w: w,
                    in_c: ch,
                    filters: nf,
                    kernel_h: fh,
                    kernel_w: fw,
                    stride: s,
                    padding: 0,
                    dtype,
                    scalesim_ceil: true,
                };
                if lname.contains("DP") && c > MAX_DEPTHWISE_CHANNELS {
                    return Err(Error::input(
                        loc().key("channels"),
                        format!("a depthwise layer is split into one layer per channel; {c} channels is more than the {MAX_DEPTHWISE_CHANNELS} allowed"),
                    ));
                }
                if lname.contains("DP") {
                    // SCALE-Sim `topology_utils`: depthwise layers become `channels` 1-channel layers.
                    for ch in 0..c {
                        count += 1;
                        f(Layer::Conv2d(conv(format!("{lname}_ch{ch}"), 1)))?;
                    }
                } else {
                    count += 1;
                    f(Layer::Conv2d(conv(lname, c)))?;
                }
            }
            n => {
                return Err(Error::input(
                    loc(),
                    format!(
                        "row has {n} fields; expected 4 for a GEMM row (name, M, N, K) or 8 for a conv row (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filter, stride)"
                    ),
                ))
            }
        }
    }
    if count == 0 {
        return Err(Error::input(
            Location::file(file),
            "topology has no layers (the first line is a header; add at least one row)",
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_and_gemm_rows_with_and_without_trailing_comma() {
        let src = "Layer, a, b, c,\nconv1, 224, 224, 7, 7, 3, 64, 2,\ng, 16, 32, 64\n\n";
        let w = parse(src, "t.csv", "t", DType::Int8).unwrap();
        let ops = w.ops();
        assert_eq!(ops.len(), 2);
        match &ops[0] {
            crate::workload::Op::Gemm(g) => assert_eq!((g.m, g.n, g.k), (12100, 64, 147)),
            _ => panic!(),
        }
        match &ops[1] {
            crate::workload::Op::Gemm(g) => assert_eq!((g.m, g.n, g.k), (16, 32, 64)),
            _ => panic!(),
        }
    }

    #[test]
    fn bad_rows_name_line_and_key() {
        let cases = [
            ("h\ng, 0, 1, 1,\n", "t.csv:2", "M"),
            ("h\ng, 1, -3, 1,\n", "t.csv:2", "N"),
            ("h\ng, 1, x, 1,\n", "t.csv:2", "N"),
            ("h\ng, 1, 1,\n", "t.csv:2", "fields"),
            ("h\ng, 1, 1, 1, 1, 1, 1, 1, 1, 1,\n", "t.csv:2", "fields"),
            ("h\n", "t.csv", "no layers"),
            ("h\ng, 1, 1, 1,\ng, 2, 2, 2,\n", "t.csv:3", "duplicated"),
            (
                "h\nc, 3, 3, 5, 5, 1, 1, 1,\n",
                "t.csv:2",
                "larger than the ifmap",
            ),
            ("h\ng, 1, 1, 1, 2:4,\n", "t.csv:2", "sparsity"),
            ("h\ng, 1, 1, 1, 2:x,\n", "t.csv:2", "sparsity"),
            ("h\nc, 9, 9, 3, 3, 1, 1, 1, 4:2,\n", "t.csv:2", "sparsity"),
            ("h\ng, 1, 1, 99999999999,\n", "t.csv:2", "2^32"),
            (
                "h\nxDP, 3, 3, 1, 1, 4294967295, 1, 1,\n",
                "t.csv:2",
                "channels",
            ),
            (
                "h\na, 1, 1, 1,\nb, 1, 1, 1,\n\na, 2, 2, 2,\n",
                "t.csv:5",
                "first used on line 2",
            ),
        ];
        for (src, loc, needle) in cases {
            let e = parse(src, "t.csv", "t", DType::Bf16).unwrap_err();
            let m = e.to_string();
            assert!(m.starts_with(loc), "{m}");
            assert!(m.contains(needle), "{m}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    /// A dense `N:M` column (SCALE-Sim 3's default `1:1`) parses as if it were absent.
    #[test]
    fn dense_sparsity_column_is_ignored() {
        let plain = "h\ng, 64, 32, 16,\nc, 10, 12, 3, 3, 4, 8, 2,\n";
        let dense = "h\ng, 64, 32, 16, 1:1,\nc, 10, 12, 3, 3, 4, 8, 2, 4:4\n";
        let a = parse(plain, "t.csv", "t", DType::Bf16).unwrap();
        let b = parse(dense, "t.csv", "t", DType::Bf16).unwrap();
        assert_eq!(format!("{:?}", a.layers), format!("{:?}", b.layers));
        assert_eq!(a.layers.len(), 2);
    }

    #[test]
    fn depthwise_split() {
        let src = "h\nconvDP, 10, 10, 3, 3, 4, 1, 1,\n";
        let w = parse(src, "t.csv", "t", DType::Bf16).unwrap();
        assert_eq!(w.layers.len(), 4);
    }
}
