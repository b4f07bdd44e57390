package dev.fabric.core.client;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@link FabricClient#reconnect} and {@link FabricClient#connect} achieved: the members that
 * answered CONNECT and those that did not, each with the reason.
 *
 * @param client the client, connected to the registry with the loaded keys, for the calls that follow; close it when done
 * @param connected the members that accepted CONNECT
 * @param failed the members (or sessions without any member) that did not
 */
public record Reconnection(FabricClient client, List<Connected> connected, List<Failure> failed) {

    public Reconnection {
        connected = List.copyOf(connected);
        failed = List.copyOf(failed);
    }

    /** A member's answer to {@code POST /management/v1/connect}. */
    public record Connected(String session, String id, long incarnation, String role, Map<String, String> endpoints) {

        public Connected {
            endpoints = endpoints == null ? Map.of() : Map.copyOf(endpoints);
        }
    }

    /**
     * A member that did not accept CONNECT.
     *
     * @param memberId the member, or {@code null} when the session has no member at all
     * @param failure what went wrong, e.g. a {@link MemberLostException}
     */
    public record Failure(String session, String memberId, RuntimeException failure) {

        /** {@code session s-1, member queue-1a2b: <what happened>}. */
        public String describe() {
            return "session " + session + (memberId == null ? "" : ", member " + memberId) + ": " + failure.getMessage();
        }
    }

    /**
     * The task manager of {@code session} after a fail-over: the session's {@code pilot-manager}
     * member that answered CONNECT keeps its tasks, so the application waits for them again without
     * resubmitting ({@link TaskManager#list()}).
     *
     * @throws IllegalStateException when no pilot manager of that session answered
     */
    public TaskManager tasks(String session) {
        return connected.stream()
                .filter(c -> c.session().equals(session) && TaskManager.ROLE.equals(c.role()))
                .findFirst()
                .map(c -> new TaskManager(client, c.id(), session))
                .orElseThrow(() -> new IllegalStateException("no pilot manager of session " + session + " answered CONNECT"
                        + (failed.isEmpty() ? "" : ": " + describeFailures()) + "; its tasks are kept there"));
    }

    /** Whether every member of every session answered. */
    public boolean complete() {
        return failed.isEmpty();
    }

    /** One line per failure, for a log or an error message; empty when complete. */
    public String describeFailures() {
        return failed.stream().map(Failure::describe).collect(Collectors.joining("\n"));
    }
}
