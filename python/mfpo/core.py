"""Handles over the C ABI: Context, AgentConfig, TrainOptions, ReplayBuffer, Agent.

Lifetimes: every handle keeps its Context alive (a strong reference), and the Context keeps the raw
C pointers of the handles created from it. Closing a handle destroys its C object; closing the
Context (explicitly, or when Python finalises it, in whatever order, including interpreter exit or
a garbage-collected cycle) first destroys every handle's C object that is still open, then the
context. A closed handle raises mfpo.ClosedError before any C call.
"""
from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._errors import ClosedError, Error, error_for

PathLike = Union[str, "os.PathLike[str]"]

_BACKENDS = {"auto": 0, "cpu": 1, "cuda": 2}
_BACKEND_NAMES = {v: k for k, v in _BACKENDS.items()}


def version() -> str:
    """The version of the loaded libmfpo, "MAJOR.MINOR.PATCH"."""
    return _lib.version_string().decode()


def _raise_status(status: int, ctx_ptr: Optional[int]) -> None:
    msg = _lib.last_error(ctx_ptr).decode(errors="replace")
    if not msg:
        msg = _lib.status_string(status).decode(errors="replace")
    raise error_for(status, msg)


# ----------------------------------------------------------------------------- argument checks
def _check_int(name: str, value: Any, lo: int = 0, hi: int = 2**64 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__} ({value!r})")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def _check_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a float, not {type(value).__name__} ({value!r})")
    return float(value)


def _check_array(name: str, a: Any, shape: Tuple[int, ...], *, writable: bool = False) -> np.ndarray:
    """A float32, C-contiguous ndarray of exactly `shape` (None entries: any length >= 1), or a
    TypeError/ValueError naming the argument. No copy is made."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32, not {type(a).__name__}")
    if a.dtype != np.float32:
        raise TypeError(f"{name} has dtype {a.dtype}; expected float32 (use {name}.astype(numpy.float32))")
    if a.ndim != len(shape) or any(w is not None and w != h for w, h in zip(shape, a.shape)):
        want = "(" + ", ".join("n" if w is None else str(w) for w in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} has shape {a.shape}; expected {want}")
    if any(w is None and h < 1 for w, h in zip(shape, a.shape)):
        raise ValueError(f"{name} has shape {a.shape}; expected at least one row")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} is not C-contiguous (use numpy.ascontiguousarray({name}))")
    if writable and not a.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return a


def _fptr(a: np.ndarray) -> Any:
    return a.ctypes.data_as(_lib._fp)


# ----------------------------------------------------------------------------- context
class Context:
    """A libmfpo context: backend, threads, random stream and last-error text.

    Args:
        seed: seed of the context's random stream (Philox4x32-10); weights, exploration noise,
            warm-up actions and replay sampling all come from it.
        threads: host threads for OpenBLAS and the library's loops. Default 1; 0 means the
            library default (every core). OpenBLAS's thread count is process-wide, so contexts of
            one process should agree on it.
        backend: "cpu" (default), "cuda" or "auto".
        device: CUDA device ordinal.

    A context and everything created from it must be used by one thread at a time.
    """

    def __init__(self, seed: int = 0, threads: int = 1, backend: str = "cpu", device: int = 0) -> None:
        self._ptr: Optional[int] = None
        self._children: Dict[int, Tuple[Callable[[Any], None], int]] = {}
        self._next_key = 0
        self._lock = threading.Lock()
        seed = _check_int("seed", seed)
        threads = _check_int("threads", threads, 0, 4096)
        device = _check_int("device", device, 0, 2**31 - 1)
        if not isinstance(backend, str):
            raise TypeError(f"backend must be a str, not {type(backend).__name__}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend = {backend!r} is not one of {sorted(_BACKENDS)}")
        o = _lib.ContextOptions()
        _lib.context_options_init(ctypes.byref(o))
        o.seed, o.threads, o.backend, o.device = seed, threads, _BACKENDS[backend], device
        p = ctypes.c_void_p()
        st = _lib.context_create(ctypes.byref(o), ctypes.byref(p))
        if st != _lib.OK:
            _raise_status(st, None)
        self._ptr = p.value

    # -- lifetime
    def _handle(self) -> int:
        if self._ptr is None:
            raise ClosedError("the mfpo.Context is closed")
        return self._ptr

    def _register(self, destroy: Callable[[Any], None], ptr: int) -> int:
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._children[key] = (destroy, ptr)
        return key

    def _unregister_and_destroy(self, key: int) -> None:
        with self._lock:
            entry = self._children.pop(key, None)
        if entry is not None:
            entry[0](entry[1])

    def _owns(self, key: int) -> bool:
        return key in self._children

    def close(self) -> None:
        """Destroys every handle still open on this context, then the context. Idempotent."""
        if self._ptr is None:
            return
        with self._lock:
            children = list(self._children.values())
            self._children.clear()
        for destroy, ptr in reversed(children):
            destroy(ptr)
        _lib.context_destroy(self._ptr)
        self._ptr = None

    @property
    def closed(self) -> bool:
        """True once close() ran."""
        return self._ptr is None

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    # -- queries
    @property
    def backend(self) -> str:
        """The backend the context runs on: "cpu" or "cuda"."""
        return _BACKEND_NAMES.get(_lib.context_backend(self._handle()), "unknown")

    @property
    def device_name(self) -> str:
        """A description of the device, e.g. "cpu (openblas, 1 threads)"."""
        return _lib.context_device_name(self._handle()).decode()

    @property
    def last_error(self) -> str:
        """The text of the last error raised through this context ("" when none)."""
        return _lib.last_error(self._handle()).decode(errors="replace")

    def set_seed(self, seed: int) -> None:
        """Resets the context's random stream to `seed`."""
        seed = _check_int("seed", seed)
        st = _lib.context_set_seed(self._handle(), seed)
        if st != _lib.OK:
            _raise_status(st, self._ptr)

    def _check(self, status: int) -> None:
        if status != _lib.OK:
            _raise_status(status, self._ptr)

    def __repr__(self) -> str:
        return "<mfpo.Context closed>" if self._ptr is None else f"<mfpo.Context {self.device_name}>"


