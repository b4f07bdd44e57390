package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.testsupport.ApiDocuments;
import dev.fabric.testsupport.DocumentedAnswers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The registry's API reference, {@code docs/api/registry.openapi.json}, is what the registry
 * serves at {@code /v3/api-docs}: a changed endpoint or wire record fails here until the document
 * is regenerated ({@code ./fabric api-docs}) and committed.
 */
@SpringBootTest(classes = RegistryApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RegistryApiDocumentIT {

    @TempDir
    static Path dir;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        FabricKeys.generate().writeTo(dir.resolve("keys"));
        registry.add("fabric.registry.data-dir", () -> dir.resolve("data").toString());
        registry.add("fabric.security.keys-path", () -> dir.resolve("keys").toString());
    }

    @LocalServerPort
    int port;

    @Test
    void theServedApiIsTheCommittedDocument() throws Exception {
        HttpResponse<String> served = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v3/api-docs")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(served.statusCode()).as(served.body()).isEqualTo(200);

        ApiDocuments.check("registry", served.body());
    }

    /**
     * The statuses and reasons the registry answers, over one life of an instance and the refusals
     * around it, are those its document gives: the document is made from the handlers' annotations,
     * and this is where an annotation that no longer says what its handler does shows.
     */
    @Test
    void whatTheRegistryAnswersIsWhatItsDocumentSays() {
        DocumentedAnswers registry = DocumentedAnswers.of("registry");
        RestClient client = FabricRestClients.signed(FabricKeys.load(dir.resolve("keys")), Duration.ofSeconds(5), null)
                .baseUrl("http://127.0.0.1:" + port).defaultStatusHandler(status -> true, (request, response) -> { }).build();
        String id = "documented-" + UUID.randomUUID().toString().substring(0, 8);

        call(registry, client, HttpMethod.POST, "/api/v1/instances", Map.of("id", id, "type", "orders"), 201);
        call(registry, client, HttpMethod.POST, "/api/v1/instances", Map.of("id", id, "type", "orders", "incarnation", 1), 200);
        call(registry, client, HttpMethod.POST, "/api/v1/instances", Map.of("id", id, "type", "orders"), 409);
        call(registry, client, HttpMethod.POST, "/api/v1/instances/" + id + "/heartbeat?incarnation=1", null, 204);
        call(registry, client, HttpMethod.POST, "/api/v1/instances/" + id + "/heartbeat?incarnation=0", null, 400);
        call(registry, client, HttpMethod.PUT, "/api/v1/instances/" + id + "/sessions/cart-1", null, 201);
        call(registry, client, HttpMethod.PUT, "/api/v1/instances/" + id + "/sessions/cart-1", null, 204);
        call(registry, client, HttpMethod.GET, "/api/v1/instances/" + id + "/sessions", null, 200);
        call(registry, client, HttpMethod.GET, "/api/v1/sessions/cart-1", null, 200);
        call(registry, client, HttpMethod.DELETE, "/api/v1/instances/" + id + "/sessions/cart-1", null, 204);
        call(registry, client, HttpMethod.DELETE, "/api/v1/instances/" + id + "/sessions/cart-1", null, 404);
        call(registry, client, HttpMethod.GET, "/api/v1/instances/" + id, null, 200);
        call(registry, client, HttpMethod.GET, "/api/v1/instances?limit=5000", null, 400);
        call(registry, client, HttpMethod.GET, "/api/v1/instances/" + id + "/history", null, 200);
        call(registry, client, HttpMethod.PUT, "/api/v1/instances/" + id + "/state", Map.of("state", "FAILED", "incarnation", 1), 200);
        call(registry, client, HttpMethod.PUT, "/api/v1/instances/" + id + "/state", Map.of("state", "RUNNING", "incarnation", 1), 409);
        call(registry, client, HttpMethod.POST, "/api/v1/instances/" + id + "/reports", Map.of("kind", "FAILED", "reason", "x"), 400);
        call(registry, client, HttpMethod.DELETE, "/api/v1/instances/" + id, null, 204);
        call(registry, client, HttpMethod.GET, "/api/v1/instances/" + id, null, 404);
        call(registry, client, HttpMethod.GET, "/api/v1/watch?since=-1", null, 400);
        call(registry, client, HttpMethod.GET, "/api/v1/rendezvous/rv-nonexistent1", null, 404);
        call(registry, FabricRestClients.plain(Duration.ofSeconds(5), null).baseUrl("http://127.0.0.1:" + port)
                .defaultStatusHandler(status -> true, (request, response) -> { }).build(), HttpMethod.GET, "/api/v1/instances", null, 401);

        registry.assertDocumented();
    }

    /** Sends a request, records its answer with the document and checks the status the test expects. */
    private static void call(DocumentedAnswers document, RestClient client, HttpMethod method, String path, Object body, int expected) {
        RestClient.RequestBodySpec request = client.method(method).uri(path);
        if (body != null) {
            request.contentType(MediaType.APPLICATION_JSON).body(body);
        }
        request.exchange((sent, answer) -> {
            String text = new String(answer.getBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = answer.getStatusCode().value();
            assertThat(status).as(method + " " + path + " answered " + text).isEqualTo(expected);
            return document.answered(method.name(), sent.getURI().getRawPath(), status, text);
        });
    }
}
