#!/usr/bin/env python3
"""Seeded random SCALE-Sim 3.0.0 cross-check set: configs x single layers that the stock
reference runs (tests/data/scalesim/reference_runs.csv) do not cover -- non-square arrays from
4 to 128 PEs a side, SRAMs of 1-256 kB that overflow, both bandwidth modes with odd
bandwidths, conv layers with strides, edge windows and overlapping windows, small GEMMs.

Writes, under --out (default tests/data/scalesim/crosscheck):
  configs/x<seed>_<i>.cfg, topologies/x<seed>_<i>.csv   the exact inputs
  runs.csv   one row per case: the inputs and SCALE-Sim's reported numbers (COMPUTE_REPORT,
             DETAILED_ACCESS_REPORT, BANDWIDTH_REPORT), in reference_runs.csv's column names

Needs SCALE-Sim itself (development only; archsim never runs it):
  python3 -m venv /tmp/ssvenv && /tmp/ssvenv/bin/pip install scalesim "numpy==2.3.5"
  /tmp/ssvenv/bin/python scripts/scalesim_crosscheck.py --cases 300 --seed 20261201
The stock-size set (tests/data/scalesim/crosscheck_large; up to a minute a case):
  /tmp/ssvenv/bin/python scripts/scalesim_crosscheck.py --large --cases 8 --seed 20261202 \
      --out tests/data/scalesim/crosscheck_large
To check archsim on more cases without keeping them (every reported number compared):
  /tmp/ssvenv/bin/python scripts/scalesim_crosscheck.py --wide --cases 100 --seed 7 \
      --out /tmp/xcheck --archsim target/release/archsim
(numpy 2.4 breaks SCALE-Sim 3.0.0: docs/scalesim/MODEL.md section 0.) The checks against archsim
are tests/scalesim_reference.rs (every metric must match) and `archsim validate`.
"""
import argparse
import csv
import os
import random
import shutil
import subprocess
import tempfile
import time

CFG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight:    {R}
ArrayWidth:     {C}
IfmapSramSzkB:   {isz}
FilterSramSzkB:  {fsz}
OfmapSramSzkB:   {osz}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : {bw}
Dataflow : {df}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {rbw}
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {rbw}
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {mode}
UseRamulatorTrace: False
"""

INPUTS = [
    "cfg_name", "array_rows", "array_cols", "dataflow", "ifmap_sram_kB", "filter_sram_kB",
    "ofmap_sram_kB", "bw_mode", "dram_rd_bw_words_per_cycle", "ofmap_wr_bw_words_per_cycle",
    "layer_type", "layer_name", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
    "num_filters", "stride", "gemm_M", "gemm_N", "gemm_K",
]
# SCALE-Sim's reports, in their column order.
COMPUTE = ["total_cycles_incl_prefetch", "total_cycles", "stall_cycles", "overall_util_pct",
           "mapping_eff_pct", "compute_util_pct"]
ACCESS = [
    f"{mem}_{op}_{what}"
    for mem in ["sram", "dram"]
    for op in ["ifmap", "filter", "ofmap"]
    for what in ["start_cycle", "stop_cycle", "writes" if op == "ofmap" else "reads"]
]
BANDWIDTH = [f"avg_{op}_{mem}_bw" for mem in ["sram", "dram"] for op in ["ifmap", "filter", "ofmap"]]
COLUMNS = INPUTS + COMPUTE + ACCESS + BANDWIDTH + ["scalesim_wall_s", "scalesim_version",
                                                  "numpy_version"]


def report_values(path):
    """The numbers of the first data row of a SCALE-Sim report CSV (LayerID dropped)."""
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    fields = [x.strip() for x in lines[1].split(",") if x.strip() != ""]
    return fields[1:]


def compare(archsim, cfg_path, topo_path, ref_dir, out_dir):
    """(report, column, SCALE-Sim, archsim) of every reported number that differs (relative
    1e-6), archsim's reports from `archsim run --format scalesim --out out_dir`."""
    subprocess.run([archsim, "run", "--config", cfg_path, "--topology", topo_path, "--format",
                    "scalesim", "--out", out_dir], check=True, capture_output=True)
    diffs = []
    for rep, cols in [("COMPUTE_REPORT.csv", COMPUTE), ("DETAILED_ACCESS_REPORT.csv", ACCESS),
                      ("BANDWIDTH_REPORT.csv", BANDWIDTH)]:
        want = report_values(os.path.join(ref_dir, rep))
        got = report_values(os.path.join(out_dir, rep))
        for col, x, y in zip(cols, want, got):
            x, y = float(x), float(y)
            if abs(x - y) > 1e-6 * max(1.0, abs(x)):
                diffs.append((rep, col, x, y))
    return diffs


