package dev.fabric.core.client;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.task.TaskDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Arguments that cannot name a pilot or task, or describe one, are refused with a message before anything
 * is sent: no registry listens at this client's address, so a call that went out would fail otherwise.
 */
class TaskManagerArgumentsTest {

    private final FabricClient client = FabricClient.builder(URI.create("http://127.0.0.1:9"), FabricKeys.generate()).build();
    private final TaskManager tasks = new TaskManager(client, "pilot-manager-1", "s-1");

    @AfterEach
    void close() {
        client.close();
    }

    @Test
    void aNullOrBlankPilotIdIsRefusedNamingWhatIsMissing() {
        assertThatThrownBy(() -> tasks.submit(null, TaskDescription.of("true")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("the pilot id is null; give the id submitPilot answered");
        assertThatThrownBy(() -> tasks.pilot("")).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("the pilot id is blank");
        assertThatThrownBy(() -> tasks.cancelPilot(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tasks.awaitActive(null, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tasks.list(null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMalformedTaskIdIsSaidNotToBeATaskId() {
        assertThatThrownBy(() -> tasks.get("a/b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("'a/b' is not a task id: an id must be 1 to 128 letters");
        assertThatThrownBy(() -> tasks.output("has space")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tasks.cancel(null)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("the task id is null");
        assertThatThrownBy(() -> tasks.waitAll(List.of("t-1", ""), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("the task id is blank");
    }

    @Test
    void aNullDescriptionIsRefusedWithAMessage() {
        assertThatThrownBy(() -> tasks.submit("pilot-1", (TaskDescription) null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("task description for pilot pilot-1 is null");
        assertThatThrownBy(() -> tasks.submit("pilot-1", Arrays.asList(TaskDescription.of("true"), null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("task 1 of the submission to pilot pilot-1 is null; nothing was submitted");
        assertThatThrownBy(() -> tasks.submit("pilot-1", (List<TaskDescription>) null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tasks.submitPilot(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theClientRefusesIdsThatCannotNameAMember() {
        assertThatThrownBy(() -> client.tasks("", "s-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the pilot manager id is blank");
        assertThatThrownBy(() -> client.tasks("pilot-manager-1", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the session id is null");
        assertThatThrownBy(() -> client.pubsub("pubsub/1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'pubsub/1' is not a member id");
    }
}
