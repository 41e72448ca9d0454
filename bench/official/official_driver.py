#!/usr/bin/env python3
"""Train the paper's official MFPO learner on the comparison tasks of issue 16.

The official code (no licence) is never copied into this repository: this driver only imports
`MeanFlowLearner` and `ReplayBuffer` from a checkout whose path is given with --official, and runs
them the way that checkout's train_online.py does (uniform random actions during warm-up, one
`agent.sample_actions` per step afterwards, one `agent.update` per step, evaluation on a second
environment instance with `agent.eval_actions`, i.e. action selection among the critics' best of
`eval_candidate_num` candidates). What this driver sets differently from train_online.py, so that
it matches libmfpo's examples, is listed by bench/official/settings.py.

Tasks:
  pendulum     Gymnasium Pendulum-v1 (libmfpo side: examples/pendulum, a C port of it)
  halfcheetah  Gymnasium HalfCheetah-v4 (libmfpo side: examples/mujoco_locomotion)
  gmm2d        the 2-D mixture of docs/algorithm.md section 7 (libmfpo side: tools/validation/gmm2d)

Writes --out (CSV). RL tasks: step,seconds,eval_return (the columns of libmfpo's examples).
gmm2d: updates,seconds,centre_mass_min,far,logp_corr,logp_mae,sampler_corr,sampler_mae.
--stats CSV: per-update statistics (critic loss, Q mean, entropy, alpha, ...) every --stats-every
updates. Ends with one RESULT line like libmfpo's examples.
"""
import argparse
import math
import os
import sys
import time
import types


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", required=True, help="path to a checkout of the official MFPO code")
    p.add_argument("--task", required=True, choices=["pendulum", "halfcheetah", "gmm2d"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=20000, help="environment steps (RL) or updates (gmm2d)")
    p.add_argument("--warmup", type=int, default=1000, help="uniform random steps before the first update")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--k1", type=int, default=4)
    p.add_argument("--k2", type=int, default=8)
    p.add_argument("--atoms", type=int, default=101)
    p.add_argument("--vmin", type=float, default=-1700.0)
    p.add_argument("--vmax", type=float, default=100.0)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--tau", type=float, default=0.005)
    p.add_argument("--lr", type=float, default=1e-3, help="actor and divergence-net learning rate")
    p.add_argument("--lr-critic", type=float, default=1e-3)
    p.add_argument("--lr-alpha", type=float, default=3e-4)
    p.add_argument("--alpha0", type=float, default=0.01)
    p.add_argument("--auto-alpha", type=int, default=1, help="0: alpha fixed at --alpha0 (temperature lr 0)")
    p.add_argument("--candidates", type=int, default=32)
    p.add_argument("--cdq", type=int, default=1, help="clipped double-Q (the paper turns it off on HalfCheetah)")
    p.add_argument("--gmm-eval-samples", type=int, default=10000)
    p.add_argument("--out", required=True, help="CSV of the evaluations")
    p.add_argument("--stats", default=None, help="CSV of per-update statistics")
    p.add_argument("--stats-every", type=int, default=100)
    p.add_argument("--time-updates", type=int, default=0,
                   help="only time this many updates on a filled buffer (after 20 untimed) and exit")
    return p.parse_args()


def import_official(path):
    """Imports the official learner from the checkout at `path`, with an empty stand-in for wandb."""
    if not os.path.isfile(os.path.join(path, "jaxrl5", "agents", "mean_flow_learner.py")):
        sys.exit(f"official_driver: --official {path!r} is not a checkout of the official MFPO code "
                 "(no jaxrl5/agents/mean_flow_learner.py)")
    # train_online.py logs to wandb; nothing here does, and an empty module satisfies the imports.
    sys.modules.setdefault("wandb", types.ModuleType("wandb"))
    sys.path.insert(0, os.path.abspath(path))
    from jaxrl5.agents import MeanFlowLearner  # noqa: E402
    from jaxrl5.data import ReplayBuffer  # noqa: E402
    return MeanFlowLearner, ReplayBuffer


def learner_kwargs(a):
    """The official config (configs/mfpo_config.py) with this run's settings."""
    return dict(
        actor_lr=a.lr, logp_lr=a.lr, critic_lr=a.lr_critic, temp_lr=a.lr_alpha if a.auto_alpha else 0.0,
        discount=a.gamma, tau=a.tau, T=2,
        critic_hidden_dims=(a.hidden,) * a.depth, actor_hidden_dims=(a.hidden,) * a.depth,
        actor_layer_norm=True, critic_layer_norm=True, temp=a.alpha0, backup_entropy=True,
        vel1_samples_num=a.k1, vel2_samples_num=a.k2, eval_action_selection=True,
        eval_candidate_num=a.candidates, div_samples_num=2, time_dist_name="logit_normal",
        data_proportion=0.75, target_entropy_coeff=-0.5, actor_delay=1, use_cdq=bool(a.cdq),
        v_min=a.vmin, v_max=a.vmax, atoms_num=a.atoms)


def scalar(v):
    return float(v)


class StatsLog:
    KEYS = ["c_loss_1", "q_mean_1", "q_std_1", "entropy", "temperature", "next_logps", "actor_loss",
            "logp_loss"]

    def __init__(self, path, every):
        self.f = open(path, "w") if path else None
        self.every = every
        if self.f:
            self.f.write("update," + ",".join(self.KEYS) + "\n")

    def log(self, n, info):
        if self.f and n % self.every == 0:
            self.f.write(f"{n}," + ",".join(f"{scalar(info[k]):.6g}" for k in self.KEYS) + "\n")
            self.f.flush()


# ---------------------------------------------------------------- RL tasks

def make_env(task):
    import gymnasium
    name = {"pendulum": "Pendulum-v1", "halfcheetah": "HalfCheetah-v4"}[task]
    return gymnasium.make(name)


def gym_box(space):
    """gym (0.23) Box with the bounds of a Gymnasium Box: the official ReplayBuffer wants gym's."""
    import gym
    import numpy as np
    return gym.spaces.Box(low=np.asarray(space.low), high=np.asarray(space.high), dtype=np.float32)


def episode_returns(env, select, episodes, seed0, scale):
    """Returns of `episodes` fresh episodes of `env` reset with seeds seed0, seed0 + 1, ...; the
    action is scale(select(obs))."""
    import numpy as np
    returns = []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed0 + e)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = env.step(scale(np.asarray(select(obs))))
            total += float(r)
            done = term or trunc
        returns.append(total)
    return returns


