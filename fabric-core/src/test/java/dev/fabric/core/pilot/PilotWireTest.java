package dev.fabric.core.pilot;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskState;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pilot manager's JSON: the field names of docs/roles.md, and records that read back what they wrote, even strictly. */
class PilotWireTest {

    static final JsonMapper STRICT = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    @Test
    void aPilotDescriptionNamesWhereItsAgentsStart() {
        PilotWire.PilotDescription read = STRICT.readValue("""
                {"agents": 2, "cores": 1, "where": {"member": "gateway-1"}, "runtime": "1h"}""", PilotWire.PilotDescription.class);
        assertThat(read).isEqualTo(new PilotWire.PilotDescription(2, 1, PilotWire.Where.member("gateway-1"), "1h", null));
        assertThat(STRICT.readValue("{\"where\": {\"host\": \"compute-1\"}}", PilotWire.PilotDescription.class).where())
                .isEqualTo(PilotWire.Where.host("compute-1"));
    }

    @Test
    void aTaskRoundTripsWithoutDerivedFields() {
        PilotWire.Task task = new PilotWire.Task("t-1", "pilot-1", "s-1", "echo", TaskState.FAILED, "exit-status", "exited 3", "agent-1",
                1, 3, Duration.ofMillis(12), Instant.parse("2026-12-04T20:00:00Z"), Instant.parse("2026-12-04T20:00:01Z"), 7);
        JsonNode json = STRICT.valueToTree(task);
        assertThat(json.has("final")).isFalse();
        assertThat(json.path("state").asString()).isEqualTo("FAILED");
        assertThat(json.path("exitStatus").asInt()).isEqualTo(3);
        assertThat(STRICT.treeToValue(json, PilotWire.Task.class)).isEqualTo(task);
        assertThat(task.isFinal()).isTrue();
    }

    @Test
    void aSubmissionCarriesItsSessionAndTheSharedTaskDescriptions() {
        PilotWire.Submission submission = new PilotWire.Submission("s-1", List.of(
                new TaskDescription(null, null, List.of("echo", "hi"), Map.of(), null, "30s", null)));
        PilotWire.Submission read = STRICT.readValue(STRICT.writeValueAsString(submission), PilotWire.Submission.class);
        assertThat(read).isEqualTo(submission);
    }
}
