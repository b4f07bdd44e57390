package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A registry that stops running for longer than the dead threshold (SIGSTOP, as a long pause or a
 * starved CPU looks from inside) declares none of the members that went on heartbeating dead once it
 * runs again: the time it could not look does not count toward their silence. A member that did fall
 * silent is still declared dead. Connections opened while it is stopped wait for it in the accept queue.
 */
class LocalPauseIT {

    /** More connections than Tomcat's default accept backlog (100) holds. */
    static final int CONNECTING = 300;

    @TempDir
    Path dir;

    @Test
    void membersThatKeptHeartbeatingThroughARegistryPauseAreNotDeclaredDead() throws Exception {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        try (RegistryProcess registry = new RegistryProcess(dir.resolve("data"), dir.resolve("keys"), List.of(
                "--fabric.registry.heartbeat.interval=1s", "--fabric.registry.heartbeat.suspect-after=3",
                "--fabric.registry.heartbeat.dead-after=5"))) {
            registry.start();
            RegistryClient client = new RegistryClient(registry.url(), keys);
            List<String> members = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                String id = "paused-" + i;
                assertThat(client.register(id, "queue", 1, "RUNNING").status()).isEqualTo(201);
                members.add(id);
            }
            String silent = "silent-1";
            assertThat(client.register(silent, "queue", 1, "RUNNING").status()).isEqualTo(201);

            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> beating = new ArrayList<>();
            for (String id : members) {
                beating.add(Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        client.heartbeat(id, 1);
                        try {
                            Thread.sleep(500);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            Thread.sleep(Duration.ofSeconds(2));
            registry.pause();
            List<Socket> waiting = new ArrayList<>();
            try {
                // Members connecting meanwhile (a burst of registrations and stream handshakes, or every member
                // of a replica that stopped) wait in the kernel's accept queue for the registry to run again;
                // with Tomcat's default backlog of 100 the rest timed out as if the registry were gone.
                URI url = URI.create(registry.url());
                for (int i = 0; i < CONNECTING; i++) {
                    Socket socket = new Socket();
                    waiting.add(socket);
                    socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 2000);
                }
                Thread.sleep(Duration.ofSeconds(8));
            } finally {
                registry.resume();
                for (Socket socket : waiting) {
                    socket.close();
                }
            }
            assertThat(waiting).hasSize(CONNECTING).allMatch(Socket::isConnected);
            Thread.sleep(Duration.ofSeconds(8));
            try {
                // Read while they still heartbeat: reading ten members on a loaded machine can take longer than
                // the 3 s after which members that stopped would rightly be SUSPECT.
                for (String id : members) {
                    JsonNode history = client.get("/api/v1/instances/" + id + "/history").body();
                    List<String> states = new ArrayList<>();
                    history.forEach(t -> states.add(t.path("to").asString()));
                    assertThat(states).as("%s went on heartbeating: %s", id, history).doesNotContain("DEAD");
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                            assertThat(client.get("/api/v1/instances/" + id).body().path("state").asString()).isEqualTo("RUNNING"));
                }
            } finally {
                stop.set(true);
                for (Thread thread : beating) {
                    thread.join();
                }
            }
            assertThat(client.get("/api/v1/instances/" + silent).body().path("state").asString()).as("never heartbeated").isEqualTo("DEAD");
            assertThat(registry.log()).contains("ms late (a pause, a starved CPU or a stopped process)");
        }
    }
}
