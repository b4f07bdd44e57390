package dev.fabric.core.registry;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The client reads every page of the instance list and of a history, following Link rel="next". */
class RegistryClientPagingTest {

    HttpServer server;
    final List<String> asked = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        Map<String, String[]> pages = Map.of(
                "/api/v1/instances", new String[] {"{\"revision\":7,\"instances\":[" + instance("a") + "," + instance("b") + "]}",
                        "</api/v1/instances?after=b&limit=2>; rel=\"next\""},
                "/api/v1/instances?after=b&limit=2", new String[] {"{\"revision\":9,\"instances\":[" + instance("c") + "]}", null},
                "/api/v1/instances/a/history", new String[] {"[" + step(1) + "]",
                        // An absolute link to elsewhere: only its path and query are followed, on this registry.
                        "<http://elsewhere.example:1/api/v1/instances/a/history?after=1&limit=1>; rel=\"next\""},
                "/api/v1/instances/a/history?after=1&limit=1", new String[] {"[" + step(2) + "]", null});
        server.createContext("/", exchange -> {
            String target = exchange.getRequestURI().getRawPath()
                    + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
            asked.add(target);
            String[] page = pages.get(target);
            byte[] body = page[0].getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            if (page[1] != null) {
                exchange.getResponseHeaders().add("Link", page[1]);
            }
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static String instance(String id) {
        return "{\"id\":\"" + id + "\",\"type\":\"queue\",\"name\":\"" + id + "\",\"state\":\"RUNNING\",\"incarnation\":1,"
                + "\"connectivity\":\"DIRECT\",\"endpoints\":{},\"metadata\":{},\"registeredAt\":\"2026-12-04T12:00:00Z\","
                + "\"updatedAt\":\"2026-12-04T12:00:00Z\",\"lastHeartbeatAt\":\"2026-12-04T12:00:00Z\"}";
    }

    static String step(long seq) {
        return "{\"seq\":" + seq + ",\"incarnation\":1,\"to\":\"RUNNING\",\"reason\":\"r\",\"at\":\"2026-12-04T12:00:00Z\"}";
    }

    RegistryClient client() {
        return new RegistryClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), FabricKeys.generate(),
                Duration.ofSeconds(5));
    }

    @Test
    void listFollowsEveryPageAndKeepsTheFirstPagesRevision() {
        InstanceList list = client().list(null, null, null, null);
        assertThat(list.instances()).extracting(ServiceInstance::id).containsExactly("a", "b", "c");
        assertThat(list.revision()).isEqualTo(7);
    }

    @Test
    void historyFollowsEveryPageOnThisRegistryOnly() {
        assertThat(client().history("a")).extracting(StateTransition::seq).containsExactly(1L, 2L);
        assertThat(asked).containsExactly("/api/v1/instances/a/history", "/api/v1/instances/a/history?after=1&limit=1");
    }

    @Test
    void nextPageIsFoundAmongSeveralLinks() {
        URI base = URI.create("http://registry:8470");
        assertThat(RegistryClient.nextPage(base, List.of("</x?after=1>; rel=\"prev\", </x?after=9>; rel=\"next\"")))
                .contains(URI.create("http://registry:8470/x?after=9"));
        assertThat(RegistryClient.nextPage(base, List.of("</x?after=1>; rel=\"prev\""))).isEqualTo(Optional.empty());
    }
}
