/* Line-protocol driver for examples/mujoco/locomotion.c, used by crosscheck.py.
 *
 * Reads one command per line on stdin, answers one line on stdout:
 *   init <task> <xml_path...>  -> ok <obs_dim> <act_dim> <nq> <nv>
 *   bounds                     -> ok <low x act_dim> <high x act_dim>
 *   reset <seed>               -> ok <obs x obs_dim>
 *   set <qpos x nq> <qvel x nv> -> ok           (loco_task_set_state)
 *   ref <x> <y>                -> ok           (loco_task_set_ref_position)
 *   warm <qacc_warmstart x nv> -> ok           (loco_task_set_warmstart)
 *   obs                        -> ok <obs x obs_dim>
 *   step <action x act_dim>    -> ok <reward> <terminated> <truncated> <obs x obs_dim>
 *   get                        -> ok <qpos x nq> <qvel x nv> <ref x> <ref y> <warmstart x nv>
 *   quit                       -> (no answer; exits 0)
 * Any failure answers "err <message>" and the driver keeps going.
 * Doubles are written with 17 significant digits and floats with 9, so both
 * round-trip exactly; input numbers are parsed with strtod (Python's repr()
 * round-trips exactly too).  MuJoCo's warnings go to stderr, not stdout.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getline */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>

#include "locomotion.h"

static loco_task *task;
static size_t obs_dim, act_dim, nq, nv;
static float *obsbuf, *actbuf;
static double *qpos, *qvel;

static void mj_warning_to_stderr(const char *msg)
{
    fprintf(stderr, "MuJoCo warning: %s\n", msg);
}

static void mj_error_to_stderr(const char *msg)
{
    fprintf(stderr, "MuJoCo error: %s\n", msg);
    exit(1);
}

/* Parses exactly n numbers from *p; returns 0 on success. */
static int parse_doubles(char **p, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *end;
        out[i] = strtod(*p, &end);
        if (end == *p) return -1;
        *p = end;
    }
    return 0;
}

static int at_end(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return *p == '\0';
}

static void print_floats(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) printf(" %.9g", (double)v[i]);
}

static void print_doubles(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) printf(" %.17g", v[i]);
}

static void cmd_init(char *args)
{
    char err[1024];
    char *name, *path;

    while (*args == ' ') args++;
    name = args;
    path = strchr(args, ' ');
    if (path == NULL) {
        printf("err usage: init <task> <xml_path>");
        return;
    }
    *path++ = '\0';
    path[strcspn(path, "\r\n")] = '\0';
    if (task) {
        loco_task_destroy(task);
        task = NULL;
    }
    if (loco_task_create(name, path, &task, err, sizeof err) != 0) {
        printf("err %s", err);
        return;
    }
    obs_dim = loco_task_obs_dim(task);
    act_dim = loco_task_act_dim(task);
    nq = loco_task_nq(task);
    nv = loco_task_nv(task);
    free(obsbuf);
    free(actbuf);
    free(qpos);
    free(qvel);
    obsbuf = malloc(obs_dim * sizeof *obsbuf);
    actbuf = malloc(2 * act_dim * sizeof *actbuf);
    qpos = malloc(nq * sizeof *qpos);
    qvel = malloc(nv * sizeof *qvel);
    if (!obsbuf || !actbuf || !qpos || !qvel) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    printf("ok %zu %zu %zu %zu", obs_dim, act_dim, nq, nv);
}

/* Returns 1 on quit. */
static int handle(char *line)
{
    char *p = line;
    char *cmd;
    size_t len;

    while (*p == ' ') p++;
    cmd = p;
    len = strcspn(p, " \r\n");
    p += len;
    if (len == 4 && strncmp(cmd, "init", 4) == 0) {
        cmd_init(p);
        return 0;
    }
    if (len == 4 && strncmp(cmd, "quit", 4) == 0) return 1;
    if (task == NULL) {
        printf("err no task: send init first");
        return 0;
    }
    if (len == 6 && strncmp(cmd, "bounds", 6) == 0) {
        float *low = actbuf, *high = actbuf + act_dim;
        loco_task_action_bounds(task, low, high);
        printf("ok");
        print_floats(low, act_dim);
        print_floats(high, act_dim);
    } else if (len == 5 && strncmp(cmd, "reset", 5) == 0) {
        char *end;
        unsigned long long seed = strtoull(p, &end, 10);
        if (end == p || !at_end(end)) {
            printf("err usage: reset <seed>");
            return 0;
        }
        if (loco_task_reset(task, (uint64_t)seed, obsbuf) != 0) {
            printf("err reset failed");
            return 0;
        }
        printf("ok");
        print_floats(obsbuf, obs_dim);
    } else if (len == 3 && strncmp(cmd, "set", 3) == 0) {
        if (parse_doubles(&p, qpos, nq) || parse_doubles(&p, qvel, nv) || !at_end(p)) {
            printf("err usage: set <%zu qpos> <%zu qvel>", nq, nv);
            return 0;
        }
        loco_task_set_state(task, qpos, qvel);
        printf("ok");
    } else if (len == 3 && strncmp(cmd, "ref", 3) == 0) {
        double xy[2];
        if (parse_doubles(&p, xy, 2) || !at_end(p)) {
            printf("err usage: ref <x> <y>");
            return 0;
        }
        loco_task_set_ref_position(task, xy);
        printf("ok");
    } else if (len == 4 && strncmp(cmd, "warm", 4) == 0) {
        if (parse_doubles(&p, qvel, nv) || !at_end(p)) {
            printf("err usage: warm <%zu qacc_warmstart>", nv);
            return 0;
        }
        loco_task_set_warmstart(task, qvel);
        printf("ok");
    } else if (len == 3 && strncmp(cmd, "obs", 3) == 0) {
        loco_task_get_obs(task, obsbuf);
        printf("ok");
        print_floats(obsbuf, obs_dim);
    } else if (len == 4 && strncmp(cmd, "step", 4) == 0) {
        float reward;
        int terminated, truncated;
        for (size_t i = 0; i < act_dim; i++) {
            char *end;
            actbuf[i] = strtof(p, &end);
            if (end == p) {
                printf("err usage: step <%zu action values>", act_dim);
                return 0;
            }
            p = end;
        }
        if (!at_end(p)) {
            printf("err usage: step <%zu action values>", act_dim);
            return 0;
        }
        if (loco_task_step(task, actbuf, obsbuf, &reward, &terminated, &truncated) != 0) {
            printf("err step failed (reset first)");
            return 0;
        }
        printf("ok %.9g %d %d", (double)reward, terminated, truncated);
        print_floats(obsbuf, obs_dim);
    } else if (len == 3 && strncmp(cmd, "get", 3) == 0) {
        double xy[2];
        loco_task_get_state(task, qpos, qvel);
        loco_task_get_ref_position(task, xy);
        printf("ok");
        print_doubles(qpos, nq);
        print_doubles(qvel, nv);
        print_doubles(xy, 2);
        loco_task_get_warmstart(task, qvel);
        print_doubles(qvel, nv);
    } else {
        printf("err unknown command \"%.*s\"", (int)len, cmd);
    }
    return 0;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;

    mju_user_warning = mj_warning_to_stderr;
    mju_user_error = mj_error_to_stderr;
    while (getline(&line, &cap, stdin) != -1) {
        if (at_end(line)) continue;
        if (handle(line)) break;
        putchar('\n');
        fflush(stdout);
    }
    free(line);
    loco_task_destroy(task);
    free(obsbuf);
    free(actbuf);
    free(qpos);
    free(qvel);
    return 0;
}
