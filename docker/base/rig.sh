#!/usr/bin/env bash
# Makes this machine's container rig ready for the tests: the same script for developers and CI.
#
#   docker/base/rig.sh            install docker.io, debootstrap, openssl, the network lab's
#                                 iproute2, iptables, openssh-server, and the console tests'
#                                 chromium and chromium-driver when absent (needs root),
#                                 start dockerd when it does not answer, build fabric/base:local
#   docker/base/rig.sh --check    only report what is missing; exit 1 when something is
#
# No registry is reachable from the build machines, so the base image is made here:
# a Debian minbase root file system (debootstrap) plus a Java runtime cut with jlink from the
# local JDK 25. It is cached: nothing is rebuilt while the image exists (FABRIC_REBUILD_BASE=1
# forces a rebuild).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=${FABRIC_BASE_IMAGE:-fabric/base:local}
suite=${FABRIC_BASE_SUITE:-bookworm}
log_dir=${FABRIC_RIG_LOG_DIR:-/tmp}

say() { printf 'rig: %s\n' "$*" >&2; }
die() { printf 'rig: error: %s\n' "$*" >&2; exit 1; }

# The Java runtime's modules: java.se plus what Spring Boot, Micrometer, junixsocket, the escrow
# sidecar's HTTP port (jdk.httpserver) and operators' tools reach for. The image carries the list as a
# label; an image made with another list is made again.
modules=java.se,jdk.unsupported,jdk.management,jdk.management.agent,jdk.zipfs,jdk.naming.dns,jdk.jfr,jdk.net,jdk.crypto.cryptoki,jdk.localedata,jdk.jcmd,jdk.httpserver
modules_label=dev.fabric.base.modules
base_is_current() {
  [ "$(docker image inspect -f "{{index .Config.Labels \"$modules_label\"}}" "$image" 2>/dev/null)" = "$modules" ]
}

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)
# OpenSslReadsFabricKeysTest checks that standard tools read the fabric's key files.
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
# The network lab (docker/lab/netlab.sh, the @RequiresNetworkLab tests): namespaces, firewalls, an sshd per host;
# openssh-server also for the SSH launcher's tests (spawner-service launch/ssh), a private sshd on loopback.
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need_packages+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need_packages+=(iptables)
[ -x /usr/sbin/sshd ] || need_packages+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_packages+=(openssh-client)
# The console's browser tests (fabric-cli ConsoleIT) drive Debian's headless Chromium through its chromedriver.
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
[ -x /usr/bin/chromedriver ] || need_packages+=(chromium-driver)

if [ "$check_only" = 1 ]; then
  missing=0
  [ ${#need_packages[@]} -eq 0 ] || { say "missing packages: ${need_packages[*]}"; missing=1; }
  docker info >/dev/null 2>&1 || { say "docker engine does not answer"; missing=1; }
  docker image inspect "$image" >/dev/null 2>&1 || { say "image $image is absent"; missing=1; }
  docker image inspect "$image" >/dev/null 2>&1 && ! base_is_current && { say "image $image lacks modules of $modules"; missing=1; }
  exit $missing
fi

if [ ${#need_packages[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "installing ${need_packages[*]} needs root; run: sudo apt-get install -y ${need_packages[*]}"
  say "installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "the docker engine does not answer and starting it needs root"
  say "starting dockerd (log: $log_dir/dockerd.log)"
  nohup dockerd >"$log_dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -n 20 "$log_dir/dockerd.log" >&2; die "dockerd did not answer within 60 s"; }
fi

if [ "${FABRIC_REBUILD_BASE:-0}" != 1 ] && base_is_current; then
  say "image $image present"
else
  # shellcheck source=find-jdk.sh
  . "$here/find-jdk.sh"
  fabric_find_jdk || exit 1
  mirror=${FABRIC_DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    # The mirror apt is configured with: deb822 sources first, then the classic list.
    mirror=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -E 'security|nodesource|google' | head -n 1 || true)
    [ -n "$mirror" ] || mirror=$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  fi
  work=$(mktemp -d /tmp/fabric-base.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  say "debootstrap $suite from $mirror (log: $log_dir/debootstrap.log)"
  debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$log_dir/debootstrap.log" 2>&1 \
    || { tail -n 20 "$log_dir/debootstrap.log" >&2; die "debootstrap failed"; }
  say "jlink a Java runtime from $JAVA_HOME"
  "$JAVA_HOME/bin/jlink" \
    --add-modules "$modules" \
    --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
    --output "$work/rootfs/opt/java/openjdk"
  rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*
  say "importing $image"
  tar -C "$work/rootfs" -c . | docker import \
    --change 'ENV JAVA_HOME=/opt/java/openjdk' \
    --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL $modules_label=$modules" \
    - "$image" >/dev/null
fi

# Testcontainers' start-up check runs a tiny alpine:3.17 container; no registry can serve it here.
docker image inspect alpine:3.17 >/dev/null 2>&1 || docker tag "$image" alpine:3.17
say "ready: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), image $image"
