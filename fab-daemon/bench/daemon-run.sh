#!/bin/bash
# daemon-run.sh N [ROUNDS]: full, no-op, one-changed-.c and one-changed-shared-header build times of
# fab through its daemons, against make -j2 and ninja -j2 in the same run, on one project of N files
# made by generate.sh; prints medians in ms, the ratios fab/make and fab/ninja, and the resident
# memory of the project's four fab processes (fabd, faba and their fabws: VmRSS summed, and PSS, which
# counts pages the processes share, such as libjvm.so and the class-data archive, once).
# FULL_ROUNDS (default: ROUNDS) full builds of each tool, from an empty build/ each, with the daemons
# warm (the first full build, which starts them, is not counted); with FULL_ROUNDS=0 the first full
# builds are the figures.
#
# "Through the daemon": the first fab of the project starts fabd, which keeps the graph in memory;
# a second, untimed fab makes sure it is up and has planned once. Every timed fab after that is a
# client of that fabd. (run.sh times fab from a cold project instead.) Each round times, for each
# tool in turn, a no-op build, a build after one source file changed and a build after one shared
# header (src/dK/local.h, 100 includers) changed, so the machine's noise spreads over all three tools
# alike.
#
# Needs: target/fab-dist (mvn package), gcc, make, ninja (installed with apt-get when missing and
# running as root). WORK (default /tmp/fab-bench-daemon) holds the three copies of the project and
# the daemons' IPC and tmp directories (FAB_IPC_DIR, FAB_TMP_DIR), so the daemons this run starts are
# told from any others by their --ipc-dir and stopped at the end.
# REUSE=1 times the trees a previous run left in WORK (another FAB against the same built trees, where a
# 10,000-file full build takes many minutes): no generation and no first full builds; fab's daemons are
# started afresh by the two untimed fab runs, and with FULL_ROUNDS=0 the full-build figures are the
# previous run's first full builds.
set -euo pipefail
n=${1:-1000}
rounds=${2:-5}
full_rounds=${FULL_ROUNDS:-$rounds}
here=$(cd "$(dirname "$0")" && pwd)
fab=${FAB:-$here/../target/fab-dist/bin/fab}
work=${WORK:-/tmp/fab-bench-daemon}
jobs=2
tools="fab make ninja"

say() { printf 'daemon-run: %s\n' "$*" >&2; }
die() { printf 'daemon-run: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/(b?b:1)}'; }

[ -x "$fab" ] || die "no fab at $fab: run ./mvnw -B -f fab-daemon/pom.xml package -DskipTests (or set FAB)"
# bin/fab takes JAVA_HOME, else the java on PATH, which may be older than 25: find one as ./fabric does.
# shellcheck source=../../docker/base/find-jdk.sh
. "$here/../../docker/base/find-jdk.sh"
fabric_find_jdk || exit 1
if ! command -v ninja >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "ninja is missing: sudo apt-get install -y ninja-build"
  say "installing ninja-build"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ninja-build >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ninja-build >/dev/null; }
fi
for tool in gcc make ar; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install -y gcc make binutils)"
done

export FAB_IPC_DIR="$work/ipc" FAB_TMP_DIR="$work/tmp"

# The daemons of this run's project: their arguments name its IPC directory. The pattern reaches awk
# through the environment so that awk's own arguments do not match it.
our_daemons() {
  ps -e -o pid=,comm=,args= | IPC="--ipc-dir $FAB_IPC_DIR" awk 'index($0, ENVIRON["IPC"]) {print}'
}
stop_daemons() {
  local pids
  pids=$(our_daemons | awk '{print $1}')
  [ -z "$pids" ] || kill $pids 2>/dev/null || true
}
trap stop_daemons EXIT

build() {
  case $1 in
    fab) "$fab" -j $jobs >/dev/null ;;
    make) make -s -j $jobs >/dev/null ;;
    ninja) ninja -j $jobs >/dev/null ;;
  esac
}

timed() {
  local t0 t1
  t0=$(now); build "$1" || return 1; t1=$(now)
  echo $(( (t1 - t0) / 1000000 ))
}

stop_daemons
if [ "${REUSE:-0}" = 1 ]; then
  for tool in $tools; do
    [ -x "$work/$tool/build/app" ] && [ -f "$work/times.$tool.first" ] || die "REUSE=1: no built $tool tree in $work"
    for kind in full noop change header; do : > "$work/times.$tool.$kind"; done
  done
  say "reusing the built trees in $work"
