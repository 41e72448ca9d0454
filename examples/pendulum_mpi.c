/*
 * pendulum_mpi: data-parallel MFPO on the pendulum (docs/distributed.md). Every rank steps its own
 * --envs pendulum instances in lockstep (mfpo_train_vec) into its own replay buffer; the gradients
 * are averaged over the ranks by libmfpo-mpi, so all ranks hold the same agent.
 *
 *   mpirun -np 2 pendulum_mpi [--seed N] [--steps N] [--envs N] [--warmup N] [--utd R]
 *                             [--chunk N] [--eval-episodes N] [--checkpoint DIR] [--resume 0|1]
 *                             [--capacity N]
 *
 * --steps is environment steps per rank (over its --envs instances), --warmup likewise, --utd
 * updates per environment step of one rank. Training runs in chunks of --chunk steps; after each,
 * rank 0 evaluates (--eval-episodes episodes, 0 = none) and, with --checkpoint, the run is saved
 * collectively (rank 0 the agent, every rank its replay shard and random position); --resume 1
 * continues from DIR/LATEST with the same number of ranks and --capacity (replay transitions per
 * rank, default 100 000). Ends with one line
 *
 *   RESULT pendulum_mpi ranks=<n> envs=<n> steps=<n> env_steps_per_second=<f> eval_return=<f> seconds=<f>
 *
 * where env_steps_per_second counts the environment steps of all ranks.
 * A rank whose training fails stops the whole job with a message naming it (mfpo_mpi_abort).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mpi.h>

#include <mfpo.h>

#include "common/cli.h"
#include "common/pendulum_env.h"
#include "mfpo_mpi.h" /* installed as <mfpo-mpi/mfpo_mpi.h>; pkg-config mfpo-mpi */

