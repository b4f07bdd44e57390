package dev.fabric.core.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
     * @param role the member's type in the registry (as {@link Connected#role()}), or {@code null} when the session has no member at all
     * @param failure what went wrong, e.g. a {@link MemberLostException}
     */
    public record Failure(String session, String memberId, String role, RuntimeException failure) {

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
     * @throws IllegalStateException when no pilot manager of that session answered, saying why (no member
     *         serves the session, none of its members is a pilot manager, or its pilot manager did not answer,
     *         LOST, stopped or out of reach) and what to do
     */
    public TaskManager tasks(String session) {
        return connected.stream()
                .filter(c -> c.session().equals(session) && TaskManager.ROLE.equals(c.role()))
                .findFirst()
                .map(c -> new TaskManager(client, c.id(), session))
                .orElseThrow(() -> new IllegalStateException(whyNoPilotManager(session)));
    }

    /** Why no pilot manager of {@code session} answered CONNECT, from what the CONNECTs found, and what to do. */
    private String whyNoPilotManager(String session) {
        List<Failure> ours = failed.stream().filter(f -> f.session().equals(session)).toList();
        // The tasks are kept by the manager they were submitted to, not by the session's entry in the registry.
        String findThem = "tasks submitted in it are kept by the pilot manager they were submitted to: while that one is registered"
                + " (fabric services --type pilot-manager), client().tasks(\"<its id>\", \"" + session + "\") registers the session"
                + " there again and finds them; check too that " + session + " is the session they were submitted with";
        Optional<Failure> unserved = ours.stream().filter(f -> f.memberId() == null).findFirst();
        if (unserved.isPresent()) {
            return "no pilot manager serves session " + session + ": " + unserved.get().failure().getMessage() + ". Any " + findThem;
        }
        List<Failure> managers = ours.stream().filter(f -> TaskManager.ROLE.equals(f.role())).toList();
        if (!managers.isEmpty()) {
            return managers.stream().map(f -> "pilot manager " + f.memberId() + " of session " + session + " did not answer CONNECT: "
                    + f.failure().getMessage() + "; " + whatOfItsTasks(f)).collect(Collectors.joining("; "));
        }
        String members = Stream.concat(
                connected.stream().filter(c -> c.session().equals(session)).map(c -> c.id() + " (" + c.role() + ")"),
                ours.stream().map(f -> f.memberId() + " (" + f.role() + ", did not answer CONNECT)")).collect(Collectors.joining(", "));
        return "no member of session " + session + " is a pilot manager (its members: " + members + "), so none keeps tasks under it"
                + " in the registry. Any " + findThem;
    }

    private static String whatOfItsTasks(Failure manager) {
        return switch (manager.failure()) {
            case MemberLostException _ -> "the tasks it kept are gone with it (a lost pilot manager is not replaced): submit them"
                    + " again to another pilot manager";
            case MemberStoppedException _ -> "the tasks it kept are no longer served, as it is not restarted: submit them again to"
                    + " another pilot manager";
            case MemberRefusedException _ -> "it is up and refused: the tasks it keeps are still there once it accepts (fabric log "
                    + manager.memberId() + " says more)";
            default -> "the tasks it keeps are still there: reconnect once it answers again (fabric service " + manager.memberId()
                    + " shows its state)";
        };
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