else
  # One generation, three copies: generate.sh is slow at 10,000 files, and every tool gets the same tree.
  rm -rf "$work"
  mkdir -p "$work"
  say "generating $n files"
  "$here/generate.sh" "$n" "$work/src"
  for tool in $tools; do
    cp -a "$work/src" "$work/$tool"
    for kind in full noop change header; do : > "$work/times.$tool.$kind"; done
  done

  say "full builds (the first fab starts fabd; not part of the figures below)"
  for tool in $tools; do
    cd "$work/$tool"
    t=$(timed "$tool")
    say "$tool full build: $t ms"
    echo "$t" > "$work/times.$tool.first"
    cd - >/dev/null
  done
fi
(cd "$work/fab" && build fab)
(cd "$work/fab" && build fab)
if our_daemons | awk '$2 == "fabd" || index($0, "dev.fabric.fab.daemon.Fabd ") {found = 1} END {exit !found}'; then
  say "fabd is running: the timed fab builds go through it"
else
  say "warning: no fabd for this project after two fab runs; these are figures of fab without a daemon"
fi

clean() {
  case $1 in
    fab) rm -rf build ;;
    make) rm -rf build ;;
    ninja) rm -rf build .ninja_log .ninja_deps ;;
  esac
}

ndirs=$(( (n + 99) / 100 ))
for r in $(seq "$rounds"); do
  for tool in $tools; do
    cd "$work/$tool"
    t=$(timed "$tool"); echo "$t" >> "$work/times.$tool.noop"
    # A different file each round, a content change (fab hashes contents; make and ninja see the mtime).
    printf '/* round %d */\n' "$r" >> "src/d0/f$(( (r - 1) % (n < 100 ? n : 100) )).c"
    t=$(timed "$tool"); echo "$t" >> "$work/times.$tool.change"
    # One directory's shared header: its 100 objects (fewer in a smaller project), its archive, the link.
    printf '/* round %d */\n' "$r" >> "src/d$(( (r - 1) % ndirs ))/local.h"
    t=$(timed "$tool"); echo "$t" >> "$work/times.$tool.header"
    cd - >/dev/null
  done
  say "round $r of $rounds done"
done
for r in $(seq "$full_rounds"); do
  for tool in $tools; do
    cd "$work/$tool"
    clean "$tool"
    t=$(timed "$tool"); echo "$t" >> "$work/times.$tool.full"
    cd - >/dev/null
  done
  say "full build $r of $full_rounds done"
done
if [ "$full_rounds" = 0 ]; then
  # No full rounds asked (a large project on a busy machine): the first full builds stand in, fab's
  # including the start of its daemons.
  for tool in $tools; do cp "$work/times.$tool.first" "$work/times.$tool.full"; done
fi
for tool in $tools; do
  [ "$("$work/$tool/build/app")" = "$("$work/fab/build/app")" ] || die "$tool's build/app prints something else than fab's"
done

printf '| %s files, through the daemon | full build | no-op build | one-file change | one shared header |\n|---|---|---|---|---|\n' "$n"
for tool in $tools; do
  printf '| %s | %s ms | %s ms | %s ms | %s ms |\n' "$tool" "$(median < "$work/times.$tool.full")" "$(median < "$work/times.$tool.noop")" \
    "$(median < "$work/times.$tool.change")" "$(median < "$work/times.$tool.header")"
done
for kind in full noop change header; do
  f=$(median < "$work/times.fab.$kind"); m=$(median < "$work/times.make.$kind"); j=$(median < "$work/times.ninja.$kind")
  printf '%s: fab/make %s, fab/ninja %s (medians of %s rounds)\n' "$kind" "$(ratio "$f" "$m")" "$(ratio "$f" "$j")" \
    "$( [ "$kind" = full ] && echo "$full_rounds" || echo "$rounds")"
done
# The four processes: fabd and faba (their pid directories under the tmp root) and their parents, the fabws,
# as they stay between commands: after 15 s without one (the daemons give the C heap back every 10 s).
sleep 15
rss=0; pss=0
for p in $(ls "$FAB_TMP_DIR/pid"); do
  for q in "$p" "$(ps -o ppid= -p "$p" | tr -d ' ')"; do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$q/status"); s=$(awk '/^Pss:/ {print $2}' "/proc/$q/smaps_rollup")
    say "$(cat "/proc/$q/comm") $q: VmRSS $((r / 1024)) MiB, PSS $((s / 1024)) MiB"
    rss=$((rss + r)); pss=$((pss + s))
  done
done
printf 'footprint of the four fab processes: %s MiB resident (VmRSS summed), %s MiB PSS\n' $((rss / 1024)) $((pss / 1024))
