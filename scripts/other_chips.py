#!/usr/bin/env python3
"""Rows of the README's "Other chips" tables, from the archsim CLI.

Usage: python3 scripts/other_chips.py [path/to/archsim]   (default: target/release/archsim)

Per chip: `archsim run --config C --gemm 8192,8192,8192 --format json` gives the dense peaks
(`machine.peak_tflops_by_dtype`), HBM bandwidth, and the 8192^3 bf16 GEMM's time, TFLOP/s,
utilization and average power (`energy_pj / time_s`); the sanity rows run the single measured
MAMF shape of each chip the same way (`--gemm M,N,K --dtype D`).
"""
import json
import subprocess
import sys

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/archsim"
CHIPS = ["trn2", "trn3", "mi300x", "mi325x", "mi355x", "gb200", "b300"]
SANITY = [
    ("mi300x", "bf16", "10240,15360,8192"),
    ("mi325x", "bf16", "13312,10240,8192"),
    ("mi355x", "bf16", "12288,8192,8192"),
    ("gb200", "bf16", "4096,9728,2048"),
    ("gb200", "fp8", "19456,5120,1536"),
    ("b300", "bf16", "12288,18432,1024"),
    ("b300", "fp8", "3072,6144,7168"),
]


def run(cfg, gemm, dtype="bf16"):
    out = subprocess.run(
        [BIN, "run", "--config", cfg, "--gemm", gemm, "--dtype", dtype, "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def fmt(x, d=0):
    return f"{x:,.{d}f}"


print("config | peaks bf16 / fp8 / fp4 / mxfp4 TF | HBM GB/s | 8192^3 bf16: time, TFLOP/s, util | avg power (TDP)")
for c in CHIPS:
    r = run(c, "8192,8192,8192")
    m, o = r["machine"], r["ops"][0]
    p = m["peak_tflops_by_dtype"]
    peaks = " / ".join(fmt(p[d]) if p[d] else "-" for d in ("bf16", "fp8", "fp4", "mxfp4"))
    power = o["energy_pj"] * 1e-12 / o["time_s"]
    tdp = m.get("tdp_w")
    print(
        f"{c} | {peaks} | {fmt(m['hbm_bandwidth_gbps'])} | {o['time_s'] * 1e3:.3f} ms, "
        f"{fmt(o['tflops'])}, {o['utilization'] * 100:.1f} % | {fmt(power)} W "
        f"({fmt(tdp) + ' W' if tdp else 'not published'})"
    )
print()
print("chip | dtype, shape | archsim TF (util)")
for c, d, g in SANITY:
    o = run(c, g, d)["ops"][0]
    print(f"{c} | {d} {g.replace(',', 'x')} | {fmt(o['tflops'], 1)} TF ({o['utilization'] * 100:.1f} %)")
