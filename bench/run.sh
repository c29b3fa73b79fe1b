#!/usr/bin/env bash
# bench/run.sh - every measurement of `make bench`, in order, then the report.
#
# Called by `make bench` once bench/build/floor and bench/build/peers are built
# (see bench/bench.mk for the variables). Each step writes its figures under
# bench/build/out; bench/report.exs joins them into bench/RESULTS.md and
# bench/results.json (and the charts bench/results.svg, bench/growth.svg). A
# missing optional tool (valgrind, node, npm, gnuplot) skips its step with a
# line saying so.
set -euo pipefail

B=${BENCH_BUILD:-bench/build}
FIX=$B/fixtures
OUT=$B/out
ALGS="RS256 RS512 PS256 ES256 EdDSA"
if [ -n "${BENCH_QUICK:-}" ]; then
  : "${BENCH_ROUND_MS:=50}" "${BENCH_ROUNDS:=3}" "${BENCH_MEMORY_N:=20000}"
  : "${BENCH_THROUGHPUT_MS:=500}" "${BENCH_CALLGRIND_N:=10}"
  : "${BENCH_GROWTH_ROUNDS:=2}" "${BENCH_GROWTH_ROUND_MS:=20}"
fi
export BENCH_GROWTH_ROUNDS=${BENCH_GROWTH_ROUNDS:-5} BENCH_GROWTH_ROUND_MS=${BENCH_GROWTH_ROUND_MS:-60}
export BENCH_ROUND_MS=${BENCH_ROUND_MS:-150} BENCH_ROUNDS=${BENCH_ROUNDS:-11}
export BENCH_MEMORY_N=${BENCH_MEMORY_N:-1000000} BENCH_THROUGHPUT_MS=${BENCH_THROUGHPUT_MS:-2000}
CG_N=${BENCH_CALLGRIND_N:-100}

step() { printf '\n== %s\n' "$*"; }
# How many cores the machine really gives: the floor alone, then two floors at
# once; on a shared machine the throughput scaling can be no better than this.
cores_check() {
  local alone pair
  alone=$("$B/floor" floor "$FIX" 1000 RS256)
  pair=$( ("$B/floor" floor "$FIX" 1000 RS256 & "$B/floor" floor "$FIX" 1000 RS256 & wait) | tr '\n' ',')
  printf '{"alone":%s,"pair":[%s]}\n' "$alone" "${pair%,}" | tee -a "$OUT/cores_check.jsonl"
}
skip() { printf 'skipped: %s\n' "$*" | tee -a "$OUT/skipped.txt"; }

rm -rf "$OUT" "$FIX"
mkdir -p "$OUT"
started=$(date +%s)
cat /proc/loadavg >"$OUT/loadavg.start" 2>/dev/null || true

step "fixtures: keys and tokens signed by OTP :public_key"
elixir bench/fixtures.exs "$FIX"

step "C: the OpenSSL floor (EVP_DigestVerify alone) and the jwks_verify core (jv_jwt_verify)"
"$B/floor" version >"$OUT/openssl.json"
uname -r >"$OUT/uname.txt"
dpkg-query -W -f='${Package} ${Version}\n' libcjose0 libjwt0 erlang-jose 2>/dev/null >"$OUT/debs.txt" || true
"$B/floor" time "$FIX" "$BENCH_ROUND_MS" "$BENCH_ROUNDS" $ALGS | tee "$OUT/floor.jsonl"

step "callgrind: instructions per verification, core against floor ($CG_N each)"
if command -v valgrind >/dev/null; then
  for alg in $ALGS; do
    for which in floor copy core; do
      valgrind --tool=callgrind --toggle-collect="loop_${which}*" \
        --callgrind-out-file="$OUT/callgrind.$alg.$which.out" \
        "$B/floor" loop "$FIX" "$alg" "$which" "$CG_N" >/dev/null 2>"$OUT/callgrind.$alg.$which.log"
      printf '%s %s: %s instructions in %s verifications\n' "$alg" "$which" \
        "$(sed -n 's/^totals: //p' "$OUT/callgrind.$alg.$which.out")" "$CG_N"
    done
  done
  echo "$CG_N" >"$OUT/callgrind.n"
  # Where the core's extra instructions go: inclusive cost per function.
  callgrind_annotate --inclusive=yes --threshold=99.5 "$OUT/callgrind.RS256.core.out" \
    >"$OUT/profile.RS256.core.txt" 2>/dev/null || true
  callgrind_annotate --inclusive=no --threshold=99.5 "$OUT/callgrind.RS256.core.out" \
    >"$OUT/profile.RS256.core.self.txt" 2>/dev/null || true
else
  skip "callgrind: valgrind is not installed (make bench-deps installs it)"
fi

step "C peers from Debian: cjose and libjwt"
"$B/peers" time "$FIX" "$BENCH_ROUND_MS" "$BENCH_ROUNDS" $ALGS | tee "$OUT/peers.jsonl"

step "Node: jose v5 jwtVerify with createLocalJWKSet"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  skip "node jose: node or npm is not installed"
else
  NODE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/jwks_verify_bench_node.XXXXXX")
  trap 'rm -rf "$NODE_DIR"' EXIT
  if (cd "$NODE_DIR" && timeout 300 npm install --no-audit --no-fund --no-save --loglevel=error jose@5 >npm.log 2>&1); then
    cp bench/jose_node.mjs "$NODE_DIR/"
    node --version >"$OUT/node.version"
    node -p 'require(process.argv[1] + "/node_modules/jose/package.json").version' "$NODE_DIR" >"$OUT/node_jose.version"
    node "$NODE_DIR/jose_node.mjs" "$FIX" "$BENCH_ROUND_MS" "$BENCH_ROUNDS" $ALGS | tee "$OUT/node.jsonl"
  else
    skip "node jose: npm install jose@5 failed ($(tail -n 1 "$NODE_DIR/npm.log"))"
  fi
fi

step "two-core check: one floor process, then two at once"
cores_check

step "BEAM: jwks_verify (normal and dirty scheduler), the cache, the guard, JOSE, :public_key; throughput; memory"
BENCH_FIXTURES=$FIX BENCH_OUT=$OUT BENCH_FLOOR=$B/floor mix run bench/bench.exs

step "BEAM: how the cost grows (keys, token size, key set parsing, refusals, normal-scheduler hold)"
BENCH_OUT=$OUT mix run bench/growth.exs

step "C: the floor again, to see how much the machine drifted during the run"
"$B/floor" time "$FIX" "$BENCH_ROUND_MS" "$BENCH_ROUNDS" RS256 | tee "$OUT/floor_after.jsonl"
cores_check

echo $(($(date +%s) - started)) >"$OUT/seconds"
cat /proc/loadavg >"$OUT/loadavg.end" 2>/dev/null || true
step "report"
elixir bench/report.exs "$OUT" bench
