package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** kill -9 of a real registry process in the middle of a stream of registrations loses none it acknowledged. */
class KillNineIT {

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedRegistrationSurvivesKillNine() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (RegistryProcess registry = new RegistryProcess(dir.resolve("data"), dir.resolve("keys"), List.of())) {
            registry.start();
            RegistryClient client = new RegistryClient(registry.url(), keys);
            List<String> acknowledged = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch enough = new CountDownLatch(150);
            Thread writer = Thread.ofVirtual().start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    String id = "k9-" + i;
                    try {
                        RegistryClient.Answer answer = client.post("/api/v1/instances", Map.of("id", id, "type", "queue"));
                        if (answer.status() == 201) {
                            acknowledged.add(id);
                            enough.countDown();
                        }
                    } catch (RuntimeException connectionLost) {
                        return;
                    }
                }
            });
            enough.await();
            registry.kill();
            stop.set(true);
            writer.join();
            assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(150);

            registry.start();
            List<String> missing = new ArrayList<>();
            for (String id : List.copyOf(acknowledged)) {
                if (client.get("/api/v1/instances/" + id).status() != 200) {
                    missing.add(id);
                }
            }
            assertThat(missing).as("acknowledged registrations lost by kill -9").isEmpty();
            assertThat(client.get("/api/v1/instances?type=queue").body().path("instances").size()).isGreaterThanOrEqualTo(acknowledged.size());
        }
    }
}
