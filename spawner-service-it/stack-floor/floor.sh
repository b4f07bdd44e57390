#!/usr/bin/env bash
# The stack's floor (docs/benchmarks.md, issue 21): how fast any member could start and how small it
# could stay, as long as a member is a Spring Boot application of its stack. Starts, taking turns,
#   web     Spring Boot with Spring MVC on Tomcat and Jackson, one endpoint;
#   stack   the same with what else every member has: Spring Security, WebSocket, Bean Validation,
#           the actuator with its health probes and Prometheus;
#   member  a queue member of the spawner's jar, as ./fabric up starts one;
# each with the members' JVM options (MemberJvm) and its own JDK AOT cache trained through its whole
# start, and prints per start: JVM start to ready (the readiness probe answering), the CPU it took,
# and its resident memory 15 s later (VmRSS).
#
#   spawner-service-it/stack-floor/floor.sh [ROUNDS]      (3 by default)
#
# Needs the spawner's jar (./fabric build) and a JDK 25 (./fabric java-home). Work files under
# spawner-service-it/target/stack-floor/. On demand only, never in the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
JAVA_HOME=${JAVA_HOME:-$("$root/fabric" java-home)}
export JAVA_HOME
work="$root/spawner-service-it/target/stack-floor"
spawner_jar="$root/spawner-service/target/spawner-service-exec.jar"
[ -f "$spawner_jar" ] || { echo "floor.sh: no $spawner_jar; run ./fabric build first" >&2; exit 1; }
port=18790
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# shellcheck source=../../docker/base/aot-cache.sh
source "$root/docker/base/aot-cache.sh"
mkdir -p "$work"
fabric_aot_app spawner "$spawner_jar" "$work/aot"
member_jar=$FABRIC_AOT_JAR
mapfile -t options < <("$JAVA_HOME/bin/java" -cp "$member_jar" dev.fabric.spawner.launch.MemberJvm)

# The two applications: built from this directory with the repository's Maven, extracted, each cache
# trained like the members' (started, its probe asked 20 times, stopped: the JVM writes the cache).
build() { # build VARIANT [MAVEN_ARGS...]
  local variant=$1 dir="$work/$1"
  shift
  "$root/mvnw" -B -q -f "$here/pom.xml" clean package -DskipTests "$@" >"$work/build-$variant.log" 2>&1 \
    || { echo "floor.sh: building the $variant variant failed: $work/build-$variant.log" >&2; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir"
  "$JAVA_HOME/bin/java" -Djarmode=tools -jar "$here/target/stack-floor.jar" extract --destination "$dir/app" >/dev/null
  start "$variant" -XX:AOTCacheOutput="$dir/app.aot"
  for _ in $(seq 20); do probe "$variant" || true; done
  kill "$pid" && wait "$pid" || true
  [ -s "$dir/app.aot" ] || { echo "floor.sh: no AOT cache for the $variant variant: $dir/run.log" >&2; exit 1; }
}

probe() { # probe VARIANT: asks what answers once VARIANT is ready (a member's probes need no user)
  case $1 in
    web) curl -sf -o /dev/null -u floor:floor "http://127.0.0.1:$port/ready" ;;
    stack) curl -sf -o /dev/null -u floor:floor "http://127.0.0.1:$port/actuator/health/readiness" ;;
    member) curl -sf -o /dev/null "http://127.0.0.1:$port/actuator/health/readiness" ;;
  esac
}

start() { # start VARIANT [JVM_OPTIONS...]: sets pid and ready_ms
  local variant=$1 t0 waited=0
  shift
  if [ "$variant" = member ]; then
    rm -rf "$work/member-data" && mkdir -p "$work/member-data"
    # A member whose spawner and registry do not answer: it serves its port, its bootstrap waits.
    env SPRING_PROFILES_ACTIVE=member FABRIC_SERVICE_ID=floor-member FABRIC_INCARNATION=1 FABRIC_ROLE=queue \
      FABRIC_SPAWNER_URL=http://127.0.0.1:9 FABRIC_SPAWNER_ID=none FABRIC_REGISTRY_URL=http://127.0.0.1:9 \
      FABRIC_OTP=unused FABRIC_MANAGEMENT_PORT=$port FABRIC_DATA_DIR="$work/member-data" FABRIC_KEYS_PATH= \
      FABRIC_MEMBER_SPAWNERTIMEOUT=60s \
      "$JAVA_HOME/bin/java" "${options[@]}" "$@" -Xlog:aot=off -Xlog:cds=off -Dserver.address=127.0.0.1 \
      -jar "$member_jar" >"$work/member.log" 2>&1 &
  else
    "$JAVA_HOME/bin/java" "${options[@]}" "$@" -Xlog:aot=off -Xlog:cds=off -jar "$work/$variant/app/stack-floor.jar" \
      --server.port=$port >"$work/$variant/run.log" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
  t0=$(date +%s%N)
  until probe "$variant"; do
    kill -0 "$pid" 2>/dev/null || { echo "floor.sh: the $variant variant ended before it was ready (see $work)" >&2; exit 1; }
    sleep 0.02
    waited=$((waited + 1))
    [ "$waited" -lt 3000 ] || { echo "floor.sh: the $variant variant was not ready within a minute" >&2; exit 1; }
  done
  ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}


build web
build stack -Pstack
# The members' cache as ./fabric up makes it.
fabric_aot_member_cache "$work/member.aot" "$work/aot-member.log" "${options[@]}" \
  || { echo "floor.sh: no members' AOT cache: $work/aot-member.log" >&2; exit 1; }

echo "floor: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for variant in web stack member; do
    case $variant in
      member) start member -XX:AOTCache="$work/member.aot" ;;
      *) start "$variant" -XX:AOTCache="$work/$variant/app.aot" ;;
    esac
    read -r -a stat <"/proc/$pid/stat"
    cpu_ms=$(( (stat[13] + stat[14]) * 1000 / $(getconf CLK_TCK) ))
    sleep 15
    rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status")
    kill "$pid" && wait "$pid" || true
    printf 'FLOOR round %d %-6s ready %5d ms, CPU to ready %5d ms, resident 15 s later %3d MiB\n' \
      "$round" "$variant" "$ready_ms" "$cpu_ms" "$rss"
  done
done
echo "floor: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
