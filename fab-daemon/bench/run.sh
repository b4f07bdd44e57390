#!/bin/bash
# run.sh N [ROUNDS]: full, no-op and one-change build times of fab (a fresh process each run),
# make -j2 and ninja -j2 on the same generated project of N files; prints medians in ms.
# Needs: target/fab-dist (mvn package), gcc, make, ninja (apt-get install ninja-build).
set -euo pipefail
n=${1:-1000}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
fab=${FAB:-$here/../target/fab-dist/bin/fab}
work=${WORK:-/tmp/fab-bench}
jobs=2

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mkdir -p "$work"
times="$work/times"
for tool in fab make ninja; do
  for kind in full noop change; do : > "$times.$tool.$kind"; done
done

build() {
  case $1 in
    fab) "$fab" -j $jobs >/dev/null ;;
    make) make -s -j $jobs >/dev/null ;;
    ninja) ninja -j $jobs >/dev/null ;;
  esac
}

for r in $(seq "$rounds"); do
  for tool in fab make ninja; do
    "$here/generate.sh" "$n" "$work/$tool"
    cd "$work/$tool"
    t0=$(now); build $tool; t1=$(now)
    echo $(( (t1 - t0) / 1000000 )) >> "$times.$tool.full"
    t0=$(now); build $tool; t1=$(now)
    echo $(( (t1 - t0) / 1000000 )) >> "$times.$tool.noop"
    echo '/* changed */' >> src/d0/f0.c
    t0=$(now); build $tool; t1=$(now)
    echo $(( (t1 - t0) / 1000000 )) >> "$times.$tool.change"
    ./build/app > /dev/null
    cd - > /dev/null
  done
done

printf '| %s files | full build | no-op build | one-file change |\n|---|---|---|---|\n' "$n"
for tool in fab make ninja; do
  printf '| %s | %s ms | %s ms | %s ms |\n' "$tool" "$(median < "$times.$tool.full")" "$(median < "$times.$tool.noop")" "$(median < "$times.$tool.change")"
done
for kind in full noop change; do
  f=$(median < "$times.fab.$kind"); m=$(median < "$times.make.$kind"); j=$(median < "$times.ninja.$kind")
  printf '%s: fab/make %s, fab/ninja %s\n' "$kind" "$(awk -v a="$f" -v b="$m" 'BEGIN{printf "%.2f", a/(b?b:1)}')" "$(awk -v a="$f" -v b="$j" 'BEGIN{printf "%.2f", a/(b?b:1)}')"
done
