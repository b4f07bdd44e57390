# The escrow sidecar as a container image: `escrow sidecar` from the escrow distribution
# (escrow-sidecar/escrow), escrowd serving the socket directory /run/escrow, with probes and
# Prometheus metrics on port 8471. Plain Java in escrowd's own lean JVM: bin/escrow starts it with
# conf/escrowd-jvm.options, the JVM options `escrow daemon` runs with and the memory benchmark
# measures (docs/benchmarks.md#escrow); this image adds none of its own.
#
# Build from the repository root (the build context), after the distribution exists:
#
#   ./mvnw -B -pl escrow-sidecar/escrow -am package -DskipTests
#   docker build -f docker/escrow-sidecar.Dockerfile -t fabric/escrow-sidecar .
#
# On a machine that reaches no image registry, build on the locally made base (docker/base/rig.sh):
#
#   docker build -f docker/escrow-sidecar.Dockerfile -t fabric/escrow-sidecar \
#       --build-arg BASE_IMAGE=fabric/base:local .
#
# The base's Java runtime needs the modules java.base and jdk.httpserver (a JRE has both).
#
# A pod without Kubernetes: the sidecar owns the network namespace and shares /run/escrow with the
# app container, which runs as the same uid (10001) so the socket's peer check lets it in:
#
#   docker volume create escrow
#   docker run -d --name pod -p 8087:8087 -p 8471:8471 -v escrow:/run/escrow fabric/escrow-sidecar
#   docker run -d --name app --network container:pod -v escrow:/run/escrow fabric/escrow-echo
#   curl localhost:8471/actuator/health/readiness
#
# Settings come from the environment: FABRIC_ESCROW_SOCKETPATH, FABRIC_ESCROW_NRTAGS,
# FABRIC_ESCROW_ALLOWEDUIDS=10001,10002, FABRIC_ESCROW_VERBOSE=true, SERVER_PORT, ... (see
# docs/escrow.md). ESCROW_JAVA_OPTS adds JVM options (after the image's, so they win).

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The escrow distribution (bin/escrow, conf/, lib/*.jar), relative to the build context (the repository root).
ARG DIST_DIR=escrow-sidecar/escrow/target/escrow-dist

# A fixed numeric user, the same as the app images' (docker/escrow-echo.Dockerfile), so the escrow's
# peer-credential check (default: the sidecar's own uid) admits the app, and Kubernetes can check
# runAsNonRoot. The passwd/group lines are written directly because a minimal base may have no useradd.
# /run/escrow belongs to that user, mode 0700: an empty named volume mounted there takes both.
RUN set -eu; \
    grep -q '^fabric:' /etc/group || echo 'fabric:x:10001:' >> /etc/group; \
    grep -q '^fabric:' /etc/passwd || echo 'fabric:x:10001:10001:fabric escrow:/run/escrow:/usr/sbin/nologin' >> /etc/passwd; \
    mkdir -p /opt/escrow /run/escrow; \
    chown 10001:10001 /run/escrow; \
    chmod 0700 /run/escrow

COPY ${DIST_DIR}/ /opt/escrow/
# The build context may not carry the execute bit (and the legacy builder has no COPY --chmod).
RUN chmod 0755 /opt/escrow/bin/escrow

ENV FABRIC_ESCROW_SOCKETPATH=/run/escrow/escrow.sock

USER 10001:10001
WORKDIR /opt/escrow
EXPOSE 8471

ENTRYPOINT ["/opt/escrow/bin/escrow","sidecar"]
