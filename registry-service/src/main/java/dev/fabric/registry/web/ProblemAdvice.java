package dev.fabric.registry.web;

import dev.fabric.registry.instance.RegistryException;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.ConstraintViolationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import java.net.URI;
import java.util.Locale;

/**
 * Every error of the registry is an RFC 9457 {@code problem+json} with a stable {@code reason}, and is
 * counted in {@code fabric.registry.rejected{reason}}. Nothing the client sent turns into a 500.
 */
@RestControllerAdvice
public class ProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    private final MeterRegistry meters;

    public ProblemAdvice(MeterRegistry meters) {
        this.meters = meters;
    }

    @ExceptionHandler(RegistryException.class)
    ResponseEntity<Object> registry(RegistryException e, WebRequest request) {
        return problem(e.status(), e.reason(), e.getMessage(), request);
    }

    @ExceptionHandler(ConstraintViolationException.class)
    ResponseEntity<Object> constraint(ConstraintViolationException e, WebRequest request) {
        return problem(HttpStatus.BAD_REQUEST, "invalid-request", e.getMessage(), request);
    }

    @ExceptionHandler({CannotGetJdbcConnectionException.class, CannotCreateTransactionException.class,
            DataAccessResourceFailureException.class, TransientDataAccessException.class})
    ResponseEntity<Object> databaseUnavailable(Exception e, WebRequest request) {
        log.warn("database unavailable: {}", e.getMessage());
        ResponseEntity<Object> response = problem(HttpStatus.SERVICE_UNAVAILABLE, "database-unavailable",
                "the registry's database does not answer; retry shortly", request);
        return ResponseEntity.status(response.getStatusCode()).header(HttpHeaders.RETRY_AFTER, "2").body(response.getBody());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e, WebRequest request) {
        if (lostDatabase(e)) {
            // e.g. the connection died inside a transaction and even the rollback failed.
            return databaseUnavailable(e, request);
        }
        log.error("unexpected error", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal-error", "the registry failed unexpectedly; see its log", request);
    }

    /**
     * Whether a failure comes from losing the database: a connection-class SQLState ({@code 08}), the
     * server going away ({@code 57P}: shutdown, crash, not accepting connections), a refused
     * connection, or a rollback that failed (which only a broken connection does). Causes, suppressed
     * exceptions and a transaction's original exception are all looked at.
     */
    static boolean lostDatabase(Throwable e) {
        java.util.Deque<Throwable> pending = new java.util.ArrayDeque<>(java.util.List.of(e));
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        while (!pending.isEmpty()) {
            Throwable cause = pending.pop();
            if (!seen.add(cause)) {
                continue;
            }
            if (cause instanceof java.sql.SQLTransientConnectionException || cause instanceof java.sql.SQLNonTransientConnectionException
                    || cause instanceof java.sql.SQLRecoverableException || cause instanceof java.net.ConnectException) {
                return true;
            }
            if (cause instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
            if (cause instanceof org.springframework.transaction.TransactionSystemException tx) {
                if (tx.getCause() instanceof java.sql.SQLException) {
                    return true;
                }
                if (tx.getApplicationException() != null) {
                    pending.push(tx.getApplicationException());
                }
            }
            if (cause.getCause() != null) {
                pending.push(cause.getCause());
            }
            for (Throwable suppressed : cause.getSuppressed()) {
                pending.push(suppressed);
            }
        }
        return false;
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        StringBuilder detail = new StringBuilder();
        e.getBindingResult().getFieldErrors().forEach(error -> detail.append(detail.isEmpty() ? "" : "; ")
                .append(error.getField()).append(' ').append(error.getDefaultMessage()));
        e.getBindingResult().getGlobalErrors().forEach(error -> detail.append(detail.isEmpty() ? "" : "; ")
                .append(error.getDefaultMessage()));
        return problem(HttpStatus.BAD_REQUEST, "invalid-request", detail.toString(), request);
    }

    @Override
    protected ResponseEntity<Object> handleHandlerMethodValidationException(HandlerMethodValidationException e, HttpHeaders headers,
                                                                            HttpStatusCode status, WebRequest request) {
        StringBuilder detail = new StringBuilder();
        e.getParameterValidationResults().forEach(result -> result.getResolvableErrors().forEach(error ->
                detail.append(detail.isEmpty() ? "" : "; ").append(result.getMethodParameter().getParameterName()).append(' ')
                        .append(error.getDefaultMessage())));
        return problem(HttpStatus.BAD_REQUEST, "invalid-request", detail.toString(), request);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        Throwable cause = e.getMostSpecificCause();
        if (cause instanceof UnrecognizedPropertyException unknown) {
            return problem(HttpStatus.BAD_REQUEST, "unknown-field", "unknown field '" + unknown.getPropertyName() + "'", request);
        }
        String message = cause.getMessage() == null ? "the body is not valid JSON" : cause.getMessage();
        int cut = message.indexOf('\n');
        return problem(HttpStatus.BAD_REQUEST, "malformed-json", cut > 0 ? message.substring(0, cut) : message, request);
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers, HttpStatusCode status,
                                                             WebRequest request) {
        String reason = e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1-$2").replace("-Exception", "")
                .replace("Exception", "").toLowerCase(Locale.ROOT);
        String detail = body instanceof ProblemDetail problem && problem.getDetail() != null ? problem.getDetail() : e.getMessage();
        ResponseEntity<Object> response = problem(HttpStatus.valueOf(status.value()), reason, detail, request);
        return new ResponseEntity<>(response.getBody(), headers, status);
    }

    private ResponseEntity<Object> problem(HttpStatus status, String reason, String detail, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create("urn:fabric:problem:registry:" + reason));
        problem.setTitle(status.getReasonPhrase());
        problem.setProperty("reason", reason);
        meters.counter("fabric.registry.rejected", "reason", reason).increment();
        return ResponseEntity.status(status).contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
