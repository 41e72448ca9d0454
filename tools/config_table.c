/*
 * config_table: prints the table of the agent's configuration fields (lib/algo/config_fields.h) as
 * the Markdown table of docs/algorithm.md §2.5, so that the documented defaults and bounds are the
 * code's.
 *
 *   config_table                 print the table
 *   config_table --check FILE    exit 1 unless FILE holds exactly this table between the lines
 *                                "<!-- config-table begin -->" and "<!-- config-table end -->"
 *   config_table --write FILE    replace the table in FILE
 *   config_table --check-header FILE
 *                                exit 1 unless every field of the table is declared in FILE
 *                                (include/mfpo/config.h) with a doc comment whose "Default X"
 *                                is the table's default (none for obs_dim and act_dim)
 *
 * The meson tests config_docs_table and config_header_defaults run the two checks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo/config_fields.h"

static const char BEGIN[] = "<!-- config-table begin -->\n";
static const char END[] = "<!-- config-table end -->\n";

/* The table as text; malloc'd. */
static char *table_text(void)
{
    size_t cap = 16384, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    len += (size_t)snprintf(out + len, cap - len,
                            "| field | type | default | allowed | meaning |\n"
                            "|---|---|---|---|---|\n");
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        char def[32];
        if (f->from_argument)
            snprintf(def, sizeof def, "(argument)");
        else if (f->type == CONFIG_TYPE_FLOAT)
            snprintf(def, sizeof def, "%g", f->def);
        else
            snprintf(def, sizeof def, "%.0f", f->def);
        const char *type = f->type == CONFIG_TYPE_SIZE ? "size" : f->type == CONFIG_TYPE_FLOAT ? "float" : "int";
        len += (size_t)snprintf(out + len, cap - len, "| `%s` | %s | %s | %s | %s |\n", f->name, type, def, f->bounds,
                                f->doc);
        if (len >= cap) {
            free(out);
            return NULL;
        }
    }
    return out;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b && (r = fread(b + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b) b[len] = '\0';
    *n = len;
    return b;
}

/* The header declares each field on one line: its type, its name, a semicolon, and a doc comment
 * that ends with "Default X." (obs_dim and act_dim: no default). */
static int check_header(const char *path, const char *text)
{
    int bad = 0;
    for (size_t i = 0; i < config_field_count; i++) {
        const config_field *f = &config_fields[i];
        char decl[80];
        snprintf(decl, sizeof decl, " %s;", f->name);
        const char *at = strstr(text, decl);
        if (!at) {
            fprintf(stderr, "config_table: '%s' does not declare the field %s\n", path, f->name);
            bad = 1;
            continue;
        }
        const char *eol = strchr(at, '\n');
        size_t len = eol ? (size_t)(eol - at) : strlen(at);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), at);
        const char *d = strstr(line, "Default ");
        if (f->from_argument) {
            if (d) {
                fprintf(stderr, "config_table: '%s': %s comes from an argument but its comment states a default\n",
                        path, f->name);
                bad = 1;
            }
            continue;
        }
        if (!d) {
            fprintf(stderr, "config_table: '%s': the comment of %s states no \"Default\" (the table's is %g)\n", path,
                    f->name, f->def);
            bad = 1;
            continue;
        }
        char *end = NULL;
        double v = strtod(d + 8, &end);
        int same = end != d + 8 && (f->type == CONFIG_TYPE_FLOAT ? (float)v == (float)f->def : v == f->def);
        if (!same || (*end != '.' && !isspace((unsigned char)*end))) {
            fprintf(stderr, "config_table: '%s': the comment of %s says \"%.20s\", the table's default is %g\n", path,
                    f->name, d, f->def);
            bad = 1;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    char *table = table_text();
    if (!table) {
        fprintf(stderr, "config_table: out of memory\n");
        return 2;
    }
    if (argc == 1) {
        fputs(table, stdout);
        free(table);
        return 0;
    }
    if (argc != 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0 &&
                      strcmp(argv[1], "--check-header") != 0)) {
        fprintf(stderr, "usage: %s [--check FILE | --write FILE | --check-header FILE]\n", argv[0]);
        free(table);
        return 2;
    }
    const char *path = argv[2];
    size_t n = 0;
    char *doc = read_file(path, &n);
    if (!doc) {
        fprintf(stderr, "config_table: cannot read '%s'\n", path);
        free(table);
        return 2;
    }
    if (!strcmp(argv[1], "--check-header")) {
        int bad = check_header(path, doc);
        if (!bad) printf("config_table: the defaults in '%s' are the table's\n", path);
        free(doc);
        free(table);
        return bad;
    }
    char *b = strstr(doc, BEGIN), *e = b ? strstr(b, END) : NULL;
    if (!b || !e) {
        fprintf(stderr, "config_table: '%s' has no lines \"%.*s\" ... \"%.*s\"\n", path, (int)strlen(BEGIN) - 1, BEGIN,
                (int)strlen(END) - 1, END);
        free(doc);
        free(table);
        return 1;
    }
    b += strlen(BEGIN);
    int rc = 0;
    if (!strcmp(argv[1], "--check")) {
        if ((size_t)(e - b) != strlen(table) || memcmp(b, table, strlen(table)) != 0) {
            fprintf(stderr,
                    "config_table: the table in '%s' differs from lib/algo/config_fields.h; run "
                    "'config_table --write %s'. The table should read:\n%s",
                    path, path, table);
            rc = 1;
        }
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(doc, 1, (size_t)(b - doc), f) != (size_t)(b - doc) || fputs(table, f) < 0 ||
            fwrite(e, 1, n - (size_t)(e - doc), f) != n - (size_t)(e - doc)) {
            fprintf(stderr, "config_table: cannot write '%s'\n", path);
            rc = 2;
        }
        if (f && fclose(f) != 0) rc = 2;
    }
    free(doc);
    free(table);
    return rc;
}
