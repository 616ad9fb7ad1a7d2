#!/usr/bin/env python3
"""Measure real GEMM kernel times on an NVIDIA GPU, as calibration/evaluation data for archsim's
SIMT model.  C[M x N] = A[M x K] . B[K x N], FLOPs = 2*M*N*K*batch.

Method (see archsim README, "GPU measurements"):
  * torch.matmul (cuBLAS / cuBLASLt) for fp32 (TF32 disabled and enabled), bf16, fp16;
    torch._scaled_mm for fp8 (e4m3 x e4m3 -> bf16, per-tensor scale); torch._int_mm for int8.
  * inputs are random (never zeros), several input sets are rotated so that the working set
    exceeds 2x the L2 for small shapes (cold-ish L2, as a standalone GEMM in a model would see);
  * kernel time from the CUPTI tracer (torch.profiler): per call, the sum of the durations of
    every kernel the call launches; the median over the repeats is `time_us`. `graph_time_us`
    is the per-call time of a CUDA-graph replay of the repeats timed with CUDA events (kernel
    time plus the minimal gap between back-to-back kernels).
Writes CSV to $OUT/gpu_gemm_sweep.csv (or ./gpu_gemm_sweep.csv) and prints a summary.
"""
import csv, os, statistics, subprocess, sys, time
import torch

OUT = os.environ.get("OUT", ".")
dev = torch.device("cuda")
props = torch.cuda.get_device_properties(0)
L2 = getattr(props, "L2_cache_size", 50 * 2**20)
name = props.name

def smi(q):
    try:
        return subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception as e:  # noqa
        return f"n/a ({e})"

