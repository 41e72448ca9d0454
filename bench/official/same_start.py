#!/usr/bin/env python3
"""libmfpo and the official MFPO learner from the same start: the bisection tool of issue 16.

Both sides start from the *same* parameters and learn from the *same* replay contents; what still
differs is only the randomness each update draws (batch indices, noise, flow times). So per-update
statistics can be compared without the seed-to-seed spread of initializations, and a quantity that
drifts apart shows up in the first hundreds of updates.

1. Creates the official `MeanFlowLearner` (from the checkout given with --official; nothing of it
   is in this repository) and a libmfpo `mfpo.Agent` of the same configuration.
2. Moves the official initial parameters into libmfpo *through its checkpoint format*
   (docs/checkpoint-format.md): saves the libmfpo agent, rewrites the state section with the
   official policy, divergence net and critics (targets = critics, as both libraries start),
   recomputes the CRCs and loads the file back.
3. Checks the transfer, and with it the two forward computations against each other: the 2-step
   sampler with its log-likelihood on the same noise (libmfpo's mfpo_policy_transport against the
   official action_sampler_with_logp), and both critics' Q values on the same (s, a). Exits 1 when a
   difference exceeds --tolerance.
4. Trains each side --updates updates on the same replay contents, --reps times (repetition r draws
   libmfpo's context seed r and the official learner's PRNG key r), writes every update's
   statistics to --out (CSV) and prints them in bins with the difference of the sides' means.
   For the 2-D mixture it also measures (a)-(d) of tools/validation/gmm2d on the same 10 000 noise
   draws on both sides at the end.

Tasks (the settings of bench/official/compare.sh):
  gmm2d         the 2-D mixture at tools/validation/gmm2d's settings (3x128, batch 64, K1/K2 32/64, lr 1e-3)
  gmm2d-paper   the 2-D mixture at the official defaults (3x256, batch 256, K1/K2 16/32, lr 3e-4)
  halfcheetah   HalfCheetah's shapes (17/6) and compare.sh's reduced settings (2x128, batch 128, K1/K2
                16/32, lr 3e-4, clipped double-Q off) on a fixed synthetic replay: 100 000 transitions,
                s, s' ~ U[-1, 1]^17, a ~ U[-1, 1]^6, r = 1 - |a - sin(2 s[:6])|^2 / 6 (no episode ends)

Needs the venv of bench/official/README.md, and the mfpo package importable: either installed
(pip install .) or PYTHONPATH=python MFPO_LIBRARY=build/lib/libmfpo.so from the source tree.
"""
import argparse
import os
import struct
import sys
import tempfile
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import official_driver as od  # noqa: E402  (import_official, learner_kwargs, the 2-D mixture)

TASKS = {
    # hidden, depth, batch, k1, k2, lr, v_min, v_max, alpha0, auto_alpha, cdq, obs_dim, act_dim
    "gmm2d": dict(hidden=128, depth=3, batch=64, k1=32, k2=64, lr=1e-3, vmin=-40.0, vmax=5.0, alpha0=1.0,
                  auto_alpha=0, cdq=1, obs_dim=1, act_dim=2),
    "gmm2d-paper": dict(hidden=256, depth=3, batch=256, k1=16, k2=32, lr=3e-4, vmin=-40.0, vmax=5.0, alpha0=1.0,
                        auto_alpha=0, cdq=1, obs_dim=1, act_dim=2),
    "halfcheetah": dict(hidden=128, depth=2, batch=128, k1=16, k2=32, lr=3e-4, vmin=-1600.0, vmax=1600.0,
                        alpha0=0.01, auto_alpha=1, cdq=0, obs_dim=17, act_dim=6),
}
REPLAY_ROWS = 100000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", required=True, help="path to a checkout of the official MFPO code")
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--seed", type=int, default=0, help="the official learner's seed: the common initial parameters")
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--reps", type=int, default=3, help="training repetitions from the same start")
    p.add_argument("--bin", type=int, default=100, help="updates per bin of the printed table")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest accepted |difference| of actions, log-likelihoods and Q values at the start")
    p.add_argument("--check-only", action="store_true", help="only the transfer check (steps 1-3)")
    p.add_argument("--lockstep", type=int, default=0, metavar="N",
                   help="2-D mixture only: instead of step 4, N updates of both sides on the same batches (each "
                        "a batch of copies of one replay row, so that sampling cannot differ); the critics' "
                        "update does not depend on any random draw there (one-step episodes), so their "
                        "parameters must stay equal up to rounding; prints the drift every N/10 updates")
    p.add_argument("--out", default=None, help="CSV of every update's statistics, both sides")
    return p.parse_args()