def evaluate(agent, env, episodes, seed0, scale):
    """Mean return of `episodes` fresh episodes (episode_returns); actions by the official
    eval_actions (best of eval_candidate_num candidates under the target critics)."""
    import numpy as np
    box = [agent]

    def select(obs):
        act, box[0] = box[0].eval_actions(np.asarray(obs, dtype=np.float32))
        return act
    return sum(episode_returns(env, select, episodes, seed0, scale)) / episodes, box[0]


def run_rl(a, MeanFlowLearner, ReplayBuffer):
    import numpy as np
    env, eval_env = make_env(a.task), make_env(a.task)
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)

    def scale(act):  # the official wrap_gym: RescaleAction(-1, 1) then ClipAction
        act = np.clip(act.astype(np.float64), -1.0, 1.0)
        return (low + (act + 1.0) * 0.5 * (high - low)).astype(np.float32)

    obs_space = gym_box(env.observation_space)
    act_space = gym.spaces.Box(-1.0, 1.0, env.action_space.shape, np.float32)
    act_space.seed(a.seed)
    obs_space.seed(a.seed)
    agent = MeanFlowLearner.create(a.seed, obs_space, act_space, **learner_kwargs(a))
    rb = ReplayBuffer(obs_space, act_space, max(a.steps, 1))
    rb.seed(a.seed)
    stats = StatsLog(a.stats, a.stats_every)

    # Training episodes: the first reset with the run's seed, later ones continue the env's stream.
    # Evaluation k (k = 0, 1, ...) resets its episodes with 10**6 * (seed + 1) + k * episodes + i:
    # seeds no training reset uses (training seeds are 0..99 999 here).
    obs, _ = env.reset(seed=a.seed)
    ep_ret, ep_count, updates, evals = 0.0, 0, 0, 0
    csv = open(a.out, "w")
    csv.write("step,seconds,eval_return\n")
    t0 = time.monotonic()
    last_eval = float("nan")
    info = None
    for step in range(1, a.steps + 1):
        if step <= a.warmup:  # libmfpo's convention: `warmup` random steps, then an update per step
            act = act_space.sample()
        else:
            act, agent = agent.sample_actions(np.asarray(obs, dtype=np.float32))
            act = np.asarray(act, dtype=np.float32).reshape(act_space.shape)
        nxt, r, term, trunc, _ = env.step(scale(act))
        rb.insert(dict(observations=np.asarray(obs, np.float32), actions=act, rewards=float(r),
                       masks=0.0 if term else 1.0, dones=bool(term or trunc),
                       next_observations=np.asarray(nxt, np.float32)))
        ep_ret += float(r)
        obs = nxt
        if term or trunc:
            obs, _ = env.reset()
            ep_count += 1
            ep_ret = 0.0
        if step > a.warmup:
            agent, info = agent.update(rb.sample(a.batch))
            updates += 1
            stats.log(updates, info)
        if a.eval_every > 0 and step % a.eval_every == 0:
            last_eval, agent = evaluate(agent, eval_env, a.eval_episodes,
                                        10**6 * (a.seed + 1) + evals * a.eval_episodes, scale)
            evals += 1
            el = time.monotonic() - t0
            csv.write(f"{step},{el:.3f},{last_eval:.3f}\n")
            csv.flush()
            extra = ""
            if info is not None:
                extra = (f"  alpha {scalar(info['temperature']):.4f}  H {scalar(info['entropy']):.2f}  "
                         f"critic {scalar(info['c_loss_1']):.3f}  q {scalar(info['q_mean_1']):.1f}")
            print(f"step {step:7d}/{a.steps}  {step / el:6.1f} steps/s  eval {last_eval:9.1f}{extra}", flush=True)
    seconds = time.monotonic() - t0
    csv.close()
    print(f"RESULT official task={a.task} seed={a.seed} steps={a.steps} updates={updates} "
          f"eval_return={last_eval:.1f} seconds={seconds:.1f}", flush=True)


