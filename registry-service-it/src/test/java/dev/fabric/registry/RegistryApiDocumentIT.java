package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.testsupport.ApiDocuments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

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
}