#define MAX_ENVS 256

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long seed = 0, steps = 20000, envs = 1, warmup = 1000, chunk = 1000, eval_episodes = 10, resume = 0;
    long capacity = 100000;
    double utd = 1.0;
    const char *ckpt = NULL;
    const cli_arg args[] = {
        { "--seed", CLI_LONG, &seed },
        { "--steps", CLI_LONG, &steps },
        { "--envs", CLI_LONG, &envs },
        { "--warmup", CLI_LONG, &warmup },
        { "--utd", CLI_DOUBLE, &utd },
        { "--chunk", CLI_LONG, &chunk },
        { "--eval-episodes", CLI_LONG, &eval_episodes },
        { "--checkpoint", CLI_STRING, &ckpt },
        { "--resume", CLI_LONG, &resume },
        { "--capacity", CLI_LONG, &capacity },
    };
    if (cli_parse(argc, argv, args, (int)(sizeof args / sizeof args[0])) != 0) {
        MPI_Finalize();
        return 2;
    }
    if (envs < 1 || envs > MAX_ENVS || steps < 1 || chunk < 1 || warmup < 0 || eval_episodes < 0 || capacity < 1) {
        if (rank == 0)
            fprintf(stderr,
                    "pendulum_mpi: --envs must be in [1, %d], --steps and --chunk >= 1, --warmup and "
                    "--eval-episodes >= 0, --capacity >= 1 (got %ld, %ld, %ld, %ld, %ld, %ld)\n",
                    MAX_ENVS, envs, steps, chunk, warmup, eval_episodes, capacity);
        MPI_Finalize();
        return 2;
    }

    /* every rank: its own context seed (mini-batches, exploration), one agent configuration */
    mfpo_context_options co;
    mfpo_context_options_init(&co);
    co.backend = MFPO_BACKEND_CPU;
    co.threads = 1;
    co.seed = mfpo_mpi_rank_seed((uint64_t)seed, rank);
    mfpo_context *ctx = NULL;
    if (mfpo_context_create(&co, &ctx) != MFPO_OK) mfpo_mpi_abort(NULL, 1, "context: %s", mfpo_last_error(NULL));
    mfpo_agent_config c;
    pendulum_agent_config(&c);
    mfpo_agent *ag = NULL;
    mfpo_replay *rb = NULL;
    if (mfpo_agent_create(ctx, &c, &ag) != MFPO_OK || mfpo_replay_create(ctx, 3, 1, (size_t)capacity, &rb) != MFPO_OK)
        mfpo_mpi_abort(NULL, 1, "agent or replay: %s", mfpo_last_error(ctx));
    mfpo_mpi *m = NULL;
    if (mfpo_mpi_setup(ctx, ag, MPI_COMM_WORLD, &m) != MFPO_OK)
        mfpo_mpi_abort(NULL, 1, "%s", mfpo_mpi_last_error(NULL));

    uint64_t done = 0;
    if (ckpt) {
        if (rank == 0) mkdir(ckpt, 0755);
        MPI_Barrier(MPI_COMM_WORLD);
    }
    if (ckpt && resume) {
        uint64_t tag = 0;
        if (mfpo_mpi_load(m, ag, rb, ckpt, &tag) != MFPO_OK) mfpo_mpi_abort(m, 1, "%s", mfpo_mpi_last_error(m));
        done = tag; /* the tag is the number of steps the checkpoint had taken */
        if (rank == 0) printf("resumed at step %llu\n", (unsigned long long)done);
    }

    pendulum p[MAX_ENVS], ep;
    mfpo_env env[MAX_ENVS], eval_env;
    uint64_t inst[MAX_ENVS];
    for (long i = 0; i < envs; i++) pendulum_env(&p[i], &env[i]);
    pendulum_env(&ep, &eval_env);
    if (rank == 0)
        printf("pendulum_mpi: %d ranks x %ld environments, %ld steps per rank (%ld warm-up), utd %.3g, batch %zu per "
               "rank (%zu in all)\n",
               size, envs, steps, warmup, utd, c.batch_size, c.batch_size * (size_t)size);
    double t0 = MPI_Wtime(), eval = NAN;
    uint64_t stepped = 0;
    while (done < (uint64_t)steps) {
        uint64_t n = (uint64_t)chunk < (uint64_t)steps - done ? (uint64_t)chunk : (uint64_t)steps - done;
        mfpo_vec_options o;
        mfpo_vec_options_init(&o);
        mfpo_train_options to;
        mfpo_train_options_init(&to);
        o.train = &to;
        to.total_steps = n;
        to.warmup_steps = (uint64_t)warmup;
        to.updates_per_step = utd;
        to.eval_every = 0;
        to.progress_every = 0;
        to.episode_limit = PENDULUM_EPISODE_STEPS;
        /* instance seeds: distinct per rank, per instance and per chunk */
        for (long i = 0; i < envs; i++)
            inst[i] = mfpo_mpi_rank_seed((uint64_t)seed * 1000003u + done, rank) * 4099u + (uint64_t)i;
        o.instance_seeds = inst;
        if (mfpo_train_vec(ag, rb, env, (size_t)envs, &o) != MFPO_OK)
            mfpo_mpi_abort(m, 1, "mfpo_train_vec at step %llu: %s", (unsigned long long)done, mfpo_last_error(ctx));
        /* mfpo_train_vec runs whole vector steps: ceil(n / envs) of them */
        uint64_t taken = (n + (uint64_t)envs - 1) / (uint64_t)envs * (uint64_t)envs;
        done += taken;
        stepped += taken;
        if (rank == 0 && eval_episodes > 0) {
            if (mfpo_evaluate(ag, &eval_env, (size_t)eval_episodes, PENDULUM_EPISODE_STEPS, 424242u, &eval) != MFPO_OK)
                mfpo_mpi_abort(m, 1, "evaluation: %s", mfpo_last_error(ctx));
        }
        if (ckpt && mfpo_mpi_save(m, ag, rb, ckpt, done) != MFPO_OK)
            mfpo_mpi_abort(m, 1, "checkpoint at step %llu: %s", (unsigned long long)done, mfpo_mpi_last_error(m));
        if (rank == 0) {
            double el = MPI_Wtime() - t0;
            printf("step %7llu/%ld per rank  %8.1f env steps/s (all ranks)  eval %8.1f  updates %llu\n",
                   (unsigned long long)done, steps, (double)stepped * size / el, eval,
                   (unsigned long long)mfpo_agent_update_count(ag));
            fflush(stdout);
        }
    }
    double secs = MPI_Wtime() - t0;
    if (rank == 0)
        printf("RESULT pendulum_mpi ranks=%d envs=%ld steps=%llu env_steps_per_second=%.1f eval_return=%.1f "
               "seconds=%.1f\n",
               size, envs, (unsigned long long)stepped, (double)stepped * size / secs, eval, secs);
    mfpo_mpi_destroy(m);
    mfpo_replay_destroy(rb);
    mfpo_agent_destroy(ag);
    mfpo_context_destroy(ctx);
    MPI_Finalize();
    return 0;
}
