"""mfpo.train with Gymnasium envs: exceptions in callbacks, continuation, the vector path, and a
short Pendulum-v1 run that must beat a random policy."""
import math

import gymnasium as gym
import numpy as np
import pytest

import mfpo
from cpendulum import CPendulum


def tiny_agent(seed=0):
    ctx = mfpo.Context(seed=seed)
    cfg = mfpo.AgentConfig.preset("pendulum", hidden_width=16, hidden_depth=1, batch_size=16, atoms=21,
                                  fourier_features=8, time_embed_dim=8, eval_candidates=3)
    return mfpo.Agent(cfg, ctx)


class Boom(RuntimeError):
    pass


class FailingEnv(CPendulum):
    def __init__(self, fail_at):
        super().__init__()
        self.fail_at = fail_at
        self.calls = 0

    def step(self, action):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Boom("the simulator exploded at call %d" % self.calls)
        return super().step(action)


def test_exception_in_step_is_reraised():
    agent = tiny_agent()
    rb = mfpo.ReplayBuffer(agent.context, 3, 1, 100)
    with pytest.raises(Boom, match="the simulator exploded at call 30") as e:
        mfpo.train(FailingEnv(30), agent, 50, replay=rb, warmup_steps=10)
    if hasattr(e.value, "__notes__"):
        assert e.value.__notes__ == [
            "mfpo: the library stopped with status 7: mfpo_train: env->step returned status 7 "
            "(environment callback failed) at step 30"]
    err = e.value.mfpo_error
    assert isinstance(err, mfpo.EnvError) and err.status == 7
    assert str(err) == ("mfpo_train: env->step returned status 7 (environment callback failed) at step 30; "
                        "Python exception Boom: the simulator exploded at call 30")
    # the library stopped after the last good step: 29 transitions, 19 updates
    assert len(rb) == 29
    assert agent.update_count == 19
    # the agent is usable afterwards, and the same error status reached the library
    assert agent.context.last_error.startswith("mfpo_train: env->step returned status 7")


def test_exception_in_reset_and_eval_env():
    agent = tiny_agent()

    class BadReset(CPendulum):
        def reset(self, *, seed=None, options=None):
            raise KeyError("no such start state")

    with pytest.raises(KeyError, match="no such start state"):
        mfpo.train(BadReset(), agent, 10, warmup_steps=5)
    with pytest.raises(Boom):
        mfpo.train(CPendulum(), agent, 20, eval_env=FailingEnv(3), warmup_steps=5, eval_every=10, eval_episodes=1)
    with pytest.raises(Boom):
        mfpo.evaluate(FailingEnv(5), agent, 1)


def test_exception_in_progress_and_cancel():
    agent = tiny_agent()

    def progress(p):
        raise ValueError("progress broke at %d" % p["step"])

    with pytest.raises(ValueError, match="progress broke at 10"):
        mfpo.train(CPendulum(), agent, 50, warmup_steps=5, progress_every=10, progress=progress)
    with pytest.raises(mfpo.CancelledError) as e:
        mfpo.train(CPendulum(), agent, 50, warmup_steps=5, progress_every=10, progress=lambda p: True)
    assert e.value.status == 8
    assert str(e.value) == "mfpo_train: cancelled by the progress callback after step 10"


def test_env_checks_before_c():
    agent = tiny_agent()
    with pytest.raises(TypeError, match="env.action_space is Discrete"):
        mfpo.train(gym.make("CartPole-v1"), agent, 10)
    with pytest.raises(ValueError, match="env has obs_dim 4, act_dim 1 but the agent has obs_dim 3, act_dim 1"):
        mfpo.train(_Box4(), agent, 10)


class _Box4(CPendulum):
    def __init__(self):
        super().__init__()
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)


