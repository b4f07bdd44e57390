# The JDK's AOT cache (JEP 483, 514, 515) for a fabric service's runnable jar: classes loaded and
# linked, and method profiles, recorded by a training run and mapped by every later start.
# Sourced by ./fabric (up) and by the images' build (docker/*.Dockerfile); needs $JAVA_HOME.
#
# A cache belongs to one jar and one JVM: it lives in a directory named after both (the jar's
# SHA-256 and the JVM's version), next to the jar or wherever the caller says, and a new jar or
# JVM gets a new directory (the old one is removed). The JVM maps the cache only when the class
# path it runs with is the training run's, so the jar is extracted once (Spring Boot's
# `-Djarmode=tools extract`: the application jar and lib/) and always started from there.
#
#   fabric_aot_app NAME JAR ROOT    extracts JAR under ROOT/NAME-KEY/ (once); sets FABRIC_AOT_DIR
#                                   and FABRIC_AOT_JAR (the extracted jar to start with -jar)
#   fabric_aot_cache CACHE LOG [VAR=VALUE...] -- JAVA_ARGS...
#                                   checks CACHE against $FABRIC_AOT_JAR, the JVM and the JVM
#                                   options in JAVA_ARGS (those before -jar); when missing,
#                                   stale or damaged, makes it with a training run (the service
#                                   started with spring.context.exit=onRefresh: it builds its
#                                   context and exits before it listens), its output in LOG, the
#                                   VAR=VALUE pairs as its environment, JAVA_ARGS the rest of its
#                                   command line: the service's JVM options, -jar "$FABRIC_AOT_JAR"
#                                   and its arguments. A training run that has not ended after
#                                   $FABRIC_AOT_TRAINING_LIMIT seconds (300) is stopped (SIGTERM,
#                                   then SIGKILL 10 s later). The cache is kept only when the
#                                   run completed: it reached the end of the refresh (exit status
#                                   0). Returns 1 when no usable cache could be made or the run
#                                   did not complete: the service then starts without one, and
#                                   the next call trains again.
#   fabric_aot_cache_throwaway_keys CACHE LOG [VAR=VALUE...] -- JAVA_ARGS...
#                                   fabric_aot_cache for a service whose context needs the fabric
#                                   keys (the registry) where there are none (an image's build).
#   fabric_aot_member_cache CACHE LOG JVM_OPTIONS...
#                                   fabric_aot_cache for the members' cache: a queue member of the
#                                   spawner's jar ($FABRIC_AOT_JAR) in the member profile, whose
#                                   spawner and registry do not answer, started with JVM_OPTIONS
#                                   (the members' own: their collector and headers must match).
#                                   Trained through the member's whole start, not to its refresh:
#                                   spawner-service's MemberTraining starts the member on the
#                                   extracted jar's class path, waits until it is ready and
#                                   listening, asks its health probes and ends it (the member's
#                                   bootstrap, its spawner silent, ends it after its spawner-timeout,
#                                   10 s, if not). The cache is kept only when the run completed:
#                                   MemberTraining prints its fixed line once every probe answered.
#
# A check that passed is remembered in CACHE.checked (mode 0600) and made again only when the cache,
# the class path, the JVM or the options changed (fabric_aot_usable, fabric_aot_checked).
#
# Start with: java -XX:AOTCache=CACHE -Xlog:aot=off -Xlog:cds=off ... -jar "$FABRIC_AOT_JAR".
# (A cache that cannot be mapped is ignored by the JVM; the -Xlog options keep its warnings off.)

# fabric_aot_key JAR: the jar's checksum and the JVM's identity, as a directory name.
fabric_aot_key() {
  local jar_sum jvm_sum
  jar_sum=$(sha256sum "$1" | cut -c1-16) || return 1
  jvm_sum=$({ echo "$JAVA_HOME"; "$JAVA_HOME/bin/java" -version 2>&1; } | sha256sum | cut -c1-8) || return 1
  echo "$jar_sum-$jvm_sum"
}

fabric_aot_app() {
  local name=$1 jar=$2 root=$3 key dir old
  key=$(fabric_aot_key "$jar") || return 1
  dir="$root/$name-$key"
  FABRIC_AOT_DIR=$dir
  FABRIC_AOT_JAR="$dir/app/${jar##*/}"
  if [ -f "$FABRIC_AOT_JAR" ]; then
    return 0
  fi
  mkdir -p "$root" || return 1
  # Another jar or JVM: its caches are of no use any more, unless a running service (a fabric
  # started before the build, its members) still starts from them.
  for old in "$root/$name"-*; do
    # (The pattern comes through a pipe: in grep's own arguments it would always be found.)
    if [ -d "$old" ] && [ "$old" != "$dir" ] && ! grep -qsFf <(echo "$old/") /proc/[0-9]*/cmdline; then
      rm -rf "$old"
    fi
  done
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp" \
    && "$JAVA_HOME/bin/java" -Djarmode=tools -jar "$jar" extract --destination "$dir.tmp/app" >/dev/null \
    && mkdir -p "$dir" && rm -rf "$dir/app" && mv "$dir.tmp/app" "$dir/app" && rm -rf "$dir.tmp" \
    || { rm -rf "$dir.tmp"; return 1; }
}

