#!/usr/bin/env python3
"""Call overhead of agent.act from Python at batch 1 against the C call (issue 14's target:
under 2x the C call plus 5 us), and the raw ctypes and cffi (ABI mode) calls that choose the
binding. Alternating rounds in one run: C (bench/act_latency, its own process), mfpo's
Agent.act, Agent.act with out=, the bare ctypes and cffi (ABI mode, if cffi is installed) calls
of mfpo_agent_act, and of mfpo_agent_update_count (a getter: the bare cost of a call into C).

    python bench/python_act_overhead.py ACT_LATENCY_BINARY [--calls N] [--rounds R]

Needs the mfpo package importable (installed, or PYTHONPATH=python MFPO_LIBRARY=build/lib/libmfpo.so).
Prints the medians in us per call and one RESULT line.
"""
import argparse
import ctypes
import statistics
import subprocess
import sys
import time

import numpy as np

import mfpo
from mfpo import _lib


def per_call(fn, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("c_binary")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()

    ctx = mfpo.Context(seed=0, threads=1)
    agent = mfpo.Agent(mfpo.AgentConfig.preset("pendulum"), ctx)
    obs = np.array([0.5, -0.25, 1.0], np.float32)
    out = np.empty(1, np.float32)
    h = agent._handle()
    ctypes_obs, ctypes_out = obs.ctypes.data, out.ctypes.data
    variants = {
        "agent.act(obs)": lambda: agent.act(obs),
        "agent.act(obs, out=out)": lambda: agent.act(obs, out=out),
        "ctypes call": lambda: _lib.agent_act(h, ctypes_obs, 1, ctypes_out),
        # the bare cost of crossing into C: a getter that does nothing but read a field
        "ctypes getter": lambda: _lib.agent_update_count(h),
    }
    try:
        import cffi
        ffi = cffi.FFI()
        ffi.cdef("int mfpo_agent_act(void *agent, const float *obs, size_t n, float *actions);"
                 "uint64_t mfpo_agent_update_count(const void *agent);")
        clib = ffi.dlopen(_lib.LIBRARY_PATH)
        hp = ffi.cast("void *", h)
        fo = ffi.cast("const float *", ctypes_obs)
        fa = ffi.cast("float *", ctypes_out)
        variants["cffi ABI call"] = lambda: clib.mfpo_agent_act(hp, fo, 1, fa)
        variants["cffi getter"] = lambda: clib.mfpo_agent_update_count(hp)
    except ImportError:
        print("cffi not installed: its variant is skipped")
    for fn in variants.values():  # warm-up
        per_call(fn, a.calls // 4)
    results = {k: [] for k in ["C"] + list(variants)}
    for r in range(a.rounds):
        p = subprocess.run([a.c_binary, "--calls", str(a.calls), "--rounds", "1"], capture_output=True, text=True,
                           check=True)
        results["C"].append(float(p.stdout.split("us_per_call=")[1].split()[0]))
        for k, fn in variants.items():
            results[k].append(per_call(fn, a.calls))
    med = {k: statistics.median(v) for k, v in results.items()}
    for k, v in med.items():
        print(f"{k:26s} {v:8.2f} us/call  (rounds: {', '.join(f'{x:.2f}' for x in results[k])})")
    c = med["C"]
    target = 2 * c + 5
    print(f"RESULT python_act_overhead c_us={c:.2f} act_us={med['agent.act(obs)']:.2f} "
          f"act_out_us={med['agent.act(obs, out=out)']:.2f} ctypes_us={med['ctypes call']:.2f} "
          f"cffi_us={med.get('cffi ABI call', float('nan')):.2f} ctypes_getter_us={med['ctypes getter']:.3f} "
          f"cffi_getter_us={med.get('cffi getter', float('nan')):.3f} target_us={target:.2f} "
          f"met={'yes' if med['agent.act(obs)'] < target else 'no'}")


if __name__ == "__main__":
    main()
