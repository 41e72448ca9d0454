/*
 * A test backend that implements the optional recording ops (graph_begin/end/launch/destroy) on
 * top of another backend (the CPU's), the way CUDA stream capture behaves: between graph_begin and
 * graph_end the compute ops are stored with their arguments instead of run, a transfer, allocation
 * or synchronization breaks the recording (graph_end then fails), and graph_launch runs the stored
 * ops again with the same arguments. Used by tests/cuda/test_record.c to check, on any machine,
 * that mfpo_update() records and replays updates exactly (lib/algo/driver.c, run_update).
 */
#ifndef MFPO_TESTS_RECORD_BACKEND_H
#define MFPO_TESTS_RECORD_BACKEND_H

#include <stddef.h>

#include "algo/kernels.h"
#include "backend/backend.h"

typedef struct rec_backend rec_backend;
typedef void (*rec_exec_fn)(rec_backend *r, const void *args);

typedef struct rec_node {
    rec_exec_fn exec;
    void *args;
} rec_node;

typedef struct rec_graph {
    rec_node *nodes;
    size_t n, cap;
} rec_graph;

struct rec_backend {
    be_backend base;
    be_ops ops;
    be_backend *inner; /* owned: destroyed with the wrapper */
    int recording, broken;
    rec_graph *cur;
    /* counters and fault injection for the tests */
    int recordings, launches, failed_ends, fail_next_end, live_graphs;
    size_t recorded_ops;
};

#define REC(be) ((rec_backend *)(be))

/* Wraps `inner` (ownership passes to the wrapper); NULL when out of memory. */
rec_backend *rec_wrap(be_backend *inner);

/* Internals shared with the generated record_ops.c. */
void rec_push(rec_backend *r, rec_exec_fn exec, const void *args, size_t size);
void rec_fill_ops(be_ops *ops);
/* lib/algo's MFPO kernels, recorded the same way; offered through the extension op */
extern const algo_kernels rec_kernels;

#endif
