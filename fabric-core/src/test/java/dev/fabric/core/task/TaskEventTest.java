package dev.fabric.core.task;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The events agents publish: the contract's JSON, with result fields on final states only. */
class TaskEventTest {

    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    @Test
    void aFinalEventReadsAndWritesBackAsTheContractShowsIt() {
        String json = """
                {"task":"t-1","pilot":"pilot-1","state":"DONE","agent":"agent-1a2b","attempt":1,\
                "at":"2026-12-04T20:00:00.123Z","exitStatus":0,"duration":"PT0.012S","stdout":"hi\\n","stderr":"",\
                "stdoutTruncated":false,"stderrTruncated":false}""";

        TaskEvent event = STRICT.readValue(json, TaskEvent.class);

        assertThat(event.state()).isEqualTo(TaskState.DONE);
        assertThat(event.isFinal()).isTrue();
        assertThat(event.duration()).isEqualTo(Duration.ofMillis(12));
        assertThat(event.at()).isEqualTo(Instant.parse("2026-12-04T20:00:00.123Z"));
        assertThat(STRICT.readTree(STRICT.writeValueAsString(event))).isEqualTo(STRICT.readTree(json));
    }

    @Test
    void aRunningEventCarriesNoResultFields() {
        TaskEvent running = TaskEvent.of("t-1", "pilot-1", TaskState.RUNNING, "agent-1", 2, Instant.parse("2026-12-04T20:00:00Z"), null, null);

        assertThat(running.isFinal()).isFalse();
        assertThat(STRICT.writeValueAsString(running)).isEqualTo("""
                {"task":"t-1","pilot":"pilot-1","state":"RUNNING","agent":"agent-1","attempt":2,"at":"2026-12-04T20:00:00Z"}""");
    }

    @Test
    void onlyDoneFailedAndCanceledAreFinal() {
        assertThat(TaskState.values()).filteredOn(TaskState::isFinal)
                .containsExactly(TaskState.DONE, TaskState.FAILED, TaskState.CANCELED);
    }
}
