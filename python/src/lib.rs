//! `archsim._archsim`: the native half of the Python package. Each function builds the same
//! library request the CLI builds (`archsim::jobs::*`), runs it with the GIL released, and
//! returns the JSON (or CSV) text the CLI prints; the pure-Python wrapper (`archsim/__init__.py`)
//! parses it with `json.loads`. Going through the library's own serde_json text, rather than
//! converting Rust values to Python objects field by field, keeps the keys and the numbers
//! exactly those of `--format json` (non-finite floats become `null` in both, floats
//! round-trip through the shortest representation) with nothing to keep in step.
//!
//! Errors: bad input (the CLI's exit code 2) raises `archsim.InputError` (a `ValueError`) with
//! the CLI's message (`FILE:LINE: key `K`: ...`); internal failures raise
//! `archsim.InternalError` (a `RuntimeError`).

use archsim::config::SimMode;
use archsim::error::Error;
use archsim::jobs;
use archsim::jobs::sweep::PointSet as _;
use archsim::workload::model::lower::Phase;
use archsim::workload::DType;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::path::Path;

create_exception!(
    _archsim,
    InputError,
    PyValueError,
    "Bad input (config, workload, setting): the message the CLI prints after `error: `."
);
create_exception!(
    _archsim,
    InternalError,
    PyRuntimeError,
    "An internal failure of the simulator (the CLI's exit code 1)."
);

/// The Python exception of a library error: `InputError` for what the CLI exits 2 on, with the
/// message the CLI prints (a rejected setting named as its flag, `--gemm`, `--mode`, ...).
fn to_py(e: Error) -> PyErr {
    let e = jobs::setting_as_flag(e);
    if e.exit_code() == 2 {
        InputError::new_err(e.to_string())
    } else {
        InternalError::new_err(e.to_string())
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::internal(e.to_string()))
}

fn parse_dtype(d: Option<&str>, name: &str) -> Result<Option<DType>, Error> {
    d.map(|s| s.parse::<DType>().map_err(|m| Error::setting(name, m)))
        .transpose()
}

fn parse_mode(m: Option<&str>) -> Result<Option<SimMode>, Error> {
    m.map(|s| match s {
        "native" => Ok(SimMode::Native),
        "scalesim" => Ok(SimMode::Scalesim),
        "pe" => Ok(SimMode::Pe),
        other => Err(Error::setting(
            "mode",
            format!("unknown mode `{other}`; expected native, scalesim or pe"),
        )),
    })
    .transpose()
}

/// `archsim run`: the report as JSON text and the warning the CLI prints, if any.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn run_json(
    py: Python<'_>,
    config: String,
    workloads: Vec<String>,
    topologies: Vec<String>,
    gemms: Vec<String>,
    model: Option<String>,
    phase: String,
    batch: u64,
    seq: u64,
    context: u64,
    fused_attention: bool,
    recompute: bool,
    dtype: Option<String>,
    mode: Option<String>,
) -> PyResult<(String, Option<String>)> {
    py.detach(|| {
        let req = jobs::run::RunRequest {
            config,
            workloads,
            topologies,
            gemms,
            model,
            phase: phase
                .parse::<Phase>()
                .map_err(|m| Error::setting("phase", m))?,
            batch,
            seq,
            context,
            fused_attention,
            recompute,
            dtype: parse_dtype(dtype.as_deref(), "dtype")?,
            mode: parse_mode(mode.as_deref())?,
        };
        let out = jobs::run::run(&req)?;
        Ok((out.to_json()?, out.fit_warning()))
    })
    .map_err(to_py)
}

/// `archsim compare`: the comparison report as JSON text (report.json's content); with `out`,
/// report.json, ops.csv, trace.json and the plots are written there too, as the CLI does.
#[pyfunction]
fn compare_json(
    py: Python<'_>,
    config: String,
    vs: Option<String>,
    workloads: Vec<String>,
    models: Vec<String>,
    out: Option<String>,
) -> PyResult<String> {
    py.detach(|| {
        let report = match &out {
            Some(dir) => {
                jobs::compare::compare_job(
                    &config,
                    vs.as_deref(),
                    &workloads,
                    &models,
                    Path::new(dir),
                    &mut |_| {},
                )?
                .report
            }
            None => jobs::compare::compare_report(
                &config,
                vs.as_deref(),
                &workloads,
                &models,
                &mut |_| {},
            )?,
        };
        json_text(&report)
    })
    .map_err(to_py)
}

/// `archsim sweep`: the CSV text the CLI writes for the whole sweep. The sweep is a file
/// (`sweep_path`) or sweep-file text (`sweep_text`, named `sweep_name` in errors).
#[pyfunction]
fn sweep_csv(
    py: Python<'_>,
    config: String,
    sweep_path: Option<String>,
    sweep_text: Option<String>,
    sweep_name: String,
    mode: Option<String>,
    max_points: u64,
) -> PyResult<String> {
    use jobs::sweep::{base::BaseConfig, spec::SweepSpec, Sweep};
    py.detach(|| {
        let mode = parse_mode(mode.as_deref())?;
        let sweep = match (sweep_path, sweep_text) {
            (Some(p), _) => Sweep::prepare(&config, Path::new(&p), mode, max_points)?,
            (None, Some(text)) => Sweep::from_parts(
                SweepSpec::parse(&text, &sweep_name)?,
                BaseConfig::load(&config)?,
                mode,
                max_points,
                None,
            )?,
            (None, None) => return Err(Error::setting("spec", "give a sweep file or a dict")),
        };
        sweep.csv_in_memory()
    })
    .map_err(to_py)
}

