/*
 * Internals of the CUDA backend module (libmfpo-cuda.so): the backend struct, error recording,
 * launch helpers and the device-side building blocks shared by the kernel files.
 *
 * Every kernel computes the formulas of lib/backend/kernels_common.h (and, in kernels_mfpo.cu,
 * lib/algo/kernels_mfpo.h) by calling
 * those MFPO_HD functions (compiled here as __host__ __device__), so that the CPU and CUDA
 * backends agree. Where a row is split across threads (the LayerNorm rows), the split repeats
 * the CPU's fixed 16-lane summation order exactly (see hw_total below). Reductions across rows
 * are deterministic: either sequential in the CPU's order (fold_rows, the LayerNorm scale/shift
 * gradients, Fourier frequency gradients) or a fixed tree in double precision (mean and the
 * losses), never float atomics.
 */
#ifndef MFPO_CUDA_INTERNAL_CUH
#define MFPO_CUDA_INTERNAL_CUH

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "../lib/backend/backend.h"
}
#include "../lib/backend/kernels_common.h"

/* Per-backend state. Everything runs on one stream, in issue order. */
typedef struct cuda_backend {
    be_backend base;
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_workspace;
    size_t blas_workspace_size;
    /* deterministic reductions: per-block partial sums and the arrival counter of the last block */
    double *partials;
    unsigned *counter;
    /* all_finite: device flag and its pinned host copy */
    int *d_flag;
    int *h_flag;
    /* recording */
    int capturing;
    int capture_broken;
    /* first CUDA error outside a recording (sticky: the backend reports non-finite afterwards) */
    int failed;
    char error[256];
} cuda_backend;

#define CB(be) ((cuda_backend *)(be))

/* Largest grid of the deterministic reductions (size of `partials`). */
#define MFPO_CUDA_MAX_PARTIALS 1024

/* Records a CUDA error of `what` (no-op for cudaSuccess). During a recording it only marks the
 * recording as broken (graph_end then fails and the caller runs the ops directly). */
void cu_note(cuda_backend *be, cudaError_t err, const char *what);
/* The same for cuBLAS status codes. */
void cu_note_blas(cuda_backend *be, cublasStatus_t st, const char *what);
/* Makes be->device current on the calling thread (a context may move between threads). */
void cu_use_device(cuda_backend *be);

/* Checks the launch just made. */
#define MFPO_CUDA_LAUNCHED(be, what) cu_note((be), cudaGetLastError(), (what))

/* Grid of 1-D grid-stride kernels: enough blocks to fill the GPU, at most 65535. */
static inline unsigned cu_grid(size_t n, unsigned block)
{
    size_t g = (n + block - 1) / block;
    if (g < 1) g = 1;
    if (g > 65535) g = 65535;
    return (unsigned)g;
}

#define MFPO_FULL_MASK 0xffffffffu

/* ---------------------------------------------------------------- 16-lane row sums
 *
 * kernels_common.h sums a row in 16 interleaved partial sums p[k] (element j goes to lane j % 16
 * for j below the last multiple of 16, the rest to a sequential tail) and totals them as
 * ((tail + p[0]) + p[1]) + ... + p[15]. Here a half warp (16 threads) handles one row: thread k
 * forms p[k] in the same order, thread 0 the tail, and the total is formed in the same order from
 * shuffles, so the result is bit-identical to be_sum / be_sum_sq_dev / be_dot. All 32 lanes
 * of a warp must call these together (a warp holds two rows). */
__device__ __forceinline__ float hw_total(float p, float tail)
{
    float s = __shfl_sync(MFPO_FULL_MASK, tail, 0, 16);
#pragma unroll
    for (int k = 0; k < 16; k++) s += __shfl_sync(MFPO_FULL_MASK, p, k, 16);
    return s;
}

__device__ __forceinline__ float hw_sum(size_t n, const float *x, unsigned lane)
{
    size_t n16 = n & ~(size_t)15;
    float p = 0.0f, tail = 0.0f;
    for (size_t j = lane; j < n16; j += 16) p += x[j];
    if (lane == 0)
        for (size_t j = n16; j < n; j++) tail += x[j];
    return hw_total(p, tail);
}

__device__ __forceinline__ float hw_sum_sq_dev(size_t n, const float *x, float c, unsigned lane)
{
    size_t n16 = n & ~(size_t)15;
    float p = 0.0f, tail = 0.0f;
    for (size_t j = lane; j < n16; j += 16) p += (x[j] - c) * (x[j] - c);
    if (lane == 0)
        for (size_t j = n16; j < n; j++) tail += (x[j] - c) * (x[j] - c);
    return hw_total(p, tail);
}

__device__ __forceinline__ float hw_dot(size_t n, const float *a, const float *b, unsigned lane)
{
    size_t n16 = n & ~(size_t)15;
    float p = 0.0f, tail = 0.0f;
    for (size_t j = lane; j < n16; j += 16) p += a[j] * b[j];
    if (lane == 0)
        for (size_t j = n16; j < n; j++) tail += a[j] * b[j];
    return hw_total(p, tail);
}

