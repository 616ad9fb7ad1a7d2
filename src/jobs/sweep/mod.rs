//! Design-space sweeps: run the cartesian product of config values × workloads, in parallel,
//! into one CSV row per point.
//!
//! ```text
//! archsim sweep --config BASE --sweep SWEEP.toml --out results.csv [--shard I/N] [--mode M] [-q]
//! archsim merge OUT.csv SHARD0.csv SHARD1.csv ...
//! ```
//!
//! * [`spec`]: the sweep file (lists, `{from, to, step}` / `{from, to, factor}` ranges,
//!   `workloads`), point order and the point cap.
//! * [`base`]: applying a point to the base config (TOML table edit + re-parse, or SCALE-Sim
//!   `.cfg` text rewrite + re-parse).
//! * [`table`]: the CSV (rendering, reading, merging).
//! * [`plot`]: reading a sweep CSV back into heatmap cells and time/energy pairs.
//!
//! **Point order.** Points are numbered 0..N in the product order: workload outermost, then the
//! swept keys in file order, the last key fastest. Rows are always written sorted by that
//! index, so the CSV is the same whatever the thread count, shard split or interruptions.
//!
//! **Shards.** `--shard I/N` (0 ≤ I < N) runs the points whose `index % N == I` (round-robin, so
//! every shard gets a similar mix of cheap and expensive points). Each shard's CSV carries the
//! index column; `archsim merge` joins them, sorted by index, into the bytes an unsharded run
//! writes.
//!
//! **Resume.** If `--out` exists it must be a sweep CSV of the same columns; its rows are kept
//! when their index belongs to this run (this shard) and their swept values equal that point's
//! values (anything else is an error: the file belongs to another sweep). Only the missing points
//! run. Progress is checkpointed: every few seconds (and at the end) the whole file is rewritten
//! atomically (temp file + rename, [`crate::fsio::write_atomic`]) with all rows so far sorted
//! by index, so a killed run leaves a valid CSV and a rerun ends with the same bytes as an
//! uninterrupted run.
//!
//! **Per-point work.** Workloads are parsed and lowered once; each point builds its config and
//! machine once and simulates the ops one after another on its rayon worker (points, not ops,
//! are the parallel unit), then sums them ([`crate::run::simulate_sequential`]).

pub mod base;
pub mod cost;
pub mod fleet;
pub mod plot;
pub mod spec;
pub mod table;

use crate::config::SimMode;
use crate::error::{Error, Location, Result};
use crate::fsio::write_atomic;
use crate::run::simulate_sequential;
use crate::workload::Op;
use base::{BaseConfig, BoundBase};
use rayon::prelude::*;
use spec::SweepSpec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use table::SweepTable;

/// Result columns after the swept values, in order. `area_mm2` and `die_cost_usd` are the
/// point's area and die cost from [`cost::area_cost`] (first-order, for comparing the points of
/// one sweep).
pub const METRIC_COLUMNS: [&str; 12] = [
    "time_s",
    "cycles",
    "utilization",
    "tflops",
    "energy_pj",
    "pj_per_flop",
    "hbm_read_bytes",
    "hbm_write_bytes",
    "hbm_bytes",
    "main_stall",
    "area_mm2",
    "die_cost_usd",
];

/// Value index of each axis of point `index` in a product of axes of `radix[a]` values each:
/// mixed radix, the last axis fastest (the point order of every sweep).
pub fn digits(radix: &[usize], mut index: u64) -> Vec<usize> {
    let mut d = vec![0; radix.len()];
    for (slot, &r) in d.iter_mut().zip(radix).rev() {
        *slot = (index % r as u64) as usize;
        index /= r as u64;
    }
    d
}

/// A deterministic slice of a sweep: the points with `index % count == index_of_shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parse `I/N` with 0 ≤ I < N.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = |m: String| Error::setting("shard", m);
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| bad(format!("`{s}`: expected I/N, e.g. --shard 0/4")))?;
        let i: u64 = i
            .trim()
            .parse()
            .map_err(|_| bad(format!("`{s}`: I = `{i}` is not a non-negative integer")))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("`{s}`: N = `{n}` is not a positive integer")))?;
        if n == 0 || i >= n {
            return Err(bad(format!(
                "`{s}`: need 0 <= I < N (shards are numbered from 0, e.g. 0/4 .. 3/4; with Slurm use --array=0-{})",
                n.max(1) - 1
            )));
        }
        Ok(Shard { index: i, count: n })
    }
    pub fn contains(&self, point: u64) -> bool {
        point % self.count == self.index
    }
}

