/*
 * The internal backend interface: a table of operations over backend-owned buffers.
 *
 * Every buffer argument (float *, uint32_t *) is backend memory: host memory for the CPU backend,
 * device memory for CUDA. The layers above (lib/nn, lib/algo) never dereference it; they move
 * data across only with upload/download. A backend knows nothing of MFPO: it offers what any
 * network trainer needs (memory, dense algebra, fused layer passes, random draws, Adam and Polyak,
 * recording), with the per-row math in kernels_common.h (compiled for the host and under nvcc).
 * The MFPO row kernels are lib/algo's table (lib/algo/kernels.h): a backend may offer a fast
 * version through `extension`; every other backend gets the host implementation.
 *
 * Conventions: matrices are row-major with explicit leading dimensions (elements); `n` counts rows.
 * "Scalars" that the algorithm computes (losses, log alpha) are 1-element backend buffers, so that
 * a whole update can run on a device without a round trip; only the final statistics are read back.
 */
#ifndef MFPO_BACKEND_H
#define MFPO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct be_backend be_backend;

typedef struct be_ops {
    /* ---- lifetime and memory ---- */
    void (*destroy)(be_backend *be);
    void *(*alloc)(be_backend *be, size_t bytes); /* zero-filled; NULL on failure */
    void (*free)(be_backend *be, void *ptr);
    void (*upload)(be_backend *be, void *dst, const void *src, size_t bytes);
    void (*download)(be_backend *be, void *dst, const void *src, size_t bytes);
    void (*copy)(be_backend *be, void *dst, const void *src, size_t bytes);
    void (*fill)(be_backend *be, float *x, float value, size_t n);
    void (*synchronize)(be_backend *be);

    /* ---- dense algebra ---- */
    /* C[m x n] = alpha * op(A) op(B) + beta * C; op(A) is m x k, op(B) is k x n. */
    void (*gemm)(be_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                 size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc);
    /* y[i, :] += x[i mod m, :] for i < n (m == 1: a bias; m == n: elementwise add). */
    void (*add_rows)(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m);
    /* out[i mod m, :] (+)= g[i, :]: folds n rows onto m (m == 1: a column sum, the bias gradient). */
    void (*fold_rows)(be_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
                      int accumulate);
    /* dst[i, :cols] = src[i / repeat, :cols] */
    void (*copy_rows)(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds,
                      size_t repeat);
    /* x[i] *= s */
    void (*scale)(be_backend *be, float *x, float s, size_t n);

    /* ---- layer passes (lib/nn) ---- */
    /* Fourier features of a scalar per row: out[i] = [cos(2 pi x_i w), sin(2 pi x_i w)], F each. */
    void (*fourier_fwd)(be_backend *be, size_t n, size_t f, const float *x, const float *w, float *out);
    /* Tangent of the above for x-tangent xdot (a scalar shared by all rows). */
    void (*fourier_jvp)(be_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot, float *out_dot);
    /* Reverse pass: gw = sum_i (d out_i / d w)^T g_i (overwrites); gx (optional) per row. */
    void (*fourier_bwd)(be_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g, float *gw,
                        float *gx);
    /* pre[i] += bias; act = gelu(pre). */
    void (*bias_gelu_fwd)(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act);
    /* g_pre = g_act * gelu'(pre) (may alias g_act). */
    void (*gelu_bwd)(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre);
    /* t_act = gelu'(pre) * t_pre (may alias). */
    void (*gelu_jvp)(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act);
    /*
     * Fused hidden-layer tail: pre[i] += add[i mod m]; LayerNorm (eps 1e-6) with scale/shift; GELU.
     * Stores xhat, rstd (per row) and y = LN output when non-NULL (training); act may alias pre.
     */
    void (*ln_gelu_fwd)(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m, const float *scale,
                        const float *shift, float *xhat, float *rstd, float *y, float *act);
    /* Reverse of the above: g_pre from g_act; g_scale, g_shift accumulate. g_pre may alias g_act. */
    void (*ln_gelu_bwd)(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat, const float *rstd,
                        const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift);
    /* Forward-mode: t_act from the pre-activation tangent t_pre (may alias). */
    void (*ln_gelu_jvp)(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                        const float *y, const float *scale, float *t_act);

    /* ---- random draws: Philox4x32-10 with key = seed and counter = (element block, stream) ----
     * The seed and the first stream are read at execution time from backend memory, key[0] and
     * key[1]; the draw uses stream key[1] + offset. A recorded sequence of ops (a CUDA graph)
     * therefore draws fresh numbers on every replay once the key is uploaded anew. */
    void (*rng_uniform)(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset);
    void (*rng_normal)(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset);

    /* ---- optimizers ---- */
    /* Adam (bias-corrected, eps outside the sqrt) at the step count *step (backend memory, >= 1;
     * read at execution time for the same reason as the random key). */
    void (*adam)(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
                 float eps, const uint64_t *step);
    /* target = tau * online + (1 - tau) * target */
    void (*polyak)(be_backend *be, size_t n, float *target, const float *online, float tau);
    /* 1 when every x[i] is finite. */
    int (*all_finite)(be_backend *be, const float *x, size_t n);

    /* ---- optional: recording (NULL where unsupported, as on the CPU) ----
     * Ops issued between graph_begin and graph_end are recorded, not run; graph_launch replays
     * them. Everything a recorded op reads that changes between replays must live in backend
     * memory (random keys, Adam steps, log alpha), and no download may happen in between. */
    int (*graph_begin)(be_backend *be);
    int (*graph_end)(be_backend *be, void **graph);
    int (*graph_launch)(be_backend *be, void *graph);
    void (*graph_destroy)(be_backend *be, void *graph);

    /* ---- optional: extensions (NULL where there are none) ----
     * A table of further ops that a layer above defines and a backend may implement fast, found
     * by name (e.g. lib/algo's MFPO row kernels, "mfpo_kernels_v1"); NULL when not offered. */
    const void *(*extension)(be_backend *be, const char *name);
} be_ops;

