package dev.fabric.testsupport;

import java.util.Map;
import java.util.Objects;

/**
 * What a test that needs Docker finds on this machine: whether the engine answers and whether the
 * base image is there, and whether the environment demands that Docker tests run
 * ({@value #REQUIRE_ENV}).
 *
 * <p>{@link #verdict()} is the whole decision of {@link RequiresDocker}, kept free of Docker so it is
 * tested without it.
 */
record DockerRig(boolean engineAnswers, boolean baseImagePresent, String baseImage, boolean required) {

    /** Environment variable that turns a skip into a failure when it is {@code 1} (CI sets it). */
    static final String REQUIRE_ENV = "FABRIC_REQUIRE_DOCKER";

    DockerRig {
        Objects.requireNonNull(baseImage, "baseImage");
    }

    /** Whether the environment says Docker tests must run: {@value #REQUIRE_ENV} is {@code 1} or {@code true}. */
    static boolean requiredBy(Map<String, String> env) {
        String value = env.get(REQUIRE_ENV);
        return value != null && (value.strip().equals("1") || value.strip().equalsIgnoreCase("true"));
    }

    /** Run the test, skip it, or fail it, and why. */
    Verdict verdict() {
        String missing;
        if (!engineAnswers) {
            missing = "no Docker engine answers (Testcontainers found no usable Docker environment). "
                    + "Run ./fabric rig to install and start it; ./fabric rig --check lists what is missing.";
        } else if (!baseImagePresent) {
            missing = "the base image " + baseImage + " is absent from the Docker engine. "
                    + "Run ./fabric rig to build it, or set " + BaseImage.ENV + " to an image that exists.";
        } else {
            return new Verdict.Run();
        }
        return required
                ? new Verdict.Fail("This test needs Docker, but " + missing
                        + " " + REQUIRE_ENV + "=1 makes this a failure instead of a skip.")
                : new Verdict.Skip("Skipped: this test needs Docker, but " + missing
                        + " Set " + REQUIRE_ENV + "=1 to fail instead of skipping.");
    }

    /** The outcome of {@link #verdict()}. */
    sealed interface Verdict {

        /** Docker and the base image are there: the test runs. */
        record Run() implements Verdict {
        }

        /** Something is missing and nobody demands Docker tests: the test is skipped with this message. */
        record Skip(String message) implements Verdict {
        }

        /** Something is missing and {@value DockerRig#REQUIRE_ENV} demands Docker tests: the test fails. */
        record Fail(String message) implements Verdict {
        }
    }
}
