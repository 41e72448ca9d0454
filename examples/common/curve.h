/*
 * The examples' learning curves: one CSV writer (step, wall seconds, mean evaluation return) and
 * one way to draw with gnuplot, shared by pendulum, mujoco_locomotion and the validation harnesses.
 */
#ifndef EXAMPLES_CURVE_H
#define EXAMPLES_CURVE_H

#include <stdint.h>
#include <stdio.h>

typedef struct curve {
    const char *who; /* program name, for messages */
    FILE *csv;       /* NULL when the file could not be created: the run goes on without a curve */
    char csv_path[1024], png_path[1024];
} curve;

/* Creates PREFIX.csv with the header "step,seconds,eval_return". On failure says so on stderr
 * ("<who>: cannot write PREFIX.csv; continuing without the curve") and leaves c->csv NULL. */
void curve_open(curve *c, const char *who, const char *prefix);

/* Appends one point and flushes, so that a run cut short keeps its curve. */
void curve_add(curve *c, uint64_t step, double seconds, double eval_return);

/* Closes the CSV, draws PREFIX.png from it (title; `series` names the evaluation line; `extra`, if
 * not NULL, is appended to gnuplot's plot command, e.g. ", -200 with lines title 'solved'") and
 * prints "<who>: learning curve PREFIX.csv and PREFIX.png". Nothing when the CSV was not created. */
void curve_finish(curve *c, const char *title, const char *series, const char *extra);

/* Runs gnuplot on one script (its -e argument, without double quotes); 0 when it succeeded. */
int plot_gnuplot(const char *script);

#endif
