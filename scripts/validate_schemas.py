#!/usr/bin/env python3
"""Validate archsim's shipped inputs and real outputs (`run` and `collective` JSON, the main
job's report.json) against `archsim schema` (draft 2020-12).

An extra check beside tests/schema_docs.rs (which checks key coverage in Rust, with no JSON
Schema validator): this one runs a full validator, so types, required keys and refused unknown
keys are checked too, and a few broken documents must be rejected.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install 'jsonschema>=4.18'
    cargo build --release && /tmp/v/bin/python scripts/validate_schemas.py [target/release/archsim]

Needs Python 3.11+ (tomllib). Exits 1 if any document is invalid or a broken one passes.
"""
import glob
import json
import subprocess
import sys
import tempfile
import tomllib

from jsonschema import Draft202012Validator

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/archsim"
RUNS = [
    ["--config", "h100", "--workload", "smoke"],
    ["--config", "tpu_v5p", "--workload", "smoke"],
    ["--config", "h100", "--model", "llama3_8b"],
    ["--config", "tpu_v5p", "--model", "deepseek_v3", "--phase", "train"],
    ["--config", "trn2", "--model", "mixtral_8x7b", "--phase", "decode"],
    ["--config", "tests/data/scalesim/configs/calc_256x256_ws.cfg", "--gemm", "64,64,64"],
    ["--config", "mi300x", "--gemm", "4096,4096,4096"],
]
COLLECTIVES = [
    ["--system", "dgx_h100_ib", "--chips", "16", "--op", "all-reduce", "--bytes", "1G"],
    ["--system", "tpu_v5p_pod", "--chips", "64", "--op", "all-gather", "--bytes", "64M"],
]


def validator(which):
    out = subprocess.run([BIN, "schema", which], check=True, capture_output=True, text=True)
    schema = json.loads(out.stdout)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def tomls(pattern):
    return [(f, tomllib.load(open(f, "rb"))) for f in sorted(glob.glob(pattern))]


def main():
    failed = 0
    reports = []
    for args in RUNS:
        out = subprocess.run([BIN, "run", *args, "--format", "json"], check=True,
                             capture_output=True, text=True)
        reports.append((" ".join(args), json.loads(out.stdout)))
    collectives = []
    for args in COLLECTIVES:
        out = subprocess.run([BIN, "collective", *args, "--format", "json"], check=True,
                             capture_output=True, text=True)
        collectives.append((" ".join(args), json.loads(out.stdout)))
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([BIN, "--config", "tpu_v5.toml", "--out", d, "-q"], check=True,
                       capture_output=True)
        main_job = [("main job tpu_v5.toml", json.load(open(f"{d}/report.json")))]
    sets = {
        "config": tomls("configs/*.toml"),
        "system": tomls("configs/systems/*.toml"),
        "model": tomls("kernels/models/*.toml"),
        "report": reports,
        "collective": collectives,
        "compare": main_job,
    }
    for which, docs in sets.items():
        v = validator(which)
        bad = 0
        for name, doc in docs:
            errors = list(v.iter_errors(doc))
            for e in errors[:3]:
                print(f"  {name}: {list(e.absolute_path)}: {e.message[:200]}")
            bad += bool(errors)
        print(f"schema {which}: {len(docs)} documents, {bad} invalid")
        failed += bad
    # Broken documents must fail.
    h100 = dict(sets["config"])["configs/h100.toml"]
    h100["sm"]["countt"] = 1
    report = json.loads(json.dumps(reports[0][1]))
    report["total"]["time_s"] = "fast"
    # A GPU report whose machine lacks a key of the SIMT key set matches none of the models.
    no_sms = json.loads(json.dumps(reports[0][1]))
    del no_sms["machine"]["sms"]
    for which, doc in [("config", h100), ("report", report), ("report", no_sms)]:
        if validator(which).is_valid(doc):
            print(f"schema {which}: a broken document passed")
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