# ---------------------------------------------------------------- the 2-D mixture

GMM_COMPONENTS, GMM_RADIUS, GMM_SIGMA = 6, 0.6, 0.08  # tools/validation/gmm2d.c defaults


def gmm_log_density(x, y):
    import numpy as np
    ang = 2.0 * np.pi * np.arange(GMM_COMPONENTS) / GMM_COMPONENTS
    cx, cy = GMM_RADIUS * np.cos(ang), GMM_RADIUS * np.sin(ang)
    terms = -((x[:, None] - cx) ** 2 + (y[:, None] - cy) ** 2) / (2.0 * GMM_SIGMA ** 2)
    m = terms.max(axis=1)
    return (m + np.log(np.exp(terms - m[:, None]).sum(axis=1)) - np.log(GMM_COMPONENTS)
            - np.log(2.0 * np.pi * GMM_SIGMA ** 2))


def corr_mae(a, b):
    import numpy as np
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0, float(np.mean(np.abs(a - b))) if len(a) else float("inf")
    return float(np.corrcoef(a, b)[0, 1]), float(np.mean(np.abs(a - b)))


def gmm_measure(agent, n, seed):
    """The measurements (a)-(d) of tools/validation/gmm2d_task.c for the official sampler: n samples
    of the T-step sampler with the divergence net's log-likelihood, and the exact density of the
    noise -> action map by central differences (step 1e-3) away from the box's edge."""
    import jax.numpy as jnp
    import numpy as np
    from jaxrl5.networks.mean_flow import action_sampler_with_logp
    rng = np.random.default_rng(1000 + seed)
    e = rng.standard_normal((n, 2)).astype(np.float32)
    h = np.float32(1e-3)
    disp = [np.zeros(2, np.float32), [h, 0], [-h, 0], [0, h], [0, -h]]
    noise = np.concatenate([e + np.asarray(d, np.float32) for d in disp], axis=0)
    obs = jnp.zeros((5 * n, 1), jnp.float32)
    act, logp = action_sampler_with_logp(agent.actor.apply_fn, agent.actor.params, agent.logp_mvel.apply_fn,
                                         agent.logp_mvel.params, agent.T, jnp.asarray(noise), obs,
                                         agent.clip_sampler)
    return gmm_metrics(np.asarray(act, np.float64), np.asarray(logp, np.float64), e, n, h)


def gmm_metrics(act, logp, e, n, h):
    """(a)-(d) from a sampler's output on the 5 n rows [e; e + h x; e - h x; e + h y; e - h y]:
    act (5n x 2) and logp (5n), as float64 arrays (also used by same_start.py for libmfpo)."""
    import numpy as np
    a0, lp = act[:n], logp[:n]
    ang = 2.0 * np.pi * np.arange(GMM_COMPONENTS) / GMM_COMPONENTS
    cx, cy = GMM_RADIUS * np.cos(ang), GMM_RADIUS * np.sin(ang)
    d = np.hypot(a0[:, 0:1] - cx, a0[:, 1:2] - cy)
    within = d < 3.0 * GMM_SIGMA
    m = {"centre_mass_min": float(within.mean(axis=0).min()), "far": float((~within.any(axis=1)).mean())}
    m["logp_corr"], m["logp_mae"] = corr_mae(lp, gmm_log_density(a0[:, 0], a0[:, 1]))
    ap, am0, ap1, am1 = act[n:2 * n], act[2 * n:3 * n], act[3 * n:4 * n], act[4 * n:]
    j00, j10 = (ap[:, 0] - am0[:, 0]) / (2 * h), (ap[:, 1] - am0[:, 1]) / (2 * h)
    j01, j11 = (ap1[:, 0] - am1[:, 0]) / (2 * h), (ap1[:, 1] - am1[:, 1]) / (2 * h)
    det = np.abs(j00 * j11 - j01 * j10)
    clipped = (np.abs(act.reshape(5, n, 2)) >= 0.999).any(axis=(0, 2))
    ok = (~clipped) & (det > 0)
    lognorm = -0.5 * (e[:, 0].astype(np.float64) ** 2 + e[:, 1].astype(np.float64) ** 2) - np.log(2 * np.pi)
    m["sampler_corr"], m["sampler_mae"] = corr_mae(lp[ok], lognorm[ok] - np.log(det[ok]))
    return m


def run_gmm(a, MeanFlowLearner, ReplayBuffer):
    import gym
    import numpy as np
    obs_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    agent = MeanFlowLearner.create(a.seed, obs_space, act_space, **learner_kwargs(a))
    n = 100000
    rb = ReplayBuffer(obs_space, act_space, n)
    rb.seed(a.seed)
    rng = np.random.default_rng(7919 * a.seed + 1)
    acts = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
    rew = gmm_log_density(acts[:, 0].astype(np.float64), acts[:, 1].astype(np.float64)).astype(np.float32)
    zero = np.zeros(1, np.float32)
    for i in range(n):  # one-step episodes: observation 0, terminated
        rb.insert(dict(observations=zero, actions=acts[i], rewards=float(rew[i]), masks=0.0, dones=True,
                       next_observations=zero))
    stats = StatsLog(a.stats, a.stats_every)
    csv = open(a.out, "w")
    csv.write("updates,seconds,centre_mass_min,far,logp_corr,logp_mae,sampler_corr,sampler_mae\n")
    done, train_s = 0, 0.0
    while True:
        m = gmm_measure(agent, a.gmm_eval_samples, a.seed)
        csv.write(f"{done},{train_s:.3f},{m['centre_mass_min']:.4f},{m['far']:.4f},{m['logp_corr']:.4f},"
                  f"{m['logp_mae']:.4f},{m['sampler_corr']:.4f},{m['sampler_mae']:.4f}\n")
        csv.flush()
        print(f"updates {done:6d}  {train_s:7.1f}s  centre_mass_min {m['centre_mass_min']:.3f}  far {m['far']:.3f}  "
              f"logp corr {m['logp_corr']:.3f} mae {m['logp_mae']:.3f}  sampler corr {m['sampler_corr']:.3f} "
              f"mae {m['sampler_mae']:.3f}", flush=True)
        if done >= a.steps:
            break
        chunk = min(a.eval_every, a.steps - done)
        t0 = time.monotonic()
        for _ in range(chunk):
            agent, info = agent.update(rb.sample(a.batch))
            done += 1
            stats.log(done, info)
        info["c_loss_1"].block_until_ready()
        train_s += time.monotonic() - t0
    csv.close()
    print(f"RESULT official task=gmm2d seed={a.seed} updates={done} centre_mass_min={m['centre_mass_min']:.4f} "
          f"far={m['far']:.4f} logp_corr={m['logp_corr']:.4f} logp_mae={m['logp_mae']:.4f} "
          f"sampler_corr={m['sampler_corr']:.4f} sampler_mae={m['sampler_mae']:.4f} seconds={train_s:.1f}",
          flush=True)


