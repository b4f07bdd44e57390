package dev.fabric.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or test method that needs a Docker engine and the fabric base image.
 *
 * <p>Where both are present the test runs. Where either is missing the test is skipped with a
 * message naming what is missing and how to get it ({@code ./fabric rig}), unless the environment
 * variable {@code FABRIC_REQUIRE_DOCKER} is {@code 1}: then the test fails with that message, so
 * CI never passes by skipping the container tests.
 *
 * <p>The base image is {@code fabric/base:local} unless {@code FABRIC_BASE_IMAGE} names another
 * one; see {@link BaseImage}.
 *
 * <pre>{@code
 * @RequiresDocker
 * class EscrowSidecarIT {
 *     @Test
 *     void clientSurvivesAppRestart() {
 *         try (var app = new GenericContainer<>(BaseImage.imageName())) { ... }
 *     }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresDockerExtension.class)
public @interface RequiresDocker {
}
