//! All file I/O of the library in one place: reading user input files (with input errors that
//! name the file) and writing outputs atomically (temp file + rename).
//!
//! Why not `tempfile::NamedTempFile::persist` for outputs: its temp names are random, so a later
//! run cannot tell the temp file of a killed writer from that of a live one. Ours are
//! `.<name>.tmp.<pid>`, so the next writer of the same path removes exactly those whose process
//! is gone ([`remove_dead_temp_files`]); a writer that fails removes its own. (tempfile is a
//! dev-dependency only: the tests and benches make temporary directories with it.)

use crate::error::{Error, Location, Result};
use std::path::Path;

/// Largest input file read (configs, workloads, topologies, sweep files, reference data):
/// 256 MiB, far above any real one (a 10^6-layer topology CSV is ~30 MB), so a wrong path to a
/// huge file fails at once instead of filling memory.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Read a user input file as UTF-8 text, turning every failure into an input error that names the
/// file and says what is wrong (missing, a directory, not a regular file such as a device or a
/// FIFO, larger than [`MAX_INPUT_BYTES`], unreadable, not UTF-8). Symbolic links are followed.
pub fn read_input_file(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        msg: match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => format!("cannot read: {e}"),
        },
    })?;
    let refuse = |msg: String| Error::InputFile {
        path: path.to_path_buf(),
        msg,
    };
    if meta.is_dir() {
        return Err(refuse("is a directory, expected a file".into()));
    }
    if !meta.is_file() {
        return Err(refuse(
            "is not a regular file (a device, FIFO or socket); give a file".into(),
        ));
    }
    let too_big = || {
        refuse(format!(
            "is larger than the {} MiB an input file may have",
            MAX_INPUT_BYTES >> 20
        ))
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| refuse(format!("cannot read: {e}")))?;
        // The file may grow after the size check: read at most one byte past the cap.
        f.take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| refuse(format!("cannot read: {e}")))?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::input(
            Location::path(path).line(line),
            format!(
                "file is not valid UTF-8 (invalid byte at offset {valid}); save it as UTF-8 text"
            ),
        )
    })
}

/// FNV-1a 64-bit hash of a text (Fowler–Noll–Vo, the 64-bit offset basis and prime): a content
/// fingerprint that tells files apart for provenance checks (not a cryptographic hash).
pub fn fnv1a64(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A CSV input file read whole: its header and rows as text. Errors name the file (and the line
/// of a malformed record).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    pub path: std::path::PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl CsvFile {
    pub fn read(path: &Path) -> Result<CsvFile> {
        let text = read_input_file(path)?;
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = rdr
            .headers()
            .map_err(|e| Error::input(Location::path(path), e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec =
                rec.map_err(|e| Error::input(Location::path(path).line(i + 2), e.to_string()))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(CsvFile {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The data rows with their 1-based line numbers in the file (the header is line 1).
    pub fn numbered_rows(&self) -> impl Iterator<Item = (usize, &[String])> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i + 2, r.as_slice()))
    }

    /// An input error about the value of column `key` on `line`.
    pub fn error_at(&self, line: usize, key: &str, msg: String) -> Error {
        Error::input(Location::path(&self.path).line(line).key(key), msg)
    }

    /// Index of a column, if present.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c == name)
    }

    /// Index of a required column; an input error naming the file, line 1 and the column.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.find(name).ok_or_else(|| {
            Error::input(
                Location::path(&self.path).line(1).key(name),
                format!("missing column `{name}`"),
            )
        })
    }
}

/// One output: a file name (used under `--out DIR`) and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Write bytes to `path` atomically: a temp file in the same directory, then rename, so an
/// interrupted run never leaves a truncated report and an existing file is never half-written.
/// The temp file is this module's own `.<name>.tmp.<pid>` ([`AtomicWriter`], not tempfile's
/// `NamedTempFile`: see the module doc); it is synced before it is renamed over `path`, removed
/// if anything fails, and removed by the next writer of `path` if this process is killed first.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut w = AtomicWriter::create(path)?;
    w.write(bytes)?;
    w.commit()
}

/// The temp file of `path` written by process `pid`: `.<name>.tmp.<pid>` beside it.
fn temp_path(path: &Path, file_name: &str, pid: u32) -> std::path::PathBuf {
    path.with_file_name(format!(".{file_name}.tmp.{pid}"))
}

/// True when no process `pid` runs (Linux: no `/proc/<pid>`). Elsewhere the answer is false,
/// so a temp file is never taken from a live writer.
fn process_is_gone(pid: u32) -> bool {
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        !Path::new("/proc").join(pid.to_string()).exists()
    } else {
        false
    }
}

