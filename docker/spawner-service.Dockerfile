# The fabric spawner (spawner-service) as a container image. The same image runs the members it
# spawns: its Kubernetes launcher starts them from this image in the "member" Spring profile.
#
# Build from the repository root (the build context), after the runnable jar exists (the build runs
# the jar twice to make its AOT caches, about a minute):
#
#   ./mvnw -pl spawner-service -am package -DskipTests
#   docker build -f docker/spawner-service.Dockerfile -t fabric/spawner-service .
#
# On a machine that reaches no image registry, build on the locally made base (docker/base/rig.sh):
#
#   docker build -f docker/spawner-service.Dockerfile -t fabric/spawner-service \
#       --build-arg BASE_IMAGE=fabric/base:local .
#
# Run it with a fabric key directory (fabric.key mode 0600, owned by uid 10001, or a mounted
# Kubernetes Secret) and the registry's address; its id and its members' data go to /var/lib/fabric:
#
#   docker run -p 8472:8472 -v "$PWD/keys:/etc/fabric/keys:ro" \
#       -e FABRIC_REGISTRY_URL=http://registry:8470 fabric/spawner-service
#
# On Kubernetes the chart (helm/fabric, spawner.enabled=true) sets the kubernetes launcher, the pod's
# identity from the downward API and the keys Secret (spawner-service/KUBERNETES.md).

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The runnable jar, relative to the build context (the repository root).
ARG JAR_FILE=spawner-service/target/spawner-service-exec.jar

# A fixed numeric user, so Kubernetes can check runAsNonRoot and runAsUser/fsGroup 10001 match it
# (member pods run as 10001 too). The passwd/group lines are written directly because a minimal base
# may have no useradd; they give the JVM a user name and a home (user.home) instead of "?".
# /var/lib/fabric (the spawner's id, its members' directories; a member's data) and /etc/fabric/keys
# belong to that user and nobody else: the spawner refuses a private key that others can read.
# The jar stays root-owned: the process cannot change it.
RUN set -eu; \
    grep -q '^fabric:' /etc/group || echo 'fabric:x:10001:' >> /etc/group; \
    grep -q '^fabric:' /etc/passwd || echo 'fabric:x:10001:10001:fabric spawner:/var/lib/fabric:/usr/sbin/nologin' >> /etc/passwd; \
    mkdir -p /opt/fabric /var/lib/fabric /etc/fabric/keys; \
    chown 10001:10001 /var/lib/fabric /etc/fabric/keys; \
    chmod 0700 /var/lib/fabric /etc/fabric/keys

COPY ${JAR_FILE} /opt/fabric/spawner-service.jar
COPY docker/base/aot-cache.sh /opt/fabric/aot-cache.sh

# The JDK AOT caches (docker/base/aot-cache.sh), made here by training runs of this jar on this JVM:
# one for the spawner, one for the members it spawns (the same jar in the member profile, with Spring's
# AOT-generated bean definitions: -Dspring.aot.enabled=true, as members start; trained through a
# member's whole start by spawner-service's MemberTraining, docs/operations.md). The jar is
# extracted to /opt/fabric/aot/spawner-KEY/app, the class path the caches were made for; the
# spawner's training run makes throwaway keys in its scratch directory (FABRIC_KEYS_PATH empty). Both
# train with the start script's --enable-native-access: a JVM whose module options differ from the
# training run's refuses the cache ("Mismatched values for property jdk.module.enable.native.access").
# docs/benchmarks.md ("Start-up and memory") has what they save. The script needs bash.
SHELL ["/bin/bash", "-c"]
RUN set -eu; \
    export JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")"); \
    . /opt/fabric/aot-cache.sh; \
    fabric_aot_app spawner /opt/fabric/spawner-service.jar /opt/fabric/aot; \
    fabric_aot_cache "$FABRIC_AOT_DIR/spawner.aot" /tmp/aot-spawner.log FABRIC_KEYS_PATH= FABRIC_SPAWNER_PORT=8472 \
        FABRIC_REGISTRY_URL=http://127.0.0.1:9 -- --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xss512k \
        -XX:TieredStopAtLevel=1 -jar "$FABRIC_AOT_JAR"; \
    fabric_aot_member_cache "$FABRIC_AOT_DIR/member.aot" /tmp/aot-member.log --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
        -XX:+UseCompactObjectHeaders -Xss512k -XX:TieredStopAtLevel=1 -Dspring.aot.enabled=true; \
    rm -f /tmp/aot-*.log; \
    ln -s "$FABRIC_AOT_DIR" /opt/fabric/aot/current; \
    printf '%s\n' '#!/bin/sh' \
      '# The spawner, or in the member profile one of its members, each from its own AOT cache.' \
      '# The heap ceiling, a share of the memory limit: the rest (about 160 MiB) is class metadata, code, threads.' \
      '# The chart gives the spawner 320Mi (96m of heap, as ./fabric up); a member pod its spawn request memory.' \
      '# A member also runs the bean definitions Spring generated for the member profile at build time, and' \
      '# compiles sooner (MemberJvm.COMPILE_SOONER: its batched request paths run a few times a second).' \
      'cache=/opt/fabric/aot/current/spawner.aot heap=30 spring_aot= compile=' \
      'case ",${SPRING_PROFILES_ACTIVE:-}," in *,member,*) cache=/opt/fabric/aot/current/member.aot heap=35 spring_aot=-Dspring.aot.enabled=true compile=-XX:CompileThresholdScaling=0.25 ;; esac' \
      '# The collector and compact headers are those of the training runs (else the JVM ignores the cache).' \
      'exec java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xms16m -Xmn8m \' \
      '  -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -Xss512k -XX:TieredStopAtLevel=1 -XX:TrimNativeHeapInterval=5000 -XX:MaxRAMPercentage=$heap \' \
      '  -XX:AOTCache="$cache" -Xlog:aot=off -Xlog:cds=off $spring_aot $compile $FABRIC_JAVA_OPTS \' \
      '  -jar /opt/fabric/aot/current/app/spawner-service.jar "$@"' > /opt/fabric/start; \
    chmod 0755 /opt/fabric/start

# A member's launcher sets its own FABRIC_DATA_DIR and port; the member profile ignores the key path.
# Members placed on SSH hosts are staged the runnable jar: the extracted one the spawner starts from
# names its libraries beside it (Class-Path: lib/...), which staging does not copy.
ENV FABRIC_DATA_DIR=/var/lib/fabric \
    FABRIC_KEYS_PATH=/etc/fabric/keys \
    FABRIC_SPAWNER_PORT=8472 \
    FABRIC_SPAWNER_SSH_DISTRIBUTION=/opt/fabric/spawner-service.jar

USER 10001:10001
WORKDIR /opt/fabric
EXPOSE 8472

# FABRIC_JAVA_OPTS: more JVM options (the spawner's: the chart's spawner.extraEnv).
ENTRYPOINT ["/opt/fabric/start"]
