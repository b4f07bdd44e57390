package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/** A signed client for the registry's API that hands back every answer, errors included, as JSON. */
public final class RegistryClient {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** An answer: status and parsed body (an empty object for none). */
    public record Answer(int status, JsonNode body) {
        public String reason() {
            return body.path("reason").asString();
        }
    }

    private final RestClient client;
    private final String baseUrl;
    private final FabricKeys keys;

    public RegistryClient(String baseUrl, FabricKeys keys) {
        this.baseUrl = baseUrl;
        this.keys = keys;
        // No read timeout: a long poll answers when the registry has news.
        this.client = FabricRestClients.signed(keys, Duration.ofSeconds(5), null).baseUrl(baseUrl)
                .defaultStatusHandler(status -> true, (request, response) -> {})
                .build();
    }

    static Answer answer(ResponseEntity<String> response) {
        String body = response.getBody();
        return new Answer(response.getStatusCode().value(), body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body));
    }

    public Answer get(String path) {
        return answer(client.get().uri(path).retrieve().toEntity(String.class));
    }

    public Answer post(String path, Object body) {
        return answer(client.post().uri(path).contentType(MediaType.APPLICATION_JSON).body(json(body)).retrieve().toEntity(String.class));
    }

    public Answer put(String path, Object body) {
        var request = client.put().uri(path);
        if (body != null) {
            request.contentType(MediaType.APPLICATION_JSON).body(json(body));
        }
        return answer(request.retrieve().toEntity(String.class));
    }

    public Answer delete(String path) {
        return answer(client.delete().uri(path).retrieve().toEntity(String.class));
    }

    public Answer register(String id, String type, long incarnation, String state) {
        return post("/api/v1/instances", Map.of("id", id, "type", type, "incarnation", incarnation, "state", state,
                "endpoints", Map.of("management", "http://127.0.0.1:9000")));
    }

    public Answer heartbeat(String id, long incarnation) {
        return post("/api/v1/instances/" + id + "/heartbeat?incarnation=" + incarnation, null);
    }

    /** Reads n events (revision, kind, data) from a signed server-sent-events stream, then closes it. */
    public java.util.List<String[]> events(String path, int n, String lastEventId) throws Exception {
        return events(path, n, lastEventId, event -> true);
    }

    /**
     * Reads n events that {@code keep} accepts (revision, kind, data), skipping others (another
     * test's instances moved by the failure detector meanwhile), then closes the stream.
     */
    public java.util.List<String[]> events(String path, int n, String lastEventId,
                                           java.util.function.Predicate<String[]> keep) throws Exception {
        java.net.URI uri = java.net.URI.create(baseUrl + path);
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(uri).header("Accept", "text/event-stream")
                .timeout(java.time.Duration.ofSeconds(20));
        new RequestSigner(keys, Clock.systemUTC()).sign("GET", uri, Map.of(), new byte[0]).forEach(request::header);
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        java.net.http.HttpResponse<java.io.InputStream> response = java.net.http.HttpClient.newHttpClient()
                .send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("watch answered " + response.statusCode());
        }
        java.util.List<String[]> events = new java.util.ArrayList<>();
        try (java.io.BufferedReader reader = new java.io.BufferedReader(
                new java.io.InputStreamReader(response.body(), java.nio.charset.StandardCharsets.UTF_8))) {
            String id = null;
            String kind = null;
            StringBuilder data = new StringBuilder();
            String line;
            while (events.size() < n && (line = reader.readLine()) != null) {
                if (line.startsWith("id:")) {
                    id = line.substring(3).strip();
                } else if (line.startsWith("event:")) {
                    kind = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).strip());
                } else if (line.isEmpty() && id != null) {
                    String[] event = {id, kind, data.toString()};
                    if (keep.test(event)) {
                        events.add(event);
                    }
                    id = null;
                    kind = null;
                    data.setLength(0);
                }
            }
        }
        return events;
    }

    private static String json(Object body) {
        return body instanceof String s ? s : body == null ? "" : JSON.writeValueAsString(body);
    }
}
