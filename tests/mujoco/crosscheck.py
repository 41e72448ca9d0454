#!/usr/bin/env python3
"""Cross-check examples/mujoco/locomotion.c against Gymnasium's v4 environments.

Usage: python3 crosscheck.py <locomotion_step driver> <models_dir>

For HalfCheetah-v4, Hopper-v4, Walker2d-v4, Ant-v4 and Humanoid-v4, built on
the xml files in <models_dir>, it runs 1000 Gymnasium steps with random
actions from a fixed numpy seed.  Before every step the C task is
re-synchronised from Gymnasium -- qpos, qvel, the constraint solver's warm
start (qacc_warmstart) and the position the forward velocity is measured
from (see gym_ref_position) -- then both take the same action and the
observation, reward, terminated and truncated are compared.  When an episode ends Gymnasium is
reset and the C task is reset too (so that its step counter restarts like
TimeLimit's), then given Gymnasium's start state; the start observation is
compared as well.  The C task's own reset noise cannot reproduce numpy's
stream, so it is checked separately for its range and distribution.

The C driver is a long-running subprocess speaking the line protocol
documented in tests/mujoco/locomotion_step.c.

Needs the pins in tests/mujoco/requirements.txt; exits 77 (meson's "skipped")
when they are not importable.
"""

import math
import os
import subprocess
import sys
import time
import warnings

try:
    import numpy as np

    warnings.filterwarnings("ignore")  # Gymnasium 1.0 flags the v4 ids as deprecated
    import gymnasium as gym
    import mujoco
    from gymnasium.envs.mujoco import mujoco_env
    from gymnasium.envs.mujoco.humanoid_v4 import mass_center

    warnings.filterwarnings("ignore")  # again: importing gymnasium adds its own filters
except ImportError as e:  # pragma: no cover
    print(f"SKIP: cannot import the cross-check's Python packages ({e}); "
          f"pip install -r {os.path.join(os.path.dirname(os.path.abspath(__file__)), 'requirements.txt')}")
    sys.exit(77)

# ---------------------------------------------------------------- settings

STEPS = 1000          # Gymnasium steps per task (crosses the 1000-step truncation for HalfCheetah)
ACTION_SEED = 20240601  # numpy seed of the random actions
RESET_SEED = 1000       # Gymnasium reset seeds: RESET_SEED, RESET_SEED + 1, ...

# Tolerance, per element: |c - gym| <= ATOL + RTOL * |gym| (like numpy.isclose).
#
# The C task runs Debian's MuJoCo 2.2.2 and returns float32 observations and
# rewards; Gymnasium runs PyPI's mujoco 2.3.1.post1 (the oldest wheel that
# installs on Python 3.11) in float64.  Both sides start every step from the
# same state, so what differs is one step of:
#   * float32 rounding of the C outputs: relative 2**-24 ~ 6e-8 per element;
#   * Gymnasium's ctrl cost, summed in float32 over the float32 action
#     (np.square(action)), vs double in C: absolute ~1e-7 on the reward, which
#     matters where the reward terms cancel (Ant: reward ~0.08 from terms ~1);
#   * MuJoCo 2.2.2 vs 2.3.1 arithmetic.  With the warm start copied this was
#     not measurable above the float32 rounding for these five models.  (Not
#     copying it, the iterative solver, which stops at tolerance 1e-8, lands
#     elsewhere: up to 1.4e-5 relative in Humanoid's cfrc_ext.)
# RTOL = ATOL = 1e-5 is ~150x the float32 rounding and ~40x the worst reward
# error seen (see the "worst ... x tol" lines), and still far below what a
# definition error causes: Hopper's ctrl_cost_weight 1e-3 -> 2e-3 moves the
# reward by 1e-3 * sum(a^2) ~ 1e-3; a wrong frame skip, clip, weight or
# observation block moves things by 1e-2..1.
RTOL = 1e-5
ATOL = 1e-5
# Termination/truncation flags must agree exactly.

# (task name for the C module, Gymnasium id, xml file in models_dir)
TASKS = [
    ("HalfCheetah", "HalfCheetah-v4", "half_cheetah.xml"),
    ("Hopper", "Hopper-v4", "hopper.xml"),
    ("Walker2d", "Walker2d-v4", "walker2d.xml"),
    ("Ant", "Ant-v4", "ant.xml"),
    ("Humanoid", "Humanoid-v4", "humanoid.xml"),
]

