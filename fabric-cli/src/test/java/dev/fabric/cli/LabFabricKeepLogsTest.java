package dev.fabric.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A failed lab test's logs outlive its directory: every log under it is copied to target/lab-logs/, and nothing else. */
class LabFabricKeepLogsTest {

    @TempDir
    Path dir;

    @Test
    void everyLogOfTheFabricIsCopiedWithItsPlaceAndNothingElse() throws Exception {
        Files.writeString(dir.resolve("registry.log"), "registry");
        Files.writeString(dir.resolve("spawner-desktop.log"), "desktop");
        Path member = Files.createDirectories(dir.resolve("fabric-head/members/queue-1"));
        Files.writeString(member.resolve("member.log"), "queue's log");
        Files.writeString(member.resolve("member.pid"), "42");
        Files.createDirectories(dir.resolve("fabric-head/dist"));
        Files.writeString(dir.resolve("fabric-head/dist/spawner-service.jar"), "not a log");

        Path kept = LabFabric.keepLogs(dir, "LabFabricKeepLogsTest-" + System.nanoTime());
        try {
            assertThat(kept).startsWith(Path.of("target", "lab-logs").toAbsolutePath());
            assertThat(kept.resolve("registry.log")).hasContent("registry");
            assertThat(kept.resolve("spawner-desktop.log")).hasContent("desktop");
            assertThat(kept.resolve("fabric-head/members/queue-1/member.log")).hasContent("queue's log");
            assertThat(kept.resolve("fabric-head/members/queue-1/member.pid")).hasContent("42");
            assertThat(kept.resolve("fabric-head/dist")).doesNotExist();
            assertThat(LabFabric.logs(dir)).contains("registry").contains("desktop").contains("queue's log");
        } finally {
            try (var files = Files.walk(kept)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
