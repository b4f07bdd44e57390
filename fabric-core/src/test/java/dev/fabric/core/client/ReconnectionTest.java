package dev.fabric.core.client;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Reconnection#tasks} when no pilot manager of the session answered CONNECT: the message says
 * which of the cases it was, from what the CONNECTs found, and what the application can do.
 */
class ReconnectionTest {

    private static final String NOBODY = "no member serves session s-1 in the registry at http://127.0.0.1:8470/;"
            + " add it to a member (fabric sessions add ID s-1)";

    @Test
    void aSessionNoMemberServesIsNotSaidToKeepItsTasks() {
        Reconnection reconnection = new Reconnection(null, List.of(), List.of(
                new Reconnection.Failure("s-1", null, null, new IllegalStateException(NOBODY))));

        assertThatThrownBy(() -> reconnection.tasks("s-1")).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("no pilot manager serves session s-1: " + NOBODY)
                .hasMessageNotContaining("its tasks are kept there")
                .hasMessageContaining("client().tasks(")
                .hasMessageContaining("fabric services --type pilot-manager");
    }

    @Test
    void aSessionWhoseMembersAreNoPilotManagerSaysSo() {
        Reconnection reconnection = new Reconnection(null,
                List.of(new Reconnection.Connected("s-1", "queue-1a2b3c4d", 1, "queue", Map.of())),
                List.of(new Reconnection.Failure("s-1", "pubsub-5e6f7a8b", "pubsub",
                        new MemberUnavailableException("pubsub-5e6f7a8b", "member pubsub-5e6f7a8b is unreachable", null))));

        assertThatThrownBy(() -> reconnection.tasks("s-1")).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("no member of session s-1 is a pilot manager (its members: queue-1a2b3c4d (queue),"
                        + " pubsub-5e6f7a8b (pubsub, did not answer CONNECT))")
                .hasMessageNotContaining("its tasks are kept there")
                .hasMessageContaining("client().tasks(");
    }

    @Test
    void aPilotManagerThatDidNotAnswerKeepsTheTasks() {
        Reconnection reconnection = new Reconnection(null, List.of(), List.of(
                new Reconnection.Failure("s-1", "pilot-manager-1a2b3c4d", TaskManager.ROLE,
                        new MemberUnavailableException("pilot-manager-1a2b3c4d", "member pilot-manager-1a2b3c4d is unreachable", null)),
                new Reconnection.Failure("s-2", null, null, new IllegalStateException("no member serves session s-2"))));

        assertThatThrownBy(() -> reconnection.tasks("s-1")).isInstanceOf(IllegalStateException.class)
                .hasMessage("pilot manager pilot-manager-1a2b3c4d of session s-1 did not answer CONNECT: member pilot-manager-1a2b3c4d"
                        + " is unreachable; the tasks it keeps are still there: reconnect once it answers again (fabric service"
                        + " pilot-manager-1a2b3c4d shows its state)");
    }

    @Test
    void aPilotManagerThatRefusedConnectIsUpAndKeepsTheTasks() {
        Reconnection reconnection = new Reconnection(null, List.of(), List.of(new Reconnection.Failure("s-1", "pilot-manager-1a2b3c4d",
                TaskManager.ROLE, new MemberRefusedException("pilot-manager-1a2b3c4d", 503, "pilots-not-started",
                        "member pilot-manager-1a2b3c4d refused CONNECT: 503 pilots-not-started", null))));

        assertThatThrownBy(() -> reconnection.tasks("s-1")).hasMessageEndingWith("refused CONNECT: 503 pilots-not-started; it is up and"
                + " refused: the tasks it keeps are still there once it accepts (fabric log pilot-manager-1a2b3c4d says more)");
    }

    @Test
    void aLostOrStoppedPilotManagerKeepsNoTasks() {
        Reconnection lost = new Reconnection(null, List.of(), List.of(new Reconnection.Failure("s-1", "pilot-manager-1a2b3c4d",
                TaskManager.ROLE, new MemberLostException("pilot-manager-1a2b3c4d", "state-unrecoverable", null))));
        Reconnection stopped = new Reconnection(null, List.of(), List.of(new Reconnection.Failure("s-1", "pilot-manager-1a2b3c4d",
                TaskManager.ROLE, new MemberStoppedException("pilot-manager-1a2b3c4d", null, null))));

        assertThatThrownBy(() -> lost.tasks("s-1")).hasMessageContaining("is LOST")
                .hasMessageContaining("the tasks it kept are gone with it").hasMessageNotContaining("its tasks are kept there");
        assertThatThrownBy(() -> stopped.tasks("s-1")).hasMessageContaining("was stopped on purpose")
                .hasMessageContaining("the tasks it kept are no longer served").hasMessageNotContaining("its tasks are kept there");
    }
}
