package dev.fabric.registry;

import dev.fabric.core.registry.stream.HeartbeatStream;
import dev.fabric.registry.heartbeat.FailureDetector;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import javax.sql.DataSource;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every pooled connection requests use is taken (as a burst of handshakes and reads once took them
 * all), and still a registration is recorded, a heartbeat on an open stream is acknowledged, and a
 * member that falls silent is declared DEAD: the change writer, the heartbeat writers and the detector have
 * connections of their own. When they shared the pool, each of these failed with {@code 503
 * database-unavailable} after the pool's connection timeout, and members whose heartbeats the registry
 * had refused so were declared DEAD (docs/benchmarks.md, detection at 20,000 members).
 */
@SpringBootTest(classes = RegistryApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RequestPoolExhaustedIT {

    static final int REQUEST_CONNECTIONS = 2;

    @TempDir
    static Path data;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("fabric.registry.data-dir", data::toString);
        registry.add("fabric.security.keys-path", RegistryApiContract.KEY_DIR::toString);
        registry.add("spring.datasource.hikari.maximum-pool-size", () -> REQUEST_CONNECTIONS);
        registry.add("spring.datasource.hikari.connection-timeout", () -> "1000");
        registry.add("fabric.registry.heartbeat.interval", () -> "500ms");
        registry.add("fabric.registry.heartbeat.detector-period", () -> "100ms");
    }

    @LocalServerPort
    int port;

    @Autowired
    DataSource dataSource;

    @Autowired
    MeterRegistry meters;

    @Test
    void registrationsHeartbeatsAndDetectionGoOnWithEveryRequestConnectionTaken() throws Exception {
        RegistryClient registry = new RegistryClient("http://127.0.0.1:" + port, RegistryApiContract.KEYS);
        assertThat(registry.post("/api/v1/instances", Map.of("id", "beating", "type", "agent", "state", "RUNNING")).status()).isEqualTo(201);
        try (HeartbeatStream stream = new HeartbeatStream(URI.create("http://127.0.0.1:" + port), RegistryApiContract.KEYS, "beating", 1,
                Duration.ofSeconds(20), Clock.systemUTC())) {
            stream.beat();
            List<Connection> taken = new ArrayList<>();
            try {
                for (int i = 0; i < REQUEST_CONNECTIONS; i++) {
                    taken.add(dataSource.getConnection());
                }
                RegistryClient.Answer registered = registry.post("/api/v1/instances", Map.of("id", "silent", "type", "agent", "state", "RUNNING"));
                assertThat(registered.status()).as("%s", registered.body()).isEqualTo(201);
                stream.beat();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> meters.get(FailureDetector.LAG_METRIC).timer().count() >= 2);
            } finally {
                for (Connection connection : taken) {
                    connection.close();
                }
            }
        }
        assertThat(registry.get("/api/v1/instances/silent/history").body().toString()).contains("\"to\":\"DEAD\"");
    }
}