# ---------------------------------------------------------------- configurations

def official_namespace(t):
    """The argument namespace official_driver.learner_kwargs expects."""
    return argparse.Namespace(lr=t["lr"], lr_critic=t["lr"], lr_alpha=3e-4, auto_alpha=t["auto_alpha"], gamma=0.99,
                              tau=0.005, hidden=t["hidden"], depth=t["depth"], alpha0=t["alpha0"], k1=t["k1"],
                              k2=t["k2"], candidates=10, cdq=t["cdq"], vmin=t["vmin"], vmax=t["vmax"], atoms=101)


def libmfpo_config(mfpo, t):
    """The same configuration for libmfpo (the official learner's fixed choices are libmfpo's defaults:
    T = 2, 2 Hutchinson probes, flow fraction 0.75, logit-normal times (-0.4, 1), 64 Fourier
    features and a 64-wide time embedding, target entropy -0.5 A, actor delay 1)."""
    return mfpo.AgentConfig(t["obs_dim"], t["act_dim"], hidden_width=t["hidden"], hidden_depth=t["depth"],
                            batch_size=t["batch"], policy_samples=t["k1"], gaussian_samples=t["k2"],
                            lr_policy=t["lr"], lr_divergence=t["lr"], lr_critic=t["lr"], lr_alpha=3e-4,
                            v_min=t["vmin"], v_max=t["vmax"], atoms=101, init_alpha=t["alpha0"],
                            auto_alpha=t["auto_alpha"], clipped_double_q=t["cdq"], gamma=0.99, tau=0.005,
                            eval_candidates=10)


# ---------------------------------------------------------------- parameters: flax tree -> libmfpo vector

def _dense(p):
    # flax kernels are [in, out], row-major: libmfpo's layout (lib/nn/net.h)
    return [np.asarray(p["kernel"], np.float32).ravel(), np.asarray(p["bias"], np.float32).ravel()]


def _trunk(mlp, depth):
    out = []
    for i in range(depth):
        ln = mlp[f"LayerNorm_{i}"]
        out += _dense(mlp[f"Dense_{i}"]) + [np.asarray(ln["scale"], np.float32).ravel(),
                                              np.asarray(ln["bias"], np.float32).ravel()]
    return out


def flow_vector(params, depth):
    """An official MeanFlow network (actor or logp_mvel) in libmfpo's order: the t embedder (W, Dense,
    Dense), the h embedder, each hidden layer (kernel, bias, LayerNorm scale, shift), the head."""
    out = []
    for name in ("TimestepEmbedder_0", "TimestepEmbedder_1"):  # created in the order t, h
        e = params[name]
        out.append(np.asarray(e["FourierFeatures_0"]["kernel"], np.float32).ravel())
        out += _dense(e["MLP_0"]["Dense_0"]) + _dense(e["MLP_0"]["Dense_1"])
    out += _trunk(params["MLP_0"], depth) + _dense(params["MLP_0"][f"Dense_{depth}"])
    return np.concatenate(out)


def critic_vector(params, depth):
    """An official DistributionalStateActionValue: the trunk (MLP_0), then the head (Dense_0)."""
    return np.concatenate(_trunk(params["MLP_0"], depth) + _dense(params["Dense_0"]))


# ---------------------------------------------------------------- the checkpoint (docs/checkpoint-format.md)

def _pad16(n):
    return (n + 15) & ~15


