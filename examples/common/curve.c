#include "curve.h"

#include <stdlib.h>

void curve_open(curve *c, const char *who, const char *prefix)
{
    c->who = who;
    snprintf(c->csv_path, sizeof c->csv_path, "%s.csv", prefix);
    snprintf(c->png_path, sizeof c->png_path, "%s.png", prefix);
    c->csv = fopen(c->csv_path, "w");
    if (!c->csv)
        fprintf(stderr, "%s: cannot write %s; continuing without the curve\n", who, c->csv_path);
    else
        fprintf(c->csv, "step,seconds,eval_return\n");
}

void curve_add(curve *c, uint64_t step, double seconds, double eval_return)
{
    if (!c->csv) return;
    fprintf(c->csv, "%llu,%.3f,%.3f\n", (unsigned long long)step, seconds, eval_return);
    fflush(c->csv);
}

int plot_gnuplot(const char *script)
{
    char cmd[8192];
    if (snprintf(cmd, sizeof cmd, "gnuplot -e \"%s\" 2>/dev/null", script) >= (int)sizeof cmd) return -1;
    return system(cmd) == 0 ? 0 : -1;
}

void curve_finish(curve *c, const char *title, const char *series, const char *extra)
{
    char script[4096];
    if (!c->csv) return;
    fclose(c->csv);
    c->csv = NULL;
    snprintf(script, sizeof script,
             "set terminal pngcairo size 800,500; set output '%s'; set datafile separator ',';"
             " set title '%s'; set xlabel 'environment steps'; set ylabel 'mean evaluation return';"
             " set key bottom right; set grid; plot '%s' using 1:3 with linespoints lw 2 pt 7 title '%s'%s",
             c->png_path, title, c->csv_path, series, extra ? extra : "");
    if (plot_gnuplot(script) != 0)
        fprintf(stderr, "%s: gnuplot failed or is not installed; the curve is in %s\n", c->who, c->csv_path);
    printf("%s: learning curve %s and %s\n", c->who, c->csv_path, c->png_path);
}
