"""mfpo: Mean Flow Policy Optimization (libmfpo) from Python, with NumPy and Gymnasium.

A binding of libmfpo's public C ABI through ctypes (the shared library is installed inside this
package). Start with::

    import gymnasium as gym, mfpo
    env, eval_env = gym.make("Pendulum-v1"), gym.make("Pendulum-v1")
    agent = mfpo.Agent(mfpo.AgentConfig.preset("pendulum"), mfpo.Context(seed=0))
    result = mfpo.train(env, agent, 10_000, eval_env=eval_env, options=mfpo.TrainOptions.preset("pendulum"))

See docs/python.md.
"""
from ._errors import (BackendUnavailableError, CancelledError, ClosedError, EnvError, Error, FileIOError,
                      FormatError, InvalidArgumentError, NonFiniteError, OutOfMemoryError, StateError)
from .core import (Agent, AgentConfig, Context, ReplayBuffer, TrainOptions, TrainState, UpdateStats,
                   version)
from .gym import TrainResult, evaluate, train, train_vector

__version__ = "0.1.0"

__all__ = [
    "Agent", "AgentConfig", "Context", "ReplayBuffer", "TrainOptions", "TrainState", "UpdateStats",
    "TrainResult", "train", "train_vector", "evaluate", "version",
    "Error", "InvalidArgumentError", "OutOfMemoryError", "BackendUnavailableError", "NonFiniteError",
    "FileIOError", "FormatError", "EnvError", "CancelledError", "StateError", "ClosedError",
]