def rewrite_state(path, blocks):
    """Replaces the online parameter blocks of the agent checkpoint at `path` (policy, divergence,
    critics 1 and 2, target critics 1 and 2, each padded to 16 floats as mfpo_state_layout places
    them) and rewrites both CRCs. Adam moments and log alpha stay as saved (a fresh agent's)."""
    buf = bytearray(open(path, "rb").read())
    magic, version, kind, count, _crc, size = struct.unpack_from("<8sIIIIQ", buf, 0)
    if magic != b"MFPOCKPT" or kind != 1 or size != len(buf):
        sys.exit(f"same_start: {path} is not an agent checkpoint")
    for i in range(count):
        entry = 32 + 32 * i
        sid, _r, off, length, _scrc, _r2 = struct.unpack_from("<IIQQII", buf, entry)
        if sid != 3:  # the state section
            continue
        n, n_u, n_d, n_q = struct.unpack_from("<QQQQ", buf, off)
        state = np.frombuffer(bytes(buf[off + 32:off + 32 + 4 * n]), np.float32).copy()
        want = {"policy": n_u, "divergence": n_d, "critic": n_q}
        for name, vec in (("policy", blocks["policy"]), ("divergence", blocks["divergence"]),
                          ("critic", blocks["critic1"]), ("critic", blocks["critic2"])):
            if vec.size != want[name]:
                sys.exit(f"same_start: the official {name} has {vec.size} parameters, libmfpo's {want[name]} "
                         "(the configurations differ)")
        at = 0
        for vec in (blocks["policy"], blocks["divergence"], blocks["critic1"], blocks["critic2"], blocks["critic1"],
                    blocks["critic2"]):
            state[at:at + vec.size] = vec
            at += _pad16(vec.size)
        buf[off + 32:off + 32 + 4 * n] = state.tobytes()
        struct.pack_into("<I", buf, entry + 24, zlib.crc32(bytes(buf[off:off + length])))
        struct.pack_into("<I", buf, 20, 0)
        struct.pack_into("<I", buf, 20, zlib.crc32(bytes(buf[:32 + 32 * count])))
        open(path, "wb").write(bytes(buf))
        return
    sys.exit(f"same_start: {path} has no state section")


# ---------------------------------------------------------------- the two sides' forward computations

class LibmfpoSide:
    def __init__(self, mfpo, agent):
        import ctypes
        self.ct, self.agent, self.mfpo = ctypes, agent, mfpo
        lib = mfpo._lib.lib
        f = lib.mfpo_policy_transport  # experimental.h: the sampler as a map from given noise
        f.restype = ctypes.c_int
        f.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p]
        self.transport = f

    def sample(self, obs, noise):
        ct = self.ct
        obs, noise = np.ascontiguousarray(obs, np.float32), np.ascontiguousarray(noise, np.float32)
        n = noise.shape[0]
        act, logp = np.empty_like(noise), np.empty(n, np.float32)
        h = self.agent._handle()
        pol, div = self.mfpo._lib.agent_policy(h), self.mfpo._lib.agent_divergence(h)
        st = self.transport(pol, div, obs.ctypes.data, noise.ctypes.data, n, act.ctypes.data, logp.ctypes.data)
        if st != 0:
            raise RuntimeError(f"mfpo_policy_transport: status {st}: {self.agent.context.last_error}")
        return act.astype(np.float64), logp.astype(np.float64)

    def q(self, obs, act):
        return self.agent.q_values(np.ascontiguousarray(obs, np.float32),
                                   np.ascontiguousarray(act, np.float32)).astype(np.float64)


class OfficialSide:
    def __init__(self, agent, cdq, vmin, vmax, atoms):
        self.agent, self.cdq = agent, cdq
        self.atoms = np.linspace(vmin, vmax, atoms)

    def sample(self, obs, noise):
        import jax.numpy as jnp
        from jaxrl5.networks.mean_flow import action_sampler_with_logp
        ag = self.agent
        act, logp = action_sampler_with_logp(ag.actor.apply_fn, ag.actor.params, ag.logp_mvel.apply_fn,
                                             ag.logp_mvel.params, ag.T, jnp.asarray(noise, jnp.float32),
                                             jnp.asarray(obs, jnp.float32), ag.clip_sampler)
        return np.asarray(act, np.float64), np.asarray(logp, np.float64)

    def q(self, obs, act):
        import jax
        qs = []
        for c in (self.agent.critic_1, self.agent.critic_2):
            logits = np.asarray(c.apply_fn({"params": c.params}, obs, act), np.float64)
            qs.append((np.asarray(jax.nn.softmax(logits, axis=-1), np.float64) * self.atoms).sum(-1))
        return np.minimum(qs[0], qs[1]) if self.cdq else 0.5 * (qs[0] + qs[1])


