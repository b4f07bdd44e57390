# The escrow sidecar (escrow-sidecar/sidecar) as a container image: escrowd serving the socket
# directory /run/escrow, with probes and Prometheus metrics on port 8471.
#
# Build from the repository root (the build context), after the runnable jar exists:
#
#   ./mvnw -B -f escrow-sidecar/pom.xml package -DskipTests
#   docker build -f docker/escrow-sidecar.Dockerfile -t fabric/escrow-sidecar .
#
# On a machine that reaches no image registry, build on the locally made base (docker/base/rig.sh):
#
#   docker build -f docker/escrow-sidecar.Dockerfile -t fabric/escrow-sidecar \
#       --build-arg BASE_IMAGE=fabric/base:local .
#
# A pod without Kubernetes: the sidecar owns the network namespace and shares /run/escrow with the
# app container, which runs as the same uid (10001) so the socket's peer check lets it in:
#
#   docker volume create escrow
#   docker run -d --name pod -p 8087:8087 -p 8471:8471 -v escrow:/run/escrow fabric/escrow-sidecar
#   docker run -d --name app --network container:pod -v escrow:/run/escrow fabric/escrow-echo
#   curl localhost:8471/actuator/health/readiness
#
# Settings come from the environment (Spring's relaxed names): FABRIC_ESCROW_SOCKETPATH,
# FABRIC_ESCROW_NRTAGS, FABRIC_ESCROW_ALLOWEDUIDS=10001,10002, FABRIC_ESCROW_VERBOSE=true,
# SERVER_PORT (see docs/escrow.md). JAVA_TOOL_OPTIONS adds JVM options.

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The runnable jar, relative to the build context (the repository root).
ARG JAR_FILE=escrow-sidecar/sidecar/target/escrow-sidecar-exec.jar

# A fixed numeric user, the same as the app images' (docker/escrow-echo.Dockerfile), so the escrow's
# peer-credential check (default: the sidecar's own uid) admits the app, and Kubernetes can check
# runAsNonRoot. The passwd/group lines are written directly because a minimal base may have no useradd.
# /run/escrow belongs to that user, mode 0700: an empty named volume mounted there takes both.
RUN set -eu; \
    grep -q '^fabric:' /etc/group || echo 'fabric:x:10001:' >> /etc/group; \
    grep -q '^fabric:' /etc/passwd || echo 'fabric:x:10001:10001:fabric escrow:/run/escrow:/usr/sbin/nologin' >> /etc/passwd; \
    mkdir -p /opt/fabric /run/escrow; \
    chown 10001:10001 /run/escrow; \
    chmod 0700 /run/escrow

COPY ${JAR_FILE} /opt/fabric/escrow-sidecar.jar

ENV FABRIC_ESCROW_SOCKETPATH=/run/escrow/escrow.sock

USER 10001:10001
WORKDIR /opt/fabric
EXPOSE 8471

# --enable-native-access: junixsocket and the engine's FFM system calls; --add-opens: descriptors of
# JDK socket channels. A small, mostly idle process beside every app that uses it: Serial GC, half the
# memory limit as heap with a small young generation, C1 only with one compiler thread, native memory
# trimmed. Holding 10,000 sockets under traffic it stays near 128 MiB resident with a 256 MiB limit
# (180 MiB before these flags; docs/benchmarks.md, issue 17).
ENTRYPOINT ["java","--enable-native-access=ALL-UNNAMED","--add-opens","java.base/sun.nio.ch=ALL-UNNAMED","-XX:+UseSerialGC","-XX:MaxRAMPercentage=50","-Xmn4m","-Xss256k","-XX:TieredStopAtLevel=1","-XX:CICompilerCount=1","-XX:ReservedCodeCacheSize=24m","-XX:TrimNativeHeapInterval=5000","-XX:MinHeapFreeRatio=10","-XX:MaxHeapFreeRatio=20","-jar","/opt/fabric/escrow-sidecar.jar"]
