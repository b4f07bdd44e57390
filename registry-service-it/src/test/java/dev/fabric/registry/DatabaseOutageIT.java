package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** PostgreSQL goes away and comes back: readiness follows, requests fail fast with 503, and the registry recovers alone. */
class DatabaseOutageIT {

    @TempDir
    Path dir;

    @Test
    void registryFailsFastWhileTheDatabaseIsDownAndRecoversByItself() throws Exception {
        int pgPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            pgPort = socket.getLocalPort();
        }
        Path pgData = dir.resolve("pg");
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().setPort(pgPort).setDataDirectory(pgData).setCleanDataDirectory(false).start();
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        ConfigurableApplicationContext registry = new SpringApplication(RegistryApplication.class).run("--server.port=0",
                "--spring.datasource.url=" + postgres.getJdbcUrl("postgres", "postgres"), "--spring.datasource.username=postgres",
                "--spring.datasource.password=postgres", "--fabric.security.keys-path=" + dir.resolve("keys"));
        try {
            int port = registry.getEnvironment().getProperty("local.server.port", Integer.class);
            RegistryClient client = new RegistryClient("http://127.0.0.1:" + port, keys);
            HttpClient http = HttpClient.newHttpClient();
            URI readiness = URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness");
            assertThat(client.post("/api/v1/instances", Map.of("id", "before", "type", "queue")).status()).isEqualTo(201);
            assertThat(http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            postgres.close();

            // A 503 answer shows the request failed rather than hung (a hang ends in the client's read timeout,
            // never in a 503); how fast it fails is a benchmark's question, not a test's.
            RegistryClient.Answer refused = client.post("/api/v1/instances", Map.of("id", "during", "type", "queue"));
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.reason()).isEqualTo("database-unavailable");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                    http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503));

            postgres = EmbeddedPostgres.builder().setPort(pgPort).setDataDirectory(pgData).setCleanDataDirectory(false).start();

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200));
            assertThat(client.post("/api/v1/instances", Map.of("id", "after", "type", "queue")).status()).isEqualTo(201);
            assertThat(client.get("/api/v1/instances/before").status()).isEqualTo(200);
            assertThat(client.get("/api/v1/instances/during").status()).isEqualTo(404);
        } finally {
            registry.close();
            postgres.close();
        }
    }
}