def gmm_measure(side, n, seed):
    """(a)-(d) of tools/validation/gmm2d_task.c for one side, on noise drawn from `seed` (the same
    noise for both sides): the computation of official_driver.gmm_measure, for any sampler."""
    rng = np.random.default_rng(1000 + seed)
    e = rng.standard_normal((n, 2)).astype(np.float32)
    h = np.float32(1e-3)
    disp = [np.zeros(2, np.float32), [h, 0], [-h, 0], [0, h], [0, -h]]
    noise = np.concatenate([e + np.asarray(d, np.float32) for d in disp], axis=0)
    act, logp = side.sample(np.zeros((5 * n, 1), np.float32), noise)
    return od.gmm_metrics(act, logp, e, n, h)


# ---------------------------------------------------------------- replay contents

def replay_arrays(task, obs_dim, act_dim, seed):
    rng = np.random.default_rng(7919 * seed + 1)
    if task.startswith("gmm2d"):  # official_driver.run_gmm's transitions: one-step episodes from s = 0
        acts = rng.uniform(-1.0, 1.0, (REPLAY_ROWS, 2)).astype(np.float32)
        rew = od.gmm_log_density(acts[:, 0].astype(np.float64), acts[:, 1].astype(np.float64)).astype(np.float32)
        obs = np.zeros((REPLAY_ROWS, 1), np.float32)
        return obs, acts, rew, obs.copy(), np.ones(REPLAY_ROWS, bool)
    obs = rng.uniform(-1.0, 1.0, (REPLAY_ROWS, obs_dim)).astype(np.float32)
    acts = rng.uniform(-1.0, 1.0, (REPLAY_ROWS, act_dim)).astype(np.float32)
    nxt = rng.uniform(-1.0, 1.0, (REPLAY_ROWS, obs_dim)).astype(np.float32)
    rew = (1.0 - ((acts - np.sin(2.0 * obs[:, :act_dim])) ** 2).mean(axis=1)).astype(np.float32)
    return obs, acts, rew, nxt, np.zeros(REPLAY_ROWS, bool)


# ---------------------------------------------------------------- critics in lockstep

def agent_state(agent):
    """The agent's whole state vector through mfpo_agent_get_state (experimental.h), in the layout of
    the checkpoint's state section (docs/checkpoint-format.md)."""
    import ctypes
    from mfpo import _lib
    lib = _lib.lib
    lib.mfpo_agent_state_size.restype = ctypes.c_size_t
    lib.mfpo_agent_state_size.argtypes = [ctypes.c_void_p]
    lib.mfpo_agent_get_state.restype = ctypes.c_int
    lib.mfpo_agent_get_state.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    n = lib.mfpo_agent_state_size(agent._handle())
    state = np.empty(n, np.float32)
    if lib.mfpo_agent_get_state(agent._handle(), state.ctypes.data, n) != 0:
        raise RuntimeError("mfpo_agent_get_state failed")
    return state


def critic_state(agent, blocks):
    """libmfpo's critics 1, 2 and their targets, at their offsets in agent_state()."""
    state = agent_state(agent)
    at = _pad16(blocks["policy"].size) + _pad16(blocks["divergence"].size)
    nq = blocks["critic1"].size
    return [state[at + k * _pad16(nq):at + k * _pad16(nq) + nq].astype(np.float64) for k in range(4)]


