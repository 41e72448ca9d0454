/*
 * The CUDA backend module (libmfpo-cuda.so): lifetime, memory, cuBLAS gemm, recording (CUDA
 * graphs) and the one exported symbol, the descriptor mfpo_backend_module (lib/backend/select.c
 * finds it with dlsym). The layer and MFPO kernels are in kernels_nn.cu and kernels_mfpo.cu.
 *
 * All work of a backend runs in order on one non-blocking stream. Uploads from pageable host
 * memory return once the data is staged (CUDA's documented behaviour); from page-locked memory
 * the stream is synchronized first, so that a caller may reuse its buffer as soon as the call
 * returns. Downloads synchronize.
 *
 * cuBLAS is opened with dlopen once a device is found (libcublas.so.<major> of the toolkit the
 * module was built with, through the module's RUNPATH or the loader's paths), so that probing a
 * machine without a GPU is quick and never fails on a missing cuBLAS.
 *
 * Environment: MFPO_CUDA_GRAPHS=0 hides the recording ops (the library then runs every update op
 * by op); MFPO_CUDA_WORKSPACE_MB sets cuBLAS's workspace (default 32 MiB).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.cuh"

extern "C" {
#include "../include/mfpo/status.h"
}

/* ------------------------------------------------------------------ errors */

/* The first failure, on the backend's error channel (lib/backend/backend.h: error_status/message). */
static void report_failure(cuda_backend *be)
{
    if (be->base.error_status) return;
    be->base.error_status = MFPO_ERR_BACKEND_UNAVAILABLE;
    snprintf(be->base.error_message, sizeof be->base.error_message,
             "libmfpo-cuda: %.190s; this context's results are no longer valid", be->error);
}

void cu_note(cuda_backend *be, cudaError_t err, const char *what)
{
    if (err == cudaSuccess) return;
    if (be->capturing) {
        be->capture_broken = 1;
        return;
    }
    if (be->failed) return;
    be->failed = 1;
    snprintf(be->error, sizeof be->error, "%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
    /* Kernels return nothing: the failure goes to the backend's error channel (never to stderr),
     * which the library reports through mfpo_last_error; all_finite() reports 0 from now on, so
     * mfpo_update() fails instead of returning garbage. */
    report_failure(be);
}

static const char *blas_status_name(cublasStatus_t st)
{
    switch (st) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
        return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
        return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
        return "CUBLAS_STATUS_LICENSE_ERROR";
    default:
        return "unknown cuBLAS status";
    }
}

void cu_note_blas(cuda_backend *be, cublasStatus_t st, const char *what)
{
    if (st == CUBLAS_STATUS_SUCCESS) return;
    if (be->capturing) {
        be->capture_broken = 1;
        return;
    }
    if (be->failed) return;
    be->failed = 1;
    snprintf(be->error, sizeof be->error, "%s: %s", what, blas_status_name(st));
    report_failure(be);
}

void cu_use_device(cuda_backend *be)
{
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess || cur != be->device)
        cu_note(be, cudaSetDevice(be->device), "cudaSetDevice");
}

/* ------------------------------------------------------------------ cuBLAS, opened at run time */

#define MFPO_STR2(x) #x
#define MFPO_STR(x) MFPO_STR2(x)
#define CUBLAS_SONAME "libcublas.so." MFPO_STR(CUBLAS_VER_MAJOR)

typedef struct blas_api {
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetWorkspace_v2) set_workspace;
    decltype(&cublasSetPointerMode_v2) set_pointer_mode;
    decltype(&cublasSgemm_v2) sgemm;
    char error[200]; /* why it could not be loaded; "" when loaded */
} blas_api;

/* Loads once per process (kept loaded: unloading cuBLAS while its atexit handlers are registered is
 * not safe). */
static blas_api load_blas(void)
{
    blas_api b;
    memset(&b, 0, sizeof b);
    void *h = dlopen(CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(b.error, sizeof b.error, "cannot load %s: %s", CUBLAS_SONAME, dlerror());
        return b;
    }
#define SYM(field, name)                                                                                               \
    do {                                                                                                               \
        *(void **)&b.field = dlsym(h, name);                                                                           \
        if (!b.field) {                                                                                                \
            snprintf(b.error, sizeof b.error, "%s lacks %s", CUBLAS_SONAME, name);                                     \
            return b;                                                                                                  \
        }                                                                                                              \
    } while (0)
    SYM(create, "cublasCreate_v2");
    SYM(destroy, "cublasDestroy_v2");
    SYM(set_stream, "cublasSetStream_v2");
    SYM(set_workspace, "cublasSetWorkspace_v2");
    SYM(set_pointer_mode, "cublasSetPointerMode_v2");
    SYM(sgemm, "cublasSgemm_v2");
#undef SYM
    return b;
}

static const blas_api *blas(void)
{
    static const blas_api api = load_blas(); /* thread-safe one-time initialization */
    return &api;
}

/* ------------------------------------------------------------------ lifetime and memory */

static void release(cuda_backend *b)
{
    if (b->stream) cudaStreamSynchronize(b->stream);
    if (b->blas) blas()->destroy(b->blas);
    if (b->blas_workspace) cudaFree(b->blas_workspace);
    if (b->partials) cudaFree(b->partials);
    if (b->counter) cudaFree(b->counter);
    if (b->d_flag) cudaFree(b->d_flag);
    if (b->h_flag) cudaFreeHost(b->h_flag);
    if (b->stream) cudaStreamDestroy(b->stream);
    cudaGetLastError(); /* nothing of this backend's failures must leak into the next one's calls */
    free(b);
}

static void cu_destroy(be_backend *be)
{
    cu_use_device(CB(be));
    release(CB(be));
}

static void *cu_alloc(be_backend *be, size_t bytes)
{
    cuda_backend *cb = CB(be);
    void *p = NULL;
    if (cb->capturing) { /* not recordable: the recording fails, the caller runs the ops itself */
        cb->capture_broken = 1;
        return NULL;
    }
    cu_use_device(cb);
    if (bytes == 0) bytes = 1;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError(); /* out of memory is not sticky: clear it, report NULL */
        return NULL;
    }
    if (cudaMemsetAsync(p, 0, bytes, cb->stream) != cudaSuccess) {
        cudaGetLastError();
        cudaFree(p);
        return NULL;
    }
    return p;
}

static void cu_free(be_backend *be, void *ptr)
{
    cuda_backend *cb = CB(be);
    if (!ptr) return;
    if (cb->capturing) {
        cb->capture_broken = 1;
        return;
    }
    cu_use_device(cb);
    /* cudaFree waits for the device; the stream's pending work may still use the block */
    cu_note(cb, cudaStreamSynchronize(cb->stream), "free");
    cu_note(cb, cudaFree(ptr), "free");
}

static void cu_upload(be_backend *be, void *dst, const void *src, size_t bytes)
{
    cuda_backend *cb = CB(be);
    if (!bytes) return;
    if (cb->capturing) { /* host data changes between replays: never recorded */
        cb->capture_broken = 1;
        return;
    }
    cu_use_device(cb);
    cu_note(cb, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cb->stream), "upload");
    /* page-locked or managed sources are copied asynchronously: wait, so the caller may reuse them */
    cudaPointerAttributes attr;
    if (cudaPointerGetAttributes(&attr, src) != cudaSuccess) {
        cudaGetLastError();
        attr.type = cudaMemoryTypeUnregistered;
    }
    if (attr.type != cudaMemoryTypeUnregistered) cu_note(cb, cudaStreamSynchronize(cb->stream), "upload");
}

static void cu_download(be_backend *be, void *dst, const void *src, size_t bytes)
{
    cuda_backend *cb = CB(be);
    if (!bytes) return;
    if (cb->capturing) {
        cb->capture_broken = 1;
        return;
    }
    cu_use_device(cb);
    cu_note(cb, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cb->stream), "download");
    cu_note(cb, cudaStreamSynchronize(cb->stream), "download");
}

/* memmove semantics: overlapping ranges are copied in pieces that do not overlap. */
static void cu_copy(be_backend *be, void *dst, const void *src, size_t bytes)
{
    cuda_backend *cb = CB(be);
    char *d = (char *)dst;
    const char *s = (const char *)src;
    if (!bytes || dst == src) return;
    cu_use_device(cb);
    if (d + bytes <= s || s + bytes <= d) {
        cu_note(cb, cudaMemcpyAsync(d, s, bytes, cudaMemcpyDeviceToDevice, cb->stream), "copy");
        return;
    }
    size_t step = d < s ? (size_t)(s - d) : (size_t)(d - s);
    if (d < s) {
        for (size_t off = 0; off < bytes; off += step) {
            size_t len = bytes - off < step ? bytes - off : step;
            cu_note(cb, cudaMemcpyAsync(d + off, s + off, len, cudaMemcpyDeviceToDevice, cb->stream), "copy");
        }
    } else {
        for (size_t end = bytes; end > 0;) {
            size_t len = end < step ? end : step;
            end -= len;
            cu_note(cb, cudaMemcpyAsync(d + end, s + end, len, cudaMemcpyDeviceToDevice, cb->stream), "copy");
        }
    }
}

static void cu_synchronize(be_backend *be)
{
    cuda_backend *cb = CB(be);
    if (cb->capturing) {
        cb->capture_broken = 1;
        return;
    }
    cu_use_device(cb);
    cu_note(cb, cudaStreamSynchronize(cb->stream), "synchronize");
}

/* ------------------------------------------------------------------ gemm */

/* Row-major C = alpha op(A) op(B) + beta C is column-major C^T = alpha op(B)^T op(A)^T + beta C^T:
 * the same buffers, with the operands swapped. cuBLAS runs in its default math mode (full FP32,
 * no TF32). */
static void cu_gemm(be_backend *be, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                    size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    cuda_backend *cb = CB(be);
    if (m == 0 || n == 0) return;
    cu_use_device(cb);
    if (k == 0) {
        cu_gemm_k0(be, m, n, beta, c, ldc);
        return;
    }
    cublasStatus_t st =
        blas()->sgemm(cb->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n,
                      (int)m, (int)k, &alpha, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc);
    cu_note_blas(cb, st, "gemm (cublasSgemm)");
}

/* ------------------------------------------------------------------ recording */

static int cu_graph_begin(be_backend *be)
{
    cuda_backend *cb = CB(be);
    if (cb->capturing || cb->failed) return -1;
    cu_use_device(cb);
    cudaError_t e = cudaStreamBeginCapture(cb->stream, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    cb->capturing = 1;
    cb->capture_broken = 0;
    return 0;
}

static int cu_graph_end(be_backend *be, void **graph)
{
    cuda_backend *cb = CB(be);
    cudaGraph_t g = NULL;
    cudaGraphExec_t exec = NULL;
    *graph = NULL;
    if (!cb->capturing) return -1;
    cu_use_device(cb);
    cudaError_t e = cudaStreamEndCapture(cb->stream, &g);
    cb->capturing = 0;
    if (e != cudaSuccess || cb->capture_broken || !g) {
        cudaGetLastError(); /* an invalidated capture's error is not the backend's failure */
        if (g) cudaGraphDestroy(g);
        return -1;
    }
    e = cudaGraphInstantiate(&exec, g, 0);
    cudaGraphDestroy(g);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    *graph = (void *)exec;
    return 0;
}

static int cu_graph_launch(be_backend *be, void *graph)
{
    cuda_backend *cb = CB(be);
    if (!graph || cb->capturing || cb->failed) return -1;
    cu_use_device(cb);
    cudaError_t e = cudaGraphLaunch((cudaGraphExec_t)graph, cb->stream);
    cu_note(cb, e, "graph_launch");
    return e == cudaSuccess ? 0 : -1;
}

/* lib/algo's MFPO row kernels, implemented in kernels_mfpo.cu */
static const void *cu_extension(be_backend *be, const char *name)
{
    (void)be;
    return strcmp(name, "mfpo_kernels_v1") == 0 ? cu_mfpo_kernels() : NULL;
}

static void cu_graph_destroy(be_backend *be, void *graph)
{
    if (!graph) return;
    cu_use_device(CB(be));
    cudaGraphExecDestroy((cudaGraphExec_t)graph);
}

/* ------------------------------------------------------------------ the table */

/* Filled in code rather than with designated initializers (C++20), in the struct's field order. */
static be_ops make_ops(int graphs)
{
    be_ops o;
    memset(&o, 0, sizeof o);
    o.destroy = cu_destroy;
    o.alloc = cu_alloc;
    o.free = cu_free;
    o.upload = cu_upload;
    o.download = cu_download;
    o.copy = cu_copy;
    o.fill = cu_fill;
    o.synchronize = cu_synchronize;
    o.gemm = cu_gemm;
    o.add_rows = cu_add_rows;
    o.fold_rows = cu_fold_rows;
    o.copy_rows = cu_copy_rows;
    o.scale = cu_scale;
    o.fourier_fwd = cu_fourier_fwd;
    o.fourier_jvp = cu_fourier_jvp;
    o.fourier_bwd = cu_fourier_bwd;
    o.bias_gelu_fwd = cu_bias_gelu_fwd;
    o.gelu_bwd = cu_gelu_bwd;
    o.gelu_jvp = cu_gelu_jvp;
    o.ln_gelu_fwd = cu_ln_gelu_fwd;
    o.ln_gelu_bwd = cu_ln_gelu_bwd;
    o.ln_gelu_jvp = cu_ln_gelu_jvp;
    o.rng_uniform = cu_rng_uniform;
    o.rng_normal = cu_rng_normal;
    o.adam = cu_adam;
    o.polyak = cu_polyak;
    o.all_finite = cu_all_finite;
    o.extension = cu_extension;
    if (graphs) { /* MFPO_CUDA_GRAPHS=0 leaves them NULL: every update then runs op by op */
        o.graph_begin = cu_graph_begin;
        o.graph_end = cu_graph_end;
        o.graph_launch = cu_graph_launch;
        o.graph_destroy = cu_graph_destroy;
    }
    return o;
}

static const be_ops *ops_table(int graphs)
{
    static const be_ops with_graphs = make_ops(1), without_graphs = make_ops(0); /* thread-safe init */
    return graphs ? &with_graphs : &without_graphs;
}

/* ------------------------------------------------------------------ entry point */

/* The kernel whose attributes tell whether this module's code runs on the device. */
__global__ void k_probe(void)
{
}

static void say(char *reason, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (!reason || !size) return;
    va_start(ap, fmt);
    vsnprintf(reason, size, fmt, ap);
    va_end(ap);
}

/* Once a device is in use, the module stays loaded until the process exits: the statically linked
 * CUDA runtime's teardown on dlclose (and its set-up again on the next dlopen, with a new primary
 * context) is avoided, and nothing the driver keeps can point into unloaded code. Probing a
 * machine without a device still loads and unloads the module cleanly. */
static void pin_module(void)
{
    Dl_info info;
    if (dladdr((void *)&pin_module, &info) && info.dli_fname) {
        void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        (void)self; /* the reference is kept on purpose */
    }
}

static int graphs_enabled(void)
{
    const char *v = getenv("MFPO_CUDA_GRAPHS");
    return !(v && (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")));
}

static size_t workspace_bytes(void)
{
    const char *v = getenv("MFPO_CUDA_WORKSPACE_MB");
    long mb = v && *v ? strtol(v, NULL, 10) : 32;
    if (mb < 0) mb = 0;
    if (mb > 4096) mb = 4096;
    return (size_t)mb << 20;
}

/* Whether `device` can run this module (driver, ordinal, architecture). On success the device is
 * current and *prev the device that was; on failure the reason is written and nothing changes. */
static int check_device(int device, char *reason, size_t reason_size, int *prev)
{
    int count = 0;
    *prev = -1;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        say(reason, reason_size, "no usable CUDA driver or device: cudaGetDeviceCount failed: %s (%s)",
            cudaGetErrorString(e), cudaGetErrorName(e));
        cudaGetLastError();
        return -1;
    }
    if (count <= 0) {
        say(reason, reason_size, "no usable CUDA driver or device: the driver reports no CUDA device");
        return -1;
    }
    if (device < 0 || device >= count) {
        say(reason, reason_size, "CUDA device ordinal %d is out of range: %d device%s present (ordinals 0..%d)", device,
            count, count == 1 ? "" : "s", count - 1);
        return -1;
    }
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, device);
    if (e != cudaSuccess) {
        say(reason, reason_size, "cannot query CUDA device %d: %s", device, cudaGetErrorString(e));
        cudaGetLastError();
        return -1;
    }
    cudaGetDevice(prev);
    e = cudaSetDevice(device);
    if (e != cudaSuccess) {
        say(reason, reason_size, "cannot use CUDA device %d (%s): %s", device, prop.name, cudaGetErrorString(e));
        cudaGetLastError();
        return -1;
    }
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, k_probe);
    if (e != cudaSuccess) {
        say(reason, reason_size,
            "CUDA device %d (%s, sm_%d%d) cannot run this module's kernels (built for sm_90, PTX for compute_90 "
            "and newer): %s",
            device, prop.name, prop.major, prop.minor, cudaGetErrorString(e));
        cudaGetLastError();
        if (*prev >= 0) cudaSetDevice(*prev);
        return -1;
    }

    return 0;
}

/* be_module.probe: the checks alone, leaving the calling thread's device as it was */
static int cu_probe(int device, char *reason, size_t reason_size)
{
    int prev = -1;
    if (check_device(device, reason, reason_size, &prev) != 0) return -1;
    if (prev >= 0) cudaSetDevice(prev);
    return 0;
}

/* be_module.create */
static be_backend *cu_create(int device, int threads, char *reason, size_t reason_size)
{
    int prev = -1;
    if (check_device(device, reason, reason_size, &prev) != 0) return NULL;
    cudaError_t e;
    cudaDeviceProp prop;
    if ((e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        say(reason, reason_size, "cannot query CUDA device %d: %s", device, cudaGetErrorString(e));
        cudaGetLastError();
        if (prev >= 0) cudaSetDevice(prev);
        return NULL;
    }
    cuda_backend *b = (cuda_backend *)calloc(1, sizeof *b);
    const char *fail = NULL;
    char detail[256] = "";
    if (!b) {
        say(reason, reason_size, "out of host memory creating the CUDA backend");
        if (prev >= 0) cudaSetDevice(prev);
        return NULL;
    }
    b->device = device;
    b->blas_workspace_size = workspace_bytes();
    if ((e = cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking)) != cudaSuccess)
        fail = "cudaStreamCreate";
    else if ((e = cudaMalloc((void **)&b->partials, MFPO_CUDA_MAX_PARTIALS * sizeof(double))) != cudaSuccess)
        fail = "cudaMalloc";
    else if ((e = cudaMalloc((void **)&b->counter, sizeof(unsigned))) != cudaSuccess)
        fail = "cudaMalloc";
    else if ((e = cudaMemsetAsync(b->counter, 0, sizeof(unsigned), b->stream)) != cudaSuccess)
        fail = "cudaMemset";
    else if ((e = cudaMalloc((void **)&b->d_flag, sizeof(int))) != cudaSuccess)
        fail = "cudaMalloc";
    else if ((e = cudaMallocHost((void **)&b->h_flag, sizeof(int))) != cudaSuccess)
        fail = "cudaMallocHost";
    else if (b->blas_workspace_size && (e = cudaMalloc(&b->blas_workspace, b->blas_workspace_size)) != cudaSuccess)
        fail = "cudaMalloc (cuBLAS workspace)";
    if (fail) snprintf(detail, sizeof detail, "%s", cudaGetErrorString(e));
    if (!fail) {
        const blas_api *api = blas();
        cublasStatus_t st = CUBLAS_STATUS_NOT_INITIALIZED;
        if (api->error[0]) {
            fail = "cuBLAS";
            snprintf(detail, sizeof detail, "%s", api->error);
        } else {
            st = api->create(&b->blas);
            if (st == CUBLAS_STATUS_SUCCESS) st = api->set_stream(b->blas, b->stream);
            /* after cublasSetStream, which resets the workspace: a fixed workspace keeps cuBLAS from
             * allocating while an update is being recorded */
            if (st == CUBLAS_STATUS_SUCCESS && b->blas_workspace)
                st = api->set_workspace(b->blas, b->blas_workspace, b->blas_workspace_size);
            if (st == CUBLAS_STATUS_SUCCESS) st = api->set_pointer_mode(b->blas, CUBLAS_POINTER_MODE_HOST);
            if (st != CUBLAS_STATUS_SUCCESS) {
                fail = "cuBLAS initialization";
                snprintf(detail, sizeof detail, "%s", blas_status_name(st));
            }
        }
    }
    if (!fail && (e = cudaStreamSynchronize(b->stream)) != cudaSuccess) {
        fail = "cudaStreamSynchronize";
        snprintf(detail, sizeof detail, "%s", cudaGetErrorString(e));
    }
    if (fail) {
        say(reason, reason_size, "CUDA backend setup failed on device %d (%s): %s: %s", device, prop.name, fail,
            detail);
        release(b);
        if (prev >= 0) cudaSetDevice(prev);
        return NULL;
    }
    pin_module();
    b->base.ops = ops_table(graphs_enabled());
    b->base.threads = threads > 0 ? threads : 1;
    snprintf(b->base.device_name, sizeof b->base.device_name, "cuda (%.96s, sm_%d%d)", prop.name, prop.major,
             prop.minor);
    if (prev >= 0 && prev != device) cudaSetDevice(prev);
    return &b->base;
}

/* The module's one export (lib/backend/backend.h: be_module; lib/backend/select.c checks it). */
extern "C" __attribute__((visibility("default"))) const be_module mfpo_backend_module = {
    BE_MODULE_ABI_VERSION, (uint32_t)sizeof(be_ops), "cuda", cu_probe, cu_create,
};
