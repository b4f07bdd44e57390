package dev.fabric.core.client;

import dev.fabric.core.problem.Problem;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClientResponseException;

import java.util.Objects;

/**
 * The decisions of a calling entity whose call to a member failed (report it, restart it through its
 * spawner, wait, give up), from what the registry shows: kept apart from the HTTP plumbing of
 * {@link FabricClient} so that each can be checked on its own.
 */
final class FailOver {

    private FailOver() {}

    /** What to do next about a member. */
    sealed interface Step {}

    /** Call the member as the registry shows it. */
    record Call(ServiceInstance member) implements Step {}

    /** A (re)start is under way: wait until the registry shows it RUNNING at {@code incarnation} or later. */
    record AwaitRunning(long incarnation) implements Step {}

    /**
     * Ask the member's spawner to restart it; first report it UNREACHABLE when the registry still
     * believes it alive, so the registry's view and its watchers learn of the failure at once.
     */
    record Restart(boolean reportUnreachable) implements Step {}

    /** Gone with its state: raise {@link MemberLostException}. */
    record Lost(String reason) implements Step {}

    /** Stopped on purpose: raise {@link MemberStoppedException}. */
    record Stopped(String reason) implements Step {}

    /** Before the first call: what the registry's view of the member allows. */
    static Step beforeCall(ServiceInstance now) {
        return switch (now.state()) {
            // A SUSPECT member may well be alive (a missed heartbeat, one failed contact): the call is the best test.
            case RUNNING, SUSPECT -> new Call(now);
            case PENDING, BOOTSTRAPPING -> new AwaitRunning(now.incarnation());
            case DEAD, FAILED -> new Restart(false);
            case LOST -> new Lost(now.stateReason());
            case STOPPED -> new Stopped(now.stateReason());
        };
    }

    /**
     * After a call to {@code called} failed as unreachable, given the registry's view {@code now}.
     *
     * @param endpoint the endpoint the call used ({@code management} unless the caller chose another)
     */
    static Step afterFailure(ServiceInstance called, String endpoint, ServiceInstance now) {
        return switch (now.state()) {
            case RUNNING -> movedOn(called, endpoint, now) ? new Call(now) : new Restart(true);
            case SUSPECT -> new Restart(true);
            case DEAD, FAILED -> new Restart(false);
            // Its spawner saw it die and is restarting it already; a second restart would only kill that one.
            case PENDING, BOOTSTRAPPING -> new AwaitRunning(now.incarnation());
            case LOST -> new Lost(now.stateReason());
            case STOPPED -> new Stopped(now.stateReason());
        };
    }

    /** What a poll during a wait for RUNNING at {@code incarnation} or later means. */
    sealed interface Wait {}

    /** Up and serving: call it. */
    record Ready(ServiceInstance member) implements Wait {}

    /** Still on its way (or an older incarnation still shows): poll again. */
    record KeepWaiting() implements Wait {}

    /** The restart itself ended badly. */
    record Ended(Step step, String reason) implements Wait {}

    /**
     * FAILED, which may not be the end: a member that cannot recover its state reports itself
     * FAILED, exits, and only then does its spawner declare it LOST. Poll on for a while; if it stays
     * FAILED, the restart failed.
     */
    record Failing(String reason) implements Wait {}

    static Wait whileWaiting(ServiceInstance now, long incarnation) {
        if (now.incarnation() < incarnation) {
            return new KeepWaiting();
        }
        return switch (now.state()) {
            case RUNNING -> new Ready(now);
            // DEAD: the new incarnation died too, and its spawner restarts it again (until its crash-loop limit).
            case PENDING, BOOTSTRAPPING, SUSPECT, DEAD -> new KeepWaiting();
            case FAILED -> new Failing(now.stateReason());
            case LOST -> new Ended(new Lost(now.stateReason()), now.stateReason());
            case STOPPED -> new Ended(new Stopped(now.stateReason()), now.stateReason());
        };
    }

    /** Whether the member serves somewhere else now: a newer incarnation, or another address. */
    private static boolean movedOn(ServiceInstance called, String endpoint, ServiceInstance now) {
        return now.incarnation() > called.incarnation()
                || !Objects.equals(endpointOf(called, endpoint), endpointOf(now, endpoint));
    }

    static String endpointOf(ServiceInstance member, String endpoint) {
        return member.endpoints() == null ? null : member.endpoints().get(endpoint);
    }

    /**
     * Whether a failed call means "the member may be down": no connection, no answer in time, a
     * broken exchange (the process died mid-call), or a gateway's 502, 503 or 504. Any other answer
     * came from a live member and is the caller's to handle.
     */
    static boolean unreachable(RuntimeException failure) {
        if (failure instanceof ResourceAccessException) {
            return true;
        }
        if (failure instanceof RestClientResponseException answer) {
            int status = answer.getStatusCode().value();
            if (status == 503 && atItsLimit(answer)) {
                // A bridge at its limit answered for the member, or the member itself at one of its own: it may well be
                // fine, and a restart would cut off all it serves. Not a reason to restart it.
                return false;
            }
            return status == 502 || status == 503 || status == 504;
        }
        return false;
    }

    /**
     * The refusal of a live bridge or member at one of its limits (docs/problems.md): a bridge's {@code bridge-full}
     * (docs/connectivity.md), a pubsub's {@code too-many-subscribers}, a member's {@code too-many-splices}, the
     * registry's {@code too-many-watches}.
     */
    static boolean atItsLimit(RestClientResponseException answer) {
        return AT_ITS_LIMIT.contains(Problem.decode(answer.getStatusCode().value(), answer.getStatusText(),
                answer.getResponseBodyAsByteArray(), "the member").reason());
    }

    static final String BRIDGE_FULL = "bridge-full";
    static final java.util.Set<String> AT_ITS_LIMIT = java.util.Set.of(BRIDGE_FULL, "too-many-subscribers", "too-many-splices",
            "too-many-watches");

    /** One line for messages: {@code RUNNING at incarnation 3 (reason)}. */
    static String describe(ServiceInstance member) {
        return member.state() + " at incarnation " + member.incarnation()
                + (member.stateReason() == null || member.stateReason().isBlank() ? "" : " (" + member.stateReason() + ")");
    }
}
