"""archsim from Python: the simulator's library, called in-process.

Every function builds the same request the ``archsim`` command line builds, runs the same Rust
library code with the GIL released, and returns plain Python data with the keys of the CLI's
``--format json`` output (``json.loads`` of the very text the CLI prints), so a number read
here is the number the CLI prints for the same inputs.

    >>> import archsim
    >>> r = archsim.run("h100", gemms=[(4096, 4096, 4096)])
    >>> r["total"]["time_s"], r["ops"][0]["utilization"]

Units are in the key names (``time_s``, ``energy_pj``, ``hbm_read_bytes``); fractions are 0..1.
Bad input raises :class:`InputError` (a ``ValueError``) carrying the CLI's message, e.g.
``configs/x.toml:12: key `array.rows`: ...``.

DataFrame helpers (:func:`ops_frame`, :func:`sweep_frame`) import pandas only when called.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _archsim
from ._archsim import InputError, InternalError

__version__: str = _archsim.__version__

__all__ = [
    "InputError",
    "InternalError",
    "run",
    "compare",
    "sweep",
    "train",
    "serve",
    "collective",
    "configs",
    "workloads",
    "models",
    "systems",
    "load_config",
    "ops_frame",
    "sweep_frame",
]

PathLike = Union[str, "os.PathLike[str]"]
Gemm = Union[Tuple[int, int, int], Tuple[int, int, int, int], Sequence[int], str]
Json = Dict[str, Any]


def _names(x: Union[None, PathLike, Iterable[PathLike]]) -> List[str]:
    """One name/path or several, as a list of strings."""
    if x is None:
        return []
    if isinstance(x, (str, os.PathLike)):
        return [os.fspath(x)]
    return [os.fspath(v) for v in x]


def _opt(x: Optional[PathLike]) -> Optional[str]:
    return None if x is None else os.fspath(x)


def _gemm_text(g: Gemm) -> str:
    """A GEMM as the CLI's ``--gemm M,N,K[,BATCH]`` text (the library parses and checks it)."""
    if isinstance(g, str):
        return g
    return ",".join(str(v) for v in g)