/// True when `point` belongs to the run of `shard` (every point without a shard).
pub fn in_shard(shard: Option<Shard>, point: u64) -> bool {
    match shard {
        Some(s) => s.contains(point),
        None => true,
    }
}

/// One workload of the sweep, parsed and lowered once.
#[derive(Debug, Clone)]
pub struct SweepWorkload {
    /// The spec as written in the sweep file (the CSV's `workload` column).
    pub spec: String,
    pub ops: Vec<Op>,
}

/// A prepared sweep: spec, bound base config and workloads.
pub struct Sweep {
    pub spec: SweepSpec,
    pub base: BoundBase,
    pub workloads: Vec<SweepWorkload>,
    pub mode: Option<SimMode>,
    /// Number of values per axis (workload first).
    radix: Vec<usize>,
    points: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSummary {
    /// Points of the whole sweep.
    pub total_points: u64,
    /// Points of this run's shard.
    pub shard_points: u64,
    /// Points found in an existing --out and kept.
    pub resumed: u64,
    /// Points simulated now.
    pub simulated: u64,
    pub elapsed: Duration,
}

impl Sweep {
    /// Load the base config, the sweep file and its workloads, and check every swept value.
    pub fn prepare(
        config: &str,
        sweep_file: &Path,
        mode: Option<SimMode>,
        max_points: u64,
    ) -> Result<Sweep> {
        let spec = SweepSpec::load(sweep_file)?;
        let base = BaseConfig::load(config)?;
        Self::from_parts(spec, base, mode, max_points, sweep_file.parent())
    }

    /// Prepare from parsed parts; relative workload paths that do not exist from the current
    /// directory are tried relative to `sweep_dir`.
    pub fn from_parts(
        spec: SweepSpec,
        base: BaseConfig,
        mode: Option<SimMode>,
        max_points: u64,
        sweep_dir: Option<&Path>,
    ) -> Result<Sweep> {
        let mut names = spec.workloads.clone();
        if names.is_empty() {
            names = base.parsed()?.default_workloads();
        }
        if names.is_empty() {
            return Err(Error::input(
                Location::file(spec.file.clone()).key("workloads"),
                format!("no workloads: add `workloads = [\"resnet50\"]` (shipped names, kernel .toml or topology .csv paths) to the sweep file; the base config {} names no [workload] kernels", base.file),
            ));
        }
        spec.point_count(names.len(), max_points)?;
        // Check the machine builds in this mode before binding (a wrong --mode is a flag error).
        base.parsed()?.build(mode)?;
        let base = base.bind(&spec)?;
        let mut workloads = Vec::new();
        for w in &names {
            let loaded = match crate::workload::load(w, None) {
                Ok(l) => l,
                Err(e) => {
                    let alt = sweep_dir
                        .filter(|_| Path::new(w).is_relative())
                        .map(|d| d.join(w))
                        .filter(|p| p.exists());
                    match alt {
                        Some(p) => crate::workload::load(&p.display().to_string(), None)?,
                        None => {
                            return Err(match e {
                                Error::InputFile { msg, .. } => Error::input(
                                    spec.loc("workloads", spec.workloads_line),
                                    format!("workload `{w}`: {msg}"),
                                ),
                                other => other,
                            })
                        }
                    }
                }
            };
            workloads.push(SweepWorkload {
                spec: w.clone(),
                ops: loaded.ops(),
            });
        }
        let mut radix = vec![workloads.len()];
        radix.extend(base.axis_lens());
        let points = spec.point_count(workloads.len(), max_points)?;
        Ok(Sweep {
            spec,
            base,
            workloads,
            mode,
            radix,
            points,
        })
    }

    /// Number of points (all shards).
    pub fn len(&self) -> u64 {
        self.points
    }

    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// CSV header: index, workload, swept keys, metrics.
    pub fn header(&self) -> Vec<String> {
        let mut h = vec!["index".to_string(), "workload".to_string()];
        h.extend(self.spec.axes.iter().map(|a| a.key.clone()));
        h.extend(METRIC_COLUMNS.iter().map(|s| s.to_string()));
        h
    }

