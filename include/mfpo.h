/**
 * @file mfpo.h
 * @brief libmfpo: Mean Flow Policy Optimization in C. Include this one header.
 *
 * The library trains and runs multi-modal MeanFlow policies with the MFPO algorithm
 * (docs/algorithm.md). This introduction reads from the simplest use to the most advanced; each
 * step names the header that declares it and the page of docs/ that explains it. The includes
 * below follow the same order.
 *
 * @section mfpo_intro_conventions Conventions
 * Every call that can fail returns an ::mfpo_status (status.h; mfpo_status_string() names it) and
 * leaves its text in mfpo_last_error() (context.h): which function, which argument, which value.
 * Option and configuration structs are filled by an `_init` call (or a preset) first: they carry
 * a `struct_size` and only grow at their end (docs/abi.md). A context and everything created from
 * it are used by one thread at a time (docs/threads.md).
 *
 * @section mfpo_intro_simple 1. Train with the library's loop
 * Create a context (context.h), an agent from a configuration (config.h: mfpo_agent_config_init()
 * for the paper's defaults, or presets.h: mfpo_agent_config_preset()), and a replay buffer
 * (replay.h). Describe the simulator as an ::mfpo_env of callbacks (env.h;
 * docs/writing-an-environment.md), hand everything to mfpo_train() (train.h), and save the agent
 * (checkpoint.h):
 * @code
 * mfpo_context *ctx = NULL;
 * mfpo_agent *agent = NULL;
 * mfpo_replay *replay = NULL;
 * mfpo_agent_config cfg;
 * mfpo_train_options topt;
 * mfpo_env env;
 * mfpo_env_init(&env);
 * env.obs_dim = 3;
 * env.act_dim = 1;
 * env.reset = my_reset;             // mfpo_status my_reset(void *user, uint64_t seed, float *obs)
 * env.step = my_step;               // mfpo_status my_step(void *user, const float *action, float *obs,
 *                                   //                     float *reward, int *terminated, int *truncated)
 * mfpo_status s = mfpo_context_create(NULL, &ctx);          // NULL: default options (AUTO backend)
 * if (s == MFPO_OK) s = mfpo_agent_config_preset(&cfg, "pendulum", env.obs_dim, env.act_dim);
 * if (s == MFPO_OK) s = mfpo_train_options_preset(&topt, "pendulum");
 * if (s == MFPO_OK) s = mfpo_agent_create(ctx, &cfg, &agent);
 * if (s == MFPO_OK) s = mfpo_replay_create(ctx, env.obs_dim, env.act_dim, 100000, &replay);
 * if (s == MFPO_OK) s = mfpo_train(agent, replay, &env, &topt);
 * if (s == MFPO_OK) s = mfpo_agent_save(agent, "agent.mfpo");
 * if (s != MFPO_OK) fprintf(stderr, "%s\n", mfpo_last_error(ctx));   // ctx NULL: the thread's slot
 * mfpo_replay_destroy(replay);
 * mfpo_agent_destroy(agent);
 * mfpo_context_destroy(ctx);
 * @endcode
 * examples/minimal.c is this program complete (the README shows it); mfpo_evaluate() (train.h)
 * measures the trained policy.
 *
 * @section mfpo_intro_steps 2. Drive the steps yourself
 * The loop mfpo_train() runs, spelled out (agent.h, replay.h, env.h; examples/step_loop.c): act
 * with mfpo_agent_act() (in [-1, 1]^A), map the action to the simulator's bounds with
 * mfpo_env_scale_action(), store the transition with mfpo_replay_add() (the normalized action;
 * terminated = 1 only on a true termination), run mfpo_update(), and evaluate with
 * mfpo_agent_select_action():
 * @code
 * float obs[3], next[3], a[1], scaled[1], reward;
 * int terminated, truncated;
 * mfpo_update_stats stats;
 * mfpo_update_stats_init(&stats);
 * // ... obs from my_reset() ...
 * s = mfpo_agent_act(agent, obs, 1, a);
 * if (s == MFPO_OK) s = mfpo_env_scale_action(&env, a, scaled);
 * if (s == MFPO_OK) s = my_step(env.user, scaled, next, &reward, &terminated, &truncated);
 * if (s == MFPO_OK) s = mfpo_replay_add(replay, obs, a, reward, next, terminated);
 * if (s == MFPO_OK && mfpo_replay_size(replay) >= cfg.batch_size) s = mfpo_update(agent, replay, &stats);
 * // evaluation: the best of eval_candidates samples under the target critics
 * if (s == MFPO_OK) s = mfpo_agent_select_action(agent, obs, 1, a);
 * @endcode
 * A failed mfpo_update() (#MFPO_ERR_NON_FINITE) leaves the agent exactly as before the call.
 * docs/update-walkthrough.md follows one update through the code; docs/algorithm.md is the math.
 *
 * @section mfpo_intro_advanced 3. Advanced
 *  - Networks as handles (nets.h): mfpo_agent_policy(), mfpo_agent_divergence() and
 *    mfpo_agent_critic() lend the agent's parts; they sample (mfpo_policy_sample(),
 *    mfpo_policy_sample_logp()), score (mfpo_critic_q()) and copy parameters in and out. The same
 *    handles can be created alone. Every handle leads back to its context (mfpo_agent_context(),
 *    mfpo_replay_context(), mfpo_policy_context(), ...).
 *  - Training in several calls (train.h): mfpo_train_continue() with an ::mfpo_train_state the
 *    caller keeps makes consecutive calls one run (the same episodes and evaluations).
 *  - Vectorised training (train_vec.h): mfpo_train_vec() steps N environment instances in
 *    lockstep into one agent, each instance's random stream independent of N.
 *  - Data-parallel training (parallel.h; docs/distributed.md): a gradient all-reduce hook
 *    (mfpo_agent_set_allreduce()), mfpo_agent_broadcast_state() and the context's random-stream
 *    position; the library knows no transport, and libmfpo-mpi (mpi/mfpo_mpi.h) supplies MPI's.
 *  - Checkpoints (checkpoint.h; docs/checkpoint-format.md): mfpo_agent_save()/mfpo_agent_load()
 *    and mfpo_replay_save()/mfpo_replay_load() are atomic and together resume training exactly.
 *  - Threads and backends (context.h; docs/threads.md, docs/cuda.md): ::mfpo_context_options
 *    chooses the backend (CPU, or CUDA from a module loaded at run time), the host threads, the
 *    seed and the allocator; mfpo_backend_probe() asks whether a backend could run here.
 *  - Python (docs/python.md): the `mfpo` package calls this library through ctypes.
 *  - The ABI (version.h; docs/abi.md): what stays stable across releases, and how struct_size lets
 *    old and new programs and libraries meet.
 *
 * @section mfpo_intro_experimental 4. Experimental diagnostics
 * experimental.h declares diagnostic calls (mfpo_policy_transport(): the sampler as a map from
 * given noise; mfpo_agent_get_state(): a raw copy of the agent's state) only when the program
 * defines MFPO_EXPERIMENTAL before including this header; without the macro it declares nothing.
 * Their symbols are exported as all others, but their interface is not promised (docs/abi.md).
 * @code
 * #define MFPO_EXPERIMENTAL
 * #include <mfpo.h>
 * @endcode
 */
#ifndef MFPO_H
#define MFPO_H

/* Basics: version, status codes, the context. */
#include "mfpo/version.h"
#include "mfpo/status.h"
#include "mfpo/context.h"
/* 1. The library's loop: configuration and presets, environment, buffer, agent, training, saving. */
#include "mfpo/config.h"
#include "mfpo/presets.h"
#include "mfpo/env.h"
#include "mfpo/replay.h"
#include "mfpo/agent.h"
#include "mfpo/train.h"
#include "mfpo/checkpoint.h"
/* 2. The step-level calls are agent.h, replay.h and env.h above. */
/* 3. Advanced: network handles, vectorised and data-parallel training. */
#include "mfpo/nets.h"
#include "mfpo/train_vec.h"
#include "mfpo/parallel.h"
/* 4. Diagnostics, declared only under MFPO_EXPERIMENTAL. */
#include "mfpo/experimental.h"

#endif