def demand_lines(c, l):
    """Demand lines of the layer (folds x cycles per fold, MODEL.md section 2): SCALE-Sim's
    run time grows with it, so cases are kept small enough to simulate in seconds."""
    if l["type"] == "gemm":
        m, n, k = l["M"], l["N"], l["K"]
    else:
        eh = -(-(l["H"] - l["fh"] + l["s"]) // l["s"])
        ew = -(-(l["W"] - l["fw"] + l["s"]) // l["s"])
        m, n, k = eh * ew, l["nf"], l["fh"] * l["fw"] * l["ch"]
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[c["df"]]
    folds = -(-sr // c["R"]) * -(-sc // c["C"])
    return folds * (t + c["R"] + c["C"])


def draw(rng, t):
    """One random case of distribution `t`: (config keys, layer), redrawn until it has at most
    `t["max_lines"]` demand lines (and, where `t` asks, an ifmap larger than half the ifmap
    SRAM, so its CALC chunks close)."""
    while True:
        c, l = draw_from(rng, t)
        if demand_lines(c, l) > t["max_lines"]:
            continue
        if t.get("overflow") and l["H"] * l["W"] * l["ch"] <= 512 * c["isz"]:
            continue
        return c, l


# The distributions: choices for the config keys and the layer ranges. All are drawn by
# `draw_from` in the same order, so a seed gives the same cases as long as a table is unchanged.
DEFAULT = dict(
    R=[4, 8, 12, 16, 24, 32, 48, 64, 128],
    C=[4, 5, 8, 16, 20, 32, 64, 128],
    sram=[1, 2, 4, 8, 32, 256],
    df=["os", "ws", "is"], mode=["CALC", "USER"],
    gemm_p=0.4, gemm_max=160,
    fh=[1, 2, 3, 5], fw=[1, 2, 3, 5], hw_max=28, ch_max=24, nf_max=48, s=[1, 2, 3],
    max_lines=40_000,
)
WIDE = dict(
    R=[1, 2, 3, 7, 16, 31, 64, 100, 128, 256],
    C=[1, 2, 6, 16, 33, 64, 128, 256],
    sram=[1, 3, 16, 64, 100, 512, 1024],
    df=["os", "ws", "is"], mode=["CALC", "USER"],
    gemm_p=0.5, gemm_max=400,
    fh=[1, 2, 3, 7], fw=[1, 3, 4, 7], hw_max=40, ch_max=32, nf_max=100, s=[1, 2, 4],
    max_lines=60_000,
)
# Stock-size conv layers in CALC OS/IS whose ifmap overflows the chunk (the cases archsim walks
# by window jumps, `src/systolic/scalesim/window_walk.rs`); SCALE-Sim takes up to a minute a case.
LARGE = dict(
    R=[8, 16, 32, 64],
    C=[8, 16, 32, 64],
    sram=[16, 32, 64, 128, 256, 512],
    df=["os", "is"], mode=["CALC"],
    gemm_p=0.0, gemm_max=1,
    fh=[3, 5, 7], fw=[3, 5, 7], hw_max=96, ch_max=64, nf_max=64, s=[1, 2],
    max_lines=250_000, overflow=True,
)


def draw_from(rng, t):
    """One case of distribution `t` (DEFAULT, WIDE or LARGE): (config keys, layer)."""
    c = dict(
        R=rng.choice(t["R"]),
        C=rng.choice(t["C"]),
        isz=rng.choice(t["sram"]),
        fsz=rng.choice(t["sram"]),
        osz=rng.choice(t["sram"]),
        df=rng.choice(t["df"]),
        mode=rng.choice(t["mode"]),
        bw=rng.choice([1, 2, 4, 8, 10, 32]),
        rbw=rng.choice([1, 2, 3, 4, 8, 16, 32]),
    )
    if rng.random() < t["gemm_p"]:
        g = t["gemm_max"]
        layer = dict(type="gemm", M=rng.randint(1, g), N=rng.randint(1, g), K=rng.randint(1, g))
    else:
        fh, fw = rng.choice(t["fh"]), rng.choice(t["fw"])
        layer = dict(type="conv", H=rng.randint(fh, t["hw_max"]), W=rng.randint(fw, t["hw_max"]),
                     fh=fh, fw=fw, ch=rng.randint(1, t["ch_max"]), nf=rng.randint(1, t["nf_max"]),
                     s=rng.choice(t["s"]))
    return c, layer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out", default="tests/data/scalesim/crosscheck")
    ap.add_argument("--layout", default="tests/data/scalesim/layout_none.csv")
    ap.add_argument("--wide", action="store_true",
                    help="draw from the wider distribution (WIDE) instead of DEFAULT")
    ap.add_argument("--large", action="store_true",
                    help="draw stock-size CALC OS/IS conv layers whose ifmap overflows the chunk "
                         "(LARGE) instead of DEFAULT")
    ap.add_argument("--archsim", metavar="BIN",
                    help="also run BIN (`archsim run --format scalesim`) on every case and "
                         "compare its three reports with SCALE-Sim's, number by number; exit 1 "
                         "on any difference")
    a = ap.parse_args()
    import numpy
    from importlib.metadata import version
    from scalesim.scale_sim import scalesim

    rng = random.Random(a.seed)
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(os.path.join(a.out, "configs"))
    os.makedirs(os.path.join(a.out, "topologies"))
    layout = os.path.abspath(a.layout)
    rows = []
    mismatches = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.cases):
            c, l = draw(rng, LARGE if a.large else WIDE if a.wide else DEFAULT)
            name = f"x{a.seed}_{i}"
            cfg_path = os.path.join(a.out, "configs", name + ".cfg")
            topo_path = os.path.join(a.out, "topologies", name + ".csv")
            with open(cfg_path, "w") as f:
                f.write(CFG.format(name=name, **c))
            with open(topo_path, "w") as f:
                if l["type"] == "gemm":
                    f.write(f"Layer, M, N, K,\n{name}, {l['M']}, {l['N']}, {l['K']},\n")
                else:
                    f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                            "Channels, Num Filter, Strides,\n"
                            f"{name}, {l['H']}, {l['W']}, {l['fh']}, {l['fw']}, {l['ch']}, "
                            f"{l['nf']}, {l['s']},\n")
            t0 = time.time()
            sim = scalesim(save_disk_space=True, verbose=False, config=cfg_path,
                           topology=topo_path, layout=layout,
                           input_type_gemm=l["type"] == "gemm")
            sim.run_scale(top_path=tmp)
            wall = time.time() - t0
            d = os.path.join(tmp, name)
            r = dict(
                cfg_name=name, array_rows=c["R"], array_cols=c["C"], dataflow=c["df"],
                ifmap_sram_kB=c["isz"], filter_sram_kB=c["fsz"], ofmap_sram_kB=c["osz"],
                bw_mode=c["mode"],
                dram_rd_bw_words_per_cycle=c["rbw"] if c["mode"] == "USER" else "n/a(CALC)",
                ofmap_wr_bw_words_per_cycle=c["bw"] if c["mode"] == "USER" else "n/a(CALC)",
                layer_type=l["type"], layer_name=name,
                scalesim_wall_s=f"{wall:.3f}", scalesim_version=version("scalesim"),
                numpy_version=numpy.__version__,
            )
            if l["type"] == "gemm":
                r.update(gemm_M=l["M"], gemm_N=l["N"], gemm_K=l["K"])
            else:
                r.update(ifmap_h=l["H"], ifmap_w=l["W"], filter_h=l["fh"], filter_w=l["fw"],
                         channels=l["ch"], num_filters=l["nf"], stride=l["s"])
            for cols, rep in [(COMPUTE, "COMPUTE_REPORT.csv"),
                              (ACCESS, "DETAILED_ACCESS_REPORT.csv"),
                              (BANDWIDTH, "BANDWIDTH_REPORT.csv")]:
                vals = report_values(os.path.join(d, rep))
                r.update(dict(zip(cols, vals)))
            rows.append(r)
            verdict = ""
            if a.archsim:
                diffs = compare(a.archsim, cfg_path, topo_path, d, os.path.join(tmp, "ar_" + name))
                mismatches += bool(diffs)
                verdict = f" MISMATCH {diffs[:6]}" if diffs else " exact"
            print(f"{i} {name} {c} {l} {wall:.2f} s{verdict}", flush=True)
    with open(os.path.join(a.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    if a.archsim:
        print(f"{a.cases - mismatches} of {a.cases} cases exact on every reported number")
        if mismatches:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