def _int(name: str, v: Any) -> int:
    """A non-negative whole number for a u64 setting (bool is refused: it is an int in Python)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"setting `{name}`: expected a whole number, got {v!r}")
    if v < 0 or v >= 2**64:
        raise InputError(f"setting `{name}`: {v} is out of range (0 to 2^64-1)")
    return v


def _opt_int(name: str, v: Any) -> Optional[int]:
    return None if v is None else _int(name, v)


def _opt_float(name: str, v: Any) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"setting `{name}`: expected a number, got {v!r}")
    return float(v)


def run(
    config: PathLike,
    gemms: Optional[Iterable[Gemm]] = None,
    *,
    workload: Union[None, PathLike, Iterable[PathLike]] = None,
    topology: Union[None, PathLike, Iterable[PathLike]] = None,
    model: Optional[PathLike] = None,
    phase: str = "prefill",
    dtype: Optional[str] = None,
    batch: int = 1,
    seq: int = 2048,
    context: int = 2048,
    fused_attention: bool = True,
    recompute: bool = False,
    mode: Optional[str] = None,
) -> Json:
    """Simulate one machine: ``archsim run --format json``.

    Args:
        config: chip config, a shipped name (``"tpu_v5p"``, ``"h100"``) or a path to an archsim
            ``.toml`` or a SCALE-Sim ``.cfg``.
        gemms: GEMMs ``(M, N, K)`` or ``(M, N, K, BATCH)`` (``--gemm``), in order.
        workload: kernel ``.toml`` file(s), shipped name or path (``--workload``).
        topology: SCALE-Sim topology CSV(s) (``--topology``).
        model: a whole model (shipped card such as ``"llama3_8b"``, ``maxtext_<S>``, card
            ``.toml`` or HF ``config.json``); not combined with the three above.
        phase: ``"prefill"``, ``"decode"`` or ``"train"`` (model runs).
        dtype: operand dtype of every op: fp32, bf16, fp16, fp8, int8, fp4, mxfp4.
        batch, seq, context: model run: sequences, tokens per sequence, cached tokens (decode).
        fused_attention: one FlashAttention-style kernel (``False``: ``--unfused-attention``).
        recompute: train phase: full activation recomputation.
        mode: systolic model: ``"native"``, ``"scalesim"`` or ``"pe"``.

    Returns:
        ``{"machine": {...}, "ops": [...], "total": {...}}`` (+ ``"model"`` for a model run).
        A model that does not fit in one chip's HBM gives the CLI's warning as a
        ``UserWarning``.
    """
    text, warning = _archsim.run_json(
        os.fspath(config),
        _names(workload),
        _names(topology),
        [_gemm_text(g) for g in (gemms or [])],
        _opt(model),
        phase,
        _int("batch", batch),
        _int("seq", seq),
        _int("context", context),
        bool(fused_attention),
        bool(recompute),
        dtype,
        mode,
    )
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=2)
    return json.loads(text)


def compare(
    config: PathLike,
    vs: Optional[PathLike] = None,
    *,
    workload: Union[None, PathLike, Iterable[PathLike]] = None,
    model: Union[None, PathLike, Iterable[PathLike]] = None,
    out: Optional[PathLike] = None,
) -> Json:
    """Run workloads and models on two machines side by side: ``archsim compare``.

    Args:
        config: first machine (shipped name or path).
        vs: second machine (default: the first config's ``[compare] with``).
        workload: kernel ``.toml`` / topology ``.csv`` file(s) (default: the config's
            ``[workload] kernels``).
        model: model(s), each compared in prefill and decode with the first config's
            ``[workload] batch/seq/context``.
        out: also write report.json, ops.csv, trace.json and the plots into this directory,
            as the CLI does.

    Returns:
        The content of the CLI's report.json (``sections``, each with both runs and a verdict).
    """
    return json.loads(
        _archsim.compare_json(
            os.fspath(config), _opt(vs), _names(workload), _names(model), _opt(out)
        )
    )


def _toml_value(v: Any, where: str) -> str:
    """A sweep value as TOML (numbers, strings, booleans, lists, ``{from, to, step}`` tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InputError(f"<sweep dict>: key `{where}`: {v} is not a finite number")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, Mapping):
        inner = ", ".join(f"{k} = {_toml_value(x, where)}" for k, x in v.items())
        return "{" + inner + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    raise InputError(f"<sweep dict>: key `{where}`: unsupported value {v!r}")


def _sweep_text(spec: Mapping[str, Any]) -> str:
    """A sweep dict as sweep-file text, one line per key in the dict's order (= axis order)."""
    lines = []
    for k, v in spec.items():
        if not isinstance(k, str) or not k or not all(c.isalnum() or c in "._-" for c in k):
            raise InputError(
                f"<sweep dict>: key `{k}`: keys are dotted config keys such as `array.rows`"
            )
        lines.append(f"{k} = {_toml_value(v, k)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> Any:
    """A sweep CSV cell as a number when it reads as one, else the text."""
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def _sweep_rows(csv_text: str) -> List[Json]:
    return [
        {k: _cell(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(csv_text))
    ]


def sweep(
    config: PathLike,
    spec: Union[PathLike, Mapping[str, Any]],
    *,
    mode: Optional[str] = None,
    max_points: int = 1_000_000,
) -> List[Json]:
    """A design-space sweep, in memory: the rows ``archsim sweep`` writes to its CSV.

    Args:
        config: base config (shipped name or path; ``.toml`` or SCALE-Sim ``.cfg``).
        spec: a sweep file path, or a dict of the same content, e.g.
            ``{"workloads": ["resnet50"], "array.rows": [64, 128],
            "hbm.bandwidth_gbps": {"from": 400, "to": 1600, "factor": 2}}``
            (keys in dict order are the axes, the last varying fastest).
        mode: systolic model override.
        max_points: refuse sweeps with more points.

    Returns:
        One dict per point, sorted by ``index``, keyed by the CSV's columns (``index``,
        ``workload``, the swept keys, ``time_s``, ``cycles``, ``utilization``, ``tflops``,
        ``energy_pj``, ...); cells that read as numbers are numbers.
    """
    if isinstance(spec, Mapping):
        path, text = None, _sweep_text(spec)
    else:
        path, text = os.fspath(spec), None
    return _sweep_rows(
        _archsim.sweep_csv(
            os.fspath(config), path, text, "<sweep dict>", mode, _int("max_points", max_points)
        )
    )


def train(
    system: PathLike,
    model: PathLike,
    *,
    chips: Optional[int] = None,
    global_batch: int,
    seq: int = 2048,
    plan: Optional[str] = None,
    slice: Optional[str] = None,
    dtype: Optional[str] = None,
    fused_attention: bool = True,
    tokens: Optional[float] = None,
    compare: Optional[PathLike] = None,
    power_mw: Optional[float] = None,
) -> Json:
    """Train a model on a system of N chips: ``archsim train --format json``.

    Args:
        system: shipped system (``"dgx_h100_ib"``, ``"tpu_v5p_pod"``), system ``.toml`` or a
            chip name.
        model: model card.
        chips: chips (with ``compare`` and ``power_mw``: derived from the budget).
        global_batch: sequences per optimizer step; seq: tokens per sequence.
        plan: forced plan, e.g. ``"tp=8,pp=4"`` (unset keys searched).
        slice: TPU slice shape, e.g. ``"8x8x8"``.
        dtype: compute dtype (default bf16). tokens: training tokens for ``time_to_train_s``.
        compare: a second system on the same model and token budget.
        power_mw: with ``compare``: equal facility power (MW) instead of equal chips.

    Returns:
        The best plan's report (``step_time_s``, ``mfu``, ``model_tflops_per_chip``,
        ``tokens_per_s``, ``plan``, ``runners_up``, ...), or with ``compare`` ``{"basis", "a",
        "b", "verdict"}``.
    """
    return json.loads(
        _archsim.train_json(
            os.fspath(system),
            os.fspath(model),
            _opt_int("chips", chips),
            _int("global_batch", global_batch),
            _int("seq", seq),
            plan,
            slice,
            dtype,
            bool(fused_attention),
            _opt_float("tokens", tokens),
            _opt(compare),
            _opt_float("power_mw", power_mw),
        )
    )


def serve(
    system: PathLike,
    model: PathLike,
    *,
    chips: int,
    input_len: int,
    output_len: int,
    scenario: str = "offline",
    ttft_ms: float = 2000.0,
    tpot_ms: float = 50.0,
    dtype: Optional[str] = None,
    kv_dtype: Optional[str] = None,
    rate: Optional[float] = None,
    chunked_prefill: Optional[int] = None,
    plan: Optional[str] = None,
    compare: Optional[PathLike] = None,
    disaggregate: Optional[str] = None,
) -> Union[Json, List[Json]]:
    """Serve a model on a system: ``archsim serve --format json``.

    Args:
        system: shipped system, system ``.toml`` or a chip name (one node of it).
        model: model card. chips: chips serving.
        input_len, output_len: prompt and generated tokens per request.
        scenario: ``"offline"`` (max throughput) or ``"server"`` (highest load meeting
            ``ttft_ms`` and ``tpot_ms``). rate: a fixed arrival rate, requests/s, instead.
        dtype, kv_dtype: weights and KV-cache dtypes (default: the card's, the weights').
        chunked_prefill: chunk size in tokens. plan: forced plan keys, e.g. ``"tp=8"``,
            ``"tp=4,pp=2"`` or ``"tp=1,ep=8"`` (keys left out are searched).
        compare: a second system on the same chips (the result is then a list of two).
        disaggregate: ``"P:D"``, P chips prefilling and D decoding (P + D = chips).

    Returns:
        The report (``output_tokens_per_s``, ``ttft_s``, ``tpot_s``, ``plan``, ``tp``, ``pp``,
        ``ep``, ``candidates``, ...), or
        a list of two with ``compare``.
    """
    return json.loads(
        _archsim.serve_json(
            os.fspath(system),
            os.fspath(model),
            _int("chips", chips),
            _int("input_len", input_len),
            _int("output_len", output_len),
            scenario,
            float(_opt_float("ttft_ms", ttft_ms)),
            float(_opt_float("tpot_ms", tpot_ms)),
            dtype,
            kv_dtype,
            _opt_float("rate", rate),
            _opt_int("chunked_prefill", chunked_prefill),
            plan,
            _opt(compare),
            disaggregate,
        )
    )


def collective(
    system: PathLike,
    *,
    chips: int,
    op: str,
    bytes: Union[int, float, str],
    slice: Optional[str] = None,
) -> Json:
    """Cost one collective on a system: ``archsim collective --format json``.

    Args:
        system: shipped system, system ``.toml`` or a chip name.
        chips: ranks taking part.
        op: ``"all-reduce"``, ``"all-gather"``, ``"reduce-scatter"``, ``"all-to-all"`` or
            ``"send-recv"``.
        bytes: nccl-tests' "size": a number, or text with a K/M/G suffix (powers of 1024).
        slice: TPU slice shape, e.g. ``"4x4x4"``.

    Returns:
        ``{"system", "chips", "slice", "slices", "op", "bytes", "time_s", "algbw_gbps",
        "busbw_gbps", "algorithm"}``.
    """
    if isinstance(bytes, bool):
        raise InputError(f"setting `bytes`: expected a byte count, got {bytes!r}")
    return json.loads(
        _archsim.collective_json(
            os.fspath(system), _int("chips", chips), slice, op, str(bytes)
        )
    )


def configs() -> List[str]:
    """Names of the shipped hardware configs (``archsim list``)."""
    return _archsim.shipped("configs")


def workloads() -> List[str]:
    """Names of the shipped workloads (kernel files)."""
    return _archsim.shipped("workloads")


def models() -> List[str]:
    """Names of the shipped model cards."""
    return _archsim.shipped("models")


def systems() -> List[str]:
    """Names of the shipped systems (pods, clusters)."""
    return _archsim.shipped("systems")


def load_config(path_or_name: PathLike) -> Json:
    """A hardware config as a dict view.

    Returns:
        ``{"name", "source", "kind", "description", "config", "machine"}``: ``config`` is the
        parsed config with every default filled in (keys as in the file), ``machine`` the
        built machine's facts as ``run()["machine"]`` reports them for bf16.
    """
    return json.loads(_archsim.load_config_json(os.fspath(path_or_name)))


def _pandas():
    try:
        import pandas  # noqa: PLC0415 (imported lazily: pandas is optional)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "archsim's DataFrame helpers need pandas: pip install pandas "
            "(or pip install './python[pandas]')"
        ) from e
    return pandas


def _read_csv(pd, source):
    """``pandas.read_csv`` reading floats exactly: pandas < 3 needs ``float_precision=
    "round_trip"`` (its default parser can be one ulp off); pandas 3 reads them exactly by
    default and deprecates the argument."""
    if int(pd.__version__.split(".")[0]) < 3:
        return pd.read_csv(source, float_precision="round_trip")
    return pd.read_csv(source)


def ops_frame(report: Json):
    """The ops of a :func:`run` report as a pandas DataFrame: the op rows of the CLI's
    ``archsim run --format csv`` for the same run (same columns in the same order, same cells:
    the library's own CSV writer renders them; see docs/reference/ops-csv.md), without its
    ``TOTAL`` row (the totals are ``report["total"]``)."""
    pd = _pandas()
    text = _archsim.ops_csv(json.dumps(report))
    return _read_csv(pd, io.StringIO(text))


def sweep_frame(rows: List[Json]):
    """The rows of a :func:`sweep` as a pandas DataFrame indexed by point ``index``: the
    columns and cells of the CLI's sweep CSV (empty cells as NaN, as ``pandas.read_csv``
    reads them)."""
    pd = _pandas()
    frame = pd.DataFrame([{k: (None if v == "" else v) for k, v in r.items()} for r in rows])
    return frame.set_index("index")
