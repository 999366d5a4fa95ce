#!/usr/bin/env bash
# The documented long fuzzing run (docs/RELIABILITY.md, firmware/fuzz/README.md): builds every
# libFuzzer harness in firmware/fuzz/ with clang (ASan + UBSan), runs each from its checked-in seed
# corpus for a number of executions (default 10 million) or a time budget, and prints one line per
# harness with its exec count, time and result. Exits 1 when any harness has a finding (its crash
# input is kept under OUT/artifacts/), 2 when clang's libFuzzer is missing.
#
#   scripts/fuzz-long.sh [--runs N] [--time SECONDS] [--only NAME[,NAME...]] [--out DIR] [--parallel] [--record]
#
#   --runs N     executions per harness (default 10000000)
#   --time S     stop each harness after S seconds instead (whichever of --runs/--time comes first)
#   --only       harnesses to run: cobs, proto, device, table, table-body (default: all that exist)
#   --out DIR    build and work directory (default build/fuzz)
#   --parallel   run the harnesses side by side (one process each) instead of one after another
#   --record     write the result table into docs/RELIABILITY.md between its fuzz-results markers
#
# Harnesses run one after another unless --parallel; a run's new corpus entries stay in OUT/corpus/NAME
# and are reused by the next run, never written back to the checked-in seeds.
set -u
cd "$(dirname "$0")/.."

runs=10000000
time_budget=0
only=""
out="build/fuzz"
record=0
parallel=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --time) time_budget="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --record) record=1; shift ;;
    --parallel) parallel=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "fuzz-long: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# name | harness source | extra flags (-D and -W go to clang, the rest to the fuzzer) | firmware sources | seed corpus | max input length (empty: libFuzzer's default) | cold sources
#
# Cold sources are compiled with the sanitizers and edge coverage but without comparison tracing
# (-fno-sanitize-coverage=trace-cmp): code another harness fuzzes with full tracing (COBS, CRC:
# fuzz_cobs/fuzz_proto; SHA-256: fuzz_table) or that only computes on tables the reader validated
# (ps_net, kernels). In the dispatcher harness their byte loops spent two thirds of the time in
# libFuzzer's cmp callbacks; without them it runs ~2.5x the executions at the same coverage.
harnesses=(
  "cobs|firmware/fuzz/fuzz_cobs.c||ps_cobs.c|firmware/fuzz/corpus/cobs|1100|"
  "proto|firmware/fuzz/fuzz_proto.c||ps_crc16.c ps_cobs.c ps_frame.c ps_proto.c|firmware/fuzz/corpus/proto|1100|"
  "device|firmware/fuzz/fuzz_device.c|-DPS_DEVICE_POOL_BYTES=65536 -Wno-parentheses-equality|ps_frame.c ps_proto.c ps_device.c ps_table.c|firmware/fuzz/corpus/device|4096|ps_crc16.c ps_cobs.c ps_net.c ps_kernels_generated.c ps_sha256.c"
  "table|firmware/fuzz/fuzz_table.c|-dict=firmware/fuzz/table.dict|ps_table.c ps_sha256.c|firmware/fuzz/corpus/table||"
  "table-body|firmware/fuzz/fuzz_table.c|-DPS_FUZZ_BODY -dict=firmware/fuzz/table.dict|ps_table.c ps_sha256.c|firmware/fuzz/corpus/table-body||"
)

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz-long: clang is not installed (Debian packages clang, libclang-rt-14-dev; scripts/install-system-deps.sh)" >&2
  exit 2
fi
mkdir -p "$out/bin" "$out/artifacts" "$out/logs"
probe="$out/bin/probe"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe.c"
if ! clang -fsanitize=fuzzer "$probe.c" -o "$probe" 2>/dev/null; then
  echo "fuzz-long: clang cannot link libFuzzer (install libclang-rt-14-dev; scripts/install-system-deps.sh)" >&2
  exit 2
fi

flags=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 -std=c99 -Ifirmware/include -Ifirmware/kernels)

