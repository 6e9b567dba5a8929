#!/usr/bin/env bash
# The WAF benches (one transaction through the full CRS) of sekisho against its peer,
# libmodsecurity 3 (ModSecurity v3, the system package), in one run: the same CRS, setup,
# requests and response (crates/sekisho-waf/benches/crs.rs; bench/modsec/bench.c mirrors it),
# both in-process, run alternately, with the ratio modsec/sekisho of each bench (how many
# times faster sekisho is). On a shared machine absolute times drift; ratios of one run hold.
#
# Usage: bench/waf-peer.sh [FILTER]
#   FILTER  an extended regex over the bench names (`benign`, `crs_pl1`, `crs_pl2/sqli_get`);
#           all ten (crs_pl1/* and crs_pl2/*: benign_get json_post_2k form_post_10k
#           multipart_100k sqli_get) when left out
#
# Both sides report a mean per transaction, and the ratio is of the means: criterion's `time:`
# estimate for sekisho, the mean over all timed chunks for ModSecurity (whose fastest and
# median chunk are printed too, for information).
#
# Timing: crs.rs's groups set their own warm-up (1 s), measurement time (3 s) and sample size
# (20), and in criterion 0.5 a group's settings win over `--warm-up-time`/`--measurement-time`
# on the command line; the harness gets the same 1 s warm-up and BENCH_SECONDS of timing.
#
# Last line: waf-peer: crs_pl1/benign_get modsec/sekisho=R (or the first bench run).
#
# Environment: BENCH_ROUNDS (rounds of each engine per bench, alternating which goes first;
# default 2), BENCH_SECONDS (the harness's timing per bench, default 3, as crs.rs's
# measurement time), MODSEC_CHUNK (ModSecurity transactions per timed chunk; default 0: as
# many as take about 0.2 s, so that a 30 ms transaction still gives a dozen chunks),
# BENCH_CPU (when set, both engines run under `taskset -c $BENCH_CPU`), MODSEC_LD_PRELOAD
# (an allocator for ModSecurity, e.g. /usr/lib/x86_64-linux-gnu/libmimalloc.so.2 from
# libmimalloc2.0: sekisho's bench uses mimalloc, the harness glibc's malloc unless this is
# set), CRS_DIR (default ../shared/crs), CARGO_TARGET_DIR. Needs libmodsecurity-dev, a C
# compiler and pkg-config: installed with apt-get when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILTER=${1:-}
ROUNDS=${BENCH_ROUNDS:-2}
SECONDS_PER_BENCH=${BENCH_SECONDS:-3}
CHUNK=${MODSEC_CHUNK:-0}
WANT_CRS=${CRS_DIR:-$ROOT/../shared/crs}
CRS_DIR=$(cd "$WANT_CRS" 2>/dev/null && pwd) || {
    echo "waf-peer: the CRS is missing (looked for $WANT_CRS; set CRS_DIR)" >&2
    exit 1
}
[ -f "$CRS_DIR/crs-setup.conf.example" ] && [ -d "$CRS_DIR/rules" ] || {
    echo "waf-peer: $CRS_DIR is not a CRS (no crs-setup.conf.example or rules/)" >&2
    exit 1
}
export CRS_DIR
has_modsec() { command -v pkg-config >/dev/null && pkg-config --exists modsecurity; }
if ! has_modsec && command -v apt-get >/dev/null; then
    echo "waf-peer: installing libmodsecurity-dev ..." >&2
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        libmodsecurity-dev pkg-config gcc libc6-dev >/dev/null
fi
has_modsec || {
    echo "waf-peer: libmodsecurity is missing (pkg-config modsecurity failed);" \
        "install it: apt-get install -y libmodsecurity-dev pkg-config" >&2
    exit 1
}
command -v cc >/dev/null || { echo "waf-peer: no C compiler (cc)" >&2; exit 1; }
PIN=()
[ -n "${BENCH_CPU:-}" ] && PIN=(taskset -c "$BENCH_CPU")
MODSEC_ENV=(env)
if [ -n "${MODSEC_LD_PRELOAD:-}" ]; then
    [ -f "$MODSEC_LD_PRELOAD" ] || { echo "waf-peer: no MODSEC_LD_PRELOAD file $MODSEC_LD_PRELOAD" >&2; exit 1; }
    MODSEC_ENV+=("LD_PRELOAD=$MODSEC_LD_PRELOAD")
    echo "waf-peer: ModSecurity runs with LD_PRELOAD=$MODSEC_LD_PRELOAD" >&2
fi

BENCHES=()
for pl in 1 2; do
    for req in benign_get json_post_2k form_post_10k multipart_100k sqli_get; do
        b="crs_pl$pl/$req"
        if [ -z "$FILTER" ] || grep -Eq -- "$FILTER" <<<"$b"; then BENCHES+=("$b"); fi
    done
