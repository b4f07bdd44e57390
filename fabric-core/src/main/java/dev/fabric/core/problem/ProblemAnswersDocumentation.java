package dev.fabric.core.problem;

import dev.fabric.core.signature.Rejection;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.PathContainer;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;

/**
 * The error answers of each operation in a service's OpenAPI document: those its handler declares
 * with {@link ProblemAnswer}, the {@code 400} every operation with parameters or a body can answer,
 * and the answers of the signature filter ({@code 401}, {@code 503 replay-cache-full}, {@code 413}
 * with a body) on every path it guards; each an {@code application/problem+json} of the
 * {@code Problem} schema, described by its status phrase and reasons. Without this the document shows
 * only successes, and a client written from it knows no error (docs/api.md).
 */
public final class ProblemAnswersDocumentation implements OperationCustomizer, OpenApiCustomizer {

    /** The schema every error answer has, in the document's components. */
    public static final String SCHEMA = "Problem";

    static final String MEDIA_TYPE = "application/problem+json";

    private final List<PathPattern> openPaths;

    /**
     * @param openPaths the path patterns the signature filter lets through unsigned
     *                  ({@code fabric.security.signature.open-paths}); empty when nothing is signed
     * @param signed whether requests must be signed at all
     */
    public ProblemAnswersDocumentation(List<String> openPaths, boolean signed) {
        this.openPaths = signed ? openPaths.stream().map(PathPatternParser.defaultInstance::parse).toList() : null;
    }

    @Override
    public Operation customize(Operation operation, HandlerMethod handler) {
        Map<Integer, SequencedSet<String>> answers = new LinkedHashMap<>();
        List<ProblemAnswer> declared = new ArrayList<>(AnnotatedElementUtils.findMergedRepeatableAnnotations(handler.getBeanType(),
                ProblemAnswer.class));
        declared.addAll(AnnotatedElementUtils.findMergedRepeatableAnnotations(handler.getMethod(), ProblemAnswer.class));
        boolean body = operation.getRequestBody() != null;
        boolean parameters = operation.getParameters() != null && !operation.getParameters().isEmpty();
        if (body) {
            add(answers, 400, "malformed-json", "unknown-field", "invalid-request");
        } else if (parameters) {
            add(answers, 400, "invalid-request");
        }
        for (ProblemAnswer answer : declared) {
            if (answer.status() < 400 || answer.status() > 599) {
                throw new IllegalStateException(handler + " declares a problem with status " + answer.status() + ", not 4xx or 5xx");
            }
            String[] reasons = answer.reasons().clone();
            if (!answer.when().isEmpty() && reasons.length > 0) {
                reasons[reasons.length - 1] += " (" + answer.when() + ")";
            }
            add(answers, answer.status(), reasons);
        }
        answers.forEach((status, reasons) -> respond(operation, status, reasons));
        return operation;
    }

    /** The {@code Problem} schema, and the signature filter's {@code 401} on every guarded path. */
    @Override
    public void customise(OpenAPI document) {
        if (document.getComponents() == null) {
            document.setComponents(new Components());
        }
        document.getComponents().addSchemas(SCHEMA, problemSchema());
        if (openPaths == null || document.getPaths() == null) {
            return;
        }
        Map<Integer, SequencedSet<String>> signature = new LinkedHashMap<>();
        for (Rejection rejection : Rejection.values()) {
            add(signature, rejection.status(), rejection.code());
        }
        document.getPaths().forEach((path, item) -> {
            if (openPaths.stream().noneMatch(pattern -> pattern.matches(PathContainer.parsePath(path)))) {
                for (Operation operation : item.readOperations()) {
                    signature.forEach((status, reasons) -> {
                        // The body limit is the signature filter's only where there is a body to digest.
                        if (status != 413 || operation.getRequestBody() != null) {
                            respond(operation, status, reasons);
                        }
                    });
                }
            }
        });
    }

    private static void add(Map<Integer, SequencedSet<String>> answers, int status, String... reasons) {
        answers.computeIfAbsent(status, s -> new LinkedHashSet<>()).addAll(List.of(reasons));
    }

    private static void respond(Operation operation, int status, SequencedSet<String> reasons) {
        if (operation.getResponses() == null) {
            operation.setResponses(new ApiResponses());
        }
        HttpStatus known = HttpStatus.resolve(status);
        String phrase = known == null ? "HTTP " + status : known.getReasonPhrase();
        ApiResponse declared = operation.getResponses().get(Integer.toString(status));
        SequencedSet<String> all = new LinkedHashSet<>();
        if (declared != null && declared.getDescription() != null && declared.getDescription().startsWith(phrase + ": ")) {
            // Answers of the handler and of the signature filter with one status: one response naming both's reasons.
            all.addAll(List.of(declared.getDescription().substring(phrase.length() + 2).split(", ")));
        }
        all.addAll(reasons);
        operation.getResponses().addApiResponse(Integer.toString(status), new ApiResponse()
                .description(phrase + ": " + String.join(", ", all))
                .content(new Content().addMediaType(MEDIA_TYPE, new MediaType().schema(new Schema<>().$ref(SCHEMA)))));
    }

    @SuppressWarnings("rawtypes")
    private static Schema<?> problemSchema() {
        Map<String, Schema> properties = new LinkedHashMap<>();
        properties.put("type", new StringSchema().format("uri").description("urn:fabric:problem: and the reason"));
        properties.put("title", new StringSchema().description("the status phrase"));
        properties.put("status", new IntegerSchema().description("the HTTP status"));
        properties.put("detail", new StringSchema().description("what happened and what to do next, for people"));
        properties.put("instance", new StringSchema().format("uri-reference").description("the request's path"));
        properties.put("reason", new StringSchema().description("the stable reason to branch on (docs/problems.md)"));
        return new ObjectSchema().properties(properties).required(List.of("type", "title", "status", "reason"))
                .description("An error answer (RFC 9457); a problem may carry more members, named in docs/problems.md "
                        + "(a pubsub's gone: oldest)");
    }
}