def lockstep_critics(a, t, mfpo, agent, official, blocks):
    robs, racts, rrew, rnxt, rterm = replay_arrays(a.task, t["obs_dim"], t["act_dim"], a.seed)
    rows = np.random.default_rng(a.seed + 17).integers(0, REPLAY_ROWS, a.lockstep)
    rb = mfpo.ReplayBuffer(agent.context, t["obs_dim"], t["act_dim"], 1)  # one row: every batch is its copies
    B, d = t["batch"], t["depth"]
    worst = 0.0
    print(f"lockstep: {a.lockstep} updates, update u on {B} copies of replay row r_u on both sides; critic losses "
          "and parameters compared (relative: |difference| / largest |parameter|)")
    print("| updates | critic loss libmfpo / official | max rel. diff critic 1, 2 | targets 1, 2 |")
    print("|---|---|---|---|")
    every = max(1, a.lockstep // 10)
    for u, r in enumerate(rows, 1):
        rb.add(robs[r], racts[r], float(rrew[r]), rnxt[r], bool(rterm[r]))
        st = agent.update(rb)
        rep = lambda x: np.repeat(x[r][None], B, axis=0)  # noqa: E731
        batch = dict(observations=rep(robs), actions=rep(racts), rewards=rep(rrew),
                     masks=np.where(rep(rterm), 0.0, 1.0).astype(np.float32), dones=rep(rterm),
                     next_observations=rep(rnxt))
        official, info = official.update(batch)
        if u % every == 0 or u == a.lockstep:
            lib = critic_state(agent, blocks)
            off = [critic_vector(c.params, d).astype(np.float64)
                   for c in (official.critic_1, official.critic_2, official.target_critic_1, official.target_critic_2)]
            rel = [np.abs(x - y).max() / np.abs(y).max() for x, y in zip(lib, off)]
            worst = max(worst, *rel)
            loss_o = 0.5 * (float(info["c_loss_1"]) + float(info["c_loss_2"]))
            print(f"| {u} | {st.critic_loss:.6g} / {loss_o:.6g} | {rel[0]:.2g}, {rel[1]:.2g} | {rel[2]:.2g}, "
                  f"{rel[3]:.2g} |", flush=True)
    print(f"RESULT same_start lockstep={a.lockstep} task={a.task} max_relative_critic_drift={worst:.3g}")
    return 0 if worst <= a.tolerance else 1


# ---------------------------------------------------------------- main

# (libmfpo UpdateStats field, official value, printed name). The official learner reports each
# critic's loss and critic 1's mean Q; libmfpo the mean of the two losses and the batch mean of
# the combined Q (min or mean of the two, §2.3). So the official side's "critic loss" is
# (c_loss_1 + c_loss_2) / 2 and its "mean Q" is computed here the same way, from the critics
# before the update (as both libraries report it).
STAT_KEYS = [
    ("critic_loss", "c_loss", "critic loss"), ("mean_q", "mean_q", "mean Q"), ("entropy", "entropy", "entropy"),
    ("alpha", "temperature", "alpha"), ("actor_loss", "actor_loss", "actor loss"),
    ("divergence_loss", "logp_loss", "divergence loss")]


def main():
    a = parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    MeanFlowLearner, ReplayBuffer = od.import_official(a.official)
    import gym
    import jax
    import mfpo

    t = TASKS[a.task]
    obs_space = gym.spaces.Box(-1.0, 1.0, (t["obs_dim"],), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (t["act_dim"],), np.float32)
    official0 = MeanFlowLearner.create(a.seed, obs_space, act_space, **od.learner_kwargs(official_namespace(t)))
    tmp = tempfile.mkdtemp(prefix="mfpo_same_start_")

    def transfer(official, path):
        """Writes a libmfpo checkpoint holding `official`'s parameters; returns the block sizes."""
        blocks = {"policy": flow_vector(official.actor.params, t["depth"]),
                  "divergence": flow_vector(official.logp_mvel.params, t["depth"]),
                  "critic1": critic_vector(official.critic_1.params, t["depth"]),
                  "critic2": critic_vector(official.critic_2.params, t["depth"])}
        ctx = mfpo.Context(seed=0, threads=1)
        mfpo.Agent(libmfpo_config(mfpo, t), ctx).save(path)
        rewrite_state(path, blocks)
        return blocks

    def libmfpo_agent(path, seed):
        ctx = mfpo.Context(seed=seed, threads=1)
        ag = mfpo.Agent(libmfpo_config(mfpo, t), ctx)
        ag.load_state(path)  # restores the saving context's seed and stream too: set ours again
        ctx.set_seed(seed)
        return ctx, ag

    # ---- step 3: the transfer check, on the initial parameters and on perturbed ones (at the start
    # biases are 0 and LayerNorm scales 1, so a misplaced bias or scale would not show; every
    # parameter + N(0, 0.05^2) makes each one count)
    ckpt = os.path.join(tmp, "start.ckpt")
    blocks = transfer(official0, ckpt)
    print(f"same_start: task {a.task}, official seed {a.seed}; parameters moved into libmfpo through its checkpoint "
          f"({blocks['policy'].size} + {blocks['divergence'].size} + 2 x {blocks['critic1'].size} floats)")
    keys = iter(jax.random.split(jax.random.PRNGKey(99), 4096))

    def perturb(tree):
        return jax.tree_util.tree_map(lambda x: x + 0.05 * jax.random.normal(next(keys), x.shape, x.dtype), tree)

    perturbed = official0.replace(actor=official0.actor.replace(params=perturb(official0.actor.params)),
                                  logp_mvel=official0.logp_mvel.replace(params=perturb(official0.logp_mvel.params)),
                                  critic_1=official0.critic_1.replace(params=perturb(official0.critic_1.params)),
                                  critic_2=official0.critic_2.replace(params=perturb(official0.critic_2.params)))
    ok = True
    for name, official in (("initial", official0), ("perturbed", perturbed)):
        path = os.path.join(tmp, f"{name}.ckpt")
        transfer(official, path)
        _ctx, lib_ag = libmfpo_agent(path, 0)
        lib_side, off_side = LibmfpoSide(mfpo, lib_ag), OfficialSide(official, t["cdq"], t["vmin"], t["vmax"], 101)
        rng = np.random.default_rng(12345)
        n = 4096
        obs = rng.uniform(-1.0, 1.0, (n, t["obs_dim"])).astype(np.float32)
        if a.task.startswith("gmm2d"):
            obs[:] = 0.0
        noise = rng.standard_normal((n, t["act_dim"])).astype(np.float32)
        la, ll = lib_side.sample(obs, noise)
        oa, ol = off_side.sample(obs, noise)
        qa = rng.uniform(-1.0, 1.0, (n, t["act_dim"])).astype(np.float32)
        lq, oq = lib_side.q(obs, qa), off_side.q(obs, qa)
        da, dl, dq = np.abs(la - oa).max(), np.abs(ll - ol).max(), np.abs(lq - oq).max()
        print(f"transfer check ({name} parameters) on {n} (s, noise) and (s, a): max |action diff| {da:.3g} "
              f"(actions span {oa.min():.2f}..{oa.max():.2f}), max |log-likelihood diff| {dl:.3g} (span "
              f"{ol.min():.2f}..{ol.max():.2f}), max |Q diff| {dq:.3g} (span {oq.min():.3g}..{oq.max():.3g})",
              flush=True)
        ok &= bool(da <= a.tolerance and dl <= a.tolerance and dq <= a.tolerance * max(1.0, np.abs(oq).max()))
    if not ok:
        print(f"same_start: FAIL: a difference exceeds --tolerance {a.tolerance} (Q: relative to the largest |Q|)")
        return 1
    if a.check_only:
        print("RESULT same_start check=ok")
        return 0
    if a.lockstep:
        if not a.task.startswith("gmm2d"):
            sys.exit("same_start: --lockstep needs a 2-D mixture task (one-step episodes)")
        ctx, ag = libmfpo_agent(ckpt, 0)
        return lockstep_critics(a, t, mfpo, ag, official0, blocks)

    # ---- step 4: training from the same start
    robs, racts, rrew, rnxt, rterm = replay_arrays(a.task, t["obs_dim"], t["act_dim"], a.seed)
    orb = ReplayBuffer(obs_space, act_space, REPLAY_ROWS)
    for i in range(REPLAY_ROWS):
        orb.insert(dict(observations=robs[i], actions=racts[i], rewards=float(rrew[i]), masks=0.0 if rterm[i] else 1.0,
                        dones=bool(rterm[i]), next_observations=rnxt[i]))
    apply_q, atoms = official0.critic_1.apply_fn, np.linspace(t["vmin"], t["vmax"], 101).astype(np.float32)

    @jax.jit
    def combined_q(p1, p2, obs, act):
        q1 = (jax.nn.softmax(apply_q({"params": p1}, obs, act), axis=-1) * atoms).sum(-1)
        q2 = (jax.nn.softmax(apply_q({"params": p2}, obs, act), axis=-1) * atoms).sum(-1)
        return (jax.numpy.minimum(q1, q2) if t["cdq"] else 0.5 * (q1 + q2)).mean()

    out = open(a.out, "w") if a.out else None
    if out:
        out.write("side,rep,update," + ",".join(k[0] for k in STAT_KEYS) + "\n")
    series = {"libmfpo": [], "official": []}
    final = {"libmfpo": [], "official": []}
    for rep in range(a.reps):
        # libmfpo: context seed `rep` draws the batches and the update's noise
        ctx, ag = libmfpo_agent(ckpt, rep)
        rb = mfpo.ReplayBuffer(ctx, t["obs_dim"], t["act_dim"], REPLAY_ROWS)
        rb.add_batch(robs, racts, rrew, rnxt, rterm)
        rows, t0 = [], time.monotonic()
        for u in range(a.updates):
            s = ag.update(rb)
            rows.append([getattr(s, k[0]) for k in STAT_KEYS])
        lib_s = time.monotonic() - t0
        rows = np.asarray(rows)
        # the official learner reports the temperature its update used (before the step), libmfpo
        # the one after it: shift libmfpo's by one update so that both are the alpha of update u
        ia = [k[0] for k in STAT_KEYS].index("alpha")
        rows[:, ia] = np.concatenate([[t["alpha0"]], rows[:-1, ia]])
        series["libmfpo"].append(rows)
        if a.task.startswith("gmm2d"):
            final["libmfpo"].append(gmm_measure(LibmfpoSide(mfpo, ag), 10000, a.seed))
        # official: the same start, PRNG key `rep` and replay sampling seed `rep`
        ag_o = official0.replace(rng=jax.random.PRNGKey(rep))
        orb.seed(rep)
        rows, t0 = [], time.monotonic()
        for u in range(a.updates):
            batch = orb.sample(t["batch"])
            mean_q = combined_q(ag_o.critic_1.params, ag_o.critic_2.params, batch["observations"], batch["actions"])
            ag_o, info = ag_o.update(batch)
            info = dict(info, c_loss=0.5 * (info["c_loss_1"] + info["c_loss_2"]), mean_q=mean_q)
            rows.append([float(info[k[1]]) for k in STAT_KEYS])
        off_s = time.monotonic() - t0
        series["official"].append(np.asarray(rows))
        if a.task.startswith("gmm2d"):
            final["official"].append(gmm_measure(OfficialSide(ag_o, t["cdq"], t["vmin"], t["vmax"], 101), 10000, a.seed))
        print(f"rep {rep}: {a.updates} updates, libmfpo {lib_s:.1f} s, official {off_s:.1f} s (with compilation)",
              flush=True)
        if out:
            for side in ("libmfpo", "official"):
                for u, r in enumerate(series[side][-1]):
                    out.write(f"{side},{rep},{u + 1}," + ",".join(f"{v:.6g}" for v in r) + "\n")
            out.flush()

    # ---- the table: per bin, mean over the bin's updates and the repetitions; libmfpo / official
    lib_all, off_all = np.stack(series["libmfpo"]), np.stack(series["official"])  # reps x updates x keys
    print(f"\nper-update statistics from the same start, mean over bins of {a.bin} updates and {a.reps} repetitions "
          "(libmfpo / official; in brackets Welch's t of the repetitions' bin means: |t| above about 2.2 "
          "is a difference at the 5 % level for that one cell)")
    print("| updates | " + " | ".join(k[2] for k in STAT_KEYS) + " |")
    print("|---|" + "---|" * len(STAT_KEYS))
    for b0 in range(0, a.updates, a.bin):
        cells = []
        for j in range(len(STAT_KEYS)):
            lm, om = lib_all[:, b0:b0 + a.bin, j].mean(axis=1), off_all[:, b0:b0 + a.bin, j].mean(axis=1)
            se = np.sqrt((lm.var(ddof=1) + om.var(ddof=1)) / a.reps) if a.reps > 1 else float("nan")
            tw = (lm.mean() - om.mean()) / se if se > 0 else float("nan")  # Welch's t
            cells.append(f"{lm.mean():.4g} / {om.mean():.4g} ({tw:+.1f})")
        print(f"| {b0 + 1}-{min(b0 + a.bin, a.updates)} | " + " | ".join(cells) + " |")
    if final["libmfpo"]:
        print(f"\nthe 2-D measurements after {a.updates} updates, on the same 10 000 noise draws (libmfpo / official, "
              "per repetition)")
        for key in ("far", "centre_mass_min", "logp_corr", "logp_mae", "sampler_corr", "sampler_mae"):
            lv = [m[key] for m in final["libmfpo"]]
            ov = [m[key] for m in final["official"]]
            print(f"  {key:16s} " + "  ".join(f"{x:.4f}/{y:.4f}" for x, y in zip(lv, ov)) +
                  f"   means {np.mean(lv):.4f} / {np.mean(ov):.4f}")
    print(f"RESULT same_start task={a.task} seed={a.seed} updates={a.updates} reps={a.reps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
