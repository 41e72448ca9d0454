/* A small "--name value" command-line parser shared by the examples. */
#ifndef EXAMPLES_CLI_H
#define EXAMPLES_CLI_H

#include <mfpo.h>

typedef enum { CLI_INT, CLI_LONG, CLI_DOUBLE, CLI_STRING } cli_type;

typedef struct cli_arg {
    const char *name; /* "--seed" */
    cli_type type;
    void *value; /* int *, long *, double *, const char ** */
} cli_arg;

/* Parses argv into the table; prints usage and returns -1 on an unknown name or a bad value,
 * or on --help. */
int cli_parse(int argc, char **argv, const cli_arg *args, int n);

/* "cpu", "cuda" or "auto" to a backend kind; -1 (with a message) otherwise. */
int cli_backend(const char *name, mfpo_backend_kind *kind);

#endif