    /// Value index of each axis (workload first) of a point: mixed radix, last axis fastest.
    pub fn digits(&self, index: u64) -> Vec<usize> {
        digits(&self.radix, index)
    }

    /// The swept values of a point as CSV text: workload, then each axis.
    pub fn point_values(&self, index: u64) -> Vec<String> {
        let d = self.digits(index);
        let mut v = vec![self.workloads[d[0]].spec.clone()];
        v.extend(
            d[1..]
                .iter()
                .enumerate()
                .map(|(a, &i)| self.base.value_text(a, i)),
        );
        v
    }

    /// Simulate one point and return its CSV row.
    pub fn eval(&self, index: u64) -> Result<Vec<String>> {
        let d = self.digits(index);
        let pick: Vec<Option<usize>> = d[1..].iter().map(|&i| Some(i)).collect();
        let values = || self.point_values(index)[1..].to_vec();
        let cfg = self
            .base
            .config_for(&pick)
            .map_err(|e| self.base.point_error(index, &values(), e))?;
        let machine = cfg
            .build(self.mode)
            .map_err(|e| self.base.point_error(index, &values(), e))?;
        let ops = &self.workloads[d[0]].ops;
        let (_, t) = simulate_sequential(machine.as_ref(), ops)
            .map_err(|e| self.base.point_error(index, &values(), e))?;
        let mut row = vec![index.to_string()];
        row.extend(self.point_values(index));
        row.extend([
            t.time_s.to_string(),
            t.cycles.to_string(),
            t.utilization.to_string(),
            t.tflops.to_string(),
            t.energy_pj.to_string(),
            t.pj_per_flop.to_string(),
            t.counters.hbm_read_bytes.to_string(),
            t.counters.hbm_write_bytes.to_string(),
            t.counters.hbm_bytes().to_string(),
            t.main_stall.clone(),
        ]);
        let ac = cost::area_cost(machine.info());
        row.extend([ac.area_mm2.to_string(), ac.die_cost_usd.to_string()]);
        Ok(row)
    }
}

/// The points of a sweep, whatever is swept: chip-config keys × workloads ([`Sweep`]) or train
/// and serve parameters ([`fleet::FleetSweep`]). [`PointSet::run_with_progress`] runs them
/// with the same sharding, resume, checkpoints, lock and provenance.
pub trait PointSet: Sync {
    /// Number of points (all shards).
    fn points(&self) -> u64;
    /// CSV header: `index`, the swept columns, the result columns.
    fn header(&self) -> Vec<String>;
    /// The swept values of a point as CSV text (the columns after `index`).
    fn point_values(&self, index: u64) -> Vec<String>;
    /// Simulate one point and return its CSV row (index first).
    fn eval(&self, index: u64) -> Result<Vec<String>>;
    /// The provenance of this sweep's results (of one shard when `shard` is given).
    fn provenance(&self, shard: Option<Shard>) -> Provenance;

    /// Simulate every point in memory (points in parallel, as [`Sweep::run`]) and return the
    /// CSV text [`Sweep::run`] would write for the whole sweep: the same header and rows, sorted
    /// by index, whatever the thread count. On failure, the error of the lowest failing point.
    /// The Python bindings' `sweep` (no output file, lock or provenance).
    fn csv_in_memory(&self) -> Result<String> {
        let done: Vec<Result<Vec<String>>> = (0..self.points())
            .into_par_iter()
            .map(|i| self.eval(i))
            .collect();
        let rows = done.into_iter().collect::<Result<Vec<_>>>()?;
        String::from_utf8(table::render(&self.header(), rows.iter()))
            .map_err(|e| Error::internal(e.to_string()))
    }

    /// Run the sweep (or one shard) into `out`, resuming from it when `resume`.
    fn run(&self, opts: &RunOptions) -> Result<SweepSummary> {
        self.run_with_progress(opts, &|_| {})
    }

    /// [`PointSet::run`], telling `progress` how far it got.
    fn run_with_progress(
        &self,
        opts: &RunOptions,
        progress: &(dyn Fn(SweepProgress) + Sync),
    ) -> Result<SweepSummary> {
        run_points(self, opts, progress)
    }
}

impl Sweep {
    /// Run the sweep (or one shard) into `out`, resuming from it when `resume`.
    pub fn run(&self, opts: &RunOptions) -> Result<SweepSummary> {
        run_points(self, opts, &|_| {})
    }

