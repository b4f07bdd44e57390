# The escrow's echo server (escrow-sidecar/escrow, `escrow echo-server`) as the app container of a
# pod with the escrow sidecar: it keeps its listening socket and its clients' sockets in the
# sidecar's escrow at /run/escrow/escrow.sock, so a restarted echo container gets them back and its
# TCP clients stay connected. It never starts an escrowd of its own (--no-create): the sidecar owns it.
#
# Build from the repository root (the build context), after the distribution exists:
#
#   ./mvnw -B -pl escrow-sidecar/escrow -am package -DskipTests
#   docker build -f docker/escrow-echo.Dockerfile -t fabric/escrow-echo .
#   (add --build-arg BASE_IMAGE=fabric/base:local where no registry is reachable)
#
# Run it in the sidecar's network namespace with the same volume (see docker/escrow-sidecar.Dockerfile):
#
#   docker run -d --name app --network container:pod -v escrow:/run/escrow fabric/escrow-echo
#   escrow echo-client --port 8087      # numbered lines; then: docker kill app; docker start app
#
# Arguments replace the default command: e.g. `--port 9000 /run/escrow/escrow.sock`, `-v ...` for the
# message trace. ESCROW_JAVA_OPTS adds JVM options.

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The escrow distribution (bin/escrow, lib/*.jar), relative to the build context (the repository root).
ARG DIST_DIR=escrow-sidecar/escrow/target/escrow-dist

# The sidecar's user (10001): the escrow admits peers with its own uid, and the socket is mode 0600.
RUN set -eu; \
    grep -q '^fabric:' /etc/group || echo 'fabric:x:10001:' >> /etc/group; \
    grep -q '^fabric:' /etc/passwd || echo 'fabric:x:10001:10001:fabric escrow app:/run/escrow:/usr/sbin/nologin' >> /etc/passwd; \
    mkdir -p /opt/escrow /run/escrow; \
    chown 10001:10001 /run/escrow; \
    chmod 0700 /run/escrow

COPY ${DIST_DIR}/ /opt/escrow/
# The build context may not carry the execute bit (and the legacy builder has no COPY --chmod).
RUN chmod 0755 /opt/escrow/bin/escrow

ENV ESCROW_PATH=/run/escrow/escrow.sock

USER 10001:10001
WORKDIR /opt/escrow
EXPOSE 8087

ENTRYPOINT ["/opt/escrow/bin/escrow","echo-server","--no-create"]
CMD ["--port","8087","/run/escrow/escrow.sock"]
