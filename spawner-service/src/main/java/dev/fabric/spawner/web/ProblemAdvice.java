package dev.fabric.spawner.web;

import dev.fabric.core.otp.OtpRejectedException;
import dev.fabric.core.registry.RegistryException;
import jakarta.validation.ConstraintViolationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Every error of the spawner and of a member is an RFC 9457 {@code problem+json} with a stable
 * {@code reason}. Nothing a client sent turns into a 500.
 */
@RestControllerAdvice
public class ProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);

    @ExceptionHandler(SpawnerException.class)
    ResponseEntity<Object> spawner(SpawnerException e, WebRequest request) {
        return problem(e.status(), e.reason(), e.getMessage(), request);
    }

    @ExceptionHandler(OtpRejectedException.class)
    ResponseEntity<Object> otp(OtpRejectedException e, WebRequest request) {
        return problem(HttpStatus.FORBIDDEN, "otp-" + e.reason().name().toLowerCase(Locale.ROOT), e.getMessage(), request);
    }

    @ExceptionHandler(RegistryException.class)
    ResponseEntity<Object> registry(RegistryException e, WebRequest request) {
        log.warn("registry call failed: {}", e.getMessage());
        ResponseEntity<Object> response = problem(HttpStatus.BAD_GATEWAY, e.unreachable() ? "registry-unreachable" : "registry-refused",
                e.getMessage(), request);
        return ResponseEntity.status(response.getStatusCode()).header(HttpHeaders.RETRY_AFTER, "2").body(response.getBody());
    }

    @ExceptionHandler(ConstraintViolationException.class)
    ResponseEntity<Object> constraint(ConstraintViolationException e, WebRequest request) {
        return problem(HttpStatus.BAD_REQUEST, "invalid-request", e.getMessage(), request);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        String detail = e.getBindingResult().getFieldErrors().stream()
                .map(f -> f.getField() + " " + f.getDefaultMessage()).collect(Collectors.joining("; "));
        return problem(HttpStatus.BAD_REQUEST, "invalid-request", detail, request);
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers, HttpStatusCode status,
                                                             WebRequest request) {
        ResponseEntity<Object> response = super.handleExceptionInternal(e, body, headers, status, request);
        if (response != null && response.getBody() instanceof ProblemDetail problem && problem.getProperties() == null) {
            problem.setProperty("reason", status.is4xxClientError() ? "invalid-request" : "internal-error");
        }
        return response;
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e, WebRequest request) {
        log.error("unexpected error", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal-error", "failed unexpectedly; see the log", request);
    }

    private ResponseEntity<Object> problem(HttpStatus status, String reason, String detail, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setProperty("reason", reason);
        return ResponseEntity.status(status).contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
