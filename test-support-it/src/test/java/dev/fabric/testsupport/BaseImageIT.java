package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

/** Proves the container rig: the base image starts under Testcontainers and carries a Java 25 runtime. */
@RequiresDocker
class BaseImageIT {

    @Test
    void baseImageRunsJava25() throws Exception {
        // Ryuk is disabled on these machines: try-with-resources stops and removes the container.
        try (GenericContainer<?> container = new GenericContainer<>(BaseImage.imageName())
                .withCommand("sleep", "infinity")) {
            container.start();

            ExecResult result = container.execInContainer("java", "-version");

            assertThat(result.getExitCode()).isZero();
            // java -version writes to standard error.
            assertThat(result.getStderr()).containsPattern("version \"25[.\"]");
        }
    }
}
