# Sourced by ./fabric and the rig scripts: finds a JDK of at least $FABRIC_JAVA_MIN (25).
# Sets JAVA_HOME and returns 0, or prints what to install and returns 1.
# Order: JAVA_HOME when it is new enough, then the JDKs installed in the usual system places.

FABRIC_JAVA_MIN=${FABRIC_JAVA_MIN:-25}

fabric_java_major() {
  # Prints the feature version of the JDK at $1 (from its `release` file, else from `java -version`).
  local home=$1 version=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$version" ]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}
  echo "${version%%[.+-]*}"
}

fabric_find_jdk() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(fabric_java_major "$JAVA_HOME") || major=0
    if [ "${major:-0}" -ge "$FABRIC_JAVA_MIN" ] 2>/dev/null; then
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/*jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$candidate" ] || continue
    major=$(fabric_java_major "$candidate") || continue
    [ -n "$major" ] || continue
    if [ "$major" -ge "$FABRIC_JAVA_MIN" ] 2>/dev/null && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  if [ -n "$best" ]; then
    JAVA_HOME=$(cd "$best" && pwd -P)
    export JAVA_HOME
    return 0
  fi
  cat >&2 <<EOF
fabric needs a JDK $FABRIC_JAVA_MIN or newer, and found none.
  JAVA_HOME: ${JAVA_HOME:-<unset>}${JAVA_HOME:+ (not a JDK $FABRIC_JAVA_MIN+)}
  searched:  /usr/lib/jvm, /usr/java, /opt, ~/.sdkman/candidates/java
Install one (for example Temurin 25: the 'temurin-25-jdk' package from Adoptium's apt repository,
or 'sdk install java 25-tem'), or point JAVA_HOME at it, then run the command again.
EOF
  return 1
}
