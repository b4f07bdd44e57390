# The fabric spawner (spawner-service) as a container image. The same image runs the members it
# spawns: its Kubernetes launcher starts them from this image in the "member" Spring profile.
#
# Build from the repository root (the build context), after the runnable jar exists:
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

# A member's launcher sets its own FABRIC_DATA_DIR and port; the member profile ignores the key path.
ENV FABRIC_DATA_DIR=/var/lib/fabric \
    FABRIC_KEYS_PATH=/etc/fabric/keys \
    FABRIC_SPAWNER_PORT=8472

USER 10001:10001
WORKDIR /opt/fabric
EXPOSE 8472

ENTRYPOINT ["java","--enable-native-access=ALL-UNNAMED","-XX:MaxRAMPercentage=75","-jar","/opt/fabric/spawner-service.jar"]