class _Handle:
    """A C object created from a Context; see the module docstring for lifetimes."""

    _what = "handle"
    _ptr: Optional[int] = None

    def __init__(self, context: Context, ptr: int, destroy: Callable[[Any], None]) -> None:
        self._context = context
        self._ptr: Optional[int] = ptr
        self._key = context._register(destroy, ptr)

    def _handle(self) -> int:
        if self._ptr is None or not self._context._owns(self._key):
            self._ptr = None
            raise ClosedError(f"the mfpo.{self._what} is closed" +
                              (" (its Context was closed)" if self._context.closed else ""))
        return self._ptr

    @property
    def context(self) -> Context:
        """The context this handle was created from (kept alive by the handle)."""
        return self._context

    @property
    def closed(self) -> bool:
        """True once the handle or its context was closed."""
        return self._ptr is None or not self._context._owns(self._key)

    def close(self) -> None:
        """Destroys the C object. Idempotent; the context stays open."""
        if self._ptr is not None:
            self._ptr = None
            self._context._unregister_and_destroy(self._key)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


# ----------------------------------------------------------------------------- option structs
class _Struct:
    """A checked view of a C option struct: fields by name, with the C types' ranges."""

    _ctype: Any = None
    _skip = ("struct_size",)

    def __init__(self) -> None:
        object.__setattr__(self, "_s", self._ctype())

    @classmethod
    def fields(cls) -> Tuple[str, ...]:
        """The names of the settings, in the C struct's order."""
        return tuple(n for n, _ in cls._ctype._fields_ if n not in cls._skip)

    def _ftype(self, name: str) -> Any:
        for n, t in self._ctype._fields_:
            if n == name and n not in self._skip:
                return t
        raise AttributeError(f"{type(self).__name__} has no setting {name!r} (settings: {', '.join(self.fields())})")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._ftype(name)
        return getattr(self._s, name)

    def __setattr__(self, name: str, value: Any) -> None:
        t = self._ftype(name)
        if t in (ctypes.c_float, ctypes.c_double):
            v = _check_float(name, value)
        elif t is ctypes.c_int:
            v = _check_int(name, value, -(2**31), 2**31 - 1) if not isinstance(value, bool) else int(value)
        else:
            v = _check_int(name, value)
        setattr(self._s, name, v)

    def update(self, **settings: Any) -> Any:
        """Sets several settings at once; returns self."""
        for k, v in settings.items():
            setattr(self, k, v)
        return self

    def to_dict(self) -> Dict[str, Any]:
        """The settings as a dict."""
        return {n: getattr(self._s, n) for n in self.fields()}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"mfpo.{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"