# v4 reset noise: scale, and whether qvel noise is normal (else uniform); qpos noise is uniform.
RESET_NOISE = {
    "HalfCheetah": (0.1, True),
    "Hopper": (5e-3, False),
    "Walker2d": (5e-3, False),
    "Ant": (0.1, True),
    "Humanoid": (1e-2, False),
}
RESET_CHECK_SEEDS = 40


# ---------------------------------------------------------------- the C driver

class Driver:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline()
        if not ans:
            raise RuntimeError(f"driver exited (code {self.p.poll()}) on: {line[:80]}")
        ans = ans.rstrip("\n")
        if not ans.startswith("ok"):
            raise RuntimeError(f"driver answered {ans!r} to: {line[:80]}")
        return ans[2:].split()

    @staticmethod
    def nums(values):
        return " ".join(repr(float(v)) for v in values)

    def init(self, task, xml):
        return [int(v) for v in self.cmd(f"init {task} {xml}")]

    def bounds(self, nu):
        v = np.array(self.cmd("bounds"), dtype=np.float32)
        return v[:nu], v[nu:]

    def reset(self, seed):
        return np.array(self.cmd(f"reset {seed}"), dtype=np.float32)

    def set_state(self, qpos, qvel):
        self.cmd("set " + self.nums(qpos) + " " + self.nums(qvel))

    def set_ref(self, xy):
        self.cmd("ref " + self.nums(xy))

    def set_warmstart(self, w):
        self.cmd("warm " + self.nums(w))

    def obs(self):
        return np.array(self.cmd("obs"), dtype=np.float32)

    def get(self, nq, nv):
        v = np.array(self.cmd("get"), dtype=np.float64)
        return v[:nq], v[nq:nq + nv], v[nq + nv:nq + nv + 2], v[nq + nv + 2:]

    def step(self, action):
        v = self.cmd("step " + self.nums(action))
        return (float(np.float32(v[0])), bool(int(v[1])), bool(int(v[2])),
                np.array(v[3:], dtype=np.float32))

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


# ---------------------------------------------------------------- Gymnasium side

def make_env(env_id, xml_path):
    """Gymnasium env on our xml file.

    Of the v4 classes only AntEnv takes xml_file=.  HalfCheetahEnv, HopperEnv,
    Walker2dEnv and HumanoidEnv hard-code their asset name ("hopper.xml", ...)
    and MujocoEnv.__init__ resolves a bare name against Gymnasium's own assets
    directory through mujoco_env.expand_model_path.  For those we wrap that
    function while the env is constructed so the bare name resolves into
    models_dir instead; nothing else about the env changes.  The resolved
    path is asserted afterwards.  (The xml files here are byte-identical to the
    ones Gymnasium 1.0.0 ships, but this makes sure the given ones are used.)
    """
    if env_id.startswith("Ant"):
        env = gym.make(env_id, xml_file=xml_path)
    else:
        orig = mujoco_env.expand_model_path
        models_dir = os.path.dirname(xml_path)

        def redirect(model_path):
            if os.path.basename(model_path) == model_path:
                model_path = os.path.join(models_dir, model_path)
            return orig(model_path)

        mujoco_env.expand_model_path = redirect
        try:
            env = gym.make(env_id)
        finally:
            mujoco_env.expand_model_path = orig
    got = os.path.realpath(env.unwrapped.fullpath)
    assert got == os.path.realpath(xml_path), (got, xml_path)
    return env


def gym_ref_position(task, u):
    """The position Gymnasium's step() measures the velocity from, read before
    the step: qpos[0]; Ant: get_body_com("torso"); Humanoid: mass_center().
    For Ant/Humanoid it comes from xpos/xipos left by the previous mj_step, one
    sub-step older than qpos.  The C task's set_state recomputes it from qpos
    (as Gymnasium's set_state would), so Gymnasium's value is copied over."""
    if task == "Ant":
        return u.get_body_com("torso")[:2].copy()
    if task == "Humanoid":
        return mass_center(u.model, u.data)
    return np.array([u.data.qpos[0], 0.0])


# ---------------------------------------------------------------- comparison

