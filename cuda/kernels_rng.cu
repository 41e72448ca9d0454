/* Random draws of the CUDA backend: Philox4x32-10 streams, element by element (kernels_common.h). */
#include "cuda_internal.cuh"

#define BLOCK 256
#define GRID_STRIDE(i, n)                                                                                              \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* ------------------------------------------------------------------ Philox draws */

/* key[0] = seed, key[1] = first stream: read at execution time (recorded updates replay fresh draws). */
__global__ void k_rng_uniform(float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    GRID_STRIDE(i, n) out[i] = be_uniform_at(seed, stream, i);
}

__global__ void k_rng_normal(float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    uint64_t seed = key[0], stream = key[1] + offset;
    GRID_STRIDE(i, n) out[i] = be_normal_at(seed, stream, i);
}

void cu_rng_uniform(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_rng_uniform<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(out, n, key, offset);
    MFPO_CUDA_LAUNCHED(CB(be), "rng_uniform");
}

void cu_rng_normal(be_backend *be, float *out, size_t n, const uint64_t *key, uint64_t offset)
{
    cu_use_device(CB(be));
    if (!n) return;
    k_rng_normal<<<cu_grid(n, BLOCK), BLOCK, 0, CB(be)->stream>>>(out, n, key, offset);
    MFPO_CUDA_LAUNCHED(CB(be), "rng_normal");
}