class AgentConfig(_Struct):
    """Every MFPO hyper-parameter (mfpo_agent_config), defaulting to the paper's values.

    ``AgentConfig(obs_dim, act_dim, **settings)`` starts from the defaults;
    ``AgentConfig.preset("pendulum")`` from a named preset of the library. Fields are checked
    for type here; ranges are checked by the library when the Agent is created.
    """

    _ctype = _lib.AgentConfigStruct

    def __init__(self, obs_dim: int, act_dim: int, **settings: Any) -> None:
        super().__init__()
        obs_dim = _check_int("obs_dim", obs_dim, 1)
        act_dim = _check_int("act_dim", act_dim, 1)
        _lib.agent_config_init(ctypes.byref(self._s), obs_dim, act_dim)
        self.update(**settings)

    @classmethod
    def preset(cls, name: str, obs_dim: Optional[int] = None, act_dim: Optional[int] = None,
               **settings: Any) -> "AgentConfig":
        """A named preset of the library (mfpo_agent_config_preset): "pendulum" (dimensions 3
        and 1 by default), "mujoco" (the paper's settings) or "halfcheetah" (the paper's with
        clipped double-Q off). The MuJoCo presets need obs_dim and act_dim."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if name == "pendulum":
            obs_dim = 3 if obs_dim is None else obs_dim
            act_dim = 1 if act_dim is None else act_dim
        if obs_dim is None or act_dim is None:
            raise ValueError(f"preset {name!r} needs obs_dim and act_dim")
        obs_dim = _check_int("obs_dim", obs_dim, 1)
        act_dim = _check_int("act_dim", act_dim, 1)
        c = cls.__new__(cls)
        _Struct.__init__(c)
        st = _lib.agent_config_preset(ctypes.byref(c._s), name.encode(), obs_dim, act_dim)
        if st != _lib.OK:
            _raise_status(st, None)
        return c.update(**settings)


class TrainOptions(_Struct):
    """The training loop's options (mfpo_train_options): total_steps, warmup_steps,
    updates_per_step, eval_every, eval_episodes, episode_limit, seed, progress_every.
    ``TrainOptions(**settings)`` starts from the paper's loop; ``TrainOptions.preset(name)`` from
    a library preset ("pendulum", "mujoco", "halfcheetah")."""

    _ctype = _lib.TrainOptions
    _skip = ("struct_size", "eval_env", "progress", "progress_user")

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        _lib.train_options_init(ctypes.byref(self._s))
        self.update(**settings)

    @classmethod
    def preset(cls, name: str, **settings: Any) -> "TrainOptions":
        """A named preset of the library (mfpo_train_options_preset)."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        o = cls.__new__(cls)
        _Struct.__init__(o)
        st = _lib.train_options_preset(ctypes.byref(o._s), name.encode())
        if st != _lib.OK:
            _raise_status(st, None)
        return o.update(**settings)


class TrainState(_Struct):
    """Where a training run stands across mfpo.train() calls (mfpo_train_state): steps taken,
    episodes started and evaluations run. Pass the same object to every call of a run; save
    ``to_dict()`` next to the checkpoints to resume later (``TrainState(**saved)``)."""

    _ctype = _lib.TrainState

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        _lib.train_state_init(ctypes.byref(self._s))
        self.update(**settings)


