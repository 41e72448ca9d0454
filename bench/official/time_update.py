#!/usr/bin/env python3
"""Time the paper's official JAX implementation of MFPO on this machine, the way bench_update
and bench_infer time libmfpo: one jitted update at given sizes (median of N after warm-up, with
block_until_ready), one batch-1 sample and one 10-candidate selection.

The official code (github.com/dongxiaoyi-xyz/MFPO) has no licence, so nothing of it is in this
repository: check it out anywhere and pass its path. Its pinned dependencies (CPU):

    python3 -m venv /tmp/jaxvenv
    /tmp/jaxvenv/bin/pip install jax==0.4.30 jaxlib==0.4.30 flax==0.8.5 optax==0.2.3 chex \\
        ml_collections numpy==1.26.4 gym==0.23.1
    /tmp/jaxvenv/bin/python bench/official/time_update.py --official /path/to/MFPO --threads 1

Without --official (or with a path that holds no jaxrl5/) the script exits 77.

Output, one line per measurement (the same field names as bench_update/bench_infer):
    RESULT jax_update obs=<n> act=<n> threads=<n> ms=<median> p10=<f> p90=<f>
    RESULT jax_infer obs=<n> act=<n> threads=<n> sample_us=<median> select_us=<median>
"""
import argparse
import os
import sys
import time
import types


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--official", help="path to a checkout of the official MFPO code")
    p.add_argument("--obs", type=int, default=17)
    p.add_argument("--act", type=int, default=6)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--k1", type=int, default=16)
    p.add_argument("--k2", type=int, default=32)
    p.add_argument("--atoms", type=int, default=101)
    p.add_argument("--updates", type=int, default=50, help="timed updates (median reported)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--infer-calls", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1,
                   help="1: XLA's CPU client on one thread (and pinned to one core); 0: XLA's default")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    a = parse()
    if not a.official or not os.path.isdir(os.path.join(a.official, "jaxrl5")):
        print("time_update.py: no checkout of the official code (--official PATH): skipped", file=sys.stderr)
        return 77
    if a.threads == 1:
        # one intra-op thread, and the process on one core so that Eigen's pool cannot spread
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sys.modules.setdefault("wandb", types.ModuleType("wandb"))  # imported by the package, unused here
    sys.path.insert(0, os.path.abspath(a.official))

    import gym
    import jax
    import numpy as np
    from jaxrl5.agents import MeanFlowLearner

    obs_space = gym.spaces.Box(-np.inf, np.inf, (a.obs,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (a.act,), np.float32)
    hidden = tuple([a.hidden] * a.depth)
    agent = MeanFlowLearner.create(
        a.seed, obs_space, act_space, critic_hidden_dims=hidden, actor_hidden_dims=hidden,
        temp=0.01, vel1_samples_num=a.k1, vel2_samples_num=a.k2, atoms_num=a.atoms)
    rng = np.random.default_rng(a.seed)
    batch = {
        "observations": rng.standard_normal((a.batch, a.obs), dtype=np.float32),
        "actions": rng.uniform(-1, 1, (a.batch, a.act)).astype(np.float32),
        "rewards": rng.standard_normal(a.batch, dtype=np.float32),
        "masks": np.ones(a.batch, np.float32),
        "next_observations": rng.standard_normal((a.batch, a.obs), dtype=np.float32),
    }
    batch = jax.tree_util.tree_map(jax.numpy.asarray, batch)

    times = []
    for i in range(a.warmup + a.updates):
        t0 = time.perf_counter()
        agent, info = agent.update(batch)
        jax.block_until_ready((agent, info))
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    threads = a.threads if a.threads > 0 else len(os.sched_getaffinity(0))
    print(f"INFO device=\"jax {jax.__version__} {jax.devices()[0].platform}\" info_keys={len(info)}")
    print(f"RESULT jax_update obs={a.obs} act={a.act} threads={threads} ms={percentile(times, 0.5):.3f} "
          f"p10={percentile(times, 0.1):.3f} p90={percentile(times, 0.9):.3f}")

    obs1 = np.asarray(batch["observations"][0])

    def timed(fn):
        nonlocal agent
        out = None
        for _ in range(20):
            out, agent = fn(agent, obs1)
        jax.block_until_ready(out)
        ts = []
        for _ in range(a.infer_calls):
            t0 = time.perf_counter()
            out, agent = fn(agent, obs1)
            jax.block_until_ready(out)
            ts.append((time.perf_counter() - t0) * 1e6)
        return percentile(ts, 0.5)

    sample_us = timed(lambda ag, o: ag.eval_actions_sample(o))
    select_us = timed(lambda ag, o: ag.eval_actions_select(o, 10))
    print(f"RESULT jax_infer obs={a.obs} act={a.act} threads={threads} sample_us={sample_us:.1f} "
          f"select_us={select_us:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
