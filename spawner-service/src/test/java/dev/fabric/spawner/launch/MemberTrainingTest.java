package dev.fabric.spawner.launch;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MemberTrainingTest {

    /** docker/base/aot-cache.sh keeps the members' cache only when the training run printed this line. */
    @Test
    void theScriptLooksForTheLineACompleteTrainingPrints() throws Exception {
        String script = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("docker/base/aot-cache.sh"));

        assertThat(script).contains("'" + MemberTraining.COMPLETE + "'");
    }
}
