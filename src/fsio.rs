//! All file I/O of the library in one place: reading user input files (with input errors that
//! name the file) and writing outputs atomically (temp file + rename).

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
/// The temp file is tempfile's `NamedTempFile` named `.<name>.tmp.<random>` (the prefix a sweep
/// sweeps up after a killed run); it is synced before `persist` renames it over `path`, and
/// removed if anything fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
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
    let dir = dir.unwrap_or(Path::new("."));
    let prefix = format!(".{file_name}.tmp.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // Like `File::create` (0666 less the umask), not tempfile's private 0600: outputs are
    // reports meant to be shared.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::internal(format!("cannot write in {}: {e}", dir.display())))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", tmp.path().display())))?;
    tmp.persist(path).map_err(|e| {
        Error::internal(format!(
            "cannot move output into {}: {}",
            path.display(),
            e.error
        ))
    })?;
    Ok(())
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
}
