package dev.fabric.testsupport;

import java.util.Map;

import org.testcontainers.utility.DockerImageName;

/**
 * The image that tests build on and start containers from: a Debian minbase with a Java 25 runtime
 * at {@code /opt/java/openjdk}, made on this machine by {@code ./fabric rig} because no registry is
 * reachable from the build machines.
 *
 * <p>{@value #ENV} overrides the name; {@value #DEFAULT} is the default. Dockerfiles take it as
 * {@code --build-arg BASE_IMAGE=<name>}.
 */
public final class BaseImage {

    /** Environment variable naming the base image. */
    public static final String ENV = "FABRIC_BASE_IMAGE";

    /** The image {@code ./fabric rig} builds. */
    public static final String DEFAULT = "fabric/base:local";

    private BaseImage() {
    }

    /** The base image's name, from {@value #ENV} or {@value #DEFAULT}. */
    public static String name() {
        return name(System.getenv());
    }

    /** The base image's name as Testcontainers wants it, for {@code new GenericContainer<>(...)}. */
    public static DockerImageName imageName() {
        return DockerImageName.parse(name());
    }

    static String name(Map<String, String> env) {
        String configured = env.get(ENV);
        return configured == null || configured.isBlank() ? DEFAULT : configured.strip();
    }
}
