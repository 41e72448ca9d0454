"""Argument checks before any C call, library errors as mfpo.Error subclasses with the library's
message, closed handles and finaliser order."""
import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mfpo


@pytest.fixture
def ctx():
    c = mfpo.Context(seed=1)
    yield c
    c.close()


def small_config(**kw):
    settings = {"hidden_width": 16, "batch_size": 8}
    settings.update(kw)
    return mfpo.AgentConfig.preset("pendulum", **settings)


# ----------------------------------------------------------------------------- arrays
def test_act_wrong_dtype_shape_contiguity(ctx):
    agent = mfpo.Agent(small_config(), ctx)
    ok = np.zeros(3, np.float32)
    assert agent.act(ok).shape == (1,)
    with pytest.raises(TypeError, match=r"obs has dtype float64; expected float32"):
        agent.act(np.zeros(3))
    with pytest.raises(TypeError, match=r"obs must be a numpy.ndarray of float32, not list"):
        agent.act([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"obs has shape \(4,\); expected \(3,\)"):
        agent.act(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"obs has shape \(2, 4\); expected \(n, 3\)"):
        agent.act(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"obs has shape \(0, 3\); expected at least one row"):
        agent.act(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match=r"obs is not C-contiguous"):
        agent.act(np.zeros((3, 6), np.float32)[:, ::2])
    with pytest.raises(ValueError, match=r"out has shape \(2,\); expected \(1,\)"):
        agent.act(ok, out=np.zeros(2, np.float32))
    ro = np.zeros(1, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"out is read-only"):
        agent.select_action(ok, out=ro)
    # nothing reached the library: no error text was recorded on the context
    assert ctx.last_error == ""


def test_act_out_no_copy(ctx):
    agent = mfpo.Agent(small_config(), ctx)
    obs = np.zeros((5, 3), np.float32)
    out = np.full((5, 1), 7.0, np.float32)
    r = agent.act(obs, out=out)
    assert r is out
    assert np.all(np.abs(out) <= 1.0)


def test_replay_argument_errors(ctx):
    rb = mfpo.ReplayBuffer(ctx, 3, 1, 10)
    o = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match=r"action has dtype float64"):
        rb.add(o, np.zeros(1), 0.0, o, False)
    with pytest.raises(TypeError, match=r"reward must be a float, not str"):
        rb.add(o, np.zeros(1, np.float32), "1", o, False)
    with pytest.raises(ValueError, match=r"capacity = 0 is outside"):
        mfpo.ReplayBuffer(ctx, 3, 1, 0)
    with pytest.raises(TypeError, match=r"capacity must be an int, not float"):
        mfpo.ReplayBuffer(ctx, 3, 1, 10.0)
    with pytest.raises(ValueError, match=r"actions has shape \(2, 2\); expected \(2, 1\)"):
        rb.add_batch(np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32), np.zeros(2, np.float32),
                     np.zeros((2, 3), np.float32), np.zeros(2, bool))
    assert len(rb) == 0


def test_replay_action_check_message(ctx):
    rb = mfpo.ReplayBuffer(ctx, 3, 1, 10)
    assert rb.check_actions
    o = np.zeros(3, np.float32)
    with pytest.raises(mfpo.InvalidArgumentError) as e:
        rb.add(o, np.array([2.0], np.float32), -1.0, o, False)
    assert e.value.status == 1
    assert str(e.value) == ("mfpo_replay_add: action[0] = 2 is outside [-1, 1] (the buffer's action check is on: "
                            "store the normalized action, not the environment's); nothing was stored")
    assert len(rb) == 0
    rb.check_actions = False
    rb.add(o, np.array([2.0], np.float32), -1.0, o, False)
    assert len(rb) == 1


# ----------------------------------------------------------------------------- library errors
def test_library_error_carries_status_and_message(ctx):
    with pytest.raises(mfpo.InvalidArgumentError) as e:
        mfpo.Agent(small_config(hidden_depth=0), ctx)
    assert e.value.status == 1
    assert isinstance(e.value, mfpo.Error)
    assert "hidden_depth" in e.value.message and "0" in e.value.message
    assert e.value.message == ctx.last_error


