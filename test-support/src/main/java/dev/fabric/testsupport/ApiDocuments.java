package dev.fabric.testsupport;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The OpenAPI documents committed under {@code docs/api/} and the check that a service still
 * serves what they say.
 *
 * <p>A test fetches the live {@code /v3/api-docs} of a service and calls
 * {@link #check(String, String)}: the document is normalised (object keys sorted, the
 * {@code servers} entry, which names the test's random port, removed, two-space indentation) and
 * compared with {@code docs/api/NAME.openapi.json}. A difference fails the test with the way to
 * accept it: {@code ./fabric api-docs}, which runs the same tests with
 * {@code FABRIC_API_DOCS_UPDATE=1}, the setting under which they write the files instead.
 */
public final class ApiDocuments {

    /** The environment variable under which {@link #check} writes the documents instead of comparing. */
    public static final String UPDATE = "FABRIC_API_DOCS_UPDATE";

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private ApiDocuments() {}

    /**
     * Compares the served document with the committed one, or writes it where
     * {@value #UPDATE}{@code =1}.
     *
     * @param name {@code registry}, {@code spawner} or {@code member}
     * @param served the body of the service's {@code /v3/api-docs}
     */
    public static void check(String name, String served) {
        check(name, served, System.getenv(), repositoryRoot(Path.of(System.getProperty("user.dir"))));
    }

    static void check(String name, String served, Map<String, String> environment, Path repositoryRoot) {
        Path file = repositoryRoot.resolve("docs").resolve("api").resolve(name + ".openapi.json");
        String normalized = normalize(served);
        try {
            if ("1".equals(environment.get(UPDATE))) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, normalized, StandardCharsets.UTF_8);
                return;
            }
            if (!Files.exists(file)) {
                fail(file + " is missing; write it with ./fabric api-docs and commit it");
            }
            assertEquals(Files.readString(file, StandardCharsets.UTF_8), normalized,
                    "the " + name + "'s served API differs from " + repositoryRoot.relativize(file)
                            + "; if the change is meant, run ./fabric api-docs, read the difference and commit it"
                            + " (and update docs/api.md)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The document as committed: keys sorted, no {@code servers}, two-space indentation, a final newline. */
    public static String normalize(String openApiJson) {
        JsonNode document = JSON.readTree(openApiJson);
        if (!(document instanceof ObjectNode object) || !object.has("openapi")) {
            throw new IllegalArgumentException("not an OpenAPI document: " + abbreviate(openApiJson));
        }
        object.remove("servers");
        Object plain = JSON.treeToValue(object, Object.class);
        return JSON.writeValueAsString(plain) + "\n";
    }

    /** The directory holding {@code mvnw} and {@code docs/}, at or above {@code start}. */
    static Path repositoryRoot(Path start) {
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("docs"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no repository root (a directory with mvnw and docs/) at or above " + start);
    }

    private static String abbreviate(String text) {
        String value = Objects.toString(text);
        return value.length() <= 200 ? value : value.substring(0, 200) + "...";
    }
}
