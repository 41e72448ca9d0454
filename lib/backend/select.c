/*
 * Run-time backend selection. The CPU backend is built in; the CUDA backend is a separate shared
 * module (libmfpo-cuda.so) opened with dlopen, so that libmfpo.so itself never links the CUDA
 * runtime and runs on machines without it. Modules are looked for by name in the install's
 * module directory (MFPO_MODULE_DIR, <libdir>/mfpo) or, when the variable is set, in the
 * directories of MFPO_MODULE_PATH; each exports one versioned descriptor (backend.h: be_module).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "select.h"

#ifndef MFPO_MODULE_DIR
#define MFPO_MODULE_DIR "/usr/local/lib/mfpo"
#endif

/* Copies the next ':'-separated entry of *list into dir; 0 at the end. */
static int next_dir(const char **list, char *dir, size_t n)
{
    while (**list == ':') (*list)++;
    if (!**list) return 0;
    size_t len = strcspn(*list, ":");
    snprintf(dir, n, "%.*s", (int)(len < n ? len : n - 1), *list);
    *list += len;
    return 1;
}

/*
 * Opens the module libmfpo-<name>.so from the first directory that has it: those of
 * MFPO_MODULE_PATH when that is set and not empty, else the install's module directory. Checks
 * its descriptor (BE_MODULE_SYMBOL: version and table size) and creates its backend; NULL with a
 * reason on failure.
 */
static be_backend *open_module(const char *name, const char *label, int device, int threads, void **module,
                               char *reason, size_t n)
{
    const char *env = getenv("MFPO_MODULE_PATH");
    const char *dirs = (env && *env) ? env : MFPO_MODULE_DIR;
    const char *list = dirs;
    char dir[1024], path[1200];
    int found = 0;
    while (next_dir(&list, dir, sizeof dir)) {
        snprintf(path, sizeof path, "%s/libmfpo-%s.so", dir, name);
        if (access(path, F_OK) == 0) {
            found = 1;
            break;
        }
    }
    if (!found) {
        snprintf(reason, n, "%s module not usable: no libmfpo-%s.so in %s (%s)", label, name, dirs,
                 (env && *env) ? "MFPO_MODULE_PATH" : "the install's module directory; MFPO_MODULE_PATH replaces it");
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(reason, n, "%s module not usable: cannot load '%s': %s", label, path, dlerror());
        return NULL;
    }
    const be_module *m = (const be_module *)dlsym(h, BE_MODULE_SYMBOL);
    if (!m) {
        snprintf(reason, n, "%s module '%s' lacks the descriptor %s", label, path, BE_MODULE_SYMBOL);
        dlclose(h);
        return NULL;
    }
    if (m->abi_version != BE_MODULE_ABI_VERSION || m->ops_size != sizeof(be_ops)) {
        snprintf(reason, n,
                 "%s module '%s' was built for backend module ABI %u (a table of %u bytes) but this library "
                 "needs ABI %u (%zu bytes); install the module built with this library",
                 label, path, (unsigned)m->abi_version, (unsigned)m->ops_size, BE_MODULE_ABI_VERSION, sizeof(be_ops));
        dlclose(h);
        return NULL;
    }
    char why[256] = "";
    be_backend *be = NULL;
    if (m->probe(device, why, sizeof why) == 0) be = m->create(device, threads, why, sizeof why);
    if (!be) {
        snprintf(reason, n, "%s backend unavailable: %s", label, why);
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
    if (!strcmp(v, "cpu"))
        *kind = MFPO_BACKEND_CPU;
    else if (!strcmp(v, "cuda"))
        *kind = MFPO_BACKEND_CUDA;
    else if (!strcmp(v, "auto"))
        *kind = MFPO_BACKEND_AUTO;
    else {
        snprintf(reason, n, "environment variable MFPO_BACKEND='%s' is not one of cpu, cuda, auto", v);
        return -1;
    }
    return 1;
}

mfpo_status be_open(mfpo_backend_kind kind, const mfpo_allocator *allocator, int threads, int device, be_backend **out,
                    void **module, mfpo_backend_kind *chosen, char *reason, size_t n)
{
    *out = NULL;
    *module = NULL;
    if (kind == MFPO_BACKEND_CUDA || kind == MFPO_BACKEND_AUTO) {
        be_backend *be = open_module("cuda", "CUDA", device, threads, module, reason, n);
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