    /// [`Sweep::run`], telling `progress` how far it got.
    pub fn run_with_progress(
        &self,
        opts: &RunOptions,
        progress: &(dyn Fn(SweepProgress) + Sync),
    ) -> Result<SweepSummary> {
        run_points(self, opts, progress)
    }
}

impl PointSet for Sweep {
    fn points(&self) -> u64 {
        self.points
    }
    fn header(&self) -> Vec<String> {
        Sweep::header(self)
    }
    fn point_values(&self, index: u64) -> Vec<String> {
        Sweep::point_values(self, index)
    }
    fn eval(&self, index: u64) -> Result<Vec<String>> {
        Sweep::eval(self, index)
    }
    fn provenance(&self, shard: Option<Shard>) -> Provenance {
        Sweep::provenance(self, shard)
    }
}

/// Check an existing output's rows against the sweep and keep those of this shard.
fn resume_rows<P: PointSet + ?Sized>(
    set: &P,
    out: &Path,
    shard: Option<Shard>,
) -> Result<BTreeMap<u64, Vec<String>>> {
    if !out.exists()
        || std::fs::metadata(out)
            .map(|m| m.len() == 0)
            .unwrap_or(false)
    {
        return Ok(BTreeMap::new());
    }
    let existing = SweepTable::read(out)?;
    let loc = || Location::path(out);
    if existing.header != set.header() {
        return Err(Error::input(
                loc().line(1),
                format!(
                    "--out exists with other columns ({}); it is from another sweep: delete it, choose another --out, or pass --no-resume to overwrite it",
                    existing.header.join(",")
                ),
            ));
    }
    for (&idx, row) in &existing.rows {
        let here = idx < set.points() && in_shard(shard, idx);
        if !here {
            return Err(Error::input(
                    loc(),
                    format!("--out holds point {idx}, which is not a point of this run{}; it is from another sweep or shard: delete it or choose another --out", shard.map(|s| format!(" (shard {}/{})", s.index, s.count)).unwrap_or_default()),
                ));
        }
        let want = set.point_values(idx);
        if row[1..1 + want.len()] != want[..] {
            return Err(Error::input(
                    loc(),
                    format!("--out row of point {idx} has swept values ({}) but this sweep's point {idx} is ({}); it is from another sweep: delete it or choose another --out", row[1..1 + want.len()].join(", "), want.join(", ")),
                ));
        }
    }
    Ok(existing.rows)
}

/// The runner behind [`PointSet::run_with_progress`].
fn run_points<P: PointSet + ?Sized>(
    set: &P,
    opts: &RunOptions,
    progress: &(dyn Fn(SweepProgress) + Sync),
) -> Result<SweepSummary> {
    let start = Instant::now();
    // Held until this run returns: a second sweep writing the same --out is refused.
    let _lock = lock_output(&opts.out)?;
    let prov = set.provenance(opts.shard);
    let side = provenance_path(&opts.out);
    if opts.resume && opts.out.exists() {
        if let Some(old) = Provenance::read(&side)? {
            if let Some(diff) = old.differs_from(&prov) {
                return Err(Error::input(
                        Location::path(&opts.out),
                        format!("--out holds results of another run ({diff}, see {}); delete it, choose another --out, or pass --no-resume to overwrite it", side.display()),
                    ));
            }
        }
    }
    let mut rows = if opts.resume {
        resume_rows(set, &opts.out, opts.shard)?
    } else {
        BTreeMap::new()
    };
    prov.write(&side)?;
    let resumed = rows.len() as u64;
    let mine: Vec<u64> = (0..set.points())
        .filter(|&i| in_shard(opts.shard, i))
        .collect();
    let shard_points = mine.len() as u64;
    let pending: Vec<u64> = mine.into_iter().filter(|i| !rows.contains_key(i)).collect();
    let header = set.header();
    let write = |rows: &BTreeMap<u64, Vec<String>>| {
        write_atomic(&opts.out, &table::render(&header, rows.values()))
    };
    progress(SweepProgress::Start {
        points: shard_points,
        done: resumed,
    });
    // Batches bound the work lost to an interruption; a checkpoint is written after a batch
    // when `checkpoint` has passed since the last one.
    let batch = (pending.len() / 32).clamp(64, 4096);
    let mut last_write = Instant::now();
    for chunk in pending.chunks(batch) {
        let done: Vec<Result<Vec<String>>> = chunk
            .par_iter()
            .map(|&i| {
                let r = set.eval(i);
                progress(SweepProgress::Point);
                r
            })
            .collect();
        let mut first_err = None;
        for (&i, r) in chunk.iter().zip(done) {
            match r {
                Ok(row) => {
                    rows.insert(i, row);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_err {
            progress(SweepProgress::Finish { ok: false });
            // Keep what finished, so a rerun after fixing nothing else resumes.
            if rows.len() as u64 > resumed {
                write(&rows)?;
            }
            return Err(e);
        }
        if last_write.elapsed() >= opts.checkpoint {
            write(&rows)?;
            last_write = Instant::now();
        }
    }
    write(&rows)?;
    progress(SweepProgress::Finish { ok: true });
    Ok(SweepSummary {
        total_points: set.points(),
        shard_points,
        resumed,
        simulated: pending.len() as u64,
        elapsed: start.elapsed(),
    })
}

/// Options of [`Sweep::run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out: PathBuf,
    pub shard: Option<Shard>,
    /// Keep rows of an existing `out` (default true).
    pub resume: bool,
    /// Minimum time between checkpoint rewrites of `out`.
    pub checkpoint: Duration,
}

impl RunOptions {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        RunOptions {
            out: out.into(),
            shard: None,
            resume: true,
            checkpoint: Duration::from_secs(5),
        }
    }
}

/// Progress of a sweep run, for a caller that shows it (the CLI draws a bar; the library
/// draws nothing). Called from rayon workers, so observers must be `Sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepProgress {
    /// The run starts: `points` in this shard, `done` of them resumed from the output file.
    Start { points: u64, done: u64 },
    /// One more point finished.
    Point,
    /// The run finished (`ok`) or stopped on an error.
    Finish { ok: bool },
}

/// Take the write lock of a sweep output: an advisory exclusive lock (`flock`) on
/// `<out>.lock`, released by the OS when the process ends, killed or not (so a resume after
/// SIGKILL is never blocked). While holding it, temp files that killed runs left beside `out`
/// (`.<name>.tmp.<random>`, see [`crate::fsio::write_atomic`]) are removed. On a file system without
/// locks the run goes on unlocked.
fn lock_output(out: &Path) -> Result<Option<std::fs::File>> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|e| {
            Error::internal(format!("cannot create directory {}: {e}", d.display()))
        })?;
    }
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let path = out.with_file_name(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::internal(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::input(
                Location::path(out),
                format!(
                    "another archsim is writing this file (it holds {}); wait for it to finish or choose another --out",
                    path.display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            return Ok(None)
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::internal(format!("cannot lock {}: {e}", path.display())))
        }
    }
    remove_stale_temp_files(out);
    Ok(Some(file))
}

