package dev.fabric.testsupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiDocumentsTest {

    private static final String SERVED = """
            {"paths":{"/b":{},"/a":{}},"openapi":"3.1.0","servers":[{"url":"http://127.0.0.1:41234"}],"info":{"version":"v0","title":"t"}}""";

    @TempDir
    Path root;

    @Test
    void normalisingSortsKeysAndDropsTheServersThatNameTheTestsPort() {
        assertThat(ApiDocuments.normalize(SERVED)).isEqualTo("""
                {
                  "info" : {
                    "title" : "t",
                    "version" : "v0"
                  },
                  "openapi" : "3.1.0",
                  "paths" : {
                    "/a" : { },
                    "/b" : { }
                  }
                }
                """);
    }

    @Test
    void updateWritesTheDocumentAndACheckThenPasses() throws Exception {
        ApiDocuments.check("registry", SERVED, Map.of(ApiDocuments.UPDATE, "1"), root);

        assertThat(Files.readString(root.resolve("docs/api/registry.openapi.json"))).contains("\"/a\"");
        ApiDocuments.check("registry", SERVED.replace("41234", "50000"), Map.of(), root);
    }

    @Test
    void aServedApiThatDriftedFailsNamingTheFileAndTheCommandThatAcceptsIt() {
        ApiDocuments.check("spawner", SERVED, Map.of(ApiDocuments.UPDATE, "1"), root);

        assertThatThrownBy(() -> ApiDocuments.check("spawner", SERVED.replace("\"/b\"", "\"/c\""), Map.of(), root))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("docs/api/spawner.openapi.json")
                .hasMessageContaining("./fabric api-docs");
    }

    @Test
    void aMissingDocumentFailsWithTheCommandThatWritesIt() {
        assertThatThrownBy(() -> ApiDocuments.check("member", SERVED, Map.of(), root))
                .hasMessageContaining("member.openapi.json is missing")
                .hasMessageContaining("./fabric api-docs");
    }

    @Test
    void somethingElseThanAnOpenApiDocumentIsRefused() {
        assertThatThrownBy(() -> ApiDocuments.normalize("{\"status\":\"UP\"}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not an OpenAPI document");
    }
}
