#!/usr/bin/env bash
# A/B timing of two builds of libmfpo in one run: alternating rounds of bench_update (old, new,
# old, new, ...), so that both see the same machine load; prints each round's median update time
# and the ratio old/new per round and over the medians of all rounds.
#
#   bash bench/ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS] [bench_update arguments...]
#
# Example (the update at the paper's sizes, one thread, 5 rounds of 20 updates each):
#   bash bench/ab.sh /tmp/old/build build 5 --sizes 17x6 --threads 1 --updates 20 --sgemm-reps 0
# Output: one "ROUND" line per round and per side, then
#   RESULT ab old_ms=<median> new_ms=<median> speedup=<old/new> rounds=<n>
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
old=$1/bench/bench_update
new=$2/bench/bench_update
rounds=${3:-5}
shift $(($# >= 3 ? 3 : 2))
for b in "$old" "$new"; do
    [ -x "$b" ] || { echo "ab.sh: $b is not an executable (build the bench programs first)" >&2; exit 2; }
done
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/openblas-env.sh"

ms_of() { sed -n 's/^RESULT bench_update .* ms=\([^ ]*\) .*/\1/p' | head -n1; }
olds=()
news=()
for ((r = 1; r <= rounds; r++)); do
    o=$("$old" --phase-updates 0 "$@" | ms_of)
    n=$("$new" --phase-updates 0 "$@" | ms_of)
    echo "ROUND $r old_ms=$o new_ms=$n ratio=$(awk -v a="$o" -v b="$n" 'BEGIN{printf "%.3f", a/b}')"
    olds+=("$o")
    news+=("$n")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
mo=$(median "${olds[@]}")
mn=$(median "${news[@]}")
echo "RESULT ab old_ms=$mo new_ms=$mn speedup=$(awk -v a="$mo" -v b="$mn" 'BEGIN{printf "%.3f", a/b}') rounds=$rounds"
