package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.testsupport.ApiDocuments;
import dev.fabric.testsupport.DocumentedAnswers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

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
import static org.junit.jupiter.api.Assertions.assertAll;

/**
 * The spawner's and the member's API references, {@code docs/api/spawner.openapi.json} and
 * {@code docs/api/member.openapi.json}, are what a real spawner and a real queue member serve at
 * {@code /v3/api-docs}: a changed endpoint or wire record fails here until the documents are
 * regenerated ({@code ./fabric api-docs}) and committed.
 */
class ApiDocumentsIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;

    private static ServiceInstance queue;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @BeforeAll
    static void start() throws Exception {
        fabric = new FabricUnderTest(dir);
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    @Test
    void theSpawnersServedApiIsTheCommittedDocument() throws Exception {
        ApiDocuments.check("spawner", apiDocs(fabric.spawnerUrl()));
    }

    @Test
    void aMembersServedApiIsTheCommittedDocument() throws Exception {
        ApiDocuments.check("member", apiDocs(queue().endpoints().get("management")));
    }

    /**
     * The statuses and reasons a spawner and a queue member answer, over one life of a message and
     * the refusals around it, are those their documents give: the document is made from the
     * handlers' annotations, and this is where an annotation that no longer says what its handler
     * does shows.
     */
    @Test
    void whatTheSpawnerAndAMemberAnswerIsWhatTheirDocumentsSay() throws Exception {
        ServiceInstance queue = queue();
        DocumentedAnswers spawner = DocumentedAnswers.of("spawner");
        DocumentedAnswers member = DocumentedAnswers.of("member");
        RestClient toSpawner = fabric.spawnerClient();
        RestClient toMember = fabric.signedClient(queue.endpoints().get("management"));
        String unknown = UUID.randomUUID().toString();

        call(spawner, toSpawner, HttpMethod.GET, "/api/v1/members/" + queue.id() + "/log?bytes=100", null, 200);
        call(spawner, toSpawner, HttpMethod.GET, "/api/v1/members/nobody-1", null, 404);
        call(spawner, toSpawner, HttpMethod.GET, "/api/v1/members/-bad", null, 400);
        call(spawner, toSpawner, HttpMethod.POST, "/management/v1/restarting", null, 409);
        call(spawner, toSpawner, HttpMethod.POST, "/api/v1/spawns", Map.of("type", "no-such-role"), 400);

        call(member, toMember, HttpMethod.PUT, "/management/v1/sessions/documented-1", null, 201);
        call(member, toMember, HttpMethod.PUT, "/management/v1/sessions/documented-1", null, 204);
        call(member, toMember, HttpMethod.DELETE, "/management/v1/sessions/documented-1", null, 204);
        call(member, toMember, HttpMethod.POST, "/queue/v1/leases?wait=0s", null, 204);
        String id = call(member, toMember, HttpMethod.POST, "/queue/v1/messages", Map.of("body", "a"), 200).path("id").asString();
        String lease = call(member, toMember, HttpMethod.POST, "/queue/v1/leases", null, 200).path("messages").path(0).path("leaseId").asString();
        call(member, toMember, HttpMethod.DELETE, "/queue/v1/messages/" + id, null, 409);
        call(member, toMember, HttpMethod.POST, "/queue/v1/leases/" + lease + "/nack", null, 204);
        call(member, toMember, HttpMethod.POST, "/queue/v1/leases/" + lease + "/extend", null, 409);
        call(member, toMember, HttpMethod.POST, "/queue/v1/leases/" + unknown + "/extend", null, 404);
        lease = call(member, toMember, HttpMethod.POST, "/queue/v1/leases", null, 200).path("messages").path(0).path("leaseId").asString();
        call(member, toMember, HttpMethod.DELETE, "/queue/v1/leases/" + lease, null, 204);
        call(member, toMember, HttpMethod.DELETE, "/queue/v1/leases/" + lease, null, 204);
        id = call(member, toMember, HttpMethod.POST, "/queue/v1/messages", Map.of("body", "b"), 200).path("id").asString();
        call(member, toMember, HttpMethod.DELETE, "/queue/v1/messages/" + id, null, 204);
        call(member, toMember, HttpMethod.DELETE, "/queue/v1/messages/" + unknown, null, 404);
        call(member, toMember, HttpMethod.POST, "/queue/v1/messages", Map.of("bodi", "a"), 400);
        call(member, toMember, HttpMethod.GET, "/pilots/v1/pilots", null, 503);
        call(member, toMember, HttpMethod.POST, "/pilots/v1/tasks/t-1/cancel", null, 503);
        call(member, toMember, HttpMethod.GET, "/pubsub/v1/topics", null, 503);
        call(member, toMember, HttpMethod.GET, "/agent/v1/tasks", null, 503);
        call(member, toMember, HttpMethod.POST, "/management/v1/splices", Map.of("rendezvous", "not a rendezvous"), 400);
        call(member, toMember, HttpMethod.GET, "/api/v1/members/" + queue.id(), null, 404);
        call(member, FabricRestClients.plain(Duration.ofSeconds(5), null).baseUrl(queue.endpoints().get("management"))
                .defaultStatusHandler(status -> true, (request, response) -> { }).build(), HttpMethod.GET, "/queue/v1/stats", null, 401);

        assertAll(spawner::assertDocumented, member::assertDocumented);
    }

    /** The member the tests share: one queue, spawned on first use. */
    private static synchronized ServiceInstance queue() throws Exception {
        if (queue == null) {
            queue = fabric.awaitState(fabric.spawn(Map.of("type", "queue")), InstanceState.RUNNING, 1);
        }
        return queue;
    }

    /** Sends a request, records its answer with the document and checks the status the test expects; answers the body. */
    private static JsonNode call(DocumentedAnswers document, RestClient client, HttpMethod method, String path, Object body,
                                 int expected) {
        RestClient.RequestBodySpec request = client.method(method).uri(path);
        if (body != null) {
            request.contentType(MediaType.APPLICATION_JSON).body(body);
        }
        return request.exchange((sent, answer) -> {
            String text = new String(answer.getBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = answer.getStatusCode().value();
            assertThat(status).as(method + " " + path + " answered " + text).isEqualTo(expected);
            document.answered(method.name(), sent.getURI().getRawPath(), status, text);
            return text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
        });
    }

    private static String apiDocs(String baseUrl) throws Exception {
        HttpResponse<String> served = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/v3/api-docs")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
        return served.body();
    }
}
