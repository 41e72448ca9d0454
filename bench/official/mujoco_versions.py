#!/usr/bin/env python3
"""Does the MuJoCo version change HalfCheetah's dynamics? (issue 16: the official side runs
Gymnasium on PyPI's current mujoco wheel, libmfpo on Debian's libmujoco 2.2.2.)

    python mujoco_versions.py record MODEL.xml states.npz   # with one mujoco version
    python mujoco_versions.py replay MODEL.xml states.npz   # with another

`record` runs 5 episodes of 1 000 HalfCheetah-v4 steps (frame skip 5; Gymnasium's reset noise,
uniform +-0.1 on qpos and 0.1 N(0, 1) on qvel; 3 episodes of uniform random actions, 2 of smooth
sinusoids) and stores every step's start state (qpos, qvel, the solver's warm start, time), action,
end state and reward (forward velocity - 0.1 |a|^2). `replay` starts from each stored state with
this mujoco, takes the same step and prints the largest differences of the end state and reward:
the one-step difference of the two versions' dynamics. It also replays each episode's actions open
loop from its start (a chaotic system: any rounding difference grows; equal returns on the smooth
episodes and differing ones on the random episodes say rounding, not a model change).

tests/mujoco/crosscheck.py ties libmfpo's C task on Debian's 2.2.2 to Gymnasium on the 2.3.1
wheel step by step at float32 rounding; this script ties 2.3.1 to the newer wheel.
"""
import sys

import mujoco
import numpy as np

FRAME_SKIP = 5


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("record", "replay"):
        sys.exit(__doc__)
    mode, xml, path = sys.argv[1:4]
    m = mujoco.MjModel.from_xml_path(xml)
    d = mujoco.MjData(m)
    print(f"mujoco {mujoco.__version__}: integrator {m.opt.integrator}, timestep {m.opt.timestep}, solver "
          f"{m.opt.solver}, iterations {m.opt.iterations}, tolerance {m.opt.tolerance}, total mass "
          f"{float(np.sum(m.body_mass)):.6g}")

    def step(a):
        x0 = d.qpos[0]
        d.ctrl[:] = a
        mujoco.mj_step(m, d, nstep=FRAME_SKIP)
        return (d.qpos[0] - x0) / (m.opt.timestep * FRAME_SKIP) - 0.1 * float(np.sum(np.square(a)))

    def set_state(qpos, qvel, warm, time):
        mujoco.mj_resetData(m, d)
        d.qpos[:], d.qvel[:], d.qacc_warmstart[:], d.time = qpos, qvel, warm, time

    if mode == "record":
        rng = np.random.default_rng(0)
        rows = []
        for ep in range(5):
            mujoco.mj_resetData(m, d)
            d.qpos[:] = m.qpos0 + rng.uniform(-0.1, 0.1, m.nq)
            d.qvel[:] = 0.1 * rng.standard_normal(m.nv)
            mujoco.mj_forward(m, d)
            for k in range(1000):
                a = rng.uniform(-1, 1, m.nu) if ep < 3 else np.clip(1.2 * np.sin(0.3 * k + np.arange(m.nu)), -1, 1)
                start = (d.qpos.copy(), d.qvel.copy(), d.qacc_warmstart.copy(), d.time)
                r = step(a)
                rows.append((*start, a.copy(), d.qpos.copy(), d.qvel.copy(), r))
        np.savez(path, *[np.stack([row[i] for row in rows]) for i in range(8)])
        print(f"recorded {len(rows)} steps to {path}")
        return 0
    z = np.load(path)
    qp, qv, warm, time, act, qp1, qv1, rew = [z[f"arr_{i}"] for i in range(8)]
    dq, dv, dr = np.zeros(len(act)), np.zeros(len(act)), np.zeros(len(act))
    for k in range(len(act)):
        set_state(qp[k], qv[k], warm[k], time[k])
        r = step(act[k])
        dq[k], dv[k], dr[k] = np.abs(d.qpos - qp1[k]).max(), np.abs(d.qvel - qv1[k]).max(), abs(r - rew[k])
    print(f"one step from each of {len(act)} recorded states: max |qpos diff| {dq.max():.3g} (median {np.median(dq):.3g}), "
          f"max |qvel diff| {dv.max():.3g} (median {np.median(dv):.3g}), max |reward diff| {dr.max():.3g}; "
          f"typical |qvel| {np.median(np.abs(qv1)):.3g}, |reward| {np.median(np.abs(rew)):.3g}")
    for ep in range(len(act) // 1000):
        k0 = ep * 1000
        set_state(qp[k0], qv[k0], warm[k0], time[k0])
        ret = sum(step(act[k]) for k in range(k0, k0 + 1000))
        kind = "random" if ep < 3 else "smooth"
        print(f"open loop, episode {ep} ({kind} actions): return {ret:.2f} here, {rew[k0:k0 + 1000].sum():.2f} recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