def test_preset_errors():
    with pytest.raises(mfpo.InvalidArgumentError) as e:
        mfpo.AgentConfig.preset("cartpole", 4, 1)
    assert str(e.value) == ('mfpo_agent_config_preset: name = "cartpole" is not a preset (expected one of '
                            '"pendulum", "mujoco", "halfcheetah")')
    with pytest.raises(ValueError, match="preset 'mujoco' needs obs_dim and act_dim"):
        mfpo.AgentConfig.preset("mujoco")
    with pytest.raises(AttributeError, match="AgentConfig has no setting 'hidden'"):
        mfpo.AgentConfig(3, 1, hidden=3)
    with pytest.raises(ValueError, match=r"batch_size = -1 is outside"):
        mfpo.AgentConfig(3, 1, batch_size=-1)
    with pytest.raises(TypeError, match=r"gamma must be a float, not str"):
        mfpo.AgentConfig(3, 1, gamma="0.9")
    c = mfpo.AgentConfig.preset("halfcheetah", 17, 6)
    assert c.clipped_double_q == 0 and c.hidden_width == 256
    assert mfpo.AgentConfig.preset("mujoco", 17, 6) == mfpo.AgentConfig(17, 6)
    assert mfpo.TrainOptions.preset("pendulum").episode_limit == 200


def test_checkpoint_errors(ctx, tmp_path):
    agent = mfpo.Agent(small_config(), ctx)
    with pytest.raises(mfpo.FileIOError) as e:
        agent.load_state(tmp_path / "missing.mfpo")
    assert e.value.status == 5 and "missing.mfpo" in str(e.value)
    agent.save(tmp_path / "a.mfpo")
    with pytest.raises(mfpo.FormatError) as e:
        mfpo.Agent.load(tmp_path / "a.mfpo", small_config(hidden_width=8), ctx)
    assert e.value.status == 6 and "hidden_width" in str(e.value)
    (tmp_path / "b.mfpo").write_bytes((tmp_path / "a.mfpo").read_bytes())
    with pytest.raises(FileNotFoundError, match=r"b.mfpo.config.json not found: pass the agent's configuration"):
        mfpo.Agent.load(tmp_path / "b.mfpo")


# ----------------------------------------------------------------------------- closed handles, finalisers
def test_closed_handles(ctx):
    agent = mfpo.Agent(small_config(), ctx)
    rb = mfpo.ReplayBuffer(ctx, 3, 1, 10)
    agent.close()
    assert agent.closed
    with pytest.raises(mfpo.ClosedError, match=r"the mfpo.Agent is closed$"):
        agent.act(np.zeros(3, np.float32))
    agent.close()  # idempotent
    ctx.close()
    assert rb.closed and ctx.closed
    with pytest.raises(mfpo.ClosedError, match=r"the mfpo.ReplayBuffer is closed \(its Context was closed\)"):
        len(rb)
    with pytest.raises(mfpo.ClosedError, match=r"the mfpo.Context is closed"):
        mfpo.Agent(small_config(), ctx)
    rb.close()


def test_context_closed_first_then_handles_collected():
    c = mfpo.Context()
    a = mfpo.Agent(small_config(), c)
    r = mfpo.ReplayBuffer(c, 3, 1, 10)
    c.close()  # destroys the agent and the buffer first
    del a, r
    gc.collect()


def test_cycle_collected_in_any_order():
    for _ in range(20):
        c = mfpo.Context()
        a = mfpo.Agent(small_config(), c)
        r = mfpo.ReplayBuffer(c, 3, 1, 10)
        c.cycle = (a, r)  # context -> handles -> context
        a.cycle = c
        del c, a, r
        gc.collect()


def test_interpreter_exit_with_live_handles(tmp_path):
    """Handles left in module globals (and in a cycle) at exit: no crash, whatever the order."""
    script = textwrap.dedent("""
        import numpy as np, mfpo
        ctx = mfpo.Context()
        agent = mfpo.Agent(mfpo.AgentConfig.preset("pendulum", hidden_width=16), ctx)
        rb = mfpo.ReplayBuffer(ctx, 3, 1, 10)
        agent.act(np.zeros(3, np.float32))
        ctx.keep = [agent, rb]
        orphan = mfpo.Agent(mfpo.AgentConfig.preset("pendulum", hidden_width=16))
        del ctx
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True,
                       env=os.environ.copy(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok"
    assert "Exception ignored" not in p.stderr, p.stderr
