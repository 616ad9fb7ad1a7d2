#!/usr/bin/env python3
"""Measure board power and energy per operation on an NVIDIA GPU, as calibration/evaluation data
for archsim's energy model (tests/data/gpu_power_<device>.csv).

For each workload: launch it back to back for ~RUN_S seconds (a CUDA graph of many calls, replayed
in a loop, so the GPU never idles), sample the board power with NVML (nvmlDeviceGetPowerUsage, mW)
every 50 ms in a background thread, and report the median power over the steady part (after the
first second), the time per call (CUDA events around the replays), and energy per call =
power x time per call. Idle power is sampled first with nothing running.

Caveats (documented with the data): NVML board power includes HBM, VRMs and fans; it is averaged
by the driver over a short window; clocks are left as found (never changed).
"""
import csv, os, statistics, threading, time
import torch
import pynvml

OUT = os.environ.get("OUT", ".")
RUN_S = float(os.environ.get("RUN_S", "5"))
dev = torch.device("cuda")
pynvml.nvmlInit()
h = pynvml.nvmlDeviceGetHandleByIndex(0)
name = torch.cuda.get_device_name(0)

def sample(stop, out):
    while not stop.is_set():
        try:
            out.append((time.time(), pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0,
                        pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM)))
        except Exception:
            pass
        time.sleep(0.05)

def measure(label, fn, calls_per_graph):
    fn(); torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    st = torch.cuda.Stream(); st.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(st):
        fn(); torch.cuda.synchronize()
        with torch.cuda.graph(g, stream=st):
            for _ in range(calls_per_graph):
                fn()
    torch.cuda.current_stream().wait_stream(st)
    g.replay(); torch.cuda.synchronize()
    # time one replay
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record(); g.replay(); e.record(); torch.cuda.synchronize()
    replay_s = s.elapsed_time(e) / 1e3
    n = max(3, int(RUN_S / max(replay_s, 1e-6)))
    samples, stop = [], threading.Event()
    th = threading.Thread(target=sample, args=(stop, samples)); th.start()
    t0 = time.time()
    s.record()
    for _ in range(n):
        g.replay()
    e.record(); torch.cuda.synchronize()
    stop.set(); th.join()
    total_s = s.elapsed_time(e) / 1e3
    per_call_s = total_s / (n * calls_per_graph)
    steady = [p for (t, p, c) in samples if t - t0 > 1.0] or [p for (_, p, _) in samples]
    clocks = [c for (t, p, c) in samples if t - t0 > 1.0] or [0]
    pw = statistics.median(steady)
    return dict(workload=label, time_per_call_us=per_call_s * 1e6, power_w=pw,
                power_p10_w=sorted(steady)[len(steady) // 10], power_p90_w=sorted(steady)[(9 * len(steady)) // 10],
                sm_clock_mhz=statistics.median(clocks), energy_per_call_uj=pw * per_call_s * 1e6,
                samples=len(steady), run_s=total_s)

rows = []
# idle
samples, stop = [], threading.Event()
th = threading.Thread(target=sample, args=(stop, samples)); th.start(); time.sleep(2.5); stop.set(); th.join()
idle = statistics.median(p for (_, p, _) in samples)
rows.append(dict(workload="idle", kind="idle", dtype="", M=0, N=0, K=0, batch=0, bytes=0, time_per_call_us=0,
                 power_w=idle, power_p10_w=idle, power_p90_w=idle, sm_clock_mhz=statistics.median(c for (_, _, c) in samples),
                 energy_per_call_uj=0, samples=len(samples), run_s=2.5))
print("idle", idle, flush=True)

def gemm_case(dt, m, n, k, calls):
    if dt == "fp8":
        a = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
        b = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()
        one = torch.ones((), device=dev)
        fn = lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    else:
        t = {"bf16": torch.bfloat16, "fp16": torch.float16}[dt]
        a = torch.randn(m, k, device=dev, dtype=t); b = torch.randn(k, n, device=dev, dtype=t)
        fn = lambda: torch.matmul(a, b)
    r = measure(f"gemm_{dt}_{m}x{n}x{k}", fn, calls)
    r.update(kind="gemm", dtype=dt, M=m, N=n, K=k, batch=1, bytes=0)
    return r

cases = [("bf16", 8192, 8192, 8192, 4), ("fp16", 8192, 8192, 8192, 4), ("fp8", 8192, 8192, 8192, 4),
         ("bf16", 4096, 4096, 4096, 16), ("bf16", 2048, 36864, 12288, 4), ("bf16", 1, 49152, 12288, 16),
         ("bf16", 16, 12288, 12288, 16), ("bf16", 1024, 1024, 1024, 64)]
for c in cases:
    try:
        r = gemm_case(*c); rows.append(r); print(r, flush=True)
    except Exception as ex:
        print("skip", c, type(ex).__name__, str(ex)[:100], flush=True)
# memory-bound: elementwise add of two 512 Mi-element bf16 tensors (3 x 1 GiB moved per call)
try:
    n = 512 * 2**20
    x = torch.randn(n, device=dev, dtype=torch.bfloat16); y = torch.randn(n, device=dev, dtype=torch.bfloat16); z = torch.empty_like(x)
    r = measure("add_bf16_512Mi", lambda: torch.add(x, y, out=z), 4)
    r.update(kind="add", dtype="bf16", M=n, N=1, K=1, batch=1, bytes=3 * 2 * n); rows.append(r); print(r, flush=True)
    del x, y, z
except Exception as ex:
    print("skip add", ex, flush=True)
cols = ["device", "workload", "kind", "dtype", "M", "N", "K", "batch", "bytes", "time_per_call_us", "power_w", "power_p10_w",
        "power_p90_w", "sm_clock_mhz", "energy_per_call_uj", "samples", "run_s", "idle_power_w", "source"]
with open(os.path.join(OUT, "gpu_power.csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols); w.writeheader()
    for r in rows:
        r.update(device=name, idle_power_w=idle, source="scripts/measure_gpu_power.py (NVML board power, CUDA-graph replay loop)")
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items() if k in cols})
print("done")
