"""A Python port of examples/common/pendulum_env.c as a gymnasium.Env, operation for operation
(double-precision state, libm through the math module, float32 observations and reward), so that
a run through the binding can be compared bit for bit with the same run through the C API."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

PI = 3.14159265358979323846
G, M, L, DT, MAX_SPEED, MAX_TORQUE = 10.0, 1.0, 1.0, 0.05, 8.0, 2.0
MASK = (1 << 64) - 1


def splitmix64(state: list) -> int:
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & MASK
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def uniform(state: list, lo: float, hi: float) -> float:
    u = float(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0)
    return lo + u * (hi - lo)


def wrap_angle(x: float) -> float:
    y = math.fmod(x + PI, 2.0 * PI)
    if y < 0.0:
        y += 2.0 * PI
    return y - PI


class CPendulum(gym.Env):
    """examples/common/pendulum_env.c in Python: reset(seed) draws the start state from the seed
    alone with splitmix64; truncated after 200 steps."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = gym.spaces.Box(np.float32(-MAX_TORQUE), np.float32(MAX_TORQUE), (1,), np.float32)
        self.theta = self.theta_dot = 0.0
        self.steps = -1

    def _obs(self) -> np.ndarray:
        return np.array([math.cos(self.theta), math.sin(self.theta), self.theta_dot], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        state = [int(seed) & MASK]
        self.theta = uniform(state, -PI, PI)
        self.theta_dot = uniform(state, -1.0, 1.0)
        self.steps = 0
        return self._obs(), {}

    def step(self, action):
        u = float(action[0])
        u = -MAX_TORQUE if u < -MAX_TORQUE else MAX_TORQUE if u > MAX_TORQUE else u
        th = wrap_angle(self.theta)
        cost = th * th + 0.1 * self.theta_dot * self.theta_dot + 0.001 * u * u
        thd = self.theta_dot + (3.0 * G / (2.0 * L) * math.sin(self.theta) + 3.0 / (M * L * L) * u) * DT
        thd = -MAX_SPEED if thd < -MAX_SPEED else MAX_SPEED if thd > MAX_SPEED else thd
        self.theta += thd * DT
        self.theta_dot = thd
        self.steps += 1
        return self._obs(), float(np.float32(-cost)), False, self.steps >= 200, {}
