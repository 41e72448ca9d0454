#!/usr/bin/env python3
"""MFPO on Gymnasium's Pendulum-v1 through the mfpo package (docs/python.md).

    python examples/python/pendulum.py [--seed N] [--steps N] [--threads N] [--final-episodes N] [--out PREFIX]

Trains with the library's "pendulum" preset (the settings of the C example examples/pendulum.c),
evaluating every 1000 steps on 10 episodes of a second Pendulum-v1, then evaluates the final agent
on --final-episodes episodes whose reset seeds were never used by training or by the periodic
evaluations (checked). Prints a progress bar and one line per evaluation, writes PREFIX.csv
(step, wall seconds, mean evaluation return) and PREFIX.png (when matplotlib is installed), and
ends with

    RESULT pendulum-py seed=<n> steps=<n> eval_return=<f> final_return=<f> solved_step=<n> seconds=<f>

where "solved" is the first periodic evaluation with a mean return >= -200 (-1 when none was).
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Dict, List, Set

import gymnasium as gym
import numpy as np

import mfpo

SOLVED = -200.0


class SeedRecorder(gym.Wrapper):
    """Remembers every seed the library resets the env with."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.seeds: Set[int] = set()

    def reset(self, *, seed: Any = None, options: Any = None) -> Any:
        if seed is not None:
            self.seeds.add(int(seed))
        return self.env.reset(seed=seed, options=options)


def bar(step: int, total: int, width: int = 30) -> str:
    filled = int(width * step / max(total, 1))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-episodes", type=int, default=10)
    ap.add_argument("--final-episodes", type=int, default=10)
    ap.add_argument("--out", default="pendulum-py")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)

    env = SeedRecorder(gym.make("Pendulum-v1"))
    eval_env = SeedRecorder(gym.make("Pendulum-v1"))
    ctx = mfpo.Context(seed=a.seed, threads=a.threads)
    agent = mfpo.Agent(mfpo.AgentConfig.preset("pendulum"), ctx)
    options = mfpo.TrainOptions.preset("pendulum", seed=a.seed, eval_episodes=a.eval_episodes)
    print(f"pendulum.py: Gymnasium {gym.__version__} Pendulum-v1, seed {a.seed}, {a.steps} steps "
          f"({options.warmup_steps} warm-up), preset 'pendulum', {ctx.device_name}", flush=True)

    rows: List[Dict[str, float]] = []
    solved = [-1]

    def progress(p: Dict[str, Any]) -> bool:
        if p["evaluated"]:
            rows.append({"step": p["step"], "seconds": p["elapsed_seconds"], "ret": p["last_eval_return"]})
            mark = ""
            if solved[0] < 0 and p["last_eval_return"] >= SOLVED:
                solved[0] = p["step"]
                mark = "  <- solved"
            s = p["stats"]
            print(f"\rstep {p['step']:6d}  eval {p['last_eval_return']:8.1f}  episode "
                  f"{p['last_episode_return']:8.1f}  alpha {s.alpha:.4f}  H {s.entropy:5.2f}  "
                  f"{p['steps_per_second']:6.1f} steps/s{mark}" + " " * 10, flush=True)
        elif not a.quiet:
            eta = (p["total_steps"] - p["step"]) / p["steps_per_second"] if p["steps_per_second"] > 0 else 0
            print(f"\r{bar(p['step'], p['total_steps'])} {p['step']}/{p['total_steps']}  "
                  f"{p['steps_per_second']:6.1f} steps/s  ETA {eta:4.0f}s", end="", flush=True)
        return False

    t0 = time.perf_counter()
    result = mfpo.train(env, agent, a.steps, eval_env=eval_env, options=options, progress=progress)
    seconds = time.perf_counter() - t0

    # Final evaluation on seeds neither training nor the periodic evaluations used.
    used = env.seeds | eval_env.seeds
    base = 10**12 + 1000 * a.seed
    final_seeds = set(range(base, base + a.final_episodes))
    assert not (final_seeds & used), "final evaluation seeds overlap the training seeds"
    final = mfpo.evaluate(eval_env, agent, a.final_episodes, seed=base, episode_limit=200)

    with open(a.out + ".csv", "w") as f:
        f.write("step,seconds,eval_return\n")
        for r in rows:
            f.write(f"{r['step']},{r['seconds']:.3f},{r['ret']:.3f}\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.plot([r["step"] for r in rows], [r["ret"] for r in rows], "o-", lw=2,
                label=f"evaluation ({a.eval_episodes} episodes)")
        ax.axhline(SOLVED, ls="--", color="gray", label="solved (-200)")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("mean evaluation return")
        ax.set_title(f"MFPO on Gymnasium Pendulum-v1 (seed {a.seed})")
        ax.grid(True)
        ax.legend(loc="lower right")
        fig.savefig(a.out + ".png", dpi=100)
        print(f"pendulum.py: learning curve {a.out}.csv and {a.out}.png")
    except ImportError:
        print(f"pendulum.py: matplotlib is not installed; the learning curve is in {a.out}.csv")
    last = rows[-1]["ret"] if rows else float("nan")
    print(f"RESULT pendulum-py seed={a.seed} steps={a.steps} eval_return={last:.1f} final_return={final:.1f} "
          f"solved_step={solved[0]} seconds={seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
