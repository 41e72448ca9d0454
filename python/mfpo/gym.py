"""Gymnasium environments for libmfpo: mfpo.train() through the library's own loop (mfpo_train
with Python callbacks), mfpo.evaluate(), and mfpo.train_vector() for gymnasium.vector envs.

The library acts in [-1, 1]^A and maps actions affinely to the Box's [low, high] before the env
sees them; the replay buffer stores the normalised action.
"""
from __future__ import annotations

import ctypes
import math
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from . import _lib
from ._errors import error_for
from .core import (Agent, ReplayBuffer, TrainOptions, TrainState, UpdateStats, _check_float, _check_int,
                   _raise_status)


def _box_bounds(space: Any, what: str) -> Tuple[np.ndarray, np.ndarray]:
    try:
        from gymnasium.spaces import Box
    except ImportError as e:  # pragma: no cover
        raise ImportError("mfpo.train needs gymnasium (pip install gymnasium)") from e
    if not isinstance(space, Box):
        raise TypeError(f"{what} is {type(space).__name__}; mfpo needs a gymnasium.spaces.Box")
    low = np.asarray(space.low, np.float32).ravel()
    high = np.asarray(space.high, np.float32).ravel()
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError(f"{what} has non-finite bounds (low {low}, high {high}); actions are rescaled "
                         "from [-1, 1] to [low, high], so both must be finite")
    return low, high


class _EnvAdapter:
    """One gymnasium.Env as an mfpo_env. Keeps its ctypes callbacks alive, and turns a Python
    exception raised in the env into MFPO_ERR_ENV, remembering it to re-raise after the call."""

    def __init__(self, env: Any, what: str) -> None:
        obs_space = env.observation_space
        if getattr(obs_space, "shape", None) is None:
            raise TypeError(f"{what}.observation_space has no shape; mfpo needs a Box observation space")
        self.env = env
        self.what = what
        self.obs_dim = int(np.prod(obs_space.shape))
        self.act_shape = env.action_space.shape
        self.low, self.high = _box_bounds(env.action_space, f"{what}.action_space")
        self.act_dim = self.low.size
        self.error: Optional[BaseException] = None
        self.c = _lib.EnvStruct()
        _lib.env_init(ctypes.byref(self.c))
        self.c.obs_dim, self.c.act_dim = self.obs_dim, self.act_dim
        self.c.action_low = self.low.ctypes.data_as(_lib._fp)
        self.c.action_high = self.high.ctypes.data_as(_lib._fp)
        self._reset_cb = _lib.RESET_FN(self._reset)
        self._step_cb = _lib.STEP_FN(self._step)
        self.c.reset, self.c.step = self._reset_cb, self._step_cb

    def _write_obs(self, obs: Any, out: Any) -> None:
        o = np.asarray(obs, dtype=np.float32)
        if o.size != self.obs_dim:
            raise ValueError(f"{self.what} returned an observation of {o.size} values; its observation_space "
                             f"has {self.obs_dim}")
        o = np.ascontiguousarray(o.reshape(-1))
        ctypes.memmove(out, o.ctypes.data, self.obs_dim * 4)

    def _reset(self, user: Any, seed: int, obs_out: Any) -> int:
        try:
            obs, _info = self.env.reset(seed=int(seed))
            self._write_obs(obs, obs_out)
            return _lib.OK
        except BaseException as e:  # noqa: B902 - re-raised by the caller after the library returns
            self.error = self.error or e
            return _lib.ERR_ENV

    def _step(self, user: Any, action: Any, obs_out: Any, reward: Any, terminated: Any, truncated: Any) -> int:
        try:
            a = np.ctypeslib.as_array(action, (self.act_dim,)).copy().reshape(self.act_shape)
            obs, r, term, trunc, _info = self.env.step(a)
            self._write_obs(obs, obs_out)
            reward[0] = float(r)
            terminated[0] = 1 if term else 0
            truncated[0] = 1 if trunc else 0
            return _lib.OK
        except BaseException as e:  # noqa: B902
            self.error = self.error or e
            return _lib.ERR_ENV