def make(dtype, m, n, k, batch):
    """Return a closure running one GEMM on input set i."""
    shape_a = (batch, m, k) if batch > 1 else (m, k)
    shape_b = (batch, k, n) if batch > 1 else (k, n)
    esz = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}[dtype]
    set_bytes = (m * k + k * n) * batch * esz
    nsets = max(1, min(8, (2 * L2) // max(set_bytes, 1) + 1))
    sets = []
    for _ in range(nsets):
        if dtype in ("fp32", "tf32"):
            a = torch.randn(shape_a, device=dev); b = torch.randn(shape_b, device=dev)
        elif dtype == "bf16":
            a = torch.randn(shape_a, device=dev, dtype=torch.bfloat16); b = torch.randn(shape_b, device=dev, dtype=torch.bfloat16)
        elif dtype == "fp16":
            a = torch.randn(shape_a, device=dev, dtype=torch.float16); b = torch.randn(shape_b, device=dev, dtype=torch.float16)
        elif dtype == "fp8":
            a = torch.randn(shape_a, device=dev).to(torch.float8_e4m3fn)
            b = torch.randn((n, k), device=dev).to(torch.float8_e4m3fn).t()  # column-major B required
        elif dtype == "int8":
            a = torch.randint(-64, 64, shape_a, device=dev, dtype=torch.int8)
            b = torch.randint(-64, 64, (n, k), device=dev, dtype=torch.int8).t()
        sets.append((a, b))
    one = torch.ones((), device=dev)
    if dtype == "fp8":
        f = lambda a, b: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    elif dtype == "int8":
        f = lambda a, b: torch._int_mm(a, b)
    else:
        f = torch.matmul
    return f, sets

def time_gemm(dtype, m, n, k, batch=1):
    """Return (kernel_us, graph_us, reps): median per-call GPU kernel time from the CUPTI tracer
    (torch.profiler; sum of every kernel the call launches, e.g. split-K reductions), and the
    per-call time of a CUDA-graph replay of `reps` calls timed with CUDA events."""
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    f, sets = make(dtype, m, n, k, batch)
    for i in range(3):
        f(*sets[i % len(sets)])
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record(); f(*sets[0]); e.record(); torch.cuda.synchronize()
    est = max(s.elapsed_time(e) / 1e3, 1e-6)
    reps = int(min(50, max(5, 0.03 / est)))
    # 1) CUPTI kernel times, per call
    from torch.profiler import profile, ProfilerActivity
    marks = []
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for i in range(reps):
            a, b = sets[i % len(sets)]
            f(a, b)
        torch.cuda.synchronize()
    kern = [ev for ev in prof.events() if ev.device_type == torch.autograd.DeviceType.CUDA]
    kern.sort(key=lambda ev: ev.time_range.start)
    # group kernels into calls: kernels per call = len(kern) // reps
    per = max(1, len(kern) // reps)
    calls = [sum(ev.time_range.elapsed_us() for ev in kern[i * per:(i + 1) * per]) for i in range(reps)]
    kernel_us = statistics.median(calls) if calls else float("nan")
    # 2) CUDA graph replay (launch gaps minimal), events around the replay
    graph_us = float("nan")
    try:
        g = torch.cuda.CUDAGraph()
        st = torch.cuda.Stream()
        st.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(st):
            f(*sets[0])
            torch.cuda.synchronize()
            with torch.cuda.graph(g, stream=st):
                for i in range(reps):
                    a, b = sets[i % len(sets)]
                    f(a, b)
        torch.cuda.current_stream().wait_stream(st)
        g.replay(); torch.cuda.synchronize()
        ts = []
        for _ in range(3):
            s.record(); g.replay(); e.record(); torch.cuda.synchronize()
            ts.append(s.elapsed_time(e) * 1e3 / reps)
        graph_us = statistics.median(ts)
        del g
    except Exception as ex:  # noqa
        print("graph capture failed:", type(ex).__name__, str(ex)[:100], flush=True)
    del sets
    return kernel_us, graph_us, reps, per

shapes = []
sq = [128, 256, 512, 768, 1024, 1536, 2048, 3072, 4096, 5120, 6144, 8192, 10240, 12288, 16384]
for d in ("bf16", "fp16", "fp8", "int8", "tf32", "fp32"):
    for x in sq:
        if d == "fp32" and x > 8192: continue
        shapes.append((d, x, x, x, 1))
# LLM shapes (GPT-3 175B: d=12288, ffn 49152; tensor-parallel-free single GPU projections)
for d in ("bf16", "fp8"):
    for m in (1, 4, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384):
        for (n, k) in ((3 * 12288, 12288), (12288, 12288), (49152, 12288), (12288, 49152)):
            shapes.append((d, m, n, k, 1))
# Llama-style 4096/11008 and rectangular / skinny shapes, bf16
for (m, n, k) in ((4096, 4096, 11008), (4096, 11008, 4096), (2048, 4096, 4096), (8192, 1024, 8192),
                  (1024, 8192, 8192), (8192, 8192, 1024), (16384, 16384, 512), (512, 512, 16384),
                  (128, 128, 65536), (65536, 128, 128), (3000, 3000, 3000), (1000, 1000, 1000),
                  (6144, 6144, 6144), (12288, 12288, 12288), (100, 37, 53), (4096, 1, 4096),
                  (1, 4096, 4096), (32768, 4096, 1024), (2304, 2304, 2304), (768, 768, 768)):
    shapes.append(("bf16", m, n, k, 1))
# batched attention-like (heads as batch)
for (b, m, n, k) in ((96, 2048, 2048, 128), (96, 2048, 128, 2048), (32, 512, 512, 64), (96, 1, 2048, 128), (16, 4096, 4096, 128)):
    shapes.append(("bf16", m, n, k, b))
# Llama-2-70B projections (d 8192, ffn 28672, GQA kv 1024), bf16 and fp8
for d in ("bf16", "fp8", "fp16"):
    for m in (1, 32, 256, 1024, 4096, 8192):
        for (n, k) in ((10240, 8192), (8192, 8192), (57344, 8192), (8192, 28672)):
            shapes.append((d, m, n, k, 1))
# fp16/fp8 extras
for (m, n, k) in ((4096, 4096, 11008), (8192, 1024, 8192), (2048, 4096, 4096)):
    shapes.append(("fp16", m, n, k, 1)); shapes.append(("int8", m, n, k, 1))

path = os.path.join(OUT, "gpu_gemm_sweep.csv")
t0 = time.time()
meta = dict(device=name, sms=props.multi_processor_count, l2_bytes=L2,
            clocks=smi("clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit"),
            driver=smi("driver_version"), torch=torch.__version__, cuda=torch.version.cuda)
print(meta, flush=True)
with open(path, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["device", "dtype", "batch", "M", "N", "K", "time_us", "graph_time_us", "reps",
                "kernels_per_call", "measured_tflops", "timing", "quality", "source_id", "source", "notes"])
    for (d, m, n, k, b) in shapes:
        if time.time() - t0 > float(os.environ.get("SWEEP_MAX_S", "330")):
            print("time budget reached, stopping", flush=True); break
        try:
            med, gr, reps, per = time_gemm(d, m, n, k, b)
        except Exception as ex:  # unsupported dtype/shape on this stack: record and continue
            print(f"skip {d} {b}x{m}x{n}x{k}: {type(ex).__name__}: {str(ex)[:120]}", flush=True)
            continue
        tf = 2 * m * n * k * b / (med * 1e-6) / 1e12
        w.writerow([name, d, b, m, n, k, f"{med:.3f}", f"{gr:.3f}", reps, per, f"{tf:.3f}",
                    "median kernel time per call (CUPTI tracer via torch.profiler, all kernels of the call); inputs rotated (>2x L2)",
                    "A", "archsim_scripts_measure_gpu_gemm",
                    f"scripts/measure_gpu_gemm.py; torch {torch.__version__} cuda {torch.version.cuda}; driver {meta['driver']}",
                    "fp8: torch._scaled_mm e4m3 per-tensor scale, bf16 out; int8: torch._int_mm; tf32: allow_tf32=True"])
        fh.flush()
        print(f"{d:5s} b={b:3d} {m:6d}x{n:6d}x{k:6d}  {med:10.2f} us (graph {gr:10.2f})  {tf:8.1f} TFLOP/s", flush=True)
print("clocks after:", smi("clocks.sm,clocks.max.sm,clocks.mem,power.draw"), flush=True)
print(f"done in {time.time()-t0:.1f}s -> {path}")
