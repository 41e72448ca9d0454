#!/usr/bin/env python3
"""The statistical comparison of issue 16 (stated in docs/results.md, "Against the paper's code",
before any run was looked at), computed from the per-run CSVs that bench/official/compare.sh writes.

Per seed and implementation:
  final  the mean of the evaluations in the last half of training (evaluations at step > total / 2);
         RL tasks: the mean evaluation return; the 2-D mixture: the share of samples farther than
         3 sigma from every mode ("far", lower is better)
  first  the first evaluation step (update count for the 2-D mixture) that reaches the threshold:
         Pendulum return >= -200, HalfCheetah return >= 1000, 2-D mixture far < 0.05

For each quantity: the difference of means d = mean(libmfpo) - mean(official), its 95 % confidence
interval (Welch-Satterthwaite degrees of freedom), and the two-sided Welch t-test. Verdict:
  equivalent    p >= 0.05 and |d| <= margin
  different     p < 0.05
  inconclusive  p >= 0.05 but |d| > margin (the runs cannot tell them apart, nor show them close)
The confidence interval is also reported against the margin ("CI within margin": the stricter,
TOST-like reading of equivalence). Seeds that never reach the threshold are listed and left out of
the "first" statistics.

  compare.py --task TASK --dir DIR [--seeds "0 1 2"]     table (DIR/summary.md), plot (DIR/curves.png)
  compare.py --gmm-log LOG CSV                          tools/validation/gmm2d's log -> CSV
  compare.py --stats-dir DIR [--seeds ...] [--bin 1000]  per-update statistics of both sides, binned
                                                        (DIR/stats.md, DIR/stats.png), for bisecting

Per-update statistics: official (c_loss_1, q_mean_1, entropy, temperature) against libmfpo's
mfpo_update_stats (critic_loss = mean of the two critics' losses, mean_q, entropy, alpha). The
official learner logs critic 1 only and its temperature before the update, libmfpo the mean of both
critics and alpha after it: close, not identical, definitions.
"""
import argparse
import csv
import math
import os
import re
import sys

# task -> (column, higher_is_better, threshold, margin for "final", margin for "first", x label)
TASKS = {
    "pendulum": ("eval_return", True, -200.0, 30.0, 1000.0, "environment steps"),
    "halfcheetah": ("eval_return", True, 1000.0, 300.0, 5000.0, "environment steps"),
    "gmm2d": ("far", False, 0.05, 0.03, 2000.0, "updates"),
    "gmm2d-paper": ("far", False, 0.05, 0.03, 2000.0, "updates"),
}
IMPLS = ("libmfpo", "official")

GMM_LINE = re.compile(
    r"^updates\s+(\d+)\s+([\d.]+)s\s+centre_mass_min ([\d.]+)\s+far ([\d.]+)\s+logp corr (\S+) mae (\S+)\s+"
    r"sampler corr (\S+) mae (\S+)")


def gmm_log_to_csv(log, out):
    rows = []
    with open(log) as f:
        for line in f:
            m = GMM_LINE.match(line)
            if m:
                rows.append(m.groups())
    if not rows:
        sys.exit(f"compare.py: no measurement lines in {log}")
    with open(out, "w") as f:
        f.write("updates,seconds,centre_mass_min,far,logp_corr,logp_mae,sampler_corr,sampler_mae\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def read_csv(path):
    with open(path) as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def welch(a, b):
    """(d, ci_low, ci_high, p) for mean(a) - mean(b); NaNs when either has fewer than 2 values."""
    from scipy import stats
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return (float("nan"),) * 4
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1)
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1)
    d = ma - mb
    se2 = va / na + vb / nb
    if se2 == 0:
        return d, d, d, (1.0 if d == 0 else 0.0)
    df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(se2)
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    return d, d - half, d + half, float(p)


def verdict(d, p, margin):
    if math.isnan(p):
        return "too few seeds"
    if p < 0.05:
        return "different"
    return "equivalent" if abs(d) <= margin else "inconclusive"


