# The fabric registry (registry-service) as a container image.
#
# Build from the repository root (the build context), after the runnable jar exists (the build runs
# the jar once to make its AOT cache, under a minute):
#
#   ./mvnw -pl registry-service -am package -DskipTests
#   docker build -f docker/registry-service.Dockerfile -t fabric/registry-service .
#
# On a machine that reaches no image registry, build on the locally made base (docker/base/rig.sh):
#
#   docker build -f docker/registry-service.Dockerfile -t fabric/registry-service \
#       --build-arg BASE_IMAGE=fabric/base:local .
#
# Run it with a fabric key directory (fabric.key mode 0600, owned by uid 10001, or a mounted
# Kubernetes Secret) and a volume for the embedded H2 database:
#
#   docker run -p 8470:8470 -v fabric-registry-data:/var/lib/fabric \
#       -v "$PWD/keys:/etc/fabric/keys:ro" fabric/registry-service
#
# PostgreSQL instead of H2: -e SPRING_DATASOURCE_URL=jdbc:postgresql://db:5432/fabric
# -e SPRING_DATASOURCE_USERNAME=... -e SPRING_DATASOURCE_PASSWORD=... (see docs/registry.md).

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The runnable jar, relative to the build context (the repository root).
ARG JAR_FILE=registry-service/target/registry-service-exec.jar

# A fixed numeric user, so Kubernetes can check runAsNonRoot and runAsUser/fsGroup 10001 match it.
# The passwd/group lines are written directly because a minimal base may have no useradd; they give
# the JVM a user name and a home (user.home) instead of "?".
# /var/lib/fabric (H2 data) and /etc/fabric/keys belong to that user and nobody else: the registry
# refuses a private key that others can read. The jar stays root-owned: the process cannot change it.
RUN set -eu; \
    grep -q '^fabric:' /etc/group || echo 'fabric:x:10001:' >> /etc/group; \
    grep -q '^fabric:' /etc/passwd || echo 'fabric:x:10001:10001:fabric registry:/var/lib/fabric:/usr/sbin/nologin' >> /etc/passwd; \
    mkdir -p /opt/fabric /var/lib/fabric /etc/fabric/keys; \
    chown 10001:10001 /var/lib/fabric /etc/fabric/keys; \
    chmod 0700 /var/lib/fabric /etc/fabric/keys

COPY ${JAR_FILE} /opt/fabric/registry-service.jar
COPY docker/base/aot-cache.sh /opt/fabric/aot-cache.sh

# The JDK AOT cache (docker/base/aot-cache.sh), made here by a training run of this jar on this JVM with
# the JVM options of the ENTRYPOINT that matter to it (collector, object headers). The jar is extracted
# to /opt/fabric/aot/registry-KEY/app, the class path the cache was made for. The registry builds its
# context only with fabric keys: the training run gets a pair made for it alone, deleted in this same
# step, so no layer holds it (RegistryImageIT checks every layer). docs/benchmarks.md ("Start-up and
# memory") has what the cache saves. The script needs bash.
SHELL ["/bin/bash", "-c"]
RUN set -eu; \
    export JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")"); \
    . /opt/fabric/aot-cache.sh; \
    fabric_aot_app registry /opt/fabric/registry-service.jar /opt/fabric/aot; \
    fabric_aot_cache_throwaway_keys "$FABRIC_AOT_DIR/registry.aot" /tmp/aot-registry.log FABRIC_REGISTRY_PORT=8470 \
        -- --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xss512k -XX:TieredStopAtLevel=1 \
        -jar "$FABRIC_AOT_JAR"; \
    rm -f /tmp/aot-*.log; \
    ln -s "$FABRIC_AOT_DIR" /opt/fabric/aot/current

ENV FABRIC_DATA_DIR=/var/lib/fabric \
    FABRIC_KEYS_PATH=/etc/fabric/keys \
    FABRIC_REGISTRY_PORT=8470

USER 10001:10001
WORKDIR /opt/fabric
EXPOSE 8470

# The Serial collector and half of the container's memory for the heap, the rest for class metadata,
# code and threads (docs/benchmarks.md, "Start-up and memory"; the chart's registry.resources); the
# collector and compact headers are the training run's (else the JVM ignores the cache). C1 only, as
# ./fabric up: 26 MiB less while start-up's methods are compiled (docs/benchmarks.md, "Memory by hand").
ENTRYPOINT ["java","--enable-native-access=ALL-UNNAMED","-XX:+UseSerialGC","-XX:+UseCompactObjectHeaders","-Xms32m","-XX:MinHeapFreeRatio=10","-XX:MaxHeapFreeRatio=30","-Xss512k","-XX:TieredStopAtLevel=1","-XX:TrimNativeHeapInterval=5000","-XX:MaxRAMPercentage=50","-XX:AOTCache=/opt/fabric/aot/current/registry.aot","-Xlog:aot=off","-Xlog:cds=off","-jar","/opt/fabric/aot/current/app/registry-service.jar"]
