package dev.fabric.registry.instance;

import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.registry.InstanceState;
import org.springframework.http.HttpStatus;

import java.time.Duration;

/** A request the registry refuses, with the HTTP status and a stable reason for the problem answer. */
public class RegistryException extends ProblemException {

    public RegistryException(HttpStatus status, String reason, String detail) {
        super(status.value(), reason, detail);
    }

    public RegistryException(HttpStatus status, String reason, String detail, Duration retryAfter) {
        super(status.value(), reason, detail, retryAfter);
    }

    public static RegistryException unknown(String id) {
        return new RegistryException(HttpStatus.NOT_FOUND, "unknown-instance", "no instance with id '" + id + "' is registered");
    }

    public static RegistryException staleIncarnation(String id, long presented, long current) {
        return new RegistryException(HttpStatus.CONFLICT, "stale-incarnation", "instance '" + id + "' is at incarnation " + current
                + "; incarnation " + presented + " is stale (a newer start of this id has registered)");
    }

    public static RegistryException illegalTransition(String id, InstanceState from, InstanceState to) {
        return new RegistryException(HttpStatus.CONFLICT, "illegal-transition",
                "instance '" + id + "' cannot move from " + from + " to " + to);
    }
}
