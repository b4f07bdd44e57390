package dev.fabric.spawner.web;

import org.springframework.http.HttpStatus;

/** A refused request: its HTTP status, a stable {@code reason} and a message that says what to do. */
public class SpawnerException extends RuntimeException {

    private final HttpStatus status;
    private final String reason;

    public SpawnerException(HttpStatus status, String reason, String message) {
        super(message);
        this.status = status;
        this.reason = reason;
    }

    public HttpStatus status() {
        return status;
    }

    public String reason() {
        return reason;
    }
}
