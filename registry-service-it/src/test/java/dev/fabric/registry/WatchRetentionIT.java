package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The change log keeps the latest changes only; a watcher further behind is told to list again. */
class WatchRetentionIT {

    @TempDir
    Path dir;

    @Test
    void aWatcherBehindTheRetainedChangesIsAskedToListAgain() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (ConfigurableApplicationContext app = new SpringApplication(RegistryApplication.class).run("--server.port=0",
                "--fabric.registry.data-dir=" + dir.resolve("data"), "--fabric.security.keys-path=" + dir.resolve("keys"),
                "--fabric.registry.watch.retention=5", "--fabric.registry.heartbeat.detector-period=50ms")) {
            RegistryClient registry = new RegistryClient("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"), keys);
            for (int i = 0; i < 12; i++) {
                assertThat(registry.post("/api/v1/instances", Map.of("id", "r-" + i, "type", "queue")).status()).isEqualTo(201);
            }
            long revision = registry.get("/api/v1/instances").body().path("revision").asLong();
            assertThat(revision).isEqualTo(12);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                RegistryClient.Answer answer = registry.get("/api/v1/watch?since=1");
                assertThat(answer.status()).isEqualTo(410);
                assertThat(answer.reason()).isEqualTo("revision-compacted");
            });
            // The latest five changes remain: a watcher at most that far behind resumes.
            assertThat(registry.events("/api/v1/watch?since=" + (revision - 3), 3, null))
                    .extracting(e -> Long.parseLong(e[0])).containsExactly(revision - 2, revision - 1, revision);
        }
    }
}
