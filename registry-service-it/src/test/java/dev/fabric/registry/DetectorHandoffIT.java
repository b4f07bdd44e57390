package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Two replicas on one PostgreSQL: exactly one runs the failure detector, and the other takes over when it dies. */
class DetectorHandoffIT {

    @TempDir
    Path dir;

    /** Its own database: advisory locks are per database, and other tests' registries must not hold this one. */
    static final String DATABASE = EmbeddedPostgres.jdbcUrl("handoff_" + ProcessHandle.current().pid());

    ConfigurableApplicationContext replica(Path keys) {
        return new SpringApplication(RegistryApplication.class).run("--server.port=0",
                "--spring.datasource.url=" + DATABASE, "--spring.datasource.username=postgres",
                "--spring.datasource.password=postgres", "--fabric.security.keys-path=" + keys,
                "--fabric.registry.heartbeat.interval=200ms", "--fabric.registry.heartbeat.detector-period=50ms");
    }

    static double leader(ConfigurableApplicationContext replica) {
        return replica.getBean(MeterRegistry.class).get("fabric.registry.detector.leader").gauge().value();
    }

    @Test
    void theDetectorRunsOnOneReplicaAndMovesWhenItDies() {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        ConfigurableApplicationContext first = replica(dir.resolve("keys"));
        ConfigurableApplicationContext second = replica(dir.resolve("keys"));
        try {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(leader(first) + leader(second)).isEqualTo(1.0));
            ConfigurableApplicationContext holder = leader(first) == 1.0 ? first : second;
            ConfigurableApplicationContext survivor = holder == first ? second : first;
            holder.close();

            int port = survivor.getEnvironment().getProperty("local.server.port", Integer.class);
            RegistryClient client = new RegistryClient("http://127.0.0.1:" + port, keys);
            client.post("/api/v1/instances", Map.of("id", "orphan-" + port, "type", "agent"));
            // Within a few heartbeat intervals the survivor has the lease and declares the silent member dead.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(leader(survivor)).isEqualTo(1.0);
                assertThat(client.get("/api/v1/instances/orphan-" + port).body().path("state").asString()).isEqualTo("DEAD");
            });
        } finally {
            first.close();
            second.close();
        }
    }
}
