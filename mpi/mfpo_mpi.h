/**
 * @file mfpo_mpi.h
 * @brief libmfpo-mpi: data-parallel MFPO training over MPI (docs/distributed.md).
 *
 * Each rank creates its own context (with mfpo_mpi_rank_seed()), agent, replay buffer and
 * environments, then calls mfpo_mpi_setup(): the agent's state is broadcast from rank 0 and the
 * agent's gradient all-reduce (include/mfpo/parallel.h) is MPI_Allreduce on a private duplicate of
 * the communicator. mfpo_update() and mfpo_train() then keep the agents of all ranks bit-identical.
 * Only the CPU backend is supported (the buffers are host memory); the CUDA design is in the doc.
 */
#ifndef MFPO_MPI_H
#define MFPO_MPI_H

#include <stdint.h>

#include <mpi.h>

#include <mfpo.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One agent set up for a communicator. */
typedef struct mfpo_mpi mfpo_mpi;

/**
 * Sets @p agent (created on @p ctx, a CPU context) up for data-parallel training on @p comm
 * (collective: every rank of @p comm calls it with an agent of the same configuration). Duplicates @p comm, broadcasts the agent's whole
 * state from rank 0, installs the MPI_Allreduce hook with world size = the communicator's size,
 * and installs handlers of SIGTERM and SIGINT that print "mfpo-mpi: rank R of N stopped by signal S
 * (another rank failed or the job was cancelled)" and exit with status 1: the MPI runtime sends
 * SIGTERM to the surviving ranks when one rank dies.
 * The status of every rank is combined: if one rank fails, all return the error.
 * @return #MFPO_OK, #MFPO_ERR_INVALID_ARGUMENT (NULL, a non-CPU backend), #MFPO_ERR_COMM,
 *         #MFPO_ERR_OUT_OF_MEMORY.
 */
mfpo_status mfpo_mpi_setup(mfpo_context *ctx, mfpo_agent *agent, MPI_Comm comm, mfpo_mpi **out);

/** Removes the hook from the agent and frees the duplicated communicator (collective). NULL is ignored. */
void mfpo_mpi_destroy(mfpo_mpi *mpi);

/** This process's rank and the number of ranks. */
int mfpo_mpi_rank(const mfpo_mpi *mpi);
int mfpo_mpi_size(const mfpo_mpi *mpi);

/**
 * A seed for rank @p rank derived from one run seed (splitmix64 of seed and rank; rank 0 gets
 * @p seed itself). Use it for the rank's context and for its mfpo_train_options::seed, so that
 * every rank samples its own mini-batches, exploration noise and episodes.
 */
uint64_t mfpo_mpi_rank_seed(uint64_t seed, int rank);

/** The last error message of this mfpo_mpi object (or of the last failed setup when NULL). */
const char *mfpo_mpi_last_error(const mfpo_mpi *mpi);

/**
 * Writes a checkpoint of the data-parallel run (collective): rank 0 writes the agent to
 * DIR/ckpt-TAG.agent; every rank writes its replay shard to DIR/ckpt-TAG.replay.RANK and its random
 * position (mfpo_context_get_random_position()) to DIR/ckpt-TAG.rng.RANK, each file atomically.
 * Only when every rank has succeeded does rank 0 point DIR/LATEST (atomically) at TAG; then each
 * rank removes its files of the checkpoint LATEST named before. A rank that fails or dies during
 * the call leaves LATEST at the previous, complete checkpoint.
 * @return #MFPO_OK, or the first error of any rank (#MFPO_ERR_IO, ...), on every rank.
 */
mfpo_status mfpo_mpi_save(mfpo_mpi *mpi, const mfpo_agent *agent, const mfpo_replay *replay, const char *dir,
                          uint64_t tag);

/**
 * Loads the checkpoint DIR/LATEST names (collective; the same number of ranks as it was written
 * with): the agent on every rank from the one agent file, the rank's replay shard and its random
 * position. On success writes the checkpoint's tag to @p tag (may be NULL).
 * @return #MFPO_OK, #MFPO_ERR_IO (no LATEST, a missing shard), #MFPO_ERR_FORMAT, ... on every rank.
 */
mfpo_status mfpo_mpi_load(mfpo_mpi *mpi, mfpo_agent *agent, mfpo_replay *replay, const char *dir, uint64_t *tag);

/**
 * Stops every rank of the job: prints "mfpo-mpi: rank R of N failed: MESSAGE" to stderr and calls
 * MPI_Abort with @p code (never returns). For a rank whose training returned an error: the other
 * ranks would otherwise wait in the next all-reduce for ever.
 */
void mfpo_mpi_abort(const mfpo_mpi *mpi, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif
