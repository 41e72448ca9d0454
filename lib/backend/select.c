/*
 * Run-time backend selection. The CPU backend is built in; the CUDA backend is a separate shared
 * module (libmfpo-cuda.so) opened with dlopen, so that libmfpo.so itself never links the CUDA
 * runtime and runs on machines without it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "select.h"

#ifndef MFPO_CUDA_MODULE_PATH
#define MFPO_CUDA_MODULE_PATH "libmfpo-cuda.so"
#endif

static const char *module_path(void)
{
    const char *p = getenv("MFPO_CUDA_MODULE");
    return (p && *p) ? p : MFPO_CUDA_MODULE_PATH;
}

/* Opens the CUDA module and creates its backend; NULL with a reason on failure. */
static be_backend *open_cuda(int device, int threads, void **module, char *reason, size_t n)
{
    const char *path = module_path();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(reason, n, "CUDA module not usable: cannot load '%s': %s", path, dlerror());
        return NULL;
    }
    be_cuda_entry_fn entry;
    *(void **)(&entry) = dlsym(h, MFPO_CUDA_ENTRY_NAME);
    if (!entry) {
        snprintf(reason, n, "CUDA module '%s' lacks the entry point %s", path, MFPO_CUDA_ENTRY_NAME);
        dlclose(h);
        return NULL;
    }
    char why[256] = "";
    be_backend *be = entry(device, threads, why, sizeof why);
    if (!be) {
        snprintf(reason, n, "CUDA backend unavailable: %s", why);
        dlclose(h);
        return NULL;
    }
    *module = h;
    return be;
}

int be_parse_env(mfpo_backend_kind *kind, char *reason, size_t n)
{
    const char *v = getenv("MFPO_BACKEND");
    if (!v || !*v) return 0;
    if (!strcmp(v, "cpu")) *kind = MFPO_BACKEND_CPU;
    else if (!strcmp(v, "cuda")) *kind = MFPO_BACKEND_CUDA;
    else if (!strcmp(v, "auto")) *kind = MFPO_BACKEND_AUTO;
    else {
        snprintf(reason, n, "environment variable MFPO_BACKEND='%s' is not one of cpu, cuda, auto", v);
        return -1;
    }
    return 1;
}

mfpo_status be_open(mfpo_backend_kind kind, const mfpo_allocator *allocator, int threads, int device,
                              be_backend **out, void **module, mfpo_backend_kind *chosen, char *reason, size_t n)
{
    *out = NULL;
    *module = NULL;
    if (kind == MFPO_BACKEND_CUDA || kind == MFPO_BACKEND_AUTO) {
        be_backend *be = open_cuda(device, threads, module, reason, n);
        if (be) {
            *out = be;
            *chosen = MFPO_BACKEND_CUDA;
            return MFPO_OK;
        }
        if (kind == MFPO_BACKEND_CUDA) return MFPO_ERR_BACKEND_UNAVAILABLE;
    }
    *out = be_cpu_create(allocator, threads, reason, n);
    if (!*out) return MFPO_ERR_OUT_OF_MEMORY;
    *chosen = MFPO_BACKEND_CPU;
    return MFPO_OK;
}

void be_close(be_backend *be, void *module)
{
    if (be) be->ops->destroy(be);
    if (module) dlclose(module);
}
