# A fab workspace: the container a project is built in (docs/fab.md). Developers are ordinary, non-root
# users of the container who run `fab` (/opt/fab/bin is on PATH); the container's main process is
# `fabw --system`, started as root, which runs each project's fabd as the `fabsys` user and its faba
# with the developer's credentials, so fab, faba and fabd can signal each other as the seed's
# credential table says while files the build creates belong to the developer.
#
# Build from the repository root (the build context), after the distribution exists:
#
#   ./mvnw -B -f fab-daemon/pom.xml package -DskipTests      # target/fab-dist/{bin,lib}
#   docker build -f docker/fab-workspace.Dockerfile -t fabric/fab-workspace .
#   (add --build-arg BASE_IMAGE=fabric/base:local where no registry is reachable)
#
# Run it (root in the container is needed to switch credentials; Kubernetes: helm/fabric's
# fabWorkspace section), add a developer, build as that developer. The runtime's default capabilities
# are enough (SETUID, SETGID, KILL, CHOWN, DAC_OVERRIDE, FOWNER): --privileged is not needed.
#
#   docker run -d --name ws -v ws-home:/home fabric/fab-workspace
#   docker exec ws useradd --create-home --user-group todd
#   docker exec -it -u todd -w /home/todd ws bash        # then: cd my-project && fab
#
# No developer is baked in: who works in a workspace is the site's business (the tests add one).

ARG BASE_IMAGE=eclipse-temurin:25-jre
FROM ${BASE_IMAGE}

# The fab distribution (bin/fab, bin/fabw, bin/fabd, bin/faba, lib/*.jar), relative to the build context.
ARG DIST_DIR=fab-daemon/target/fab-dist

# What a C build and fab's own tests need, nothing more: gcc and libc6-dev (its headers; only a
# recommendation of gcc, so --no-install-recommends would leave them out), make (the Makefiles the
# examples carry for comparison), binutils (ar, ld), procps (ps, pkill: seeing which user fabd runs
# as), and tini as PID 1. ninja is left out: fab does not use it, it only serves as a benchmark
# baseline on the build machine. Package lists are removed in the same layer to keep it small.
#
# tini, because the JVM of fabw is no init: builds fork freely, and whatever they orphan (a
# double-forked helper, the commands of a killed faba) is re-parented to PID 1, which must reap it or
# the process table fills with zombies; tini also passes SIGTERM on to fabw, so `docker stop` and
# pod deletion stop the daemons cleanly.
#
# fabsys: the system user and group fabd runs as (the seed's process hierarchy). It has no home and
# no shell: nobody logs in as fabsys. Its number is whatever --system picks; nothing it owns outlives
# the container (the IPC and tmp directories live in the container, not on a volume).
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends gcc libc6-dev make binutils procps tini; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*; \
    getent group fabsys >/dev/null || groupadd --system fabsys; \
    getent passwd fabsys >/dev/null || useradd --system --gid fabsys --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin --comment "fab daemon" fabsys

# Root-owned and read-only for everyone else: a developer cannot change the tool that other
# developers' builds and the root-started fabw run.
COPY ${DIST_DIR}/ /opt/fab/
# The build context may not carry the execute bit (and the legacy builder has no COPY --chmod).
RUN chmod -R u=rwX,go=rX /opt/fab && chmod 0755 /opt/fab/bin/*

ENV PATH=/opt/fab/bin:${PATH}

# As root, in the foreground: fabw --system supervises every project's daemons and is the
# container's reason to live; when it ends, the container ends.
USER root
WORKDIR /
ENTRYPOINT ["/usr/bin/tini","--","/opt/fab/bin/fabw","--system"]
