"""The checkpoint writer and readers of bench/official/same_start.py (which move parameters between
the official code and libmfpo, issue 16) against the library: the state section as
docs/checkpoint-format.md describes it (policy, divergence net, critics 1 and 2, their targets, log
alpha, the Adam moments, each padded to 16 floats; both CRCs), the counters, the replay rings, and
the flax-tree <-> vector mapping. Needs no official code: the values here are made up."""
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


def test_the_state_layout_is_the_librarys(tmp_path):
    """state_layout (the reader's offsets) against a saved agent: its total is the library's state
    size, log alpha sits where the layout says, and the counters are read back."""
    ctx = mfpo.Context(seed=1, threads=1)
    agent = mfpo.Agent(small_config().update(init_alpha=0.37), ctx)
    rb = mfpo.ReplayBuffer(ctx, 3, 2, 64)
    rng = np.random.default_rng(0)
    rb.add_batch(rng.uniform(-1, 1, (64, 3)).astype(np.float32), rng.uniform(-1, 1, (64, 2)).astype(np.float32),
                 rng.uniform(-1, 1, 64).astype(np.float32), rng.uniform(-1, 1, (64, 3)).astype(np.float32),
                 np.zeros(64, bool))
    for _ in range(3):
        agent.update(rb)
    path = str(tmp_path / "agent.ckpt")
    agent.save(path)
    (n_u, n_d, n_q, state), (updates, critic_steps, actor_steps) = same_start.read_agent_state(path)
    layout, total = same_start.state_layout(n_u, n_d, n_q)
    assert total == state.size == same_start.agent_state(agent).size
    np.testing.assert_array_equal(state, same_start.agent_state(agent))
    assert (updates, critic_steps, actor_steps) == (3, 3, 3)
    assert np.exp(state[layout["log_alpha"][0]]) == pytest.approx(agent.alpha, rel=1e-6)
    at, n = layout["u"]
    np.testing.assert_array_equal(state[at:at + n], agent.policy_params())
    # the Adam second moments are non-negative and, after three steps, not all zero
    for name in ("v_u", "v_d", "v_q1", "v_q2", "v_alpha"):
        at, n = layout[name]
        assert (state[at:at + n] >= 0).all() and state[at:at + n].any(), name


def test_the_replay_reader_returns_what_was_added(tmp_path):
    ctx = mfpo.Context(seed=1, threads=1)
    rb = mfpo.ReplayBuffer(ctx, 3, 2, 40)
    rng = np.random.default_rng(1)
    rows = [rng.uniform(-1, 1, (25, 3)).astype(np.float32), rng.uniform(-1, 1, (25, 2)).astype(np.float32),
            rng.uniform(-5, 5, 25).astype(np.float32), rng.uniform(-1, 1, (25, 3)).astype(np.float32),
            rng.uniform(0, 1, 25) < 0.3]
    rb.add_batch(*rows)
    path = str(tmp_path / "replay.ckpt")
    rb.save(path)
    got = same_start.read_replay(path)
    for want, have in zip(rows, got):
        np.testing.assert_array_equal(have, want)
    with pytest.raises(SystemExit, match="is not a replay checkpoint"):
        agent_path = str(tmp_path / "agent.ckpt")
        mfpo.Agent(small_config(), ctx).save(agent_path)
        same_start.read_replay(agent_path)


def fake_flow_tree(depth, rng):
    """A nested dict with an official MeanFlow network's leaf paths, in made-up shapes."""
    tree = {}
    for path in same_start.flow_paths(depth):
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = rng.standard_normal((3, 5) if path[-1] == "kernel" else (5,)).astype(np.float32)
    return tree


def test_from_vector_inverts_to_vector():
    rng = np.random.default_rng(2)
    tree = fake_flow_tree(2, rng)
    paths = same_start.flow_paths(2)
    vec = same_start.to_vector(tree, paths)
    assert vec.size == sum(15 if p[-1] == "kernel" else 5 for p in paths)
    other = rng.standard_normal(vec.size).astype(np.float32)
    new = same_start.from_vector(tree, paths, other)
    np.testing.assert_array_equal(same_start.to_vector(new, paths), other)
    # row-major kernels: the first 5 floats after the Fourier kernel's 15 are Dense_0's first row
    np.testing.assert_array_equal(new["TimestepEmbedder_0"]["MLP_0"]["Dense_0"]["kernel"][0], other[15:20])
    # the input tree is left alone
    np.testing.assert_array_equal(same_start.to_vector(tree, paths), vec)
    with pytest.raises(ValueError, match="floats for a tree of"):
        same_start.from_vector(tree, paths, np.zeros(vec.size + 1, np.float32))
    with pytest.raises(ValueError, match="needs more"):
        same_start.from_vector(tree, paths, np.zeros(vec.size - 1, np.float32))