/// Remove `.<name>.tmp.*` files beside `out` (left by killed runs; the caller holds the lock, so
/// no live writer owns them). Failures are ignored: they only leave litter.
fn remove_stale_temp_files(out: &Path) {
    let Some(name) = out.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let prefix = format!(".{name}.tmp.");
    let dir = match out.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Where a sweep CSV came from, written beside it as `<out>.provenance.json`: the archsim
/// version, [`crate::fsio::fnv1a64`] of the base config and of the sweep file, the model mode,
/// the number of points and the shard. A resume or a merge of results from another run is
/// refused (a CSV without this file, from an older archsim, is taken as it is).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    pub archsim_version: String,
    pub base_config: String,
    pub base_config_fnv64: String,
    pub sweep_file: String,
    pub sweep_file_fnv64: String,
    pub mode: Option<String>,
    pub points: u64,
    /// `I/N` for a shard, `None` for a whole sweep (or a merge of all shards).
    pub shard: Option<String>,
}

/// The provenance file of a sweep CSV: `<out>.provenance.json`.
pub fn provenance_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".provenance.json");
    out.with_file_name(name)
}

impl Provenance {
    /// The provenance file at `path`, if there is one.
    pub fn read(path: &Path) -> Result<Option<Provenance>> {
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::fsio::read_input_file(path)?;
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::input(
                Location::path(path).line(e.line()),
                format!("not an archsim provenance file: {e}"),
            )
        })
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::internal(e.to_string()))?;
        write_atomic(path, &json)
    }

    /// What differs from `other` that makes their results different runs (`None`: the same run).
    /// Paths are names only; the content hashes decide.
    pub fn differs_from(&self, other: &Provenance) -> Option<String> {
        let mut d = Vec::new();
        if self.archsim_version != other.archsim_version {
            d.push(format!(
                "archsim {} vs {}",
                self.archsim_version, other.archsim_version
            ));
        }
        if self.base_config_fnv64 != other.base_config_fnv64 {
            d.push(format!(
                "base config {} vs {} (content differs)",
                self.base_config, other.base_config
            ));
        }
        if self.sweep_file_fnv64 != other.sweep_file_fnv64 {
            d.push(format!(
                "sweep file {} vs {} (content differs)",
                self.sweep_file, other.sweep_file
            ));
        }
        if self.mode != other.mode {
            d.push(format!("mode {:?} vs {:?}", self.mode, other.mode));
        }
        if self.points != other.points {
            d.push(format!("{} vs {} points", self.points, other.points));
        }
        if self.shard != other.shard {
            d.push(format!("shard {:?} vs {:?}", self.shard, other.shard));
        }
        (!d.is_empty()).then(|| d.join("; "))
    }
}