done
[ ${#BENCHES[@]} -gt 0 ] || { echo "waf-peer: no bench matches '$FILTER'" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "waf-peer: building the ModSecurity harness ($(pkg-config --modversion modsecurity)) ..." >&2
# shellcheck disable=SC2046 # pkg-config's flags are words
cc -O2 -o "$WORK/modsec-bench" "$ROOT/bench/modsec/bench.c" $(pkg-config --cflags --libs modsecurity)

echo "waf-peer: building sekisho's crs bench ..." >&2
(cd "$ROOT" && cargo bench -p sekisho-waf --bench crs --no-run) >"$WORK/build.log" 2>&1 || {
    echo "waf-peer: cargo bench --no-run failed:" >&2; tail -40 "$WORK/build.log" >&2; exit 1
}
sek_bin=$(sed -n 's/.*Executable .*(\(.*\)).*/\1/p' "$WORK/build.log" | tail -1)
[ -x "$sek_bin" ] || { echo "waf-peer: the build failed (no bench binary at '$sek_bin')" >&2; exit 1; }
cp "$sek_bin" "$WORK/sekisho-bench"

# sekisho, one bench: prints its mean in ns. Its own baseline name, so that the default
# criterion baseline (`base`, which other runs compare against) is left alone.
run_sekisho() {
    local out
    out=$("${PIN[@]}" "$WORK/sekisho-bench" --bench --warm-up-time 1 \
        --measurement-time "$SECONDS_PER_BENCH" --save-baseline waf-peer "^$1\$" 2>"$WORK/err") || {
        echo "waf-peer: sekisho's bench $1 failed:" >&2; cat "$WORK/err" >&2; exit 1
    }
    awk '
        /time:/ {
            sub(/.*\[/, ""); v = $3; u = $4
            f = (u == "ns") ? 1 : (u == "µs" || u == "us") ? 1e3 : (u == "ms") ? 1e6 : 1e9
            printf "%.0f\n", v * f; found = 1; exit
        }
        END { if (!found) exit 1 }' <<<"$out" || {
        echo "waf-peer: no time: line from sekisho's bench $1:" >&2; echo "$out" >&2; exit 1
    }
}

# ModSecurity, one bench: prints "mean_ns fastest_ns median_ns".
run_modsec() {
    local pl=${1#crs_pl} out
    pl=${pl%%/*}
    out=$("${PIN[@]}" "${MODSEC_ENV[@]}" "$WORK/modsec-bench" \
        -n 1000000 -c "$CHUNK" -w 1 -t "$SECONDS_PER_BENCH" \
        "$CRS_DIR" "$pl" "${1#*/}" 2>"$WORK/err") || {
        echo "waf-peer: the ModSecurity harness failed on $1:" >&2; cat "$WORK/err" >&2; exit 1
    }
    if [ ! -e "$WORK/checked-pl$pl" ]; then
        sed 's/^/waf-peer: /' "$WORK/err" >&2   # the load and the interruption checks, once a PL
        touch "$WORK/checked-pl$pl"
    fi
    awk '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); x[kv[1]] = kv[2] }
        printf "%.0f %.0f %.0f\n", x["mean_us"] * 1e3, x["fastest_us"] * 1e3, x["median_us"] * 1e3
    }' <<<"$out"
}

# The engine run first for a bench may have the machine a little quieter: the order swaps
# every round.
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="sekisho modsec"; else order="modsec sekisho"; fi
    for b in "${BENCHES[@]}"; do
        for who in $order; do
            line="$who $b $("run_$who" "$b")"
            echo "$line" >>"$WORK/results"
            echo "waf-peer: round $r of $ROUNDS: $line (ns)" >&2
        done
    done
done

awk '
    { k = $1 " " $2; sum[k] += $3; n[k]++; if (!seen[$2]++) order[++m] = $2 }
    $1 == "modsec" {
        if (!(($2) in fast) || $4 < fast[$2]) fast[$2] = $4
        med[$2] += $5
    }
    function us(ns) { return sprintf("%.1f", ns / 1e3) }
    END {
        printf "%-24s %11s %11s %14s %10s %10s\n", "bench", "sekisho µs", "modsec µs",
            "modsec/sekisho", "(fastest", "median)"
        for (i = 1; i <= m; i++) {
            b = order[i]
            s = sum["sekisho " b] / n["sekisho " b]; q = sum["modsec " b] / n["modsec " b]
            printf "%-24s %11s %11s %14.1f %10s %10s\n", b, us(s), us(q), q / s,
                us(fast[b]), us(med[b] / n["modsec " b])
            if (b == "crs_pl1/benign_get" || last == "") { last = b; ratio = q / s }
        }
        printf "waf-peer: %s modsec/sekisho=%.1f\n", last, ratio
    }' "$WORK/results"