# ----------------------------------------------------------------------------- replay buffer
class ReplayBuffer(_Handle):
    """A ring of transitions (mfpo_replay) with uniform sampling from the context's stream.

    Actions are stored in the library's normalised box [-1, 1]^A. With ``check_actions=True``
    (the default here; the C default is off) the library refuses actions outside that box.
    """

    _what = "ReplayBuffer"

    def __init__(self, context: Context, obs_dim: int, act_dim: int, capacity: int,
                 check_actions: bool = True) -> None:
        if not isinstance(context, Context):
            raise TypeError(f"context must be an mfpo.Context, not {type(context).__name__}")
        obs_dim = _check_int("obs_dim", obs_dim, 1)
        act_dim = _check_int("act_dim", act_dim, 1)
        capacity = _check_int("capacity", capacity, 1)
        if not isinstance(check_actions, bool):
            raise TypeError(f"check_actions must be a bool, not {type(check_actions).__name__}")
        p = ctypes.c_void_p()
        context._check(_lib.replay_create(context._handle(), obs_dim, act_dim, capacity, ctypes.byref(p)))
        super().__init__(context, p.value, _lib.replay_destroy)
        self.obs_dim, self.act_dim, self.capacity = obs_dim, act_dim, capacity
        if check_actions:
            context._check(_lib.replay_set_action_check(p.value, 1))

    @property
    def check_actions(self) -> bool:
        """Whether actions outside [-1, 1] are refused."""
        return bool(_lib.replay_action_check(self._handle()))

    @check_actions.setter
    def check_actions(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise TypeError(f"check_actions must be a bool, not {type(on).__name__}")
        self._context._check(_lib.replay_set_action_check(self._handle(), int(on)))

    def __len__(self) -> int:
        return int(_lib.replay_size(self._handle()))

    def add(self, obs: np.ndarray, action: np.ndarray, reward: float, next_obs: np.ndarray,
            terminated: bool) -> None:
        """Appends one transition (obs and next_obs of shape (obs_dim,), action (act_dim,), in [-1, 1])."""
        h = self._handle()
        _check_array("obs", obs, (self.obs_dim,))
        _check_array("action", action, (self.act_dim,))
        _check_array("next_obs", next_obs, (self.obs_dim,))
        reward = _check_float("reward", reward)
        if not isinstance(terminated, (bool, np.bool_)):
            raise TypeError(f"terminated must be a bool, not {type(terminated).__name__}")
        self._context._check(_lib.replay_add(h, _fptr(obs), _fptr(action), reward, _fptr(next_obs),
                                             int(terminated)))

    def add_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray,
                  terminated: np.ndarray) -> None:
        """Appends n transitions (rows of (n, obs_dim), (n, act_dim), (n,), (n, obs_dim) and a
        bool or int array (n,)); all are checked before any is written."""
        h = self._handle()
        _check_array("obs", obs, (None, self.obs_dim))
        n = obs.shape[0]
        _check_array("actions", actions, (n, self.act_dim))
        _check_array("rewards", rewards, (n,))
        _check_array("next_obs", next_obs, (n, self.obs_dim))
        if not isinstance(terminated, np.ndarray) or terminated.shape != (n,):
            raise ValueError(f"terminated must be a numpy.ndarray of shape ({n},)")
        if terminated.dtype.kind not in "biu":
            raise TypeError(f"terminated has dtype {terminated.dtype}; expected bool or an integer type")
        term = np.ascontiguousarray(terminated, dtype=np.intc)
        self._context._check(_lib.replay_add_batch(h, n, _fptr(obs), _fptr(actions), _fptr(rewards),
                                                   _fptr(next_obs), term.ctypes.data_as(ctypes.POINTER(ctypes.c_int))))

    def sample(self, n: int) -> Dict[str, np.ndarray]:
        """Draws n transitions uniformly with replacement: obs, actions, rewards, next_obs, masks."""
        h = self._handle()
        n = _check_int("n", n, 1)
        out = {"obs": np.empty((n, self.obs_dim), np.float32), "actions": np.empty((n, self.act_dim), np.float32),
               "rewards": np.empty(n, np.float32), "next_obs": np.empty((n, self.obs_dim), np.float32),
               "masks": np.empty(n, np.float32)}
        self._context._check(_lib.replay_sample(h, n, _fptr(out["obs"]), _fptr(out["actions"]),
                                                _fptr(out["rewards"]), _fptr(out["next_obs"]), _fptr(out["masks"])))
        return out

    def save(self, path: PathLike) -> None:
        """Saves the stored transitions and position atomically (mfpo_replay_save)."""
        h = self._handle()
        self._context._check(_lib.replay_save(h, os.fsencode(path)))

    def load(self, path: PathLike) -> None:
        """Loads a buffer saved with the same dimensions and capacity; unchanged on any error."""
        h = self._handle()
        self._context._check(_lib.replay_load(h, os.fsencode(path)))

    def __repr__(self) -> str:
        if self.closed:
            return "<mfpo.ReplayBuffer closed>"
        return f"<mfpo.ReplayBuffer {len(self)}/{self.capacity} obs_dim={self.obs_dim} act_dim={self.act_dim}>"


