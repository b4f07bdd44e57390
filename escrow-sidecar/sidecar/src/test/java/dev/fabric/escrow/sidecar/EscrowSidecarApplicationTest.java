package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.client.SlotNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

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
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The sidecar app on a temporary socket, used by the real escrow client: descriptors go in and
 * come back, the probes say UP, and the Prometheus endpoint shows the escrow's contents and errors.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class EscrowSidecarApplicationTest {

    @TempDir
    static Path dir;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("fabric.escrow.socket-path", () -> dir.resolve("escrow.sock").toString());
        registry.add("fabric.escrow.nr-tags", () -> "8");
    }

    @LocalServerPort
    int port;

    @Autowired
    EscrowProperties properties;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void probesAreUpOnceTheSocketAccepts() throws Exception {
        assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
        HttpResponse<String> readiness = get("/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(200);
        assertThat(readiness.body()).contains("\"status\":\"UP\"");
        assertThat(get("/").statusCode()).as("the port serves the actuator only").isEqualTo(404);
    }

    @Test
    void descriptorsGoInAndComeBackAndTheMetricsFollow() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open(listener.getLocalAddress())) {
            SocketChannel accepted = listener.accept();
            double descriptorsBefore = metric("escrow_descriptors", "");
            double errorsBefore = metric("escrow_errors_total", "reason=\"no_such_index\"");
            double sessionsBefore = metric("escrow_sessions_total", "");

            try (Escrow escrow = Escrow.open(properties.socketPath(), 0, 8, Duration.ofSeconds(10))) {
                escrow.add(5, 3, accepted, "client 3".getBytes(StandardCharsets.US_ASCII));
                accepted.close(); // the escrow's copy keeps the connection

                Slot slot = escrow.get(5, 3);
                assertThat(slot.payload()).asString(StandardCharsets.US_ASCII).isEqualTo("client 3");
                try (SocketChannel revived = slot.socketChannel()) {
                    talk(client, revived, "still connected");
                }
                assertThatThrownBy(() -> escrow.get(5, 4)).isInstanceOf(SlotNotFoundException.class);

                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    assertThat(metric("escrow_descriptors", "")).isEqualTo(descriptorsBefore + 1);
                    assertThat(metric("escrow_tag_descriptors", "tag=\"5\"")).isEqualTo(1);
                    assertThat(metric("escrow_tag_payload_bytes", "tag=\"5\"")).isEqualTo(8);
                    assertThat(metric("escrow_sessions_active", "")).isEqualTo(1);
                    assertThat(metric("escrow_errors_total", "reason=\"no_such_index\"")).isEqualTo(errorsBefore + 1);
                });
                escrow.del(5, 3);
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(metric("escrow_descriptors", "")).isEqualTo(descriptorsBefore);
                assertThat(metric("escrow_tag_descriptors", "tag=\"5\"")).as("the tag's series stays, at zero").isZero();
                assertThat(metric("escrow_sessions_active", "")).isZero();
                assertThat(metric("escrow_sessions_total", "")).isEqualTo(sessionsBefore + 1);
            });
            String scrape = get("/actuator/prometheus").body();
            assertThat(scrape).as("every reason has its series from the start")
                    .contains("escrow_errors_total{application=\"escrow-sidecar\",reason=\"peer_refused\"} 0.0")
                    .contains("escrow_accepting{application=\"escrow-sidecar\"} 1.0");
        }
    }

    private static void talk(SocketChannel from, SocketChannel to, String text) throws IOException {
        from.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
        ByteBuffer in = ByteBuffer.allocate(text.length());
        while (in.hasRemaining()) {
            assertThat(to.read(in)).isNotNegative();
        }
        assertThat(new String(in.array(), StandardCharsets.US_ASCII)).isEqualTo(text);
    }

    /** The value of one series on /actuator/prometheus, e.g. {@code metric("escrow_tag_slots", "tag=\"5\"")}. */
    private double metric(String name, String label) throws Exception {
        String body = get("/actuator/prometheus").body();
        Pattern series = Pattern.compile("(?m)^" + name + "\\{([^}]*)} (\\S+)$");
        Matcher m = series.matcher(body);
        while (m.find()) {
            if (m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no series " + name + " with " + label + " in:\n" + body);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