# fabric_aot_usable CACHE [JVM_OPTIONS...]: whether the JVM maps CACHE for $FABRIC_AOT_JAR when
# started with JVM_OPTIONS (the service's: a cache is refused by a JVM whose collector or object
# header layout differs from the training run's); AOTMode=on makes a cache it cannot use an error
# instead of a warning, VerifySharedSpaces checks its regions' checksums. A check that passed is
# remembered in CACHE.checked (fabric_aot_checked) and not made again while nothing it looked at
# has changed; one that fails removes CACHE.checked.
fabric_aot_usable() {
  local cache=$1 checked
  shift
  checked=$(fabric_aot_checked "$cache" "$@")
  if [ -n "$checked" ] && [ -f "$cache.checked" ] && [ ! -L "$cache.checked" ] && [ -O "$cache.checked" ] \
    && [ "$(cat "$cache.checked" 2>/dev/null)" = "$checked" ]; then
    return 0
  fi
  rm -f "$cache.checked"
  [ -s "$cache" ] && "$JAVA_HOME/bin/java" "$@" -XX:AOTCache="$cache" -XX:AOTMode=on -XX:+VerifySharedSpaces \
    -Xlog:aot=off -Xlog:cds=off -cp "$FABRIC_AOT_JAR" -version >/dev/null 2>&1 || return 1
  [ -n "$checked" ] && fabric_aot_remember "$cache.checked" "$checked"
  return 0
}

# fabric_aot_checked CACHE [JVM_OPTIONS...]: what fabric_aot_usable's check of CACHE depends on, as
# text (stat's lines, the JVM's version, the options); empty when CACHE is not a regular file of
# this user's: its check is then never remembered. Files by their identity, not their content
# (hashing ~90 MB would cost a good part of the check): size, device, inode, mtime and ctime in ns;
# a file written in place changes its ctime, which no one can set back. The files: CACHE, the class
# path the JVM validates (the extracted jar, its lib/), the JVM (bin/java, libjvm.so). Then the
# JVM's version, the options and the JVM's own option variables, which it reads at every start.
# Taken before the check: a file changed during it shows at the next.
fabric_aot_checked() {
  local cache=$1 files file identity
  shift
  [ -f "$cache" ] && [ ! -L "$cache" ] && [ -O "$cache" ] || return 0
  files=("$cache" "$FABRIC_AOT_JAR" "$JAVA_HOME/bin/java")
  for file in "${FABRIC_AOT_JAR%/*}"/lib/*.jar "$JAVA_HOME"/lib/*/libjvm.so; do
    [ -e "$file" ] && files+=("$file")
  done
  identity=$(stat -L -c '%n %s %d %i %.9Y %.9Z' -- "${files[@]}" 2>/dev/null) || return 0
  printf '%s\n' "$identity"
  grep -s '^JAVA_RUNTIME_VERSION=' "$JAVA_HOME/release"
  printf 'options:'
  printf ' %q' "$@" "JAVA_TOOL_OPTIONS=${JAVA_TOOL_OPTIONS-}" "JDK_JAVA_OPTIONS=${JDK_JAVA_OPTIONS-}" "_JAVA_OPTIONS=${_JAVA_OPTIONS-}"
  echo
}

# fabric_aot_remember FILE TEXT: writes TEXT to FILE, readable by this user alone, whole or not at all.
fabric_aot_remember() {
  local tmp
  tmp=$(umask 077 && mktemp "$1.XXXXXX") || return 0
  if printf '%s\n' "$2" >"$tmp" && mv -f "$tmp" "$1"; then
    return 0
  fi
  rm -f "$tmp"
  return 0
}