def fmt(x, nd=1):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def analyse(task, d, seeds, max_step=None):
    col, higher, thr, margin, margin_first, xlabel = TASKS[task]
    xkey = "updates" if task.startswith("gmm2d") else "step"
    nd = 4 if col == "far" else 1
    runs = {}
    for impl in IMPLS:
        for s in seeds:
            p = os.path.join(d, f"{impl}_seed{s}.csv")
            if os.path.isfile(p):
                rows = read_csv(p)
                if max_step:  # a run cut at max_step is the shorter run: nothing later feeds back
                    rows = [r for r in rows if r[xkey] <= max_step]
                if rows:
                    runs[(impl, s)] = rows
    if not runs:
        sys.exit(f"compare.py: no run CSVs in {d}")
    total = max_step or max(r[-1][xkey] for r in runs.values())
    per = {impl: [] for impl in IMPLS}
    lines = [f"## {task}", "",
             f"final = mean {col} over the evaluations at {xkey} > {total / 2:g} (of {total:g}); "
             f"first = first {xkey} with {col} {'>=' if higher else '<'} {thr:g}", "",
             f"| implementation | seed | {xkey if xkey == 'updates' else 'steps'} run | final | first | last evaluation | wall s |",
             "|---|---|---|---|---|---|---|"]
    for impl in IMPLS:
        for s in seeds:
            rows = runs.get((impl, s))
            if not rows:
                lines.append(f"| {impl} | {s} | (missing) | | | | |")
                continue
            last_half = [r[col] for r in rows if r[xkey] > total / 2]
            final = sum(last_half) / len(last_half) if last_half else float("nan")
            first = next((r[xkey] for r in rows if (r[col] >= thr if higher else r[col] < thr)), None)
            complete = rows[-1][xkey] >= total
            per[impl].append((s, final, first, complete))
            lines.append(f"| {impl} | {s} | {rows[-1][xkey]:g}{'' if complete else ' (incomplete)'} | {fmt(final, nd)} | "
                         f"{'not reached' if first is None else f'{first:g}'} | {fmt(rows[-1][col], nd)} | "
                         f"{fmt(rows[-1]['seconds'], 0)} |")
    lines += ["", "| quantity | libmfpo mean | official mean | d = libmfpo - official | 95 % CI of d | Welch p | "
              "margin | CI within margin | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    results = []
    for q, idx, m in (("final", 1, margin), ("first", 2, margin_first)):
        a = [v[idx] for v in per["libmfpo"] if v[3] and v[idx] is not None and not math.isnan(v[idx])]
        b = [v[idx] for v in per["official"] if v[3] and v[idx] is not None and not math.isnan(v[idx])]
        dd, lo, hi, p = welch(a, b)
        v = verdict(dd, p, m)
        within = "yes" if (not math.isnan(lo) and -m <= lo and hi <= m) else "no"
        ma = sum(a) / len(a) if a else float("nan")
        mb = sum(b) / len(b) if b else float("nan")
        nq = nd if q == "final" else 0
        note = ""
        if q == "first":
            miss = {impl: sum(1 for x in per[impl] if x[3] and x[2] is None) for impl in IMPLS}
            if any(miss.values()):
                note = f" (not reached: libmfpo {miss['libmfpo']}, official {miss['official']} seeds)"
        lines.append(f"| {q} (n = {len(a)}/{len(b)}) | {fmt(ma, nq)} | {fmt(mb, nq)} | {fmt(dd, nq)} | "
                     f"[{fmt(lo, nq)}, {fmt(hi, nq)}] | {fmt(p, 3)} | {m:g} | {within} | {v}{note} |")
        results.append(f"RESULT official_compare task={task} quantity={q} n_libmfpo={len(a)} n_official={len(b)} "
                       f"libmfpo_mean={fmt(ma, nq)} official_mean={fmt(mb, nq)} d={fmt(dd, nq)} ci_low={fmt(lo, nq)} "
                       f"ci_high={fmt(hi, nq)} welch_p={fmt(p, 3)} margin={m:g} ci_within_margin={within} verdict={v}")
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("\n".join(results))
    plot(task, d, runs, col, xkey, xlabel, thr)


def plot(task, d, runs, col, xkey, xlabel, thr):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colours = {"libmfpo": "tab:blue", "official": "tab:orange"}
    cols = [col] + (["centre_mass_min"] if task.startswith("gmm2d") else [])
    fig, axes = plt.subplots(1, len(cols), figsize=(7 * len(cols), 4.5), squeeze=False)
    for ax, c in zip(axes[0], cols):
        for impl in IMPLS:
            curves = [(s, rows) for (i, s), rows in sorted(runs.items()) if i == impl]
            for k, (s, rows) in enumerate(curves):
                ax.plot([r[xkey] for r in rows], [r[c] for r in rows], color=colours[impl], alpha=0.35, lw=1)
            if curves:
                n = min(len(rows) for _, rows in curves)
                xs = [curves[0][1][j][xkey] for j in range(n)]
                mean = [sum(rows[j][c] for _, rows in curves) / len(curves) for j in range(n)]
                ax.plot(xs, mean, color=colours[impl], lw=2.2, label=f"{impl} (mean of {len(curves)} seeds)")
        if c == col:
            ax.axhline(thr, color="gray", ls="--", lw=1, label=f"threshold {thr:g}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel({"eval_return": "mean evaluation return", "far": "share farther than 3 sigma from all modes",
                       "centre_mass_min": "smallest share within 3 sigma of a mode"}[c])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"libmfpo vs the official MFPO code: {task} (thin: single seeds)")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "curves.png"), dpi=90)


