"""The checkpoint writer of bench/official/same_start.py (which moves the official code's parameters
into libmfpo, issue 16) against the library: the state section as docs/checkpoint-format.md
describes it (policy, divergence net, critics 1 and 2, their targets, each padded to 16 floats; both
CRCs). Needs no official code: the blocks here are made-up values."""
import ctypes
import os
import sys

import numpy as np
import pytest

import mfpo
from mfpo import _lib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "official"))
import same_start  # noqa: E402


def small_config():
    return mfpo.AgentConfig(3, 2, hidden_width=16, hidden_depth=2, atoms=7, batch_size=8, policy_samples=2,
                            gaussian_samples=4, fourier_features=4, time_embed_dim=8)


def blocks_for(agent):
    h = agent._handle()
    n_u, n_d = agent.policy_params().size, agent.divergence_params().size
    count = _lib.lib.mfpo_critic_param_count
    count.restype, count.argtypes = ctypes.c_size_t, [ctypes.c_void_p]
    n_q = count(_lib.agent_critic(h))
    rng = np.random.default_rng(3)
    return {"policy": rng.uniform(-0.5, 0.5, n_u).astype(np.float32),
            "divergence": rng.uniform(-0.5, 0.5, n_d).astype(np.float32),
            "critic1": rng.uniform(-0.5, 0.5, n_q).astype(np.float32),
            "critic2": rng.uniform(-0.5, 0.5, n_q).astype(np.float32)}


def test_rewritten_state_loads_into_the_documented_places(tmp_path):
    path = str(tmp_path / "agent.ckpt")
    ctx = mfpo.Context(seed=1, threads=1)
    agent = mfpo.Agent(small_config(), ctx)
    agent.save(path)
    before = same_start.agent_state(agent)
    blocks = blocks_for(agent)
    # the padding must matter: a block whose size is 1..8 above a multiple of 16 (551 critic floats)
    assert any(1 <= v.size % 16 <= 8 for v in blocks.values()), [v.size for v in blocks.values()]
    same_start.rewrite_state(path, blocks)

    other = mfpo.Agent(small_config(), mfpo.Context(seed=2, threads=1))
    other.load_state(path)  # a wrong CRC or layout would be refused here
    np.testing.assert_array_equal(other.policy_params(), blocks["policy"])
    np.testing.assert_array_equal(other.divergence_params(), blocks["divergence"])
    state = same_start.agent_state(other)
    at = 0
    for name in ("policy", "divergence", "critic1", "critic2", "critic1", "critic2"):
        v = blocks[name]
        np.testing.assert_array_equal(state[at:at + v.size], v, err_msg=name)
        at += (v.size + 15) & ~15
    # log alpha and the Adam moments stay as saved
    np.testing.assert_array_equal(state[at:], before[at:])
    # and the critics answer with the new parameters: Q changes
    obs = np.zeros((4, 3), np.float32)
    act = np.zeros((4, 2), np.float32)
    assert not np.array_equal(other.q_values(obs, act), agent.q_values(obs, act))


def test_a_block_of_the_wrong_size_is_refused_and_the_file_left_alone(tmp_path):
    path = str(tmp_path / "agent.ckpt")
    agent = mfpo.Agent(small_config(), mfpo.Context(seed=1, threads=1))
    agent.save(path)
    data = open(path, "rb").read()
    blocks = blocks_for(agent)
    blocks["critic2"] = blocks["critic2"][:-1]
    with pytest.raises(SystemExit, match=r"the official critic has \d+ parameters, libmfpo's \d+"):
        same_start.rewrite_state(path, blocks)
    assert open(path, "rb").read() == data
