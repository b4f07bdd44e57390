package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.client.SlotNotFoundException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The sidecar in this JVM on a temporary socket and a free HTTP port, used by the real escrow client
 * and a real HTTP client: descriptors go in and come back, the probes follow the socket, the
 * Prometheus endpoint shows the escrow's contents and errors, and stopping refuses new sessions and
 * closes what was held.
 */
class EscrowSidecarTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private EscrowSidecar sidecar;

    private EscrowSidecar start(Path socket) throws IOException {
        return EscrowSidecar.start(SidecarSettings.fromEnvironment(Map.of("FABRIC_ESCROW_SOCKETPATH", socket.toString(),
                "FABRIC_ESCROW_NRTAGS", "8", "FABRIC_ESCROW_SHUTDOWNGRACE", "200ms", "SERVER_PORT", "0")));
    }

    @AfterEach
    void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
    }

    @Test
    void probesAreUpOnceTheSocketAcceptsAndReadinessFollowsTheSocketFile() throws Exception {
        sidecar = start(dir.resolve("escrow.sock"));

        assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
        HttpResponse<String> readiness = get("/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(200);
        assertThat(readiness.body()).isEqualTo("{\"status\":\"UP\"}");
        assertThat(get("/").statusCode()).as("the port serves probes and metrics only").isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(uri("/actuator/health/readiness")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);

        Files.delete(dir.resolve("escrow.sock"));

        HttpResponse<String> gone = get("/actuator/health/readiness");
        assertThat(gone.statusCode()).as("clients would get ENOENT").isEqualTo(503);
        assertThat(gone.body()).isEqualTo("{\"status\":\"DOWN\"}");
        assertThat(sidecar.notReady()).contains("is gone or no longer accepts");
        assertThat(get("/actuator/health/liveness").statusCode()).as("a restart would lose every descriptor: liveness stays UP")
                .isEqualTo(200);
        assertThat(metric("escrow_accepting", "")).isZero();
    }

    @Test
    void descriptorsGoInAndComeBackAndTheMetricsFollow() throws Exception {
        sidecar = start(dir.resolve("run/escrow/escrow.sock"));
        assertThat(dir.resolve("run/escrow/escrow.sock")).as("the directory is made when missing").exists();
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open(listener.getLocalAddress())) {
            SocketChannel accepted = listener.accept();
            assertThat(scrape()).as("every reason has its series from the start")
                    .contains("escrow_errors_total{application=\"escrow-sidecar\",reason=\"peer_refused\"} 0.0")
                    .contains("escrow_accepting{application=\"escrow-sidecar\"} 1.0")
                    .doesNotContain("escrow_tag_slots{");

            try (Escrow escrow = Escrow.open(sidecar.settings().socketPath(), 0, 8, Duration.ofSeconds(10))) {
                escrow.add(5, 3, accepted, "client 3".getBytes(StandardCharsets.US_ASCII));
                accepted.close(); // the escrow's copy keeps the connection

                Slot slot = escrow.get(5, 3);
                assertThat(slot.payload()).asString(StandardCharsets.US_ASCII).isEqualTo("client 3");
                try (SocketChannel revived = slot.socketChannel()) {
                    talk(client, revived, "still connected");
                }
                assertThatThrownBy(() -> escrow.get(5, 4)).isInstanceOf(SlotNotFoundException.class);

                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    assertThat(metric("escrow_descriptors", "")).isEqualTo(1);
                    assertThat(metric("escrow_slots", "")).isEqualTo(1);
                    assertThat(metric("escrow_payload_bytes", "")).isEqualTo(8);
                    assertThat(metric("escrow_tag_descriptors", "tag=\"5\"")).isEqualTo(1);
                    assertThat(metric("escrow_tag_payload_bytes", "tag=\"5\"")).isEqualTo(8);
                    assertThat(metric("escrow_sessions_active", "")).isEqualTo(1);
                    assertThat(metric("escrow_errors_total", "reason=\"no_such_index\"")).isEqualTo(1);
                });
                escrow.del(5, 3);
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(metric("escrow_descriptors", "")).isZero();
                assertThat(metric("escrow_tag_descriptors", "tag=\"5\"")).as("the tag's series stays, at zero").isZero();
                assertThat(metric("escrow_sessions_active", "")).isZero();
                assertThat(metric("escrow_sessions_total", "")).isEqualTo(1);
            });
        }
    }

    @Test
    void stopRefusesNewSessionsAndClosesWhatWasHeld() throws Exception {
        Path socket = dir.resolve("escrow.sock");
        sidecar = start(socket);
        try (Escrow escrow = Escrow.open(socket, 0, 8)) {
            escrow.add(1, 0, "state".getBytes(StandardCharsets.US_ASCII));
        }

        sidecar.close();

        assertThat(socket).doesNotExist();
        assertThatThrownBy(() -> Escrow.open(socket, 0, 8)).isInstanceOf(EscrowUnavailableException.class);
        assertThat(sidecar.escrowd().stats().totalSlots()).as("closed on stop").isZero();
        assertThatThrownBy(() -> get("/actuator/health/liveness")).as("the HTTP port is closed last").isInstanceOf(IOException.class);
    }

    @Test
    void aLiveEscrowdOnThePathIsNeverReplaced() throws Exception {
        Path socket = dir.resolve("escrow.sock");
        sidecar = start(socket);

        assertThatThrownBy(() -> start(socket)).isInstanceOfSatisfying(EscrowSidecar.SidecarStartException.class,
                        e -> assertThat(e.exitStatus()).isEqualTo(EscrowSidecar.EXIT_ALREADY_SERVING))
                .hasMessageContaining("Another escrowd owns it").hasMessageContaining("FABRIC_ESCROW_SOCKETPATH");
        assertThat(get("/actuator/health/readiness").statusCode()).as("the first one still serves").isEqualTo(200);
    }

    /** The sidecar's remedy is its setting, not escrowd's -f; the directory is fine, so no hint about it. */
    @Test
    void aStaleSocketFileWithForceOffStopsTheStartSayingToSetForce() throws Exception {
        Path socket = dir.resolve("escrow.sock");
        AFUNIXServerSocket dead = AFUNIXServerSocket.newInstance();
        dead.setDeleteOnClose(false);
        dead.bind(AFUNIXSocketAddress.of(socket));
        dead.close();
        Map<String, String> env = Map.of("FABRIC_ESCROW_SOCKETPATH", socket.toString(), "FABRIC_ESCROW_FORCE", "false", "SERVER_PORT", "0");

        assertThatThrownBy(() -> EscrowSidecar.start(SidecarSettings.fromEnvironment(env)))
                .isInstanceOfSatisfying(EscrowSidecar.SidecarStartException.class,
                        e -> assertThat(e.exitStatus()).isEqualTo(EscrowSidecar.EXIT_CANNOT_SERVE))
                .hasMessageContaining("cannot serve " + socket).hasMessageContaining("stale socket")
                .hasMessageContaining("FABRIC_ESCROW_FORCE=true").hasMessageNotContaining("-f ").hasMessageNotContaining("(FORCE)")
                .hasMessageNotContaining("writable by uid");

        sidecar = start(socket);
        assertThat(get("/actuator/health/readiness").statusCode()).as("the default, FABRIC_ESCROW_FORCE=true, replaces it").isEqualTo(200);
    }

    @Test
    void aDirectoryThatCannotBeMadeStopsTheStartSayingWhatToCheck() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");

        assertThatThrownBy(() -> start(file.resolve("escrow.sock"))).isInstanceOfSatisfying(EscrowSidecar.SidecarStartException.class,
                        e -> assertThat(e.exitStatus()).isEqualTo(EscrowSidecar.EXIT_CANNOT_SERVE))
                .hasMessageContaining("cannot serve " + file.resolve("escrow.sock") + ": " + file).hasMessageContaining("writable by uid");
    }

    private static void talk(SocketChannel from, SocketChannel to, String text) throws IOException {
        from.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer in = ByteBuffer.allocate(text.length());
        while (in.hasRemaining()) {
            assertThat(to.read(in)).isNotNegative();
        }
        assertThat(new String(in.array(), StandardCharsets.US_ASCII)).isEqualTo(text);
    }

    private String scrape() throws Exception {
        HttpResponse<String> response = get("/actuator/prometheus");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
        return response.body();
    }

    /** The value of one series on /actuator/prometheus, e.g. {@code metric("escrow_tag_slots", "tag=\"5\"")}. */
    private double metric(String name, String label) throws Exception {
        String body = scrape();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)} (\\S+)$").matcher(body);
        while (m.find()) {
            if (m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no series " + name + " with " + label + " in:\n" + body);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + sidecar.httpPort() + path);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
