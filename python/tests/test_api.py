"""The Python API against the CLI: same inputs, same numbers (the CLI binary is
`target/release/archsim` of this checkout, or $ARCHSIM_BIN); errors as exceptions."""

import csv
import io
import json
import re
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

import archsim

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ARCHSIM_BIN", str(ROOT / "target" / "release" / "archsim"))


def cli(*args, ok=True):
    """Run the CLI from the repository root; returns the completed process."""
    if not Path(BIN).exists():
        pytest.fail(f"CLI binary {BIN} not found: run `cargo build --release` first")
    p = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def cli_json(*args):
    return json.loads(cli(*args, "--format", "json").stdout)


def cli_error(*args):
    """The CLI's message for a bad input: stderr after `error: `, exit code 2."""
    p = cli(*args, ok=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.startswith("error: "), p.stderr
    # The CLI shows the offending line with a caret below the message (lines of the form
    # `  10 | text` and `     | ^^^`); the exception carries the message itself.
    lines = p.stderr[len("error: ") :].rstrip().split("\n")
    while lines and re.match(r"^\s*\d*\s*\|", lines[-1]):
        lines.pop()
    return "\n".join(lines).strip()


# ---- run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("config", ["h100", "tpu_v5p"])
def test_run_gemm_equals_cli(config):
    got = archsim.run(config, gemms=[(4096, 4096, 4096), (128, 8192, 1024, 4)])
    want = cli_json("run", "--config", config, "--gemm", "4096,4096,4096", "--gemm", "128,8192,1024,4")
    assert got == want
    assert [o["m"] for o in got["ops"]] == [4096, 128]
    assert got["total"]["time_s"] > 0


def test_run_workload_and_dtype_equal_cli():
    got = archsim.run("tpu_v5e", workload="resnet50", dtype="int8")
    want = cli_json("run", "--config", "tpu_v5e", "--workload", "resnet50", "--dtype", "int8")
    assert got == want
    assert all(o["dtype"] == "int8" for o in got["ops"])


def test_run_topology_in_scalesim_mode_equals_cli():
    cfg = "tests/data/scalesim/configs/calc_128x128_ws.cfg"
    got = archsim.run(ROOT / cfg, topology=ROOT / "kernels" / "resnet50.csv")
    want = cli_json("run", "--config", cfg, "--topology", "kernels/resnet50.csv")
    # The same numbers; only the paths as given differ (absolute here, relative for the CLI).
    assert got["ops"] == want["ops"] and got["total"] == want["total"]
    assert all("scalesim" in o for o in got["ops"])


@pytest.mark.parametrize(
    "phase,extra",
    [("prefill", dict(batch=2, seq=1024)), ("decode", dict(batch=8, context=4096))],
)
def test_run_model_equals_cli(phase, extra):
    got = archsim.run("tpu_v5p", model="llama3_8b", phase=phase, **extra)
    flags = [f"--{k}={v}" for k, v in extra.items()]
    want = cli_json("run", "--config", "tpu_v5p", "--model", "llama3_8b", "--phase", phase, *flags)
    assert got == want
    assert got["model"]["phase"] == phase


def test_run_model_that_does_not_fit_warns_like_the_cli():
    with pytest.warns(UserWarning) as w:
        archsim.run("h100", model="llama3_405b")
    p = cli("run", "--config", "h100", "--model", "llama3_405b", "--format", "json")
    assert p.stderr.strip() == "warning: " + str(w[0].message)


# ---- compare ------------------------------------------------------------------------------


def test_compare_equals_cli_report(tmp_path):
    got = archsim.compare("tpu_v5p", "h100", model="llama3_8b")
    cli("compare", "--config", "tpu_v5p", "--vs", "h100", "--model", "llama3_8b",
        "--out", str(tmp_path / "cli"), "-q")
    want = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert got == want
    assert len(got["sections"]) == 2  # prefill and decode


def test_compare_with_out_writes_the_cli_files(tmp_path):
    got = archsim.compare("h100", "tpu_v5e", workload="resnet50", out=tmp_path)
    for f in ["report.json", "ops.csv", "trace.json"]:
        assert (tmp_path / f).is_file(), f
    assert json.loads((tmp_path / "report.json").read_text()) == got


# ---- sweep --------------------------------------------------------------------------------

SWEEP = {
    "workloads": ["gpt3_175b_layer"],
    "array.rows": [64, 128],
    "hbm.bandwidth_gbps": {"from": 800, "to": 3200, "factor": 2},
}


def test_sweep_dict_equals_cli_csv(tmp_path):
    rows = archsim.sweep("tpu_v5e", SWEEP)
    spec = tmp_path / "s.toml"
    spec.write_text(
        'workloads = ["gpt3_175b_layer"]\narray.rows = [64, 128]\n'
        "hbm.bandwidth_gbps = {from = 800, to = 3200, factor = 2}\n"
    )
    out = tmp_path / "out.csv"
    cli("sweep", "--config", "tpu_v5e", "--sweep", str(spec), "--out", str(out), "-q")
    with out.open() as f:
        want = [{k: archsim._cell(v) for k, v in r.items()} for r in csv.DictReader(f)]
    assert rows == want
    assert len(rows) == 2 * 3
    assert [r["index"] for r in rows] == list(range(6))
    assert [(r["array.rows"], r["hbm.bandwidth_gbps"]) for r in rows[:3]] == [
        (64, 800), (64, 1600), (64, 3200)
    ]
    # More bandwidth never makes the same point slower.
    assert rows[0]["time_s"] >= rows[1]["time_s"] >= rows[2]["time_s"]


def test_sweep_file_path_equals_dict(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'workloads = ["gpt3_175b_layer"]\narray.rows = [64, 128]\n'
        "hbm.bandwidth_gbps = {from = 800, to = 3200, factor = 2}\n"
    )
    assert archsim.sweep("tpu_v5e", spec) == archsim.sweep("tpu_v5e", SWEEP)


def test_sweep_bad_key_raises_input_error_naming_it():
    with pytest.raises(archsim.InputError, match="array.rowz"):
        archsim.sweep("tpu_v5e", {"workloads": ["resnet50"], "array.rowz": [64]})


# ---- train and serve ----------------------------------------------------------------------


def test_train_equals_cli():
    got = archsim.train("dgx_h100_ib", "llama3_8b", chips=8, global_batch=16, seq=2048)
    want = cli_json("train", "--system", "dgx_h100_ib", "--model", "llama3_8b", "--chips", "8",
                    "--global-batch", "16", "--seq", "2048")
    assert got == want
    assert 0 < got["mfu"] < 1 and got["step_time_s"] > 0


def test_train_compare_equals_cli():
    got = archsim.train("tpu_v5p", "llama3_8b", chips=8, global_batch=16, compare="h100")
    want = cli_json("train", "--system", "tpu_v5p", "--model", "llama3_8b", "--chips", "8",
                    "--global-batch", "16", "--compare", "h100")
    assert got == want
    assert set(got) >= {"basis", "a", "b", "verdict"}


def test_serve_equals_cli():
    got = archsim.serve("h100", "llama3_8b", chips=8, input_len=512, output_len=128,
                        scenario="server", tpot_ms=30)
    want = cli_json("serve", "--system", "h100", "--model", "llama3_8b", "--chips", "8",
                    "--input-len", "512", "--output-len", "128", "--scenario", "server",
                    "--tpot-ms", "30")
    assert got == want
    assert got["output_tokens_per_s"] > 0 and got["ttft_s"] > 0


def test_serve_pipeline_plan_equals_cli():
    got = archsim.serve("dgx_h100_ib", "llama3_70b", chips=8, input_len=512, output_len=128,
                        dtype="fp8", plan="tp=2,pp=2")
    want = cli_json("serve", "--system", "dgx_h100_ib", "--model", "llama3_70b", "--chips", "8",
                    "--input-len", "512", "--output-len", "128", "--dtype", "fp8",
                    "--plan", "tp=2,pp=2")
    assert got == want
    assert (got["plan"], got["tp"], got["pp"], got["replicas"]) == ("tp=2,pp=2", 2, 2, 2)
    with pytest.raises(archsim.InputError, match="plan"):
        archsim.serve("dgx_h100_ib", "llama3_70b", chips=8, input_len=512, output_len=128,
                      plan="tp=2,pp=3")


def test_serve_disaggregated_equals_cli():
    got = archsim.serve("dgx_h100_ib", "llama3_70b", chips=8, input_len=512, output_len=128,
                        dtype="fp8", plan="tp=2", disaggregate="2:6")
    want = cli_json("serve", "--system", "dgx_h100_ib", "--model", "llama3_70b", "--chips", "8",
                    "--input-len", "512", "--output-len", "128", "--dtype", "fp8",
                    "--plan", "tp=2", "--disaggregate", "2:6")
    assert got == want
    assert got["disaggregated"]["prefill_chips"] == 2 and got["tpot_p99_s"] == got["tpot_s"]
    with pytest.raises(archsim.InputError, match="--disaggregate"):
        archsim.serve("dgx_h100_ib", "llama3_70b", chips=8, input_len=512, output_len=128,
                      disaggregate="3:6")


def test_serve_compare_is_a_list_like_the_cli(tmp_path):
    got = archsim.serve("h100", "llama3_8b", chips=8, input_len=512, output_len=128,
                        compare="tpu_v5p")
    want = cli_json("serve", "--system", "h100", "--model", "llama3_8b", "--chips", "8",
                    "--input-len", "512", "--output-len", "128", "--compare", "tpu_v5p",
                    "--out", str(tmp_path))
    assert got == want
    assert [r["system"] for r in got][0] != got[1]["system"]


@pytest.mark.parametrize(
    "system,chips,op,size", [("dgx_h100_ib", 16, "all-reduce", "1G"), ("tpu_v5p_pod", 64, "all-gather", "64M")]
)
def test_collective_equals_cli(system, chips, op, size):
    got = archsim.collective(system, chips=chips, op=op, bytes=size)
    want = cli_json("collective", "--system", system, "--chips", str(chips), "--op", op,
                    "--bytes", size)
    assert got == want
    assert got["time_s"] > 0 and got["op"] == op
    assert archsim.collective(system, chips=chips, op=op, bytes=int(got["bytes"])) == got


def test_collective_bad_op_message_equals_cli():
    with pytest.raises(archsim.InputError) as e:
        archsim.collective("dgx_h100_ib", chips=8, op="all-sum", bytes="1G")
    assert str(e.value) == cli_error("collective", "--system", "dgx_h100_ib", "--chips", "8",
                                     "--op", "all-sum", "--bytes", "1G")


# ---- configs and load_config --------------------------------------------------------------


def test_configs_are_the_ones_archsim_list_shows():
    listing = cli("list").stdout
    names = archsim.configs()
    assert "h100" in names and "tpu_v5p" in names
    for n in names:
        assert f"  {n} " in listing, n
    assert "llama3_8b" in archsim.models()
    assert any(w.startswith("resnet50") for w in archsim.workloads())
    assert "dgx_h100_ib" in archsim.systems()


def test_load_config_is_a_dict_view_matching_run_machine():
    c = archsim.load_config("h100")
    assert c["kind"] == "simt" and c["name"] == "h100"
    assert c["machine"] == archsim.run("h100", gemms=[(64, 64, 64)])["machine"]
    t = archsim.load_config(ROOT / "configs" / "tpu_v5p.toml")
    assert t["kind"] == "systolic"
    assert t["source"].endswith("tpu_v5p.toml")


# ---- errors -------------------------------------------------------------------------------


def test_input_error_is_a_value_error():
    assert issubclass(archsim.InputError, ValueError)


def test_unknown_config_message_equals_cli():
    with pytest.raises(archsim.InputError) as e:
        archsim.run("no_such_chip", gemms=[(1, 1, 1)])
    assert str(e.value) == cli_error("run", "--config", "no_such_chip", "--gemm", "1,1,1")


def test_bad_config_key_gives_file_line_key_like_cli(tmp_path):
    bad = tmp_path / "bad.toml"
    src = (ROOT / "configs" / "h100.toml").read_text()
    bad.write_text(src.replace("[sm]", "[sm]\nwarps_per_smm = 3", 1))
    with pytest.raises(archsim.InputError) as e:
        archsim.load_config(bad)
    msg = str(e.value)
    assert msg.startswith(f"{bad}:"), msg
    assert "warps_per_smm" in msg
    assert msg == cli_error("run", "--config", str(bad), "--gemm", "1,1,1")


def test_bad_gemm_message_equals_cli():
    with pytest.raises(archsim.InputError) as e:
        archsim.run("h100", gemms=[(0, 4, 4)])
    assert str(e.value) == cli_error("run", "--config", "h100", "--gemm", "0,4,4")


@pytest.mark.parametrize(
    "call,word",
    [
        (lambda: archsim.run("h100", gemms=[(8, 8, 8)], dtype="fp64"), "--dtype"),
        (lambda: archsim.run("h100", model="llama3_8b", phase="serve"), "--phase"),
        (lambda: archsim.run("h100", gemms=[(8, 8, 8)], mode="pe"), "--mode"),
        (lambda: archsim.run("h100"), "nothing to simulate"),
        (lambda: archsim.run("h100", batch=-1, model="llama3_8b"), "batch"),
        (lambda: archsim.train("h100", "llama3_8b", global_batch=8), "--chips"),
        (lambda: archsim.serve("h100", "llama3_8b", chips=0, input_len=1, output_len=1), "--chips"),
        (lambda: archsim.serve("h100", "nope_model", chips=8, input_len=1, output_len=1), "nope_model"),
        (lambda: archsim.compare("h100", "tpu_v5p", workload="nope.toml"), "nope.toml"),
    ],
)
def test_bad_inputs_raise_input_error(call, word):
    with pytest.raises(archsim.InputError, match=word.replace("-", r"\-")):
        call()


# ---- the GIL ------------------------------------------------------------------------------


def test_simulation_releases_the_gil():
    """A Python thread keeps running while the library simulates (the call is long enough
    for dozens of its ticks, which a held GIL would block)."""
    ticks, stop = [0], threading.Event()

    def tick():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        spec = {
            "workloads": ["resnet50", "gpt3_175b_layer"],
            "array.rows": [32, 64, 128, 256],
            "array.cols": [64, 128, 256],
            "hbm.bandwidth_gbps": {"from": 400, "to": 3200, "step": 400},
        }
        # Repeat the sweep until it has run long enough to tell (a fast machine finishes one
        # in well under 0.1 s); a held GIL would let the thread tick only between calls.
        before, t0, calls = ticks[0], time.perf_counter(), 0
        while time.perf_counter() - t0 < 0.5:
            archsim.sweep("tpu_v5e", spec)
            calls += 1
        during, elapsed = ticks[0] - before, time.perf_counter() - t0
    finally:
        stop.set()
        t.join()
    assert during >= max(10, 5 * calls), (during, calls, elapsed)


# ---- DataFrame helpers --------------------------------------------------------------------


def test_dataframe_helpers_raise_a_clear_import_error_without_pandas(monkeypatch):
    """Without pandas (its import made to fail), both helpers say how to get it."""
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    report = archsim.run("h100", gemms=[(256, 256, 256)])
    rows = archsim.sweep("tpu_v5e", SWEEP)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        archsim.ops_frame(report)
    with pytest.raises(ImportError, match="pip install pandas"):
        archsim.sweep_frame(rows)


def _assert_frames_equal(got, want):
    """Same columns in the same order, same index, same values (NaN equal to NaN), same dtypes."""
    import pandas as pd

    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize(
    "config, args",
    [
        ("h100", ["--gemm", "4096,4096,4096", "--gemm", "128,8192,1024,4"]),
        ("tpu_v5p", ["--workload", "smoke"]),
        ("tests/data/scalesim/configs/calc_256x256_ws.cfg", ["--gemm", "64,64,64"]),
    ],
)
def test_ops_frame_equals_the_cli_csv(config, args):
    pd = pytest.importorskip("pandas")
    report = archsim.run(
        str(ROOT / config) if config.endswith(".cfg") else config,
        gemms=[a for i, a in enumerate(args) if i % 2 and args[i - 1] == "--gemm"],
        workload=[a for i, a in enumerate(args) if i % 2 and args[i - 1] == "--workload"],
    )
    text = cli("run", "--config", config, *args, "--format", "csv").stdout
    want = archsim._read_csv(pd, io.StringIO(text))
    assert want["name"].iloc[-1] == "TOTAL"
    want = want.iloc[:-1].reset_index(drop=True)  # the op rows; ops_frame leaves out TOTAL
    got = archsim.ops_frame(report)
    # Without the TOTAL row's blanks, pandas reads the per-op integer columns as integers.
    want = want.astype(got.dtypes.to_dict())
    _assert_frames_equal(got, want)
    assert len(got) == len(report["ops"])
    assert got["time_s"].tolist() == [o["time_s"] for o in report["ops"]]


def test_ops_frame_refuses_what_is_not_a_run_report():
    pytest.importorskip("pandas")
    with pytest.raises(archsim.InputError, match="key `ops`"):
        archsim.ops_frame({"ops": [{"name": "x"}]})


def test_sweep_frame_equals_the_cli_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    rows = archsim.sweep("tpu_v5e", SWEEP)
    spec = tmp_path / "s.toml"
    spec.write_text(
        'workloads = ["gpt3_175b_layer"]\narray.rows = [64, 128]\n'
        "hbm.bandwidth_gbps = {from = 800, to = 3200, factor = 2}\n"
    )
    out = tmp_path / "out.csv"
    cli("sweep", "--config", "tpu_v5e", "--sweep", str(spec), "--out", str(out), "-q")
    want = archsim._read_csv(pd, out).set_index("index")
    got = archsim.sweep_frame(rows)
    _assert_frames_equal(got, want)
    assert list(got.index) == list(range(6))
