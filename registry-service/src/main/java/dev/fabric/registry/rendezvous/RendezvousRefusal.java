package dev.fabric.registry.rendezvous;

import dev.fabric.core.splice.Side;
import dev.fabric.registry.instance.RegistryException;
import org.springframework.http.HttpStatus;

import java.time.Duration;

/** Why the registry refuses to open or join a rendezvous: each a problem+json reason (docs/api.md). */
final class RendezvousRefusal {

    private RendezvousRefusal() {
    }

    static RegistryException unknown(String id) {
        return new RegistryException(HttpStatus.NOT_FOUND, "rendezvous-unknown", "no rendezvous '" + id
                + "' is open (never opened, or forgotten long after it expired)");
    }

    static RegistryException expired(String id) {
        return new RegistryException(HttpStatus.GONE, "rendezvous-expired", "rendezvous '" + id
                + "' expired before both sides joined; open a new one");
    }

    static RegistryException used(String id) {
        return new RegistryException(HttpStatus.GONE, "rendezvous-used", "rendezvous '" + id
                + "' has brokered its splice and is spent; a rendezvous serves one splice, open a new one");
    }

    static RegistryException sideTaken(String id, Side side, String joinedFrom, String refusedFrom) {
        return new RegistryException(HttpStatus.CONFLICT, "rendezvous-side-taken", "the " + side.wireName()
                + " of rendezvous '" + id + "' joined from " + joinedFrom + "; a second joiner from " + refusedFrom
                + " is refused");
    }

    static RegistryException full(int limit) {
        return new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "rendezvous-full", limit
                + " rendezvous are open, the most this registry holds (fabric.registry.rendezvous.max-open); retry",
                Duration.ofSeconds(1));
    }

    static RegistryException badRequest(String reason, String detail) {
        return new RegistryException(HttpStatus.BAD_REQUEST, reason, detail);
    }
}
