"""ctypes declarations of libmfpo's public C ABI (include/mfpo/*.h), and the loader.

Only exported ``mfpo_*`` functions are declared here; the structs mirror the public headers
field for field (tests/python/test_layout.py checks their sizes against the C compiler's).
"""
from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int, c_size_t,
                    c_uint, c_uint64, c_void_p)

_fp = POINTER(c_float)

# ----------------------------------------------------------------------------- status codes
OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_OUT_OF_MEMORY = 2
ERR_BACKEND_UNAVAILABLE = 3
ERR_NON_FINITE = 4
ERR_IO = 5
ERR_FORMAT = 6
ERR_ENV = 7
ERR_CANCELLED = 8
ERR_STATE = 9


# ----------------------------------------------------------------------------- structs
class ContextOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("backend", c_int), ("threads", c_int),
                ("seed", c_uint64), ("allocator", c_void_p), ("device", c_int)]


class AgentConfigStruct(Structure):
    _fields_ = [
        ("struct_size", c_size_t), ("obs_dim", c_size_t), ("act_dim", c_size_t),
        ("hidden_width", c_size_t), ("hidden_depth", c_size_t), ("sampling_steps", c_size_t),
        ("policy_samples", c_size_t), ("gaussian_samples", c_size_t),
        ("hutchinson_probes", c_size_t), ("atoms", c_size_t), ("v_min", c_float),
        ("v_max", c_float), ("gamma", c_float), ("tau", c_float), ("lr_policy", c_float),
        ("lr_divergence", c_float), ("lr_critic", c_float), ("lr_alpha", c_float),
        ("init_alpha", c_float), ("auto_alpha", c_int), ("target_entropy_coef", c_float),
        ("clipped_double_q", c_int), ("actor_delay", c_size_t), ("eval_candidates", c_size_t),
        ("batch_size", c_size_t), ("flow_fraction", c_float), ("time_mean", c_float),
        ("time_std", c_float), ("fourier_features", c_size_t), ("time_embed_dim", c_size_t),
        ("fourier_init_std", c_float), ("adam_beta1", c_float), ("adam_beta2", c_float),
        ("adam_eps", c_float),
    ]


class UpdateStats(Structure):
    _fields_ = [("struct_size", c_size_t), ("critic_loss", c_float), ("actor_loss", c_float),
                ("divergence_loss", c_float), ("alpha", c_float), ("entropy", c_float),
                ("mean_q", c_float), ("ess_policy", c_float), ("ess_gaussian", c_float),
                ("actor_updated", c_int)]


RESET_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, _fp)
STEP_FN = CFUNCTYPE(c_int, c_void_p, _fp, _fp, _fp, POINTER(c_int), POINTER(c_int))
CLOSE_FN = CFUNCTYPE(None, c_void_p)


class EnvStruct(Structure):
    _fields_ = [("struct_size", c_size_t), ("obs_dim", c_size_t), ("act_dim", c_size_t),
                ("action_low", _fp), ("action_high", _fp), ("user", c_void_p),
                ("reset", RESET_FN), ("step", STEP_FN), ("close", CLOSE_FN)]


class Progress(Structure):
    _fields_ = [("struct_size", c_size_t), ("step", c_uint64), ("total_steps", c_uint64),
                ("episodes", c_uint64), ("last_episode_return", c_double),
                ("last_eval_return", c_double), ("evaluated", c_int), ("stats", UpdateStats),
                ("steps_per_second", c_double), ("elapsed_seconds", c_double)]


PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, POINTER(Progress))


class TrainState(Structure):
    _fields_ = [("struct_size", c_size_t), ("steps", c_uint64), ("episodes", c_uint64),
                ("evaluations", c_uint64)]


class TrainOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("total_steps", c_uint64), ("warmup_steps", c_uint64),
                ("updates_per_step", c_double), ("eval_every", c_uint64),
                ("eval_episodes", c_size_t), ("episode_limit", c_uint64), ("seed", c_uint64),
                ("eval_env", POINTER(EnvStruct)), ("progress", PROGRESS_FN),
                ("progress_user", c_void_p), ("progress_every", c_uint64)]


# ----------------------------------------------------------------------------- loading
def _library_path() -> str:
    override = os.environ.get("MFPO_LIBRARY")
    if override:
        return override
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "libmfpo.so")


def _load() -> ctypes.CDLL:
    path = _library_path()
    try:
        return ctypes.CDLL(path)
    except OSError as e:  # pragma: no cover - depends on the installation
        raise ImportError(
            f"mfpo: cannot load the shared library {path!r} ({e}); install the package with "
            "'pip install .' from the libmfpo source tree, or set MFPO_LIBRARY to a libmfpo.so") from e


lib = _load()
LIBRARY_PATH = _library_path()