class Stats:
    def __init__(self):
        self.max_abs = 0.0
        self.max_rel = 0.0  # over elements with |gym| > ATOL, where a ratio means something
        self.worst = 0.0    # max |c - g| / (ATOL + RTOL |g|); > 1 fails
        self.where = ""

    def add(self, c, g, where):
        c = np.atleast_1d(np.asarray(c, dtype=np.float64))
        g = np.atleast_1d(np.asarray(g, dtype=np.float64))
        if c.shape != g.shape:
            self.worst = math.inf
            self.where = f"{where}: shape {c.shape} vs {g.shape}"
            return
        diff = np.abs(c - g)
        diff = np.where(np.isnan(c) & np.isnan(g), 0.0, diff)
        diff = np.where(np.isnan(diff), np.inf, diff)
        if diff.size == 0:
            return
        self.max_abs = max(self.max_abs, float(diff.max()))
        big = np.abs(g) > ATOL
        if big.any():
            self.max_rel = max(self.max_rel, float((diff[big] / np.abs(g[big])).max()))
        ratio = diff / (ATOL + RTOL * np.abs(g))
        i = int(np.argmax(ratio))
        if ratio[i] > self.worst:
            self.worst = float(ratio[i])
            self.where = f"{where}[{i}]: C {c[i]!r} vs gym {g[i]!r}"

    def ok(self):
        return self.worst <= 1.0


def check_reset_noise(drv, task, model, init_qpos):
    """The C reset: init + noise of v4's scale and distribution, deterministic per seed.

    v4 adds the noise to every qpos entry, a free joint's quaternion included,
    and MuJoCo's mj_forward (in set_state) normalises that quaternion in
    place, so for Ant/Humanoid qpos[3:7] is left out of the noise statistics."""
    nq, nv = model.nq, model.nv
    scale, normal_qvel = RESET_NOISE[task]
    keep = np.ones(nq, dtype=bool)
    if model.njnt > 0 and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        keep[3:7] = False
    dq, dv = [], []
    for s in range(RESET_CHECK_SEEDS):
        drv.reset(s)
        qpos, qvel, _, _ = drv.get(nq, nv)
        dq.append((qpos - init_qpos)[keep])
        dv.append(qvel)
    dq, dv = np.concatenate(dq) / scale, np.concatenate(dv) / scale
    problems = []
    # qpos: uniform on [-1, 1) (in units of scale): within range, std 1/sqrt(3) = 0.577
    if np.abs(dq).max() > 1.0 + 1e-9:
        problems.append(f"qpos noise exceeds +-{scale}")
    if not 0.5 < dq.std() < 0.66:
        problems.append(f"qpos noise std {dq.std() * scale:.3g}, expected ~{scale / math.sqrt(3):.3g}")
    if normal_qvel:
        if not 0.85 < dv.std() < 1.15 or np.abs(dv).max() <= 1.0:
            problems.append(f"qvel noise does not look like {scale}*N(0,1) (std {dv.std() * scale:.3g})")
    else:
        if np.abs(dv).max() > 1.0 + 1e-9 or not 0.5 < dv.std() < 0.66:
            problems.append(f"qvel noise does not look like U(-{scale}, {scale}) (std {dv.std() * scale:.3g})")
    a, b = drv.reset(7), drv.reset(7)
    if not np.array_equal(a, b):
        problems.append("reset is not deterministic for a given seed")
    return problems