# ----------------------------------------------------------------------------- agent
@dataclasses.dataclass(frozen=True)
class UpdateStats:
    """What one update measured (mfpo_update_stats)."""

    critic_loss: float
    actor_loss: float
    divergence_loss: float
    alpha: float
    entropy: float
    mean_q: float
    ess_policy: float
    ess_gaussian: float
    actor_updated: bool

    @classmethod
    def _from_c(cls, s: "_lib.UpdateStats") -> "UpdateStats":
        return cls(s.critic_loss, s.actor_loss, s.divergence_loss, s.alpha, s.entropy, s.mean_q,
                   s.ess_policy, s.ess_gaussian, bool(s.actor_updated))


class Agent(_Handle):
    """An MFPO agent (mfpo_agent): policy, divergence net, twin critics, temperature, optimizers.

    Args:
        config: an AgentConfig (copied).
        context: the Context to create it in; a new ``Context(seed=0)`` when omitted.
    """

    _what = "Agent"

    def __init__(self, config: AgentConfig, context: Optional[Context] = None) -> None:
        if not isinstance(config, AgentConfig):
            raise TypeError(f"config must be an mfpo.AgentConfig, not {type(config).__name__}")
        if context is None:
            context = Context()
        elif not isinstance(context, Context):
            raise TypeError(f"context must be an mfpo.Context, not {type(context).__name__}")
        p = ctypes.c_void_p()
        context._check(_lib.agent_create(context._handle(), ctypes.byref(config._s), ctypes.byref(p)))
        super().__init__(context, p.value, _lib.agent_destroy)
        self.obs_dim = int(_lib.agent_obs_dim(p.value))
        self.act_dim = int(_lib.agent_act_dim(p.value))
        self._stats = _lib.UpdateStats()
        self._stats.struct_size = ctypes.sizeof(_lib.UpdateStats)

    @property
    def config(self) -> AgentConfig:
        """A copy of the agent's configuration."""
        c = AgentConfig.__new__(AgentConfig)
        _Struct.__init__(c)
        c._s.struct_size = ctypes.sizeof(_lib.AgentConfigStruct)
        self._context._check(_lib.agent_get_config(self._handle(), ctypes.byref(c._s)))
        return c

    @property
    def alpha(self) -> float:
        """The current temperature."""
        return float(_lib.agent_alpha(self._handle()))

    @property
    def update_count(self) -> int:
        """Number of updates completed."""
        return int(_lib.agent_update_count(self._handle()))

    def _actions(self, fn: Any, obs: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
        h = self._handle()
        if not isinstance(obs, np.ndarray):
            raise TypeError(f"obs must be a numpy.ndarray of float32, not {type(obs).__name__}")
        single = obs.ndim == 1
        _check_array("obs", obs, (self.obs_dim,) if single else (None, self.obs_dim))
        n = 1 if single else obs.shape[0]
        shape = (self.act_dim,) if single else (n, self.act_dim)
        if out is None:
            out = np.empty(shape, np.float32)
        else:
            _check_array("out", out, shape, writable=True)
        st = fn(h, obs.ctypes.data, n, out.ctypes.data)
        if st != _lib.OK:
            _raise_status(st, self._context._ptr)
        return out

    def act(self, obs: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Exploration: one policy sample per observation, in [-1, 1].

        obs: float32, shape (obs_dim,) or (n, obs_dim), C-contiguous. Returns (act_dim,) or
        (n, act_dim) float32, written into `out` when given (no allocation)."""
        return self._actions(_lib.agent_act, obs, out)

    def select_action(self, obs: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Evaluation-time action: the best of `eval_candidates` policy samples under the target
        critics (docs/algorithm.md §3). Shapes as act()."""
        return self._actions(_lib.agent_select_action, obs, out)

    def q_values(self, obs: np.ndarray, actions: np.ndarray, use_targets: bool = False) -> np.ndarray:
        """Q of (obs, action) pairs, shapes (n, obs_dim) and (n, act_dim) -> (n,)."""
        h = self._handle()
        _check_array("obs", obs, (None, self.obs_dim))
        n = obs.shape[0]
        _check_array("actions", actions, (n, self.act_dim))
        q = np.empty(n, np.float32)
        crit = _lib.agent_critic(h)
        self._context._check(_lib.critic_q(crit, _fptr(obs), _fptr(actions), n, int(bool(use_targets)), _fptr(q)))
        return q

    def update(self, replay: ReplayBuffer) -> UpdateStats:
        """One MFPO update (docs/algorithm.md §4 a–d) on a batch drawn from `replay`; returns its statistics.
        On a non-finite loss raises NonFiniteError with the agent unchanged."""
        h = self._handle()
        if not isinstance(replay, ReplayBuffer):
            raise TypeError(f"replay must be an mfpo.ReplayBuffer, not {type(replay).__name__}")
        r = replay._handle()
        self._context._check(_lib.update(h, r, ctypes.byref(self._stats)))
        return UpdateStats._from_c(self._stats)

    def policy_params(self) -> np.ndarray:
        """A copy of the policy network's parameters (float32)."""
        pol = _lib.agent_policy(self._handle())
        out = np.empty(_lib.policy_param_count(pol), np.float32)
        self._context._check(_lib.policy_get_params(pol, _fptr(out), out.size))
        return out

    def divergence_params(self) -> np.ndarray:
        """A copy of the divergence network's parameters (float32)."""
        d = _lib.agent_divergence(self._handle())
        out = np.empty(_lib.divergence_param_count(d), np.float32)
        self._context._check(_lib.divergence_get_params(d, _fptr(out), out.size))
        return out

    def save(self, path: PathLike) -> None:
        """Saves the whole agent and its context's stream position atomically (mfpo_agent_save),
        and its configuration as JSON to ``<path>.config.json`` (read by Agent.load when no
        configuration is given; the checkpoint itself is the C API's, byte for byte)."""
        h = self._handle()
        self._context._check(_lib.agent_save(h, os.fsencode(path)))
        cfg = os.fsdecode(os.fspath(path)) + ".config.json"
        tmp = cfg + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.config.to_dict(), f, indent=1)
        os.replace(tmp, cfg)

    def load_state(self, path: PathLike) -> None:
        """Loads a checkpoint of an agent of the same configuration into this one (and restores
        the context's seed and stream position); unchanged on any error."""
        h = self._handle()
        self._context._check(_lib.agent_load(h, os.fsencode(path)))

    @classmethod
    def load(cls, path: PathLike, config: Optional[AgentConfig] = None,
             context: Optional[Context] = None) -> "Agent":
        """Creates an agent of `config` in `context` (a new ``Context()`` when omitted) and loads
        the checkpoint at `path` into it (the context's seed and stream position are restored
        too). Without `config`, the configuration Agent.save wrote to ``<path>.config.json`` is
        used. The file must hold an agent of exactly this configuration (FormatError names the
        first field that differs)."""
        if config is None:
            cfg_path = os.fsdecode(os.fspath(path)) + ".config.json"
            try:
                with open(cfg_path) as f:
                    saved = json.load(f)
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"{cfg_path} not found: pass the agent's configuration (Agent.load(path, config)) for a "
                    "checkpoint not written by mfpo.Agent.save") from None
            if not isinstance(saved, dict) or "obs_dim" not in saved or "act_dim" not in saved:
                raise ValueError(f"{cfg_path} does not hold an mfpo.AgentConfig")
            config = AgentConfig(saved.pop("obs_dim"), saved.pop("act_dim"))
            config.update(**saved)
        agent = cls(config, context)
        try:
            agent.load_state(path)
        except BaseException:
            agent.close()
            raise
        return agent

    def __repr__(self) -> str:
        if self.closed:
            return "<mfpo.Agent closed>"
        return f"<mfpo.Agent obs_dim={self.obs_dim} act_dim={self.act_dim} updates={self.update_count}>"
