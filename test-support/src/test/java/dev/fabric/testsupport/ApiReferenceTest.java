package dev.fabric.testsupport;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/api.md, the readable reference, shows every operation of the committed OpenAPI documents:
 * an endpoint added to a service (and so to its document, or ApiDocumentsIT fails) fails here until
 * docs/api.md shows it too.
 */
class ApiReferenceTest {

    private static final Path ROOT = ApiDocuments.repositoryRoot(Path.of(System.getProperty("user.dir")));

    @Test
    void everyOperationOfTheApiDocumentsIsShownInTheReadableReference() throws Exception {
        String reference = Files.readString(ROOT.resolve("docs/api.md"));
        List<String> missing = new ArrayList<>();
        for (String name : List.of("registry", "spawner", "member")) {
            JsonNode document = JsonMapper.builder().build().readTree(Files.readString(ROOT.resolve("docs/api/" + name + ".openapi.json")));
            for (Map.Entry<String, JsonNode> path : document.path("paths").properties()) {
                for (String method : path.getValue().propertyNames()) {
                    String operation = method.toUpperCase(Locale.ROOT) + " " + path.getKey();
                    if (!shows(reference, method.toUpperCase(Locale.ROOT), path.getKey())) {
                        missing.add(name + ": " + operation);
                    }
                }
            }
        }
        assertThat(missing).as("operations docs/api.md does not show (as 'METHOD /path', with the path's variables or example values)").isEmpty();
    }

    @Test
    void aPathIsFoundWithExampleValuesInPlaceOfItsVariables() {
        assertThat(shows("PUT /api/v1/instances/orders-1/sessions/cart-42 201", "PUT", "/api/v1/instances/{id}/sessions/{session}")).isTrue();
        assertThat(shows("GET /api/v1/instances/orders-1", "GET", "/api/v1/instances/{id}/history")).isFalse();
        assertThat(shows("`PUT` / `DELETE /management/v1/sessions/{session}`", "PUT", "/management/v1/sessions/{session}")).isFalse();
    }

    /** Whether the text has "METHOD path" (query strings allowed after it, variables filled in or not). */
    static boolean shows(String text, String method, String template) {
        StringBuilder regex = new StringBuilder(Pattern.quote(method + " "));
        for (String part : template.split("(?=\\{)|(?<=\\})")) {
            regex.append(part.startsWith("{") ? "[^/\\s`?]+" : Pattern.quote(part));
        }
        regex.append("(?![\\w/-])");
        return Pattern.compile(regex.toString()).matcher(text).find();
    }
}