def time_updates(a, MeanFlowLearner, ReplayBuffer):
    """Per-update time on a buffer of random transitions of the task's shapes (one core)."""
    import gym
    import numpy as np
    dims = {"pendulum": (3, 1), "halfcheetah": (17, 6), "gmm2d": (1, 2)}[a.task]
    obs_space = gym.spaces.Box(-1.0, 1.0, (dims[0],), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (dims[1],), np.float32)
    agent = MeanFlowLearner.create(a.seed, obs_space, act_space, **learner_kwargs(a))
    rb = ReplayBuffer(obs_space, act_space, 10000)
    rb.seed(a.seed)
    rng = np.random.default_rng(a.seed)
    for _ in range(10000):
        rb.insert(dict(observations=rng.uniform(-1, 1, dims[0]).astype(np.float32),
                       actions=rng.uniform(-1, 1, dims[1]).astype(np.float32), rewards=float(rng.normal()),
                       masks=1.0, dones=False, next_observations=rng.uniform(-1, 1, dims[0]).astype(np.float32)))
    for _ in range(20):
        agent, info = agent.update(rb.sample(a.batch))
    info["c_loss_1"].block_until_ready()
    t0 = time.monotonic()
    for _ in range(a.time_updates):
        agent, info = agent.update(rb.sample(a.batch))
    info["c_loss_1"].block_until_ready()
    ms = 1e3 * (time.monotonic() - t0) / a.time_updates
    print(f"RESULT official_update task={a.task} updates={a.time_updates} ms={ms:.2f}", flush=True)


def main():
    a = parse_args()
    # one core, like libmfpo's --threads 1 (must be set before jax is imported)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    MeanFlowLearner, ReplayBuffer = import_official(a.official)
    global gym
    import gym  # noqa: F401  (gym 0.23, which the official code imports)
    print(f"official_driver: task {a.task}, seed {a.seed}, {a.steps} {'updates' if a.task == 'gmm2d' else 'steps'}, "
          f"networks {a.depth}x{a.hidden}, batch {a.batch}, K1/K2 {a.k1}/{a.k2}, lr {a.lr}/{a.lr_critic}/"
          f"{a.lr_alpha if a.auto_alpha else 0}, v [{a.vmin}, {a.vmax}], candidates {a.candidates}, "
          f"cdq {a.cdq}, XLA_FLAGS={os.environ['XLA_FLAGS']!r}", flush=True)
    if a.time_updates > 0:
        time_updates(a, MeanFlowLearner, ReplayBuffer)
    elif a.task == "gmm2d":
        run_gmm(a, MeanFlowLearner, ReplayBuffer)
    else:
        run_rl(a, MeanFlowLearner, ReplayBuffer)


if __name__ == "__main__":
    main()
