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

5. With --from PREFIX (HalfCheetah): instead of the official initial parameters and a synthetic
   replay, both sides start from a libmfpo run's saved state (mujoco_locomotion --save PREFIX):
   libmfpo loads PREFIX.agent; the official learner gets the same state read from that file
   (parameters, target critics, log alpha, every optimiser's Adam moments and step count); both
   train on the rows of PREFIX.replay. Each repetition's final policy, and the start's, is
   evaluated on the same Gymnasium HalfCheetah-v4 episodes (best of 10 candidates under the target
   critics on both sides). This puts the comparison where the HalfCheetah runs part: after take-off.

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
EVAL_SEED0 = 3_000_000  # --from: evaluation episodes reset with seeds 3 000 000, 3 000 001, ... (no run trains on them)


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
    p.add_argument("--from", dest="from_run", default=None, metavar="PREFIX",
                   help="halfcheetah only: start both sides from a libmfpo run's state, PREFIX.agent and PREFIX.replay "
                        "(mujoco_locomotion --save PREFIX), instead of the official initial parameters and the "
                        "synthetic replay; each repetition's policy is then evaluated on HalfCheetah-v4")
    p.add_argument("--eval-episodes", type=int, default=10, help="with --from: evaluation episodes per policy")
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


# ---------------------------------------------------------------- parameters: flax trees <-> libmfpo vectors
#
# A network's parameters are the leaves of the official flax tree at these paths, in libmfpo's order
# (lib/nn/net.h); flax kernels are [in, out], row-major, which is libmfpo's layout too. One list per
# network serves both directions.

def _trunk_paths(depth):
    out = []
    for i in range(depth):  # each hidden layer: kernel, bias, LayerNorm scale, shift
        out += [("MLP_0", f"Dense_{i}", "kernel"), ("MLP_0", f"Dense_{i}", "bias"),
                ("MLP_0", f"LayerNorm_{i}", "scale"), ("MLP_0", f"LayerNorm_{i}", "bias")]
    return out


def flow_paths(depth):
    """An official MeanFlow network (actor or logp_mvel): the t embedder (W, Dense, Dense), the h
    embedder, each hidden layer, the head."""
    out = []
    for name in ("TimestepEmbedder_0", "TimestepEmbedder_1"):  # created in the order t, h
        out.append((name, "FourierFeatures_0", "kernel"))
        for dense in ("Dense_0", "Dense_1"):
            out += [(name, "MLP_0", dense, "kernel"), (name, "MLP_0", dense, "bias")]
    return out + _trunk_paths(depth) + [("MLP_0", f"Dense_{depth}", "kernel"), ("MLP_0", f"Dense_{depth}", "bias")]


def critic_paths(depth):
    """An official DistributionalStateActionValue: the trunk (MLP_0), then the head (Dense_0)."""
    return _trunk_paths(depth) + [("Dense_0", "kernel"), ("Dense_0", "bias")]


def _leaf(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def to_vector(tree, paths):
    """The leaves of `tree` at `paths`, flattened and concatenated (float32)."""
    return np.concatenate([np.asarray(_leaf(tree, p), np.float32).ravel() for p in paths])


def from_vector(tree, paths, vec):
    """to_vector's inverse: a copy of `tree` (nested dicts) whose leaves at `paths` are taken from
    `vec` in that order, each in its leaf's shape; `vec` must be used up exactly."""
    def copy(node):
        return {k: copy(v) for k, v in node.items()} if hasattr(node, "items") else node
    out, at = copy(tree), 0
    for p in paths:
        parent = _leaf(out, p[:-1])
        shape = np.shape(parent[p[-1]])
        n = int(np.prod(shape, dtype=np.int64))
        if at + n > vec.size:
            raise ValueError(f"from_vector: {vec.size} floats, but the tree needs more (at {'/'.join(p)})")
        parent[p[-1]] = np.asarray(vec[at:at + n], np.float32).reshape(shape)
        at += n
    if at != vec.size:
        raise ValueError(f"from_vector: {vec.size} floats for a tree of {at}")
    return out


def flow_vector(params, depth):
    return to_vector(params, flow_paths(depth))


def critic_vector(params, depth):
    return to_vector(params, critic_paths(depth))


# ---------------------------------------------------------------- the checkpoints (docs/checkpoint-format.md)

def _pad16(n):
    return (n + 15) & ~15


def state_layout(n_u, n_d, n_q):
    """Offsets of the agent's state vector, the order of algo_state_layout_init (lib/algo/update.c):
    every block padded to 16 floats. Returns ({name: (offset, length)}, total)."""
    blocks = [("u", n_u), ("d", n_d), ("q1", n_q), ("q2", n_q), ("qt1", n_q), ("qt2", n_q), ("log_alpha", 1),
              ("m_u", n_u), ("v_u", n_u), ("m_d", n_d), ("v_d", n_d), ("m_q1", n_q), ("v_q1", n_q),
              ("m_q2", n_q), ("v_q2", n_q), ("m_alpha", 1), ("v_alpha", 1)]
    out, at = {}, 0
    for name, n in blocks:
        out[name] = (at, n)
        at += _pad16(n)
    return out, at


def read_container(path, kind):
    """The header fields and the section table of a checkpoint of `kind` (1 agent, 2 replay):
    (bytearray of the file, {section id: (table entry offset, payload offset, length)})."""
    buf = bytearray(open(path, "rb").read())
    magic, _version, k, count, _crc, size = struct.unpack_from("<8sIIIIQ", buf, 0)
    if magic != b"MFPOCKPT" or k != kind or size != len(buf):
        sys.exit(f"same_start: {path} is not {'an agent' if kind == 1 else 'a replay'} checkpoint")
    table = {}
    for i in range(count):
        entry = 32 + 32 * i
        sid, _r, off, length, _scrc, _r2 = struct.unpack_from("<IIQQII", buf, entry)
        table[sid] = (entry, off, length)
    return buf, table


def read_agent_state(path):
    """The state section of an agent checkpoint: (n_u, n_d, n_q, state vector), and its counters
    (updates, critic Adam steps, actor Adam steps)."""
    buf, table = read_container(path, 1)
    _e, off, _l = table[3]
    n, n_u, n_d, n_q = struct.unpack_from("<QQQQ", buf, off)
    state = np.frombuffer(bytes(buf[off + 32:off + 32 + 4 * n]), np.float32).copy()
    _e, off, _l = table[2]
    updates, critic_steps, actor_steps = struct.unpack_from("<QQQ", buf, off)
    return (n_u, n_d, n_q, state), (updates, critic_steps, actor_steps)


def read_replay(path):
    """The stored rows of a replay checkpoint: obs, actions, rewards, next obs, terminated (bool)."""
    buf, table = read_container(path, 2)
    out = []
    for sid in (17, 18, 19, 20, 21):
        _e, off, _l = table[sid]
        rows, cols = struct.unpack_from("<QQ", buf, off)
        a = np.frombuffer(bytes(buf[off + 16:off + 16 + 4 * rows * cols]), np.float32).reshape(rows, cols)
        out.append(a)
    obs, act, rew, nxt, term = out
    return obs, act, rew[:, 0].copy(), nxt, term[:, 0] != 0


def rewrite_state(path, blocks):
    """Replaces the online parameter blocks of the agent checkpoint at `path` (policy, divergence,
    critics 1 and 2, target critics 1 and 2 = critics 1 and 2, at their state_layout places) and
    rewrites both CRCs. Adam moments and log alpha stay as saved (a fresh agent's)."""
    buf, table = read_container(path, 1)
    if 3 not in table:
        sys.exit(f"same_start: {path} has no state section")
    entry, off, length = table[3]
    n, n_u, n_d, n_q = struct.unpack_from("<QQQQ", buf, off)
    want = {"policy": n_u, "divergence": n_d, "critic1": n_q, "critic2": n_q}
    for name, vec in blocks.items():
        if vec.size != want[name]:
            sys.exit(f"same_start: the official {name.rstrip('12')} has {vec.size} parameters, libmfpo's "
                     f"{want[name]} (the configurations differ)")
    layout, _total = state_layout(n_u, n_d, n_q)
    state = np.frombuffer(bytes(buf[off + 32:off + 32 + 4 * n]), np.float32).copy()
    for name, vec in (("u", "policy"), ("d", "divergence"), ("q1", "critic1"), ("q2", "critic2"),
                      ("qt1", "critic1"), ("qt2", "critic2")):
        at, _n = layout[name]
        state[at:at + blocks[vec].size] = blocks[vec]
    buf[off + 32:off + 32 + 4 * n] = state.tobytes()
    struct.pack_into("<I", buf, entry + 24, zlib.crc32(bytes(buf[off:off + length])))
    struct.pack_into("<I", buf, 20, 0)
    struct.pack_into("<I", buf, 20, zlib.crc32(bytes(buf[:32 + 32 * len(table)])))
    open(path, "wb").write(bytes(buf))


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

    def q(self, obs, act, targets=False):
        return self.agent.q_values(np.ascontiguousarray(obs, np.float32), np.ascontiguousarray(act, np.float32),
                                   use_targets=targets).astype(np.float64)


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

    def q(self, obs, act, targets=False):
        import jax
        qs = []
        ag = self.agent
        for c in ((ag.target_critic_1, ag.target_critic_2) if targets else (ag.critic_1, ag.critic_2)):
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
    """libmfpo's critics 1, 2 and their targets, at their state_layout places in agent_state()."""
    state = agent_state(agent)
    layout, _total = state_layout(blocks["policy"].size, blocks["divergence"].size, blocks["critic1"].size)
    return [state[layout[k][0]:layout[k][0] + layout[k][1]].astype(np.float64) for k in ("q1", "q2", "qt1", "qt2")]


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


def official_from_state(official, state, counters, depth):
    """`official` (a learner of the same configuration) holding libmfpo's whole state from an agent
    checkpoint (read_agent_state): parameters, target critics, log alpha, and the Adam moments and
    step counts of every optimiser (the critics' count is libmfpo's critic_steps; the policy's, the
    divergence net's and the temperature's is actor_steps). optax.adam's state is (ScaleByAdamState,
    EmptyState); its count is the number of steps taken, as libmfpo's counters are."""
    import jax.numpy as jnp
    n_u, n_d, n_q, vec = state
    _updates, critic_steps, actor_steps = counters
    layout, total = state_layout(n_u, n_d, n_q)
    if total != vec.size:
        sys.exit(f"same_start: the checkpoint's state has {vec.size} floats, its layout {total}")

    def block(name):
        at, n = layout[name]
        return vec[at:at + n]

    def as_jax(tree):
        return {k: as_jax(v) for k, v in tree.items()} if hasattr(tree, "items") else jnp.asarray(tree)

    def with_state(ts, paths, p, m, v, count):
        adam = ts.opt_state[0]
        adam = adam._replace(count=jnp.asarray(count, jnp.int32), mu=as_jax(from_vector(adam.mu, paths, block(m))),
                             nu=as_jax(from_vector(adam.nu, paths, block(v))))
        return ts.replace(params=as_jax(from_vector(ts.params, paths, block(p))),
                          opt_state=(adam,) + tuple(ts.opt_state[1:]))

    fp, cp, tp = flow_paths(depth), critic_paths(depth), [("log_temp",)]
    return official.replace(
        actor=with_state(official.actor, fp, "u", "m_u", "v_u", actor_steps),
        logp_mvel=with_state(official.logp_mvel, fp, "d", "m_d", "v_d", actor_steps),
        critic_1=with_state(official.critic_1, cp, "q1", "m_q1", "v_q1", critic_steps),
        critic_2=with_state(official.critic_2, cp, "q2", "m_q2", "v_q2", critic_steps),
        target_critic_1=official.target_critic_1.replace(
            params=as_jax(from_vector(official.target_critic_1.params, cp, block("qt1")))),
        target_critic_2=official.target_critic_2.replace(
            params=as_jax(from_vector(official.target_critic_2.params, cp, block("qt2")))),
        temp=with_state(official.temp, tp, "log_alpha", "m_alpha", "v_alpha", actor_steps))


def evaluate_halfcheetah(select, episodes, seed0):
    """Mean return of Gymnasium's HalfCheetah-v4 over episodes reset with seeds seed0, seed0 + 1,
    ... (official_driver.episode_returns); `select(obs)` gives the action, clipped to [-1, 1] as
    both drivers do."""
    returns = od.episode_returns(od.make_env("halfcheetah"), select, episodes, seed0,
                                 lambda act: np.clip(np.asarray(act, np.float64), -1.0, 1.0))
    return float(np.mean(returns))


def compare_exploration(lib_ag, official, states, draws):
    """The training-time action (libmfpo's mfpo_agent_act, one call per action as mfpo_train makes
    it; the official sample_actions, as train_online.py calls it) at each of `states`, `draws` times:
    prints each side's per-dimension mean and standard deviation and the share of clipped components,
    with the largest |z| of the mean differences (standard errors from both sides)."""
    worst = 0.0
    for k, s in enumerate(states):
        s = np.ascontiguousarray(s, np.float32)
        la = np.stack([lib_ag.act(s) for _ in range(draws)]).astype(np.float64)
        oa = []
        for _ in range(draws):
            act, official = official.sample_actions(s)
            oa.append(np.asarray(act, np.float64))
        oa = np.stack(oa)
        z = np.abs(la.mean(0) - oa.mean(0)) / np.sqrt((la.var(0) + oa.var(0)) / draws + 1e-30)
        worst = max(worst, float(z.max()))
        print(f"exploration at state {k}: mean libmfpo {np.round(la.mean(0), 3)} official {np.round(oa.mean(0), 3)}; "
              f"std libmfpo {np.round(la.std(0), 3)} official {np.round(oa.std(0), 3)}; share at +-1 "
              f"{np.mean(np.abs(la) >= 0.9999):.3f} / {np.mean(np.abs(oa) >= 0.9999):.3f}; max |z| of the means "
              f"{z.max():.2f}", flush=True)
    return worst


def check_forward(lib_side, off_side, obs, noise, qa, tolerance, name, targets=False):
    """Step 3's comparison of the two forward computations on the same inputs; True when within
    `tolerance` (Q: relative to the largest |Q|). `targets`: compare the target critics' Q too."""
    la, ll = lib_side.sample(obs, noise)
    oa, ol = off_side.sample(obs, noise)
    lq, oq = lib_side.q(obs, qa), off_side.q(obs, qa)
    da, dl, dq = np.abs(la - oa).max(), np.abs(ll - ol).max(), np.abs(lq - oq).max()
    ok = bool(da <= tolerance and dl <= tolerance and dq <= tolerance * max(1.0, np.abs(oq).max()))
    line = (f"transfer check ({name}) on {obs.shape[0]} (s, noise) and (s, a): max |action diff| {da:.3g} "
            f"(actions span {oa.min():.2f}..{oa.max():.2f}), max |log-likelihood diff| {dl:.3g} (span "
            f"{ol.min():.2f}..{ol.max():.2f}), max |Q diff| {dq:.3g} (span {oq.min():.3g}..{oq.max():.3g})")
    if targets:
        lt, ot = lib_side.q(obs, qa, targets=True), off_side.q(obs, qa, targets=True)
        dt = np.abs(lt - ot).max()
        ok &= bool(dt <= tolerance * max(1.0, np.abs(ot).max()))
        line += f", target critics' max |Q diff| {dt:.3g}"
    print(line, flush=True)
    return ok


def train_both(a, t, mfpo, ReplayBuffer, spaces, ckpt, start, arrays, alpha_start, finish):
    """Step 4: --reps repetitions of --updates updates on each side from the same start (libmfpo: the
    agent checkpoint `ckpt`; official: the learner `start`) on the same replay rows `arrays`.
    Returns the per-update statistics {side: [reps x updates x STAT_KEYS]} and {side: [finish(side,
    agent) per repetition]}."""
    import jax
    robs, racts, rrew, rnxt, rterm = arrays
    rows_n = robs.shape[0]
    orb = ReplayBuffer(*spaces, rows_n)
    for i in range(rows_n):
        orb.insert(dict(observations=robs[i], actions=racts[i], rewards=float(rrew[i]), masks=0.0 if rterm[i] else 1.0,
                        dones=bool(rterm[i]), next_observations=rnxt[i]))
    apply_q, atoms = start.critic_1.apply_fn, np.linspace(t["vmin"], t["vmax"], 101).astype(np.float32)

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
        ctx, ag = libmfpo_agent(mfpo, t, ckpt, rep)
        rb = mfpo.ReplayBuffer(ctx, t["obs_dim"], t["act_dim"], rows_n)
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
        rows[:, ia] = np.concatenate([[alpha_start], rows[:-1, ia]])
        series["libmfpo"].append(rows)
        final["libmfpo"].append(finish("libmfpo", ag))
        # official: the same start, PRNG key `rep` and replay sampling seed `rep`
        ag_o = start.replace(rng=jax.random.PRNGKey(rep))
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
        final["official"].append(finish("official", ag_o))
        print(f"rep {rep}: {a.updates} updates, libmfpo {lib_s:.1f} s, official {off_s:.1f} s (with compilation)"
              + "".join(f"; {side} " + ", ".join(f"{k} {v:.4g}" for k, v in final[side][-1].items())
                        for side in final if final[side][-1]), flush=True)
        if out:
            for side in ("libmfpo", "official"):
                for u, r in enumerate(series[side][-1]):
                    out.write(f"{side},{rep},{u + 1}," + ",".join(f"{v:.6g}" for v in r) + "\n")
            out.flush()
    return series, final


def welch_t(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size) if min(x.size, y.size) > 1 else float("nan")
    return (x.mean() - y.mean()) / se if se > 0 else float("nan")


def print_bins(a, series):
    """Per bin, the mean over the bin's updates and the repetitions, libmfpo / official, with Welch's
    t of the repetitions' bin means."""
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
            cells.append(f"{lm.mean():.4g} / {om.mean():.4g} ({welch_t(lm, om):+.1f})")
        print(f"| {b0 + 1}-{min(b0 + a.bin, a.updates)} | " + " | ".join(cells) + " |")


def libmfpo_agent(mfpo, t, path, seed):
    """A libmfpo agent of task `t`'s configuration loaded from the agent checkpoint `path`, in a
    context of seed `seed`."""
    ctx = mfpo.Context(seed=seed, threads=1)
    ag = mfpo.Agent(libmfpo_config(mfpo, t), ctx)
    ag.load_state(path)  # restores the saving context's seed and stream too: set ours again
    ctx.set_seed(seed)
    return ctx, ag


def main():
    a = parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    MeanFlowLearner, ReplayBuffer = od.import_official(a.official)
    import gym
    import jax
    import mfpo

    t = TASKS[a.task]
    if a.from_run and (a.task != "halfcheetah" or a.lockstep):
        sys.exit("same_start: --from needs --task halfcheetah (a mujoco_locomotion run's state) and no --lockstep")
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

    def off_side(official):
        return OfficialSide(official, t["cdq"], t["vmin"], t["vmax"], 101)

    ok = True
    rng = np.random.default_rng(12345)
    n = 4096
    if a.from_run:
        # ---- a libmfpo run's state (mujoco_locomotion --save): moved into the official learner
        ckpt = a.from_run + ".agent"
        state, counters = read_agent_state(ckpt)
        start = official_from_state(official0, state, counters, t["depth"])
        arrays = read_replay(a.from_run + ".replay")
        layout, _total = state_layout(*state[:3])
        alpha_start = float(np.exp(state[3][layout["log_alpha"][0]]))
        print(f"same_start: the state of {a.from_run} ({counters[0]} updates, alpha {alpha_start:.4g}, "
              f"{arrays[0].shape[0]} replay rows) moved into the official learner (parameters, targets, log alpha, "
              f"Adam moments and counts {counters[1]}/{counters[2]})")
        _ctx, lib_ag = libmfpo_agent(mfpo, t, ckpt, 0)
        rows = rng.integers(0, arrays[0].shape[0], n)
        noise = rng.standard_normal((n, t["act_dim"])).astype(np.float32)
        ok = check_forward(LibmfpoSide(mfpo, lib_ag), off_side(start), arrays[0][rows], noise, arrays[1][rows],
                           a.tolerance, "the run's state, replay rows", targets=True)
        # the actions that collect the data: the same distribution? (3 states, 2 000 draws each; with
        # 36 means compared, a max |z| above about 3.2 would be unusual by chance)
        worst = compare_exploration(lib_ag, start.replace(rng=jax.random.PRNGKey(7)),
                                    arrays[0][rng.integers(0, arrays[0].shape[0], 3)], 2000)
        print(f"exploration: largest |z| of 36 mean differences {worst:.2f}")
    else:
        # ---- step 3: the transfer check, on the initial parameters and on perturbed ones (at the
        # start biases are 0 and LayerNorm scales 1, so a misplaced bias or scale would not show;
        # every parameter + N(0, 0.05^2) makes each one count)
        ckpt = os.path.join(tmp, "start.ckpt")
        blocks = transfer(official0, ckpt)
        print(f"same_start: task {a.task}, official seed {a.seed}; parameters moved into libmfpo through its "
              f"checkpoint ({blocks['policy'].size} + {blocks['divergence'].size} + 2 x {blocks['critic1'].size} "
              "floats)")
        keys = iter(jax.random.split(jax.random.PRNGKey(99), 4096))

        def perturb(tree):
            return jax.tree_util.tree_map(lambda x: x + 0.05 * jax.random.normal(next(keys), x.shape, x.dtype), tree)

        perturbed = official0.replace(
            actor=official0.actor.replace(params=perturb(official0.actor.params)),
            logp_mvel=official0.logp_mvel.replace(params=perturb(official0.logp_mvel.params)),
            critic_1=official0.critic_1.replace(params=perturb(official0.critic_1.params)),
            critic_2=official0.critic_2.replace(params=perturb(official0.critic_2.params)))
        for name, official in (("initial", official0), ("perturbed", perturbed)):
            path = os.path.join(tmp, f"{name}.ckpt")
            transfer(official, path)
            _ctx, lib_ag = libmfpo_agent(mfpo, t, path, 0)
            rng = np.random.default_rng(12345)
            obs = rng.uniform(-1.0, 1.0, (n, t["obs_dim"])).astype(np.float32)
            if a.task.startswith("gmm2d"):
                obs[:] = 0.0
            noise = rng.standard_normal((n, t["act_dim"])).astype(np.float32)
            qa = rng.uniform(-1.0, 1.0, (n, t["act_dim"])).astype(np.float32)
            ok &= check_forward(LibmfpoSide(mfpo, lib_ag), off_side(official), obs, noise, qa, a.tolerance,
                                f"{name} parameters")
        start, alpha_start = official0, t["alpha0"]
        arrays = replay_arrays(a.task, t["obs_dim"], t["act_dim"], a.seed)
    if not ok:
        print(f"same_start: FAIL: a difference exceeds --tolerance {a.tolerance} (Q: relative to the largest |Q|)")
        return 1
    if a.check_only:
        print("RESULT same_start check=ok")
        return 0
    if a.lockstep:
        if not a.task.startswith("gmm2d"):
            sys.exit("same_start: --lockstep needs a 2-D mixture task (one-step episodes)")
        ctx, ag = libmfpo_agent(mfpo, t, ckpt, 0)
        return lockstep_critics(a, t, mfpo, ag, official0, blocks)

    # ---- step 4: training from the same start; what each repetition measures at its end
    def finish(side, agent):
        if a.task.startswith("gmm2d"):  # (a)-(d) on the same 10 000 noise draws
            return gmm_measure(LibmfpoSide(mfpo, agent) if side == "libmfpo" else off_side(agent), 10000, a.seed)
        if not a.from_run:
            return {}
        if side == "libmfpo":
            return {"eval": evaluate_halfcheetah(lambda o: agent.select_action(np.asarray(o, np.float32)),
                                                 a.eval_episodes, EVAL_SEED0)}
        # the official eval_actions: best of 10 candidates under the target critics
        return {"eval": od.evaluate(agent, od.make_env("halfcheetah"), a.eval_episodes, EVAL_SEED0,
                                    lambda act: np.clip(np.asarray(act, np.float64), -1.0, 1.0))[0]}

    if a.from_run:
        print(f"the start's policy on {a.eval_episodes} evaluation episodes: libmfpo "
              f"{finish('libmfpo', lib_ag)['eval']:.1f}, official {finish('official', start)['eval']:.1f}",
              flush=True)
    series, final = train_both(a, t, mfpo, ReplayBuffer, (obs_space, act_space), ckpt, start, arrays, alpha_start,
                               finish)
    print_bins(a, series)
    if final["libmfpo"] and final["libmfpo"][0]:
        print(f"\nat the end of each repetition (libmfpo / official, per repetition; Welch's t of the means)")
        for key in final["libmfpo"][0]:
            lv = [m[key] for m in final["libmfpo"]]
            ov = [m[key] for m in final["official"]]
            print(f"  {key:16s} " + "  ".join(f"{x:.4f}/{y:.4f}" for x, y in zip(lv, ov)) +
                  f"   means {np.mean(lv):.4f} / {np.mean(ov):.4f} (t {welch_t(lv, ov):+.2f})")
    print(f"RESULT same_start task={a.task} seed={a.seed} updates={a.updates} reps={a.reps}"
          + (f" from={a.from_run}" if a.from_run else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
