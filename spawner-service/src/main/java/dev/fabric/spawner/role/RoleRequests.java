package dev.fabric.spawner.role;

import dev.fabric.spawner.web.SpawnerException;
import org.springframework.http.HttpStatus;

/** Reads what a role's HTTP API is sent in query parameters, refusing a bad value with its reason (docs/problems.md). */
public final class RoleRequests {

    private RoleRequests() {
    }

    /** {@code value} as a whole number from min to max; else {@code 400 invalid-request} naming {@code name}. */
    public static int number(String name, String value, int min, int max) {
        int number;
        try {
            number = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            number = min - 1;
        }
        if (number < min || number > max) {
            throw invalid(name + " must be a whole number from " + min + " to " + max + ", not '" + value + "'");
        }
        return number;
    }

    /** {@code 400 invalid-request} with {@code detail}: what was wrong and how to do it right. */
    public static SpawnerException invalid(String detail) {
        return new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", detail);
    }
}