/* ---------------------------------------------------------------- deterministic reductions
 *
 * Each block reduces its threads' double values in a fixed tree and stores the block's partial;
 * the last block to arrive (a ticket counter, the only atomic) adds the partials in block order
 * and writes (float)(sum / divisor). The result depends only on the grid shape, which depends
 * only on n: the same on every run. BS must be a power of two. */
template <int BS>
__device__ __forceinline__ void block_reduce_store(double v, double *partials, unsigned *counter, float *out,
                                                   double divisor)
{
    __shared__ double sh[BS];
    __shared__ int last;
    sh[threadIdx.x] = v;
    __syncthreads();
#pragma unroll
    for (int s = BS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = sh[0];
        __threadfence();
        unsigned ticket = atomicAdd(counter, 1u);
        last = ticket == gridDim.x - 1;
    }
    __syncthreads();
    if (last && threadIdx.x == 0) {
        __threadfence();
        const volatile double *vp = partials;
        double s = 0.0;
        for (unsigned b = 0; b < gridDim.x; b++) s += vp[b];
        *out = (float)(s / divisor);
        *counter = 0; /* ready for the next reduction on this stream */
    }
}

/* Grid of a reduction over n items with BS threads per block. */
static inline unsigned cu_reduce_grid(size_t n, unsigned block)
{
    size_t g = (n + block - 1) / block;
    if (g < 1) g = 1;
    if (g > MFPO_CUDA_MAX_PARTIALS) g = MFPO_CUDA_MAX_PARTIALS;
    return (unsigned)g;
}

/* ---------------------------------------------------------------- libm calls
 *
 * The CPU calls glibc's expf/powf/cosf/sinf, which are correctly rounded in all but rare cases;
 * CUDA's float versions may differ by an ulp or two. Evaluating in double and rounding once
 * gives the correctly rounded float here too, so both backends agree to the bit in practice. */
__device__ __forceinline__ float cr_expf(float x)
{
    return (float)exp((double)x);
}
__device__ __forceinline__ float cr_powf(float x, float y)
{
    return (float)pow((double)x, (double)y);
}
__device__ __forceinline__ float cr_cosf(float x)
{
    return (float)cos((double)x);
}
__device__ __forceinline__ float cr_sinf(float x)
{
    return (float)sin((double)x);
}

/* ---------------------------------------------------------------- ops of the kernel files */

extern "C++" {
/* kernels_nn.cu */
void cu_add_rows(be_backend *be, size_t n, size_t cols, float *y, size_t ldy, const float *x, size_t m);
void cu_fold_rows(be_backend *be, size_t n, size_t cols, const float *g, size_t ldg, float *out, size_t m,
                  int accumulate);
void cu_copy_rows(be_backend *be, size_t n, size_t cols, float *dst, size_t ldd, const float *src, size_t lds,
                  size_t repeat);
void cu_scale(be_backend *be, float *x, float s, size_t n);
void cu_fill(be_backend *be, float *x, float value, size_t n);
void cu_gemm_k0(be_backend *be, size_t m, size_t n, float beta, float *c, size_t ldc);
void cu_fourier_fwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, float *out);
void cu_fourier_jvp(be_backend *be, size_t n, size_t f, const float *x, const float *w, float xdot, float *out_dot);
void cu_fourier_bwd(be_backend *be, size_t n, size_t f, const float *x, const float *w, const float *g, float *gw,
                    float *gx);
void cu_bias_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *bias, float *act);
void cu_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *pre, float *g_pre);
void cu_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *pre, float *t_act);
void cu_ln_gelu_fwd(be_backend *be, size_t n, size_t h, float *pre, const float *add, size_t m, const float *scale,
                    const float *shift, float *xhat, float *rstd, float *y, float *act);
void cu_ln_gelu_bwd(be_backend *be, size_t n, size_t h, const float *g_act, const float *xhat, const float *rstd,
                    const float *y, const float *scale, float *g_pre, float *g_scale, float *g_shift);
void cu_ln_gelu_jvp(be_backend *be, size_t n, size_t h, const float *t_pre, const float *xhat, const float *rstd,
                    const float *y, const float *scale, float *t_act);
void cu_adam(be_backend *be, size_t n, float *p, const float *g, float *m, float *v, float lr, float b1, float b2,
             float eps, const uint64_t *step);
void cu_polyak(be_backend *be, size_t n, float *target, const float *online, float tau);
int cu_all_finite(be_backend *be, const float *x, size_t n);

/* kernels_rng.cu */
void cu_rng_uniform(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset);
void cu_rng_normal(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset);
/* kernels_mfpo.cu: lib/algo's MFPO row kernels (an algo_kernels table, opaque here), returned by
 * the module's extension op under "mfpo_kernels_v1" */
const void *cu_mfpo_kernels(void);
}

#endif