/// `archsim train --format json`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn train_json(
    py: Python<'_>,
    system: String,
    model: String,
    chips: Option<u64>,
    global_batch: u64,
    seq: u64,
    plan: Option<String>,
    slice: Option<String>,
    dtype: Option<String>,
    fused_attention: bool,
    tokens: Option<f64>,
    compare: Option<String>,
    power_mw: Option<f64>,
) -> PyResult<String> {
    py.detach(|| {
        let req = jobs::train::TrainRequest {
            system,
            model,
            chips,
            compare,
            power_mw,
            global_batch,
            seq,
            plan,
            slice,
            dtype: parse_dtype(dtype.as_deref(), "dtype")?,
            fused_attention,
            tokens,
        };
        json_text(&jobs::train::run(&req)?)
    })
    .map_err(to_py)
}

/// `archsim serve --format json`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn serve_json(
    py: Python<'_>,
    system: String,
    model: String,
    chips: u64,
    input_len: u64,
    output_len: u64,
    scenario: String,
    ttft_ms: f64,
    tpot_ms: f64,
    dtype: Option<String>,
    kv_dtype: Option<String>,
    rate: Option<f64>,
    chunked_prefill: Option<u64>,
    plan: Option<String>,
    compare: Option<String>,
    disaggregate: Option<String>,
) -> PyResult<String> {
    py.detach(|| {
        let req = jobs::serve::ServeRequest {
            system,
            model,
            chips,
            scenario: scenario
                .parse()
                .map_err(|m: String| Error::setting("scenario", m))?,
            input_len,
            output_len,
            ttft_ms,
            tpot_ms,
            dtype: parse_dtype(dtype.as_deref(), "dtype")?,
            kv_dtype: parse_dtype(kv_dtype.as_deref(), "kv_dtype")?,
            rate,
            chunked_prefill,
            plan,
            compare,
            disaggregate,
        };
        json_text(&jobs::serve::reports_json(&jobs::serve::run(&req)?)?)
    })
    .map_err(to_py)
}

/// `archsim collective --format json`.
#[pyfunction]
fn collective_json(
    py: Python<'_>,
    system: String,
    chips: u64,
    slice: Option<String>,
    op: String,
    bytes: String,
) -> PyResult<String> {
    py.detach(|| {
        let out = jobs::collective::run(&system, chips, slice.as_deref(), &op, &bytes)?;
        json_text(&out.to_json())
    })
    .map_err(to_py)
}

/// The op rows of `archsim run --format csv` for the ops of a `run` report given as JSON text
/// (`archsim.ops_frame`): the same columns and cells, written by the library's own CSV writer
/// (`archsim::report::csv::run_ops_csv`), without the `TOTAL` row.
#[pyfunction]
fn ops_csv(py: Python<'_>, report_json: String) -> PyResult<String> {
    py.detach(|| -> Result<String, String> {
        let v: serde_json::Value = serde_json::from_str(&report_json).map_err(|e| e.to_string())?;
        let ops = v.get("ops").cloned().ok_or("no `ops` list")?;
        let ops: Vec<archsim::OpProfile> =
            serde_json::from_value(ops).map_err(|e| e.to_string())?;
        let bytes = archsim::report::csv::run_ops_csv(&ops).map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|e| e.to_string())
    })
    .map_err(|m| {
        InputError::new_err(format!(
            "report: key `ops`: not the ops of a run report: {m}"
        ))
    })
}

/// A hardware config (path or shipped name) as JSON text: name, source, kind, description,
/// the parsed config with defaults filled in, and the machine's facts.
#[pyfunction]
fn load_config_json(py: Python<'_>, spec: String) -> PyResult<String> {
    py.detach(|| json_text(&archsim::registry::load(&spec)?.to_json()?))
        .map_err(to_py)
}

/// Names of the shipped hardware configs, workloads, models and systems.
#[pyfunction]
fn shipped(what: &str) -> PyResult<Vec<String>> {
    let names: Vec<String> = match what {
        "configs" => archsim::config::shipped_names()
            .into_iter()
            .map(String::from)
            .collect(),
        "workloads" => archsim::config::embedded::kernels()
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
        "models" => archsim::workload::model::shipped_names()
            .into_iter()
            .map(String::from)
            .collect(),
        "systems" => archsim::system::config::shipped_names()
            .into_iter()
            .map(String::from)
            .collect(),
        other => {
            return Err(InputError::new_err(format!(
                "unknown list `{other}`; expected configs, workloads, models or systems"
            )))
        }
    };
    Ok(names)
}

#[pymodule]
fn _archsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("InternalError", m.py().get_type::<InternalError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run_json, m)?)?;
    m.add_function(wrap_pyfunction!(compare_json, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_csv, m)?)?;
    m.add_function(wrap_pyfunction!(train_json, m)?)?;
    m.add_function(wrap_pyfunction!(serve_json, m)?)?;
    m.add_function(wrap_pyfunction!(collective_json, m)?)?;
    m.add_function(wrap_pyfunction!(load_config_json, m)?)?;
    m.add_function(wrap_pyfunction!(shipped, m)?)?;
    m.add_function(wrap_pyfunction!(ops_csv, m)?)?;
    Ok(())
}
