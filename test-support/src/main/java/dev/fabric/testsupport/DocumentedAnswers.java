package dev.fabric.testsupport;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whether what a real service answered is what its committed OpenAPI document ({@code docs/api/})
 * says it answers: the status among the operation's responses, and an error's {@code reason} among
 * the reasons its response names. The document is generated from the handlers' annotations, so this
 * is what catches an annotation that no longer says what the handler does (a {@code 200} documented
 * for a handler that answers {@code 201}).
 *
 * <p>A test records each answer with {@link #answered} and ends with {@link #assertDocumented()},
 * which lists every undocumented one at once.
 */
public final class DocumentedAnswers {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final JsonNode document;
    private final List<String> undocumented = new ArrayList<>();

    DocumentedAnswers(String name, JsonNode document) {
        this.name = name;
        this.document = document;
    }

    /** The answers documented in {@code docs/api/NAME.openapi.json}. */
    public static DocumentedAnswers of(String name) {
        Path file = ApiDocuments.repositoryRoot(Path.of(System.getProperty("user.dir"))).resolve("docs/api/" + name + ".openapi.json");
        try {
            return new DocumentedAnswers(name, JSON.readTree(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** From a document's text, for tests of this class. */
    static DocumentedAnswers ofDocument(String name, String openApiJson) {
        return new DocumentedAnswers(name, JSON.readTree(openApiJson));
    }

    /**
     * Records an answer, and whether it is documented.
     *
     * @param path the request's path as sent (a query is ignored)
     * @param body the answer's body, read for a problem's {@code reason}; may be empty
     * @return whether it is documented
     */
    public boolean answered(String method, String path, int status, String body) {
        String request = method.toUpperCase(Locale.ROOT) + " " + path;
        Optional<JsonNode> operation = operation(method.toLowerCase(Locale.ROOT), path.replaceFirst("\\?.*", ""));
        if (operation.isEmpty()) {
            return undocumented(request + " answered " + status + ", and the " + name + "'s document has no such operation");
        }
        JsonNode response = operation.get().path("responses").path(Integer.toString(status));
        if (response.isMissingNode()) {
            return undocumented(request + " answered " + status + "; documented: " + operation.get().path("responses").propertyNames());
        }
        String reason = reasonOf(body);
        if (status >= 400 && reason != null && !names(response.path("description").asString(""), reason)) {
            return undocumented(request + " answered " + status + " " + reason + "; documented for " + status + ": "
                    + response.path("description").asString(""));
        }
        return true;
    }

    /**
     * Fails listing every answer recorded that the document does not show; not while
     * {@code ./fabric api-docs} rewrites the documents ({@value ApiDocuments#UPDATE}{@code =1}), when
     * the one read may be the one being replaced.
     */
    public void assertDocumented() {
        if (!undocumented.isEmpty() && !"1".equals(System.getenv(ApiDocuments.UPDATE))) {
            fail("answers docs/api/" + name + ".openapi.json does not document (declare them on the handler with @ApiResponse or "
                    + "@ProblemAnswer, then ./fabric api-docs):\n  " + String.join("\n  ", undocumented));
        }
    }

    private boolean undocumented(String what) {
        undocumented.add(what);
        return false;
    }

    /** The operation whose path template matches, the one with the most fixed text when several do. */
    private Optional<JsonNode> operation(String method, String path) {
        JsonNode best = null;
        int bestFixed = -1;
        for (Map.Entry<String, JsonNode> entry : document.path("paths").properties()) {
            String template = entry.getKey();
            JsonNode operation = entry.getValue().path(method);
            if (operation.isMissingNode() || !matches(template, path)) {
                continue;
            }
            int fixed = template.replaceAll("\\{[^}]*}", "").length();
            if (fixed > bestFixed) {
                best = operation;
                bestFixed = fixed;
            }
        }
        return Optional.ofNullable(best);
    }

    static boolean matches(String template, String path) {
        StringBuilder regex = new StringBuilder();
        for (String part : template.split("(?=\\{)|(?<=})")) {
            regex.append(part.startsWith("{") ? "[^/]+" : Pattern.quote(part));
        }
        return path.matches(regex.toString());
    }

    /** Whether a response's description ({@code Not Found: unknown-member, no-log (...)}) names the reason. */
    static boolean names(String description, String reason) {
        return Pattern.compile("(^|[:,] )" + Pattern.quote(reason) + "($|[ ,])").matcher(description).find();
    }

    private static String reasonOf(String body) {
        if (body == null || !body.strip().startsWith("{")) {
            return null;
        }
        try {
            JsonNode reason = JSON.readTree(body).path("reason");
            return reason.isString() ? reason.asString() : null;
        } catch (JacksonException e) {
            return null;
        }
    }
}