impl Sweep {
    /// The provenance of this sweep's results (of one shard when `shard` is given).
    pub fn provenance(&self, shard: Option<Shard>) -> Provenance {
        Provenance {
            archsim_version: env!("CARGO_PKG_VERSION").to_string(),
            base_config: self.base.base.file.clone(),
            base_config_fnv64: format!("{:016x}", self.base.base.content_hash),
            sweep_file: self.spec.file.clone(),
            sweep_file_fnv64: format!("{:016x}", self.spec.content_hash),
            mode: self.mode.map(|m| m.as_str().to_string()),
            points: self.points,
            shard: shard.map(|s| format!("{}/{}", s.index, s.count)),
        }
    }
}

/// What `archsim merge` did.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSummary {
    /// Points in the merged file.
    pub points: usize,
    /// Shard files read.
    pub files: usize,
    /// Point indices missing below the largest one (a shard incomplete or missing).
    pub gaps: Vec<u64>,
}

/// The provenance of a merge: every shard must come from the same run (same version, base
/// config, sweep file, mode and points) and the files must all have a provenance file or none
/// (older results). `None` when none has one.
fn merged_provenance(shards: &[PathBuf]) -> Result<Option<Provenance>> {
    let mut found: Vec<(PathBuf, Option<Provenance>)> = Vec::new();
    for s in shards {
        found.push((s.clone(), Provenance::read(&provenance_path(s))?));
    }
    let with: Vec<&(PathBuf, Option<Provenance>)> =
        found.iter().filter(|(_, p)| p.is_some()).collect();
    if with.is_empty() {
        return Ok(None);
    }
    if let Some((missing, _)) = found.iter().find(|(_, p)| p.is_none()) {
        return Err(Error::input(
            Location::path(missing),
            format!(
                "has no {} while other shards have one: it is not from the same run",
                provenance_path(missing).display()
            ),
        ));
    }
    let first = with[0].1.clone().expect("present");
    let whole = |p: &Provenance| Provenance {
        shard: None,
        ..p.clone()
    };
    for (path, p) in &with[1..] {
        let p = p.as_ref().expect("present");
        if let Some(diff) = whole(p).differs_from(&whole(&first)) {
            return Err(Error::input(
                Location::path(path),
                format!(
                    "is not a shard of the same sweep as {} ({diff})",
                    with[0].0.display()
                ),
            ));
        }
    }
    Ok(Some(whole(&first)))
}

/// `archsim merge`: join shard CSVs into `out` (atomically), sorted by point index; with
/// `expect`, exactly the points `0..expect` must be present.
pub fn merge_files(out: &Path, shards: &[PathBuf], expect: Option<u64>) -> Result<MergeSummary> {
    let inputs: Vec<&Path> = shards.iter().map(|p| p.as_path()).collect();
    let merged_prov = merged_provenance(shards)?;
    let merged = table::merge(&inputs, expect)?;
    write_atomic(out, &merged.to_bytes())?;
    if let Some(p) = merged_prov {
        p.write(&provenance_path(out))?;
    }
    Ok(MergeSummary {
        points: merged.rows.len(),
        files: shards.len(),
        gaps: table::gaps(&merged),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parse() {
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            let e = Shard::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        let s = Shard::parse("2/3").unwrap();
        assert!(s.contains(5) && !s.contains(4));
    }
}
