package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.testsupport.ApiDocuments;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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
        ServiceInstance member = fabric.awaitState(fabric.spawn(Map.of("type", "queue")), InstanceState.RUNNING, 1);

        ApiDocuments.check("member", apiDocs(member.endpoints().get("management")));
    }

    private static String apiDocs(String baseUrl) throws Exception {
        HttpResponse<String> served = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/v3/api-docs")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
        return served.body();
    }
}
