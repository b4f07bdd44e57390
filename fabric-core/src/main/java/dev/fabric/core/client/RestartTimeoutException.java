package dev.fabric.core.client;

import java.time.Duration;

/**
 * The member was being restarted but the registry did not show it RUNNING with a new incarnation
 * within {@link FabricClient.Builder#restartTimeout(Duration)}. It may still come up: look at its
 * state history ({@code fabric service ID}) and its spawner's log.
 */
public final class RestartTimeoutException extends MemberUnavailableException {

    private final Duration timeout;

    RestartTimeoutException(String memberId, Duration timeout, String lastSeen) {
        super(memberId, "member " + memberId + " did not come back RUNNING within " + timeout + " (last seen in the registry: "
                + lastSeen + "); see its state history (fabric service " + memberId + ") and its spawner's log", null);
        this.timeout = timeout;
    }

    public Duration timeout() {
        return timeout;
    }
}
