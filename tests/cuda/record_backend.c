/* The recording test backend (record_backend.h); the per-op wrappers are in record_ops.c. */
#include "record_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(void)
{
    fprintf(stderr, "record_backend: out of memory\n");
    abort();
}

void rec_push(rec_backend *r, rec_exec_fn exec, const void *args, size_t size)
{
    rec_graph *g = r->cur;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->nodes = realloc(g->nodes, g->cap * sizeof *g->nodes);
        if (!g->nodes) die_oom();
    }
    void *copy = malloc(size ? size : 1);
    if (!copy) die_oom();
    memcpy(copy, args, size);
    g->nodes[g->n++] = (rec_node){ exec, copy };
}

static void graph_free(rec_graph *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) free(g->nodes[i].args);
    free(g->nodes);
    free(g);
}

static int rec_graph_begin(be_backend *be)
{
    rec_backend *r = REC(be);
    if (r->recording) return -1;
    r->cur = calloc(1, sizeof *r->cur);
    if (!r->cur) return -1;
    r->recording = 1;
    r->broken = 0;
    return 0;
}

static int rec_graph_end(be_backend *be, void **graph)
{
    rec_backend *r = REC(be);
    *graph = NULL;
    if (!r->recording) return -1;
    r->recording = 0;
    if (r->broken || r->fail_next_end) {
        r->fail_next_end = 0;
        r->failed_ends++;
        graph_free(r->cur);
        r->cur = NULL;
        return -1;
    }
    r->recordings++;
    r->recorded_ops += r->cur->n;
    r->live_graphs++;
    *graph = r->cur;
    r->cur = NULL;
    return 0;
}

static int rec_graph_launch(be_backend *be, void *graph)
{
    rec_backend *r = REC(be);
    rec_graph *g = graph;
    if (!g || r->recording) return -1;
    for (size_t i = 0; i < g->n; i++) g->nodes[i].exec(r, g->nodes[i].args);
    r->launches++;
    return 0;
}

static void rec_graph_destroy(be_backend *be, void *graph)
{
    if (!graph) return;
    REC(be)->live_graphs--;
    graph_free(graph);
}

static const void *rec_extension(be_backend *be, const char *name)
{
    (void)be;
    return strcmp(name, ALGO_KERNELS_EXTENSION) == 0 ? &rec_kernels : NULL;
}

static void rec_destroy(be_backend *be)
{
    rec_backend *r = REC(be);
    graph_free(r->cur);
    r->inner->ops->destroy(r->inner);
    free(r);
}

rec_backend *rec_wrap(be_backend *inner)
{
    rec_backend *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    rec_fill_ops(&r->ops);
    r->ops.destroy = rec_destroy;
    r->ops.graph_begin = rec_graph_begin;
    r->ops.graph_end = rec_graph_end;
    r->ops.graph_launch = rec_graph_launch;
    r->ops.graph_destroy = rec_graph_destroy;
    r->ops.extension = rec_extension;
    r->base.ops = &r->ops;
    r->base.threads = inner->threads;
    snprintf(r->base.device_name, sizeof r->base.device_name, "recording %.100s", inner->device_name);
    r->inner = inner;
    return r;
}
