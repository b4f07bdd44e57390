package dev.fabric.core.problem;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.ConstraintViolationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Every error of a fabric server is an RFC 9457 {@code problem+json} with type
 * {@code urn:fabric:problem:<reason>}, the status phrase as title, and a stable {@code reason}; each
 * is counted in {@code fabric.problems{reason,status}}. Nothing a client sent turns into a 500.
 *
 * <p>The answers every service shares are made here: {@code malformed-json}, {@code unknown-field},
 * {@code invalid-request}, {@code not-found}, {@code method-not-allowed},
 * {@code unsupported-media-type}, {@code not-acceptable}, {@code internal-error}. A service adds
 * its own reasons by throwing a {@link ProblemException} (or a subclass), or with a
 * {@link ProblemTranslator} bean for failures it does not throw itself. Modelled on Spring Boot's
 * {@code ProblemDetailsExceptionHandler}, which this replaces (docs/problems.md).
 */
@RestControllerAdvice
public class FabricProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(FabricProblemAdvice.class);

    /** The counter of every problem answered, tagged {@code reason} and {@code status}. */
    public static final String METRIC = "fabric.problems";

    /** The {@code Retry-After} of a 503 that names none of its own, in seconds. */
    static final String DEFAULT_RETRY_AFTER = "1";

    private final List<ProblemTranslator> translators;
    private final MeterRegistry meters;

    /** @param meters where problems are counted, or {@code null} */
    public FabricProblemAdvice(List<ProblemTranslator> translators, MeterRegistry meters) {
        this.translators = List.copyOf(translators);
        this.meters = meters;
    }

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<Object> problem(ProblemException e) {
        return answer(e);
    }

    @ExceptionHandler(ConstraintViolationException.class)
    ResponseEntity<Object> constraint(ConstraintViolationException e) {
        String detail = e.getConstraintViolations().stream()
                .map(v -> lastNode(v.getPropertyPath().toString()) + " " + v.getMessage()).sorted().collect(Collectors.joining("; "));
        return answer(400, "invalid-request", detail.isEmpty() ? e.getMessage() : detail, null);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e) {
        for (ProblemTranslator translator : translators) {
            Optional<ProblemException> problem = translator.translate(e);
            if (problem.isPresent()) {
                return answer(problem.get());
            }
        }
        log.error("unexpected error", e);
        return answer(500, "internal-error", "the server failed unexpectedly; see its log", null);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        StringBuilder detail = new StringBuilder();
        e.getBindingResult().getFieldErrors().forEach(error -> append(detail, error.getField() + " " + error.getDefaultMessage()));
        e.getBindingResult().getGlobalErrors().forEach(error -> append(detail, error.getDefaultMessage()));
        return answer(400, "invalid-request", detail.toString(), null);
    }

    @Override
    protected ResponseEntity<Object> handleHandlerMethodValidationException(HandlerMethodValidationException e, HttpHeaders headers,
                                                                            HttpStatusCode status, WebRequest request) {
        StringBuilder detail = new StringBuilder();
        e.getParameterValidationResults().forEach(result -> result.getResolvableErrors().forEach(error ->
                append(detail, result.getMethodParameter().getParameterName() + " " + error.getDefaultMessage())));
        return answer(400, "invalid-request", detail.toString(), null);
    }

    /**
     * Bytes that are not JSON are {@code malformed-json}; a field the type does not have is
     * {@code unknown-field}; well-formed JSON with a value of the wrong kind (an unknown enum
     * constant, text for a number) or no body at all is {@code invalid-request}.
     */
    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        Throwable cause = e.getMostSpecificCause();
        if (cause instanceof UnrecognizedPropertyException unknown) {
            return answer(400, "unknown-field", "unknown field '" + unknown.getPropertyName() + "'", null);
        }
        if (cause instanceof MismatchedInputException mismatch) {
            return answer(400, "invalid-request", mismatched(mismatch), null);
        }
        if (cause == e) {
            return answer(400, "invalid-request", "the request needs a JSON body", null);
        }
        return answer(400, "malformed-json", "the body is not valid JSON: " + firstLine(cause.getMessage()), null);
    }

    /** A query parameter or path variable of the wrong kind: which, what it was, and what it must be. */
    @Override
    protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException e, HttpHeaders headers, HttpStatusCode status,
                                                        WebRequest request) {
        String name = e instanceof MethodArgumentTypeMismatchException argument ? argument.getName() : e.getPropertyName();
        return answer(400, "invalid-request", (name == null ? "" : name + ": ") + "'" + e.getValue() + "' is not "
                + expected(e.getRequiredType()), null);
    }

    /** A path no endpoint serves: said so, rather than as a missing static resource. */
    @Override
    protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException e, HttpHeaders headers,
                                                                    HttpStatusCode status, WebRequest request) {
        return answer(404, "not-found", noEndpoint(e.getHttpMethod().name(), "/" + e.getResourcePath()), null);
    }

    @Override
    protected ResponseEntity<Object> handleNoHandlerFoundException(NoHandlerFoundException e, HttpHeaders headers, HttpStatusCode status,
                                                                   WebRequest request) {
        return answer(404, "not-found", noEndpoint(e.getHttpMethod(), e.getRequestURL()), null);
    }

    private static String noEndpoint(String method, String path) {
        return "no endpoint answers " + method + " " + path + " here (docs/api.md lists them)";
    }

    /** The rest of Spring MVC's standard exceptions, by their status. */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers, HttpStatusCode status,
                                                             WebRequest request) {
        String detail = body instanceof ProblemDetail problem && problem.getDetail() != null ? problem.getDetail() : e.getMessage();
        ResponseEntity<Object> answer = answer(status.value(), reasonOf(status.value()), detail, null);
        HttpHeaders merged = new HttpHeaders();
        merged.addAll(headers);
        merged.addAll(answer.getHeaders());
        return new ResponseEntity<>(answer.getBody(), merged, status);
    }

    /** The reason of an answer Spring MVC made itself, by its status. */
    static String reasonOf(int status) {
        return switch (status) {
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 413 -> "body-too-large";
            case 415 -> "unsupported-media-type";
            case 503 -> "unavailable";
            default -> status < 500 ? "invalid-request" : "internal-error";
        };
    }

    private ResponseEntity<Object> answer(ProblemException e) {
        return answer(e.status(), e.reason(), e.detail(), e.retryAfter().map(d -> Long.toString(Math.max(1, d.toSeconds()))).orElse(null),
                e.properties());
    }

    private ResponseEntity<Object> answer(int status, String reason, String detail, String retryAfter) {
        return answer(status, reason, detail, retryAfter, Map.of());
    }

    private ResponseEntity<Object> answer(int status, String reason, String detail, String retryAfter, Map<String, Object> properties) {
        HttpStatus known = HttpStatus.resolve(status);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatusCode.valueOf(status), detail);
        problem.setType(URI.create(Problem.typeOf(reason)));
        problem.setTitle(known == null ? "HTTP " + status : known.getReasonPhrase());
        problem.setProperty("reason", reason);
        properties.forEach(problem::setProperty);
        if (meters != null) {
            meters.counter(METRIC, "reason", reason, "status", Integer.toString(status)).increment();
        }
        ResponseEntity.BodyBuilder answer = ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (retryAfter != null) {
            answer.header(HttpHeaders.RETRY_AFTER, retryAfter);
        } else if (status == 503) {
            // A 503 is a refusal for now (docs/problems.md): one that names no time of its own says to retry in a second.
            answer.header(HttpHeaders.RETRY_AFTER, DEFAULT_RETRY_AFTER);
        }
        return answer.body(problem);
    }

    /**
     * Well-formed JSON with a value of the wrong kind, in the request's words: where, what it was when
     * it is known, and what it must be (an enum's constants by name), not the Java type it maps to.
     */
    private static String mismatched(MismatchedInputException e) {
        String path = path(e);
        String at = path.isEmpty() ? "" : path + ": ";
        Class<?> target = e.getTargetType();
        if (target == null) {
            return at + firstLine(e.getOriginalMessage());
        }
        if (e instanceof InvalidFormatException invalid && invalid.getValue() != null) {
            return at + "'" + invalid.getValue() + "' is not " + expected(target);
        }
        return at + expected(target) + " is expected here";
    }

    /** What a value of {@code type} is, as a client writes it. */
    static String expected(Class<?> type) {
        if (type == null) {
            return "of the expected kind";
        }
        if (type.isEnum()) {
            return "one of " + Arrays.stream(type.getEnumConstants()).map(c -> ((Enum<?>) c).name()).toList();
        }
        if (type == int.class || type == long.class || type == short.class || type == Integer.class || type == Long.class
                || type == Short.class || type == BigInteger.class) {
            return "a whole number";
        }
        if (type == double.class || type == float.class || type == Double.class || type == Float.class || type == BigDecimal.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (CharSequence.class.isAssignableFrom(type)) {
            return "a text";
        }
        if (type == Duration.class) {
            return "a duration";
        }
        if (type == Instant.class) {
            return "a time (ISO-8601)";
        }
        if (type == UUID.class) {
            return "a UUID";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "an object";
    }

    private static String path(DatabindException e) {
        return e.getPath().stream()
                .map(ref -> ref.getPropertyName() != null ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int cut = message.indexOf('\n');
        return cut > 0 ? message.substring(0, cut) : message;
    }

    private static String lastNode(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? path : path.substring(dot + 1);
    }

    private static void append(StringBuilder detail, String text) {
        detail.append(detail.isEmpty() ? "" : "; ").append(text);
    }
}
