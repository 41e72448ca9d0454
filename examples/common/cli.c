#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *prog, const cli_arg *args, int n)
{
    fprintf(stderr, "usage: %s", prog);
    for (int i = 0; i < n; i++) fprintf(stderr, " [%s VALUE]", args[i].name);
    fprintf(stderr, "\n");
}

static int parse_one(const cli_arg *a, const char *text)
{
    char *end = NULL;
    errno = 0;
    switch (a->type) {
    case CLI_INT: {
        long v = strtol(text, &end, 10);
        if (errno || *end || v < -2147483647L || v > 2147483647L) return -1;
        *(int *)a->value = (int)v;
        return 0;
    }
    case CLI_LONG: {
        long v = strtol(text, &end, 10);
        if (errno || *end) return -1;
        *(long *)a->value = v;
        return 0;
    }
    case CLI_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || *end) return -1;
        *(double *)a->value = v;
        return 0;
    }
    case CLI_STRING:
        *(const char **)a->value = text;
        return 0;
    }
    return -1;
}

int cli_parse(int argc, char **argv, const cli_arg *args, int n)
{
    for (int i = 1; i < argc; i++) {
        int found = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(argv[0], args, n);
            return -1;
        }
        for (int k = 0; k < n && !found; k++) {
            if (strcmp(argv[i], args[k].name) != 0) continue;
            found = 1;
            if (i + 1 >= argc || parse_one(&args[k], argv[i + 1]) != 0) {
                fprintf(stderr, "%s: %s needs a valid value (got '%s')\n", argv[0], args[k].name,
                        i + 1 < argc ? argv[i + 1] : "");
                return -1;
            }
            i++;
        }
        if (!found) {
            fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
            usage(argv[0], args, n);
            return -1;
        }
    }
    return 0;
}

int cli_backend(const char *name, mfpo_backend_kind *kind)
{
    if (!strcmp(name, "cpu"))
        *kind = MFPO_BACKEND_CPU;
    else if (!strcmp(name, "cuda"))
        *kind = MFPO_BACKEND_CUDA;
    else if (!strcmp(name, "auto"))
        *kind = MFPO_BACKEND_AUTO;
    else {
        fprintf(stderr, "--backend must be cpu, cuda or auto (got '%s')\n", name);
        return -1;
    }
    return 0;
}
