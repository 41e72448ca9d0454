"""A run through the binding equals the same run through the C API bit for bit, and checkpoints
round-trip bit-identically (tests/python/c_reference_run.c is the C side)."""
import os
import subprocess

import numpy as np
import pytest

import mfpo
from cpendulum import CPendulum

C_RUN = os.environ.get("MFPO_C_REFERENCE_RUN")


def binding_run(out_dir):
    """tests/python/c_reference_run.c, through the binding."""
    ctx = mfpo.Context(seed=11, threads=1)
    cfg = mfpo.AgentConfig.preset("pendulum", hidden_width=32, batch_size=32, eval_candidates=8)
    agent = mfpo.Agent(cfg, ctx)
    rb = mfpo.ReplayBuffer(ctx, 3, 1, 1000, check_actions=False)
    opts = mfpo.TrainOptions.preset("pendulum", warmup_steps=150, eval_every=150, eval_episodes=2, seed=5)
    st = mfpo.TrainState()
    env, eval_env = CPendulum(), CPendulum()
    evals = []
    for steps in (250, 200):
        r = mfpo.train(env, agent, steps, replay=rb, eval_env=eval_env, options=opts, state=st)
        evals += r["evaluations"]
    obs = np.array([1, 0, 0, 0, 1, 1, -1, 0, -2, 0.6, -0.8, 3], np.float32).reshape(4, 3)
    act = agent.act(obs)
    sel = agent.select_action(obs)
    agent.save(os.path.join(out_dir, "agent.mfpo"))
    rb.save(os.path.join(out_dir, "replay.mfpo"))
    return agent, rb, evals, st, act, sel, cfg


@pytest.mark.skipif(not C_RUN, reason="MFPO_C_REFERENCE_RUN (the C reference program) not set")
def test_binding_equals_c_api(tmp_path):
    cdir = tmp_path / "c"
    pdir = tmp_path / "py"
    cdir.mkdir()
    pdir.mkdir()
    subprocess.run([C_RUN, str(cdir)], check=True, timeout=300)
    agent, rb, evals, st, act, sel, _ = binding_run(str(pdir))
    lines = (cdir / "evals.txt").read_text().split("\n")
    c_evals = [(int(l.split()[0]), float(l.split()[1])) for l in lines if l and not l.startswith("state")]
    assert evals == c_evals  # exact doubles (printed with 17 digits)
    assert lines[-2] == f"state {st.steps} {st.episodes} {st.evaluations}" == "state 450 3 3"
    c_actions = np.fromfile(cdir / "actions.bin", np.float32)
    assert c_actions.tobytes() == np.concatenate([act.ravel(), sel.ravel()]).tobytes()
    assert (cdir / "agent.mfpo").read_bytes() == (pdir / "agent.mfpo").read_bytes()
    assert (pdir / "agent.mfpo.config.json").exists()
    assert (cdir / "replay.mfpo").read_bytes() == (pdir / "replay.mfpo").read_bytes()


def test_checkpoint_round_trip(tmp_path):
    agent, rb, _, _, _, _, cfg = binding_run(str(tmp_path))
    saved = (tmp_path / "agent.mfpo").read_bytes()
    ctx2 = mfpo.Context(seed=99)
    loaded = mfpo.Agent.load(tmp_path / "agent.mfpo", cfg, ctx2)
    # without a configuration: the one Agent.save wrote next to the checkpoint
    again = mfpo.Agent.load(tmp_path / "agent.mfpo")
    assert again.config == cfg
    assert np.array_equal(again.policy_params(), agent.policy_params())
    assert again.context.last_error == ""
    loaded.save(tmp_path / "again.mfpo")
    assert (tmp_path / "again.mfpo").read_bytes() == saved
    assert loaded.update_count == agent.update_count
    assert np.array_equal(loaded.policy_params(), agent.policy_params())
    assert np.array_equal(loaded.divergence_params(), agent.divergence_params())
    # the restored stream continues exactly: the same next actions and the same next update
    obs = np.array([[0.3, -0.2, 0.5]], np.float32)
    assert agent.act(obs).tobytes() == loaded.act(obs).tobytes()
    rb2 = mfpo.ReplayBuffer(ctx2, 3, 1, 1000)
    rb2.load(tmp_path / "replay.mfpo")
    rb2.save(tmp_path / "replay2.mfpo")
    assert (tmp_path / "replay2.mfpo").read_bytes() == (tmp_path / "replay.mfpo").read_bytes()
    s1, s2 = agent.update(rb), loaded.update(rb2)
    assert s1 == s2
    assert np.array_equal(loaded.policy_params(), agent.policy_params())