class TrainResult(Dict[str, Any]):
    """What mfpo.train() returns: a dict with 'evaluations' (list of (step, mean return)),
    'episode_returns' (list of (step, return)), 'state' (the TrainState), 'seconds'."""


def _raise_after(status: int, agent: Agent, adapters: List[_EnvAdapter], progress_error: Optional[BaseException]) -> None:
    """After the library returned: re-raise the first Python exception of a callback (with the
    library's message as a note), else the library's error."""
    msg = _lib.last_error(agent.context._ptr).decode(errors="replace")
    for exc in [a.error for a in adapters] + [progress_error]:
        if exc is not None:
            # what the library saw, with the exception's text, on every Python version: as
            # exc.mfpo_error (an mfpo.Error with the status) and, from 3.11, as a note
            err = error_for(status, f"{msg}; Python exception {type(exc).__name__}: {exc}")
            try:
                exc.mfpo_error = err  # type: ignore[attr-defined]
            except AttributeError:  # pragma: no cover - exceptions with __slots__
                pass
            if hasattr(exc, "add_note"):
                exc.add_note(f"mfpo: the library stopped with status {status}: {msg}")
            raise exc
    if status != _lib.OK:
        _raise_status(status, agent.context._ptr)


def train(env: Any, agent: Agent, steps: int, *, replay: Optional[ReplayBuffer] = None,
          eval_env: Any = None, options: Optional[TrainOptions] = None, state: Optional[TrainState] = None,
          progress: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None, **settings: Any) -> TrainResult:
    """Trains `agent` on a gymnasium.Env with a Box action space through the library's loop
    (mfpo_train, docs/algorithm.md §5).

    Args:
        env: the training environment (its reset(seed=...) gets the library's episode seeds).
        agent: the agent; its obs_dim/act_dim must match the env's flattened spaces.
        steps: environment steps to take in this call.
        replay: the buffer (a new one of capacity max(steps, 1) in the agent's context when omitted).
        eval_env: a separate instance for evaluation (None: no evaluation).
        options: a TrainOptions (default: TrainOptions()); `settings` override its fields
            (warmup_steps, updates_per_step, eval_every, eval_episodes, episode_limit, seed,
            progress_every).
        state: a TrainState to continue a run across calls (episode seeds and the evaluation
            schedule carry on); it is updated in place.
        progress: called with a dict (step, total_steps, episodes, last_episode_return,
            last_eval_return, evaluated, stats, steps_per_second, elapsed_seconds) after every
            episode, evaluation and `progress_every` steps; return True to stop (CancelledError).

    Exceptions raised by the env or by `progress` stop the library's loop (MFPO_ERR_ENV /
    MFPO_ERR_CANCELLED) and are re-raised here after it returned. Returns a TrainResult.
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"agent must be an mfpo.Agent, not {type(agent).__name__}")
    steps = _check_int("steps", steps)
    opts = TrainOptions() if options is None else options
    if not isinstance(opts, TrainOptions):
        raise TypeError(f"options must be an mfpo.TrainOptions, not {type(opts).__name__}")
    if state is not None and not isinstance(state, TrainState):
        raise TypeError(f"state must be an mfpo.TrainState, not {type(state).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    o = _lib.TrainOptions()
    ctypes.memmove(ctypes.byref(o), ctypes.byref(opts._s), ctypes.sizeof(o))
    tmp = TrainOptions.__new__(TrainOptions)
    object.__setattr__(tmp, "_s", o)
    tmp.update(**settings)
    o.total_steps = steps
    adapter = _EnvAdapter(env, "env")
    adapters = [adapter]
    if (adapter.obs_dim, adapter.act_dim) != (agent.obs_dim, agent.act_dim):
        raise ValueError(f"env has obs_dim {adapter.obs_dim}, act_dim {adapter.act_dim} but the agent has "
                         f"obs_dim {agent.obs_dim}, act_dim {agent.act_dim}")
    if eval_env is not None:
        ev = _EnvAdapter(eval_env, "eval_env")
        if (ev.obs_dim, ev.act_dim) != (agent.obs_dim, agent.act_dim):
            raise ValueError(f"eval_env has obs_dim {ev.obs_dim}, act_dim {ev.act_dim} but the agent has "
                             f"obs_dim {agent.obs_dim}, act_dim {agent.act_dim}")
        adapters.append(ev)
        o.eval_env = ctypes.pointer(ev.c)
    if replay is None:
        replay = ReplayBuffer(agent.context, agent.obs_dim, agent.act_dim, max(steps, 1))
    elif not isinstance(replay, ReplayBuffer):
        raise TypeError(f"replay must be an mfpo.ReplayBuffer, not {type(replay).__name__}")
    if replay.context is not agent.context:
        raise ValueError("replay belongs to another mfpo.Context than agent")

    result = TrainResult(evaluations=[], episode_returns=[], state=state, replay=replay)
    progress_error: List[BaseException] = []
    seen_episodes = [0]

    def on_progress(user: Any, p: Any) -> int:
        try:
            q = p.contents
            if q.evaluated:
                result["evaluations"].append((int(q.step), float(q.last_eval_return)))
            d = {"step": int(q.step), "total_steps": int(q.total_steps), "episodes": int(q.episodes),
                 "last_episode_return": float(q.last_episode_return),
                 "last_eval_return": float(q.last_eval_return), "evaluated": bool(q.evaluated),
                 "stats": UpdateStats._from_c(q.stats), "steps_per_second": float(q.steps_per_second),
                 "elapsed_seconds": float(q.elapsed_seconds)}
            if q.episodes != seen_episodes[0]:  # this report follows the end of an episode
                seen_episodes[0] = int(q.episodes)
                result["episode_returns"].append((int(q.step), float(q.last_episode_return)))
            if progress is not None and progress(d):
                return 1
            return 0
        except BaseException as e:  # noqa: B902
            progress_error.append(e)
            return 1

    cb = _lib.PROGRESS_FN(on_progress)
    o.progress = cb
    h = agent._handle()
    r = replay._handle()
    t0 = time.perf_counter()
    if state is None:
        st = _lib.train(h, r, ctypes.byref(adapter.c), ctypes.byref(o))
    else:
        st = _lib.train_continue(h, r, ctypes.byref(adapter.c), ctypes.byref(o), ctypes.byref(state._s))
    result["seconds"] = time.perf_counter() - t0
    _raise_after(st, agent, adapters, progress_error[0] if progress_error else None)
    return result


def evaluate(env: Any, agent: Agent, episodes: int = 10, *, seed: int = 0, episode_limit: int = 0) -> float:
    """Mean undiscounted return of `episodes` episodes with select_action (mfpo_evaluate);
    episode i is reset with seed + i; 0 as episode_limit: only the env ends an episode."""
    if not isinstance(agent, Agent):
        raise TypeError(f"agent must be an mfpo.Agent, not {type(agent).__name__}")
    episodes = _check_int("episodes", episodes, 1)
    seed = _check_int("seed", seed)
    episode_limit = _check_int("episode_limit", episode_limit)
    adapter = _EnvAdapter(env, "env")
    mean = ctypes.c_double()
    st = _lib.evaluate(agent._handle(), ctypes.byref(adapter.c), episodes, episode_limit, seed, ctypes.byref(mean))
    _raise_after(st, agent, [adapter], None)
    return float(mean.value)


def train_vector(envs: Any, agent: Agent, steps: int, replay: ReplayBuffer, *, warmup_steps: int = 1000,
                 updates_per_step: float = 1.0, seed: int = 0,
                 progress: Optional[Callable[[Dict[str, Any]], Optional[bool]]] = None) -> Dict[str, Any]:
    """Trains on a gymnasium.vector env (N copies) with batched acting: one agent.act() call per
    vector step for all N observations, N transitions per step (replay.add_batch), and
    updates after warm-up as mfpo_train counts them: after n transitions of the policy,
    floor(n * updates_per_step) updates in all. Warm-up: uniform actions from a NumPy generator
    seeded with `seed` while the buffer holds fewer than `warmup_steps` transitions.

    `steps` counts transitions (vector steps times N). Sub-environments reset themselves
    (gymnasium's autoreset); a truncated episode's last transition is stored with mask 1, a
    terminated one with mask 0. Returns {'episode_returns': [...], 'updates': n, 'stats': last}.
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"agent must be an mfpo.Agent, not {type(agent).__name__}")
    if not isinstance(replay, ReplayBuffer):
        raise TypeError(f"replay must be an mfpo.ReplayBuffer, not {type(replay).__name__}")
    steps = _check_int("steps", steps)
    warmup_steps = _check_int("warmup_steps", warmup_steps)
    seed = _check_int("seed", seed)
    upd = _check_float("updates_per_step", updates_per_step)
    if not upd > 0:
        raise ValueError(f"updates_per_step = {upd} must be > 0")
    n = int(envs.num_envs)
    low, high = _box_bounds(envs.single_action_space, "envs.single_action_space")
    S = int(np.prod(envs.single_observation_space.shape))
    A = low.size
    if (S, A) != (agent.obs_dim, agent.act_dim):
        raise ValueError(f"envs have obs_dim {S}, act_dim {A} but the agent has obs_dim {agent.obs_dim}, "
                         f"act_dim {agent.act_dim}")
    autoreset_mode = getattr(getattr(envs, "metadata", {}), "get", lambda *_: None)("autoreset_mode")
    rng = np.random.default_rng(seed)
    obs, _ = envs.reset(seed=seed)
    obs = np.ascontiguousarray(np.asarray(obs, np.float32).reshape(n, S))
    act = np.empty((n, A), np.float32)
    ep_ret = np.zeros(n)
    returns: List[float] = []
    taken = 0
    updates = 0
    due = 0.0
    stats: Optional[UpdateStats] = None
    prev_done = np.zeros(n, bool)
    while taken < steps:
        warm = len(replay) < warmup_steps
        if warm:
            act[:] = rng.uniform(-1.0, 1.0, size=(n, A)).astype(np.float32)
        else:
            agent.act(obs, out=act)
        env_act = (low + (act.astype(np.float64) + 1.0) * 0.5 * (high - low)).astype(np.float32)
        nobs, rew, term, trunc, info = envs.step(env_act.reshape((n,) + tuple(envs.single_action_space.shape)))
        nobs = np.ascontiguousarray(np.asarray(nobs, np.float32).reshape(n, S))
        rew = np.asarray(rew, np.float32)
        term = np.asarray(term, bool)
        trunc = np.asarray(trunc, bool)
        # gymnasium >= 1.0 (next-step autoreset): the step after an episode's end is a reset
        # step whose transition does not exist; it is skipped.
        keep = ~prev_done
        final = nobs.copy()
        if "final_observation" in info:  # gymnasium 0.29 (same-step autoreset)
            for i, fo in enumerate(info["final_observation"]):
                if fo is not None:
                    final[i] = np.asarray(fo, np.float32).reshape(S)
        if keep.any():
            idx = np.nonzero(keep)[0]
            replay.add_batch(np.ascontiguousarray(obs[idx]), np.ascontiguousarray(act[idx]),
                             np.ascontiguousarray(rew[idx]), np.ascontiguousarray(final[idx]), term[idx])
            taken += idx.size
            ep_ret[idx] += rew[idx]
            if not warm:  # as mfpo_train: after n policy transitions, floor(n * ratio) updates
                due += idx.size * upd
                while updates < math.floor(due + 1e-9):
                    stats = agent.update(replay)
                    updates += 1
        done = (term | trunc) & keep
        for i in np.nonzero(done)[0]:
            returns.append(float(ep_ret[i]))
            ep_ret[i] = 0.0
        prev_done = done if "final_observation" not in info else np.zeros(n, bool)
        obs = nobs
        if progress is not None and progress({"step": taken, "updates": updates, "episode_returns": returns,
                                              "stats": stats}):
            break
    return {"episode_returns": returns, "updates": updates, "stats": stats}