# fabric_jvm_options JAVA_ARGS...: the JVM options among a command line's arguments (those before
# -jar or -cp), one per line.
fabric_jvm_options() {
  while [ $# -gt 0 ] && [ "$1" != "-jar" ] && [ "$1" != "-cp" ]; do
    printf '%s\n' "$1"
    shift
  done
}

fabric_aot_cache() {
  fabric_aot_train -Dspring.context.exit=onRefresh "" "$@"
}

# fabric_aot_train HOW MARKER CACHE LOG [VAR=VALUE...] -- JAVA_ARGS...: fabric_aot_cache, with HOW (a
# JVM option, or "" for none) the option that makes the training run end, and MARKER the line the run
# prints when it completed what it trains ("" when its exit status 0 says so).
fabric_aot_train() {
  local how=() marker=$2 cache=$3 log=$4 environment=() options scratch status=0
  [ -n "$1" ] && how=("$1")
  shift 4
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    environment+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  mapfile -t options < <(fabric_jvm_options "$@")
  if fabric_aot_usable "$cache" "${options[@]}"; then
    return 0
  fi
  if [ -e "$cache" ]; then
    echo "fabric: the AOT cache $cache cannot be used by this JVM and jar (stale or damaged); making it again" >&2
  fi
  rm -f "$cache" "$cache.config"
  scratch=$(mktemp -d) || return 1
  # The training run's working directory and data are thrown away. timeout: a training run that
  # hangs must never hold up a start or a build; the JVM writes the cache at its exit, a SIGTERM's too.
  (cd "$scratch" && env FABRIC_DATA_DIR="$scratch/data" "${environment[@]}" \
    timeout -k 10 "${FABRIC_AOT_TRAINING_LIMIT:-300}" "$JAVA_HOME/bin/java" \
    -XX:AOTCacheOutput="$cache.tmp" -Xlog:aot=off -Xlog:cds=off "${how[@]}" \
    "$@" >"$log" 2>&1) || status=$?
  rm -rf "$scratch" "$cache.tmp.config"
  # The JVM writes a cache at every exit, also after a run that failed early (a bad option, a port
  # taken, a class missing, the limit above): a thin cache, which the JVM maps as well as a full one
  # and which would be kept until the jar changes, every start slow. So a run must show it completed.
  # A service's run: status 0, which it has only there (Spring halts the JVM with 0 at the end of
  # its context's refresh, spring.context.exit=onRefresh, before any lifecycle bean starts; a failed
  # refresh exits 1, the limit 124 or 137). A refresh that fails late has not made the beans after
  # the failure, and a training run that fails at all fails at every start (its configuration is
  # the script's): better no cache and this line than a partial one kept in silence. A member's run
  # ends with its bootstrap's status whether or not it trained: MemberTraining prints MARKER then.
  if [ -s "$cache.tmp" ] && { { [ -z "$marker" ] && [ "$status" != 0 ]; } || { [ -n "$marker" ] && ! grep -qxF "$marker" "$log"; }; }; then
    rm -f "$cache.tmp"
    echo "fabric: the AOT cache $cache was not kept: its training run did not complete (its output: $log);" \
      "starting without it, the next start trains again" >&2
    return 1
  fi
  if [ -s "$cache.tmp" ]; then
    mv -f "$cache.tmp" "$cache"
  fi
  if fabric_aot_usable "$cache" "${options[@]}"; then
    return 0
  fi
  rm -f "$cache" "$cache.tmp"
  echo "fabric: could not make the AOT cache $cache (training run's output: $log); starting without it" >&2
  return 1
}

# A new key pair made for this training run alone, in a private temporary directory given to it as
# FABRIC_KEYS_PATH, and deleted after the run whatever its outcome (in the same image layer step, so
# no layer ever holds it). The cache records the classes the run loaded and their profiles, not the
# run's data: RegistryImageIT finds no key in the image. The pair is written by fabric-core's
# GenerateFabricKeys from $FABRIC_AOT_JAR (an image has no fabric CLI).
fabric_aot_cache_throwaway_keys() {
  local cache=$1 log=$2 keys status=0
  shift 2
  keys=$(mktemp -d) || return 1
  if ! "$JAVA_HOME/bin/java" -cp "$FABRIC_AOT_JAR" dev.fabric.core.keys.GenerateFabricKeys "$keys/keys" >/dev/null 2>"$log"; then
    rm -rf "$keys"
    echo "fabric: could not make throwaway keys for the training run of $cache (output: $log); starting without it" >&2
    return 1
  fi
  fabric_aot_cache "$cache" "$log" FABRIC_KEYS_PATH="$keys/keys" "$@" || status=$?
  rm -rf "$keys"
  return $status
}

fabric_aot_member_cache() {
  local cache=$1 log=$2
  shift 2
  fabric_aot_train "" 'fabric member training: complete' "$cache" "$log" SPRING_PROFILES_ACTIVE=member FABRIC_SERVICE_ID=aot-training FABRIC_INCARNATION=1 \
    FABRIC_ROLE=queue FABRIC_SPAWNER_URL=http://127.0.0.1:9 FABRIC_SPAWNER_ID=aot-training FABRIC_REGISTRY_URL=http://127.0.0.1:9 \
    FABRIC_OTP=unused FABRIC_MANAGEMENT_PORT=0 FABRIC_KEYS_PATH= FABRIC_MEMBER_SPAWNERTIMEOUT=10s \
    -- "$@" -Dserver.address=127.0.0.1 -cp "$FABRIC_AOT_JAR" dev.fabric.spawner.launch.MemberTraining
}