def run_task(drv, task, env_id, xml_path):
    problems = []
    env = make_env(env_id, xml_path)
    u = env.unwrapped
    nq, nv, nu = u.model.nq, u.model.nv, u.model.nu
    obs_dim = env.observation_space.shape[0]

    c_obs_dim, c_act_dim, c_nq, c_nv = drv.init(task, xml_path)
    if (c_obs_dim, c_act_dim, c_nq, c_nv) != (obs_dim, nu, nq, nv):
        env.close()
        return None, [f"dims (obs, act, nq, nv) C {(c_obs_dim, c_act_dim, c_nq, c_nv)} "
                      f"vs gym {(obs_dim, nu, nq, nv)}"]
    low, high = drv.bounds(nu)
    if not (np.array_equal(low, env.action_space.low) and np.array_equal(high, env.action_space.high)):
        problems.append("action bounds differ from Gymnasium's action_space")

    problems += check_reset_noise(drv, task, u.model, u.init_qpos)

    obs_stats, rew_stats = Stats(), Stats()
    term_mismatch = trunc_mismatch = 0
    episodes = terminations = truncations = 0
    rng = np.random.default_rng(ACTION_SEED)

    def start_episode():
        nonlocal episodes
        g_obs, _ = env.reset(seed=RESET_SEED + episodes)
        drv.reset(RESET_SEED + episodes)     # restarts the C step counter
        drv.set_state(u.data.qpos, u.data.qvel)
        obs_stats.add(drv.obs(), g_obs, f"episode {episodes} reset obs")
        episodes += 1

    start_episode()
    # get_state round trip
    q, v, _, _ = drv.get(nq, nv)
    if not (np.array_equal(q, u.data.qpos) and np.array_equal(v, u.data.qvel)):
        problems.append("get_state does not return what set_state was given")

    for t in range(STEPS):
        drv.set_state(u.data.qpos, u.data.qvel)
        drv.set_ref(gym_ref_position(task, u))
        drv.set_warmstart(u.data.qacc_warmstart)
        action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        g_obs, g_rew, g_term, g_trunc, _ = env.step(action)
        c_rew, c_term, c_trunc, c_obs = drv.step(action)
        obs_stats.add(c_obs, g_obs, f"step {t} obs")
        rew_stats.add(c_rew, g_rew, f"step {t} reward")
        term_mismatch += c_term != bool(g_term)
        trunc_mismatch += c_trunc != bool(g_trunc)
        terminations += bool(g_term)
        truncations += bool(g_trunc)
        if g_term or g_trunc:
            if t + 1 < STEPS:
                start_episode()
    env.close()

    if not obs_stats.ok():
        problems.append(f"observation outside tolerance at {obs_stats.where}")
    if not rew_stats.ok():
        problems.append(f"reward outside tolerance at {rew_stats.where}")
    if term_mismatch:
        problems.append(f"{term_mismatch} terminated mismatches")
    if trunc_mismatch:
        problems.append(f"{trunc_mismatch} truncated mismatches")
    summary = dict(obs=obs_stats, rew=rew_stats, term_mismatch=term_mismatch,
                   trunc_mismatch=trunc_mismatch, episodes=episodes,
                   terminations=terminations, truncations=truncations)
    return summary, problems


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        print("usage: crosscheck.py <locomotion_step driver> <models_dir>")
        return 2
    driver_path, models_dir = sys.argv[1], sys.argv[2]
    print(f"gymnasium {gym.__version__}, mujoco (python) {mujoco.__version__}, numpy {np.__version__}")
    print(f"tolerance per element: |C - gym| <= {ATOL:g} + {RTOL:g} * |gym|; flags exact")
    print(f"{STEPS} steps per task, action seed {ACTION_SEED}")
    passed = failed = 0
    t_all = time.time()
    for task, env_id, xml in TASKS:
        t0 = time.time()
        xml_path = os.path.abspath(os.path.join(models_dir, xml))
        drv = None
        try:
            drv = Driver(driver_path)  # one per task, so a crash stays that task's failure
            summary, problems = run_task(drv, task, env_id, xml_path)
        except Exception as e:
            summary, problems = None, [f"{type(e).__name__}: {e}"]
        finally:
            if drv is not None:
                drv.close()
        dt = time.time() - t0
        status = "PASS" if not problems else "FAIL"
        if summary:
            o, r = summary["obs"], summary["rew"]
            print(f"{status} {env_id:15s} obs max abs {o.max_abs:.3e} max rel {o.max_rel:.3e} | "
                  f"reward max abs {r.max_abs:.3e} max rel {r.max_rel:.3e} | "
                  f"terminated mismatches {summary['term_mismatch']}, "
                  f"truncated mismatches {summary['trunc_mismatch']} | "
                  f"{summary['episodes']} episodes ({summary['terminations']} terminated, "
                  f"{summary['truncations']} truncated) | {dt:.1f} s")
            print(f"     worst obs {o.worst:.3g} x tol at {o.where}; "
                  f"worst reward {r.worst:.3g} x tol at {r.where}")
        else:
            print(f"{status} {env_id}")
        for p in problems:
            print(f"     problem: {p}")
        if problems:
            failed += 1
        else:
            passed += 1
    print(f"total {time.time() - t_all:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