_P = c_void_p


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# version, status, context
version_string = _fn("mfpo_version_string", c_char_p)
version_number = _fn("mfpo_version_number", c_uint)
status_string = _fn("mfpo_status_string", c_char_p, c_int)
context_options_init = _fn("mfpo_context_options_init", None, POINTER(ContextOptions))
context_create = _fn("mfpo_context_create", c_int, POINTER(ContextOptions), POINTER(c_void_p))
context_destroy = _fn("mfpo_context_destroy", None, _P)
last_error = _fn("mfpo_last_error", c_char_p, _P)
context_backend = _fn("mfpo_context_backend", c_int, _P)
context_device_name = _fn("mfpo_context_device_name", c_char_p, _P)
context_set_seed = _fn("mfpo_context_set_seed", c_int, _P, c_uint64)

# configuration and presets
agent_config_init = _fn("mfpo_agent_config_init", None, POINTER(AgentConfigStruct), c_size_t, c_size_t)
agent_config_preset = _fn("mfpo_agent_config_preset", c_int, POINTER(AgentConfigStruct), c_char_p,
                          c_size_t, c_size_t)
train_options_init = _fn("mfpo_train_options_init", None, POINTER(TrainOptions))
train_options_preset = _fn("mfpo_train_options_preset", c_int, POINTER(TrainOptions), c_char_p)

# replay
replay_create = _fn("mfpo_replay_create", c_int, _P, c_size_t, c_size_t, c_size_t, POINTER(c_void_p))
replay_destroy = _fn("mfpo_replay_destroy", None, _P)
replay_add = _fn("mfpo_replay_add", c_int, _P, _fp, _fp, c_float, _fp, c_int)
replay_add_batch = _fn("mfpo_replay_add_batch", c_int, _P, c_size_t, _fp, _fp, _fp, _fp, POINTER(c_int))
replay_size = _fn("mfpo_replay_size", c_size_t, _P)
replay_capacity = _fn("mfpo_replay_capacity", c_size_t, _P)
replay_sample = _fn("mfpo_replay_sample", c_int, _P, c_size_t, _fp, _fp, _fp, _fp, _fp)
replay_save = _fn("mfpo_replay_save", c_int, _P, c_char_p)
replay_load = _fn("mfpo_replay_load", c_int, _P, c_char_p)
replay_obs_dim = _fn("mfpo_replay_obs_dim", c_size_t, _P)
replay_act_dim = _fn("mfpo_replay_act_dim", c_size_t, _P)
replay_context = _fn("mfpo_replay_context", c_void_p, _P)
replay_set_action_check = _fn("mfpo_replay_set_action_check", c_int, _P, c_int)

# agent
agent_create = _fn("mfpo_agent_create", c_int, _P, POINTER(AgentConfigStruct), POINTER(c_void_p))
agent_destroy = _fn("mfpo_agent_destroy", None, _P)
agent_get_config = _fn("mfpo_agent_get_config", c_int, _P, POINTER(AgentConfigStruct))
agent_alpha = _fn("mfpo_agent_alpha", c_float, _P)
agent_update_count = _fn("mfpo_agent_update_count", c_uint64, _P)
agent_context = _fn("mfpo_agent_context", c_void_p, _P)
agent_act = _fn("mfpo_agent_act", c_int, _P, c_void_p, c_size_t, c_void_p)
agent_select_action = _fn("mfpo_agent_select_action", c_int, _P, c_void_p, c_size_t, c_void_p)
update = _fn("mfpo_update", c_int, _P, _P, POINTER(UpdateStats))
agent_save = _fn("mfpo_agent_save", c_int, _P, c_char_p)
agent_load = _fn("mfpo_agent_load", c_int, _P, c_char_p)
agent_policy = _fn("mfpo_agent_policy", c_void_p, _P)
agent_critic = _fn("mfpo_agent_critic", c_void_p, _P)
agent_divergence = _fn("mfpo_agent_divergence", c_void_p, _P)
policy_param_count = _fn("mfpo_policy_param_count", c_size_t, _P)
policy_get_params = _fn("mfpo_policy_get_params", c_int, _P, _fp, c_size_t)
divergence_param_count = _fn("mfpo_divergence_param_count", c_size_t, _P)
divergence_get_params = _fn("mfpo_divergence_get_params", c_int, _P, _fp, c_size_t)
critic_q = _fn("mfpo_critic_q", c_int, _P, _fp, _fp, c_size_t, c_int, _fp)

# environments and training
env_init = _fn("mfpo_env_init", None, POINTER(EnvStruct))
train = _fn("mfpo_train", c_int, _P, _P, POINTER(EnvStruct), POINTER(TrainOptions))
evaluate = _fn("mfpo_evaluate", c_int, _P, POINTER(EnvStruct), c_size_t, c_uint64, c_uint64,
               POINTER(c_double))

# getters, presets and checks added with the Python package
agent_obs_dim = _fn("mfpo_agent_obs_dim", c_size_t, _P)
agent_act_dim = _fn("mfpo_agent_act_dim", c_size_t, _P)
replay_action_check = _fn("mfpo_replay_action_check", c_int, _P)
train_state_init = _fn("mfpo_train_state_init", None, POINTER(TrainState))
train_continue = _fn("mfpo_train_continue", c_int, _P, _P, POINTER(EnvStruct), POINTER(TrainOptions),
                     POINTER(TrainState))
