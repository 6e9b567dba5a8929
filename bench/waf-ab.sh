#!/usr/bin/env bash
# The WAF benches (one transaction through the full CRS, criterion) of two builds in one run:
# a base revision and the working tree, run alternately, with the ratio of each bench.
# On a shared machine absolute times drift from day to day; ratios measured in one run hold.
#
# Usage: bench/waf-ab.sh BASE [FILTER]
#   BASE    a git revision (`HEAD~3`, a commit id) built from a temporary worktree
#   FILTER  a criterion filter (`benign`, `crs_pl1`); all benches when left out
#
# Last line: waf-ab: BASE..working tree crs_pl1/benign_get ratio=R (or the first bench run).
#
# Environment: BENCH_ROUNDS (rounds of each build, alternating; default 2), CRS_DIR (default
# ../shared/crs), CARGO_TARGET_DIR (the base build goes to its `waf-ab-base` subdirectory,
# kept for reuse). Each bench's timing is crs.rs's own (its groups set warm-up, measurement
# time and sample size, which criterion 0.5 lets win over command-line flags).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:?usage: bench/waf-ab.sh BASE [FILTER]}
FILTER=${2:-}
ROUNDS=${BENCH_ROUNDS:-2}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WANT_CRS=${CRS_DIR:-$ROOT/../shared/crs}
CRS_DIR=$(cd "$WANT_CRS" 2>/dev/null && pwd) || {
    echo "waf-ab: the CRS is missing (looked for $WANT_CRS; set CRS_DIR)" >&2
    exit 1
}
export CRS_DIR

WORK=$(mktemp -d)
cleanup() {
    git -C "$ROOT" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Builds the `crs` bench in directory $1 with target directory $2; prints the binary's path.
build() {
    (cd "$1" && CARGO_TARGET_DIR=$2 cargo bench -p sekisho-waf --bench crs --no-run 2>&1) |
        sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1
}

git -C "$ROOT" worktree add --detach --quiet "$WORK/base" "$BASE"
echo "waf-ab: building $BASE ..." >&2
base_bin=$(build "$WORK/base" "$TARGET/waf-ab-base")
echo "waf-ab: building the working tree ..." >&2
head_bin=$(build "$ROOT" "$TARGET")
for b in "$base_bin" "$head_bin"; do
    [ -x "$b" ] || { echo "waf-ab: a build failed (no bench binary at '$b')" >&2; exit 1; }
done
cp "$base_bin" "$WORK/base-bench"
cp "$head_bin" "$WORK/head-bench"

# One run of one build: "bench mean_ns" per line.
run() {
    "$1" --bench $FILTER 2>/dev/null |
        awk '
            $1 != "time:" && $0 ~ /time:/ { name = $1 }
            $1 != "time:" && $0 !~ /time:/ && NF == 1 { name = $1 }
            /time:/ {
                sub(/.*\[/, ""); v = $3; u = $4
                f = (u == "ns") ? 1 : (u == "µs" || u == "us") ? 1e3 : (u == "ms") ? 1e6 : 1e9
                printf "%s %.0f\n", name, v * f
            }'
}

# The build run first in a round measured up to 3 % faster: the order swaps every round.
for r in $(seq 1 "$ROUNDS"); do
    echo "waf-ab: round $r of $ROUNDS ..." >&2
    if [ $((r % 2)) = 1 ]; then order="base head"; else order="head base"; fi
    for who in $order; do
        run "$WORK/$who-bench" | sed "s/^/$who /" >>"$WORK/results"
    done
done

awk -v base="$BASE" '
    { sum[$1 " " $2] += $3; n[$1 " " $2]++; if (!seen[$2]++) order[++k] = $2 }
    function show(ns) {
        return ns >= 1e6 ? sprintf("%.3f ms", ns / 1e6) : sprintf("%.1f µs", ns / 1e3)
    }
    END {
        printf "%-26s %12s %12s %7s\n", "bench", base, "working tree", "ratio"
        for (i = 1; i <= k; i++) {
            b = order[i]
            mb = sum["base " b] / n["base " b]; mh = sum["head " b] / n["head " b]
            printf "%-26s %12s %12s %7.3f\n", b, show(mb), show(mh), mh / mb
            if (b == "crs_pl1/benign_get" || last == "") { last = b; ratio = mh / mb }
        }
        printf "waf-ab: %s..working tree %s ratio=%.3f\n", base, last, ratio
    }' "$WORK/results"
