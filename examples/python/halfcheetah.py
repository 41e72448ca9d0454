#!/usr/bin/env python3
"""MFPO on Gymnasium's MuJoCo HalfCheetah with the paper's settings, through the mfpo package.

    python examples/python/halfcheetah.py [--env HalfCheetah-v4] [--seed N] [--steps N] [--warmup N]
                                          [--eval-every N] [--eval-episodes N] [--threads N] [--out PREFIX]

Settings: the library's "halfcheetah" presets (mfpo_agent_config_preset / mfpo_train_options_preset:
the paper's networks and update, clipped double-Q off, 1 000 000 steps, 10 000 uniform warm-up
steps, one update per step, evaluation every 10 000 steps over 10 episodes on a second instance,
time limit 1000), the same as examples/mujoco_locomotion.c --task HalfCheetah. Needs Gymnasium's
MuJoCo environments (pip install "gymnasium[mujoco]"; HalfCheetah-v4 as in the C example, or -v5).
The paper's run is long (days on a CPU): use --steps for a shorter one. Writes PREFIX.csv
(step, wall seconds, mean evaluation return), PREFIX.png with matplotlib, and at the end
PREFIX.agent.mfpo, PREFIX.replay.mfpo and PREFIX.state.json (the run's TrainState), and ends with

    RESULT halfcheetah-py env=<id> seed=<n> steps=<n> eval_return=<f> seconds=<f> steps_per_second=<f>
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Dict, List

import gymnasium as gym

import mfpo


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", default="HalfCheetah-v4")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="default: the preset's 1 000 000")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--eval-every", type=int, default=None)
    ap.add_argument("--eval-episodes", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="halfcheetah-py")
    a = ap.parse_args(argv)

    try:
        env, eval_env = gym.make(a.env), gym.make(a.env)
    except (gym.error.DependencyNotInstalled, ImportError) as e:
        print(f"halfcheetah.py: {a.env} needs Gymnasium's MuJoCo environments "
              f"(pip install \"gymnasium[mujoco]\"): {e}", file=sys.stderr)
        return 2
    S, A = env.observation_space.shape[0], env.action_space.shape[0]
    options = mfpo.TrainOptions.preset("halfcheetah", seed=a.seed)
    for name, value in (("warmup_steps", a.warmup), ("eval_every", a.eval_every),
                        ("eval_episodes", a.eval_episodes)):
        if value is not None:
            setattr(options, name, value)
    steps = options.total_steps if a.steps is None else a.steps
    ctx = mfpo.Context(seed=a.seed, threads=a.threads)
    agent = mfpo.Agent(mfpo.AgentConfig.preset("halfcheetah", S, A), ctx)
    replay = mfpo.ReplayBuffer(ctx, S, A, max(1, min(steps, 1_000_000)))
    state = mfpo.TrainState()
    print(f"halfcheetah.py: {a.env} (obs {S}, act {A}), seed {a.seed}, {steps} steps "
          f"({options.warmup_steps} warm-up), preset 'halfcheetah', {ctx.device_name}", flush=True)

    rows: List[Dict[str, float]] = []
    with open(a.out + ".csv", "w") as csv:
        csv.write("step,seconds,eval_return\n")

        def progress(p: Dict[str, Any]) -> bool:
            if p["evaluated"]:
                rows.append({"step": p["step"], "ret": p["last_eval_return"]})
                csv.write(f"{p['step']},{p['elapsed_seconds']:.3f},{p['last_eval_return']:.3f}\n")
                csv.flush()
            if p["evaluated"] or p["step"] % 1000 == 0:
                s = p["stats"]
                print(f"step {p['step']:8d}/{p['total_steps']}  {p['steps_per_second']:6.1f} steps/s  episode "
                      f"{p['last_episode_return']:9.1f}  eval {p['last_eval_return']:9.1f}  alpha {s.alpha:.4f}  "
                      f"H {s.entropy:6.2f}  critic {s.critic_loss:.3f}", flush=True)
            return False

        t0 = time.perf_counter()
        mfpo.train(env, agent, steps, replay=replay, eval_env=eval_env, options=options, state=state,
                   progress=progress)
        seconds = time.perf_counter() - t0
    agent.save(a.out + ".agent.mfpo")
    replay.save(a.out + ".replay.mfpo")
    with open(a.out + ".state.json", "w") as f:
        json.dump(state.to_dict(), f)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.plot([r["step"] for r in rows], [r["ret"] for r in rows], "o-", lw=2)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("mean evaluation return")
        ax.set_title(f"MFPO on {a.env} (seed {a.seed})")
        ax.grid(True)
        fig.savefig(a.out + ".png", dpi=100)
    except ImportError:
        pass
    last = rows[-1]["ret"] if rows else float("nan")
    print(f"RESULT halfcheetah-py env={a.env} seed={a.seed} steps={steps} eval_return={last:.1f} "
          f"seconds={seconds:.1f} steps_per_second={steps / seconds if seconds > 0 else 0:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