def test_continuation_with_state():
    """Two calls with one TrainState: distinct episode seeds and the evaluation schedule carries on."""
    seeds = []

    class Rec(CPendulum):
        def reset(self, *, seed=None, options=None):
            seeds.append(seed)
            return super().reset(seed=seed)

    agent = tiny_agent()
    rb = mfpo.ReplayBuffer(agent.context, 3, 1, 1000)
    st = mfpo.TrainState()
    r1 = mfpo.train(Rec(), agent, 250, replay=rb, state=st, eval_env=CPendulum(), warmup_steps=50,
                    eval_every=100, eval_episodes=1, episode_limit=100)
    assert st.to_dict() == {"steps": 250, "episodes": 3, "evaluations": 2}
    r2 = mfpo.train(Rec(), agent, 150, replay=rb, state=st, eval_env=CPendulum(), warmup_steps=50,
                    eval_every=100, eval_episodes=1, episode_limit=100)
    assert st.to_dict() == {"steps": 400, "episodes": 5, "evaluations": 4}
    assert [s for s, _ in r1["evaluations"]] == [100, 200]
    assert [s for s, _ in r2["evaluations"]] == [300, 400]
    assert len(set(seeds)) == len(seeds) == 5
    assert seeds == list(range(seeds[0], seeds[0] + 5))
    assert len(rb) == 400


def test_vector_env_batched_acting():
    agent = tiny_agent()
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("Pendulum-v1") for _ in range(4)])
    rb = mfpo.ReplayBuffer(agent.context, 3, 1, 2000)
    calls = []
    orig = agent.act

    def counting_act(obs, out=None):
        calls.append(obs.shape)
        return orig(obs, out=out)

    agent.act = counting_act
    out = mfpo.train_vector(envs, agent, 1000, rb, warmup_steps=200, seed=3)
    # 250 steps of each of 4 envs: 1000 transitions, none from a reset step
    assert len(rb) == 1000
    # one batched act per vector step after warm-up (200 transitions = 50 vector steps): 200
    # steps, plus the reset step after the 200-step episodes end (Gymnasium 1.x's next-step
    # autoreset: its transitions do not exist and are not stored; 0.29 has none)
    assert calls and all(s == (4, 3) for s in calls)
    assert len(calls) == (201 if gym.__version__ >= "1" else 200)
    # after warm-up: floor(4 * 1.0) updates per vector step
    assert out["updates"] == 800
    # each env finished exactly one 200-step episode (Pendulum-v1's time limit)
    assert len(out["episode_returns"]) == 4
    assert all(-16.3 * 200 <= r <= 0 for r in out["episode_returns"])
    batch = rb.sample(256)
    assert np.all(np.abs(batch["actions"]) <= 1.0)
    assert np.all(batch["masks"] == 1.0)  # Pendulum never terminates
    envs.close()


def random_return(env, episodes, base):
    rng = np.random.default_rng(123)
    total = 0.0
    for i in range(episodes):
        env.reset(seed=base + i)
        done = False
        while not done:
            _, r, term, trunc, _ = env.step(rng.uniform(-2, 2, size=1).astype(np.float32))
            total += r
            done = term or trunc
    return total / episodes


@pytest.mark.slow
def test_pendulum_v1_beats_random():
    """Gymnasium's Pendulum-v1, shipped preset, 4000 steps: at least 600 better than random on the
    same 10 episodes (the C smoke test's margin; a random policy scores about -1200 to -1300)."""
    env, eval_env = gym.make("Pendulum-v1"), gym.make("Pendulum-v1")
    agent = mfpo.Agent(mfpo.AgentConfig.preset("pendulum"), mfpo.Context(seed=0))
    mfpo.train(env, agent, 4000, options=mfpo.TrainOptions.preset("pendulum"), eval_every=0)
    base = 424242
    trained = mfpo.evaluate(eval_env, agent, 10, seed=base, episode_limit=200)
    rand = random_return(eval_env, 10, base)
    print(f"trained {trained:.1f}, random {rand:.1f}")
    assert trained >= rand + 600.0, (trained, rand)