STAT_PAIRS = [("critic loss", "c_loss_1", "critic_loss"), ("mean Q", "q_mean_1", "mean_q"),
              ("entropy", "entropy", "entropy"), ("alpha", "temperature", "alpha"),
              ("actor loss", "actor_loss", "actor_loss"), ("divergence loss", "logp_loss", "divergence_loss")]


def stats_compare(d, seeds, width, max_update=None):
    binned = {}  # (impl, quantity) -> {bin: [per-seed means]}
    for impl, col in (("official", 1), ("libmfpo", 2)):
        for s in seeds:
            p = os.path.join(d, f"{impl}_seed{s}.stats.csv")
            if not os.path.isfile(p):
                continue
            rows = [r for r in read_csv(p) if not max_update or r["update"] <= max_update]
            for name, *keys in STAT_PAIRS:
                acc = {}
                for r in rows:
                    b = int((r["update"] - 1) // width)
                    acc.setdefault(b, []).append(r[keys[col - 1]])
                for b, v in acc.items():
                    binned.setdefault((impl, name), {}).setdefault(b, []).append(sum(v) / len(v))
    if not binned:
        sys.exit(f"compare.py: no *_seed*.stats.csv in {d}")
    bins = sorted({b for v in binned.values() for b in v})
    lines = [f"per-update statistics, mean over each bin of {width} updates, then over seeds (official / libmfpo)", "",
             "| updates | " + " | ".join(n for n, *_ in STAT_PAIRS) + " |", "|---" * (len(STAT_PAIRS) + 1) + "|"]
    for b in bins:
        cells = []
        for name, *_ in STAT_PAIRS:
            o = binned.get(("official", name), {}).get(b)
            m = binned.get(("libmfpo", name), {}).get(b)
            f = lambda v: "-" if not v else f"{sum(v) / len(v):.4g}"
            cells.append(f"{f(o)} / {f(m)}")
        lines.append(f"| {b * width + 1}-{(b + 1) * width} | " + " | ".join(cells) + " |")
    with open(os.path.join(d, "stats.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    for ax, (name, *_) in zip(axes.flat, STAT_PAIRS):
        for impl, c in (("official", "tab:orange"), ("libmfpo", "tab:blue")):
            v = binned.get((impl, name), {})
            xs = sorted(v)
            for k in range(max((len(x) for x in v.values()), default=0)):
                ax.plot([(b + 0.5) * width for b in xs if len(v[b]) > k], [v[b][k] for b in xs if len(v[b]) > k],
                        color=c, alpha=0.35, lw=1)
            ax.plot([(b + 0.5) * width for b in xs], [sum(v[b]) / len(v[b]) for b in xs], color=c, lw=2, label=impl)
        ax.set_title(name)
        ax.set_xlabel("updates")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "stats.png"), dpi=80)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", choices=sorted(TASKS))
    p.add_argument("--dir")
    p.add_argument("--seeds", default="0 1 2")
    p.add_argument("--gmm-log", nargs=2, metavar=("LOG", "CSV"))
    p.add_argument("--stats-dir")
    p.add_argument("--max-step", type=float, default=None,
                   help="analyse the runs up to this step (update) only, as if they had been that long")
    p.add_argument("--bin", type=int, default=1000)
    a = p.parse_args()
    if a.gmm_log:
        gmm_log_to_csv(*a.gmm_log)
    elif a.stats_dir:
        stats_compare(a.stats_dir, [int(s) for s in a.seeds.split()], a.bin, a.max_step)
    elif a.task and a.dir:
        analyse(a.task, a.dir, [int(s) for s in a.seeds.split()], a.max_step)
    else:
        p.error("give --task and --dir, or --gmm-log LOG CSV")


if __name__ == "__main__":
    main()