/// Remove the temp files `.<name>.tmp.<pid>` beside `path` whose writer process is gone (a run
/// killed between creating and renaming its temp file). Temp files of live writers are left
/// alone; failures are ignored (they only leave litter).
pub fn remove_dead_temp_files(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let prefix = format!(".{name}.tmp.");
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => std::path::PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && process_is_gone(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// An output file written piece by piece and put in place atomically: the bytes go to a temp
/// file beside it (`.<name>.tmp.<pid>`), renamed over `path` by [`commit`](Self::commit). A
/// writer dropped without committing (an error) removes its temp file; the temp files of killed
/// runs are removed by the next writer of the same path ([`remove_dead_temp_files`]).
pub struct AtomicWriter {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicWriter {
    /// Create the temp file of `path` (and its directory).
    pub fn create(path: &Path) -> Result<AtomicWriter> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(d) = dir {
            std::fs::create_dir_all(d).map_err(|e| {
                Error::internal(format!("cannot create directory {}: {e}", d.display()))
            })?;
        }
        let file_name = path
            .file_name()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::internal(format!("bad output path {}", path.display())))?;
        remove_dead_temp_files(path);
        let tmp = temp_path(path, file_name, std::process::id());
        let f = std::fs::File::create(&tmp)
            .map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.display())))?;
        Ok(AtomicWriter {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::new(f)),
        })
    }

    /// Append bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let tmp = &self.tmp;
        match self.file.as_mut() {
            Some(f) => f
                .write_all(bytes)
                .map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.display()))),
            None => Err(Error::internal(format!(
                "{} was already committed",
                self.path.display()
            ))),
        }
    }

    /// Flush, sync and rename the temp file over `path`.
    pub fn commit(mut self) -> Result<()> {
        let tmp_err = |e: std::io::Error, tmp: &Path| {
            Error::internal(format!("cannot write {}: {e}", tmp.display()))
        };
        let f = self
            .file
            .take()
            .ok_or_else(|| Error::internal("committed twice".to_string()))?;
        let f = f
            .into_inner()
            .map_err(|e| tmp_err(e.into_error(), &self.tmp))?;
        f.sync_all().map_err(|e| tmp_err(e, &self.tmp))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&self.tmp);
            Error::internal(format!(
                "cannot move output into {}: {e}",
                self.path.display()
            ))
        })
    }
}

/// Lets serializers (`serde_json::to_writer`) write straight into the file.
impl std::io::Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        AtomicWriter::write(self, buf).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Write every file under `dir` atomically.
pub fn write_all(dir: &Path, files: &[OutputFile]) -> Result<()> {
    for f in files {
        write_atomic(&dir.join(&f.name), &f.bytes)?;
    }
    Ok(())
}

/// The file stem of a path given as text (`kernels/resnet50.toml` → `resnet50`), or the text
/// itself when it has none: the default name of a workload or model read from that path.
pub fn file_stem(spec: &str) -> String {
    std::path::Path::new(spec)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(spec)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.txt");
        write_atomic(&p, b"first version, long").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_is_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        write_atomic(&p, b"{}").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        // Readable by the group or others unless the umask forbids it, as File::create.
        let umask_allows_read = std::fs::File::create(d.path().join("probe"))
            .and_then(|f| f.metadata())
            .map(|m| m.permissions().mode() & 0o044)
            .unwrap();
        assert_eq!(mode & 0o044, umask_allows_read, "mode {mode:o}");
    }

    #[test]
    fn failed_atomic_write_leaves_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails and the temp file is removed.
        let p = d.path().join("out");
        std::fs::create_dir_all(p.join("inner")).unwrap();
        assert!(write_atomic(&p, b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
    }

    /// The temp file of a killed writer (a pid that no longer runs) is removed by the next
    /// write; one of a live process (this one's parent) and other files are kept; an
    /// uncommitted writer removes its own.
    #[test]
    fn dead_writers_temp_files_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        // Pids are below 2^22 on Linux: 4_000_000_000 never runs.
        let dead = d.path().join(".report.json.tmp.4000000000");
        let live = d.path().join(format!(
            ".report.json.tmp.{}",
            std::os::unix::process::parent_id()
        ));
        let other = d.path().join(".other.json.tmp.4000000000");
        for f in [&dead, &live, &other] {
            std::fs::write(f, b"partial").unwrap();
        }
        write_atomic(&p, b"{}").unwrap();
        assert!(!dead.exists() || !cfg!(target_os = "linux"));
        assert!(live.exists() && other.exists());
        {
            let mut w = AtomicWriter::create(&d.path().join("x.csv")).unwrap();
            w.write(b"a,b").unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names.len(),
            if cfg!(target_os = "linux") { 3 } else { 4 },
            "{names:?}"
        );
    }
}