struct be_backend {
    const be_ops *ops;
    int host_memory; /* 1 when buffers are host memory the caller may read and write directly */
    int threads;
    char device_name[128];
    /* the error channel (lib/backend/error.h): the first failed op's mfpo_status and message, 0 and
     * "" when none is pending; a module writes them itself and never prints */
    int error_status;
    char error_message[256];
};

struct mfpo_allocator;

/* Creation of the built-in CPU backend; its buffers come from @p allocator (never NULL). */
be_backend *be_cpu_create(const struct mfpo_allocator *allocator, int threads, char *reason, size_t reason_size);

/*
 * A backend module (a shared object named libmfpo-<name>.so, found by lib/backend/select.c in the
 * install's module directory or the directories of MFPO_MODULE_PATH) exports one descriptor of
 * this type under the name BE_MODULE_SYMBOL. The loader refuses a module whose abi_version or
 * ops_size differ from its own: this struct, be_backend and be_ops are the contract, and any
 * change of them bumps BE_MODULE_ABI_VERSION.
 */
#define BE_MODULE_SYMBOL "mfpo_backend_module"
#define BE_MODULE_ABI_VERSION 2u /* 1: the unversioned entry point mfpo_cuda_backend_create_v1 */

typedef struct be_module {
    uint32_t abi_version; /* BE_MODULE_ABI_VERSION of the headers the module was built with */
    uint32_t ops_size;    /* sizeof(be_ops) of those headers */
    const char *name;     /* e.g. "cuda" */
    /* 0 when device `device` can run this backend, else nonzero with the reason (no device, too
     * old, ...); creates nothing and prints nothing */
    int (*probe)(int device, char *reason, size_t reason_size);
    /* The backend on device `device`, or NULL with the reason */
    be_backend *(*create)(int device, int threads, char *reason, size_t reason_size);
} be_module;

#endif