# Runs one built harness; writes its result row to OUT/logs/NAME.result.
run_one() {
  local name="$1" bin="$2" seeds="$3"
  shift 3
  local work="$out/corpus/$name" log="$out/logs/$name.log"
  mkdir -p "$work" "$out/artifacts/$name"
  local limit=(-runs="$runs")
  [ "$time_budget" != "0" ] && limit+=(-max_total_time="$time_budget")
  local started status seconds execs cov artifact result
  started=$(date +%s)
  "$bin" "$work" "$seeds" "${limit[@]}" "$@" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$name/" -close_fd_mask=1 >"$log" 2>&1
  status=$?
  seconds=$(( $(date +%s) - started ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  artifact=$(ls -1 "$out/artifacts/$name" 2>/dev/null | head -1)
  if [ $status -eq 0 ] && [ -z "$artifact" ]; then
    result="no finding"
  else
    result="FINDING (exit $status): $out/artifacts/$name/${artifact:-?}, see $log"
  fi
  echo "$name: ${execs:-?} executions in ${seconds} s, ${cov:-cov ?}; $result"
  echo "| $name | ${execs:-?} | ${seconds} | ${cov:-?} | $result |" >"$out/logs/$name.result"
}

selected=()
for entry in "${harnesses[@]}"; do
  IFS='|' read -r name src extra fw seeds max_len cold <<<"$entry"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  rm -f "$out/logs/$name.result"
  if [ ! -f "$src" ] || [ ! -d "$seeds" ]; then
    echo "$name: skipped ($src or $seeds missing)"
    continue
  fi
  defines=()
  run_flags=()
  for x in $extra; do
    case "$x" in -D*|-W*) defines+=("$x") ;; *) run_flags+=("$x") ;; esac
  done
  [ -n "$max_len" ] && run_flags+=(-max_len="$max_len")
  sources=()
  for f in $fw; do sources+=("firmware/src/$f"); done
  bin="$out/bin/fuzz_$name"
  cold_ok=1
  : >"$out/logs/$name.build.log"
  for f in $cold; do
    obj="$out/bin/${name}_${f%.c}.o"
    clang -c "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -fno-sanitize-coverage=trace-cmp "${defines[@]}" "firmware/src/$f" -o "$obj" 2>>"$out/logs/$name.build.log" || cold_ok=0
    sources+=("$obj")
  done
  if [ $cold_ok -eq 0 ] || ! clang "${flags[@]}" "${defines[@]}" "$src" "${sources[@]}" -o "$bin" 2>>"$out/logs/$name.build.log"; then
    echo "$name: BUILD FAILED (see $out/logs/$name.build.log)"
    echo "| $name | build failed | | | see $out/logs/$name.build.log |" >"$out/logs/$name.result"
    selected+=("$name")
    continue
  fi
  selected+=("$name")
  if [ $parallel -eq 1 ]; then
    run_one "$name" "$bin" "$seeds" "${run_flags[@]}" &
  else
    run_one "$name" "$bin" "$seeds" "${run_flags[@]}"
  fi
done
wait

results=()
found=0
for name in "${selected[@]}"; do
  row=$(cat "$out/logs/$name.result" 2>/dev/null || echo "| $name | ? | | | no result |")
  results+=("$row")
  [[ "$row" == *"no finding"* ]] || found=1
done

if [ $record -eq 1 ] && [ ${#results[@]} -gt 0 ]; then
  doc=docs/RELIABILITY.md
  table="Run of $(date -u +%Y-%m-%d) on $(nproc) cores ($(clang --version | head -1)); command: \`scripts/fuzz-long.sh$( [ $parallel -eq 1 ] && echo " --parallel")$( [ "$time_budget" != 0 ] && echo " --time $time_budget")$( [ "$runs" != 10000000 ] && echo " --runs $runs")$( [ -n "$only" ] && echo " --only $only")\`."$'\n\n'"| harness | executions | seconds | coverage | result |"$'\n'"| --- | --- | --- | --- | --- |"
  for row in "${results[@]}"; do table+=$'\n'"$row"; done
  FUZZ_TABLE="$table" node -e '
    const fs = require("fs");
    const doc = fs.readFileSync(process.argv[1], "utf8");
    const begin = "<!-- fuzz-results:begin -->", end = "<!-- fuzz-results:end -->";
    const a = doc.indexOf(begin), b = doc.indexOf(end);
    if (a < 0 || b < a) { console.error("fuzz-long: markers missing in " + process.argv[1]); process.exit(1); }
    fs.writeFileSync(process.argv[1], doc.slice(0, a + begin.length) + "\n" + process.env.FUZZ_TABLE + "\n" + doc.slice(b));
  ' "$doc" && echo "recorded in $doc"
fi
exit $found
