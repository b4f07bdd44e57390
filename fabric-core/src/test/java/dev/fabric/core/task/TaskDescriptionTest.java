package dev.fabric.core.task;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The one check of a task description, whose reasons the pilot manager and the agent both give. */
class TaskDescriptionTest {

    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private static TaskDescription task(List<String> command, String workingDirectory, String timeLimit) {
        return new TaskDescription("t-1", "pilot-1", command, Map.of("K", "V"), workingDirectory, timeLimit, null);
    }

    @Test
    void aCompleteDescriptionIsValid() {
        TaskDescription task = task(List.of("sh", "-c", "echo hi"), "sub/dir", "30s");

        assertThat(task.invalidity()).isEmpty();
        assertThat(task.limit()).contains(Duration.ofSeconds(30));
        assertThat(task.relativeWorkingDirectory()).isEqualTo(Path.of("sub/dir"));
    }

    @Test
    void optionalPartsMayBeAbsent() {
        TaskDescription task = new TaskDescription("t-1", null, List.of("true"), null, null, null, null);

        assertThat(task.invalidity()).isEmpty();
        assertThat(task.limit()).isEmpty();
        assertThat(task.environment()).isEmpty();
        assertThat(task.relativeWorkingDirectory()).isEqualTo(Path.of(""));
    }

    @Test
    void aMissingCommandIsRefused() {
        assertThat(task(null, null, null).invalidity()).hasValueSatisfying(reason -> assertThat(reason).contains("has no command"));
    }

    @Test
    void anEmptyCommandIsRefused() {
        assertThat(task(List.of(), null, null).invalidity()).hasValueSatisfying(reason -> assertThat(reason).contains("empty command"));
        assertThat(task(List.of(" ", "x"), null, null).invalidity())
                .hasValueSatisfying(reason -> assertThat(reason).contains("empty program name"));
        assertThat(task(Arrays.asList("echo", null), null, null).invalidity())
                .hasValueSatisfying(reason -> assertThat(reason).contains("null argument"));
    }

    @Test
    void aTimeLimitThatIsNotPositiveIsRefused() {
        for (String limit : List.of("0s", "-5s", "0", "PT0S", "-PT1S")) {
            assertThat(task(List.of("true"), null, limit).invalidity()).as(limit)
                    .hasValueSatisfying(reason -> assertThat(reason).contains("must be positive"));
        }
    }

    @Test
    void aTimeLimitThatIsNotADurationIsRefused() {
        for (String limit : List.of("soon", "5 minutes", "30x", "", "P", "99999999999999999d")) {
            assertThat(task(List.of("true"), null, limit).invalidity()).as(limit)
                    .hasValueSatisfying(reason -> assertThat(reason).contains("not a duration"));
        }
    }

    @Test
    void timeLimitsReadAsSpringBootDurations() {
        assertThat(TaskDescription.parseDuration("500ms")).contains(Duration.ofMillis(500));
        assertThat(TaskDescription.parseDuration("5m")).contains(Duration.ofMinutes(5));
        assertThat(TaskDescription.parseDuration("2h")).contains(Duration.ofHours(2));
        assertThat(TaskDescription.parseDuration("1d")).contains(Duration.ofDays(1));
        assertThat(TaskDescription.parseDuration("7")).contains(Duration.ofSeconds(7));
        assertThat(TaskDescription.parseDuration(" PT1.5S ")).contains(Duration.ofMillis(1500));
        assertThat(TaskDescription.parseDuration("250us")).contains(Duration.ofNanos(250_000));
    }

    @Test
    void aWorkingDirectoryThatEscapesTheSandboxIsRefused() {
        for (String directory : List.of("..", "../x", "a/../../x", "a/..", "/tmp", "/")) {
            assertThat(task(List.of("true"), directory, null).invalidity()).as(directory)
                    .hasValueSatisfying(reason -> assertThat(reason).containsAnyOf("escapes the task's sandbox", "must be relative"));
        }
        assertThat(task(List.of("true"), "a/./b", null).invalidity()).isEmpty();
        assertThat(task(List.of("true"), "a..b", null).invalidity()).isEmpty();
    }

    @Test
    void aMissingOrMalformedIdIsRefused() {
        assertThat(task(List.of("true"), null, null).withId(null).invalidity())
                .hasValueSatisfying(reason -> assertThat(reason).contains("no id"));
        for (String id : List.of("../etc", "a/b", ".hidden", "x".repeat(129))) {
            assertThat(task(List.of("true"), null, null).withId(id).invalidity()).as(id).isPresent();
        }
    }

    @Test
    void environmentNamesMustBeUsable() {
        TaskDescription task = new TaskDescription("t-1", null, List.of("true"), Map.of("A=B", "x"), null, null, null);

        assertThat(task.invalidity()).hasValueSatisfying(reason -> assertThat(reason).contains("A=B"));
    }

    @Test
    void theContractsJsonReadsAndWritesBack() {
        String json = """
                {"id":"t-1","pilot":"pilot-1","command":["sh","-c","echo hi"],"environment":{"K":"V"},\
                "workingDirectory":"sub/dir","timeLimit":"30s","name":"optional label"}""";

        TaskDescription task = STRICT.readValue(json, TaskDescription.class);

        assertThat(task.command()).containsExactly("sh", "-c", "echo hi");
        assertThat(task.invalidity()).isEmpty();
        assertThat(STRICT.readTree(STRICT.writeValueAsString(task))).isEqualTo(STRICT.readTree(json));
    }

    @Test
    void absentFieldsAreLeftOutOfTheJson() {
        TaskDescription task = new TaskDescription("t-1", null, List.of("true"), null, null, null, null);

        assertThat(STRICT.writeValueAsString(task)).isEqualTo("{\"id\":\"t-1\",\"command\":[\"true\"],\"environment\":{}}");
    }

    @Test
    void ofAndItsCopiesFillEachFieldTheyName() {
        TaskDescription task = TaskDescription.of("sh", "-c", "echo $GREETING")
                .withEnvironment(Map.of("GREETING", "hi"))
                .withWorkingDirectory("work/run1")
                .withTimeLimit(Duration.ofMinutes(5))
                .withName("greeting")
                .withId("t-proposed");

        assertThat(task).isEqualTo(new TaskDescription("t-proposed", null, List.of("sh", "-c", "echo $GREETING"),
                Map.of("GREETING", "hi"), "work/run1", "PT5M", "greeting"));
        assertThat(task.invalidity()).isEmpty();
        assertThat(task.limit()).contains(Duration.ofMinutes(5));
    }

    @Test
    void ofLeavesEverythingButTheCommandAbsent() {
        TaskDescription task = TaskDescription.of("true");

        assertThat(task).isEqualTo(new TaskDescription(null, null, List.of("true"), null, null, null, null));
        assertThat(STRICT.writeValueAsString(task)).isEqualTo("{\"command\":[\"true\"],\"environment\":{}}");
    }

    @Test
    void aCopyLeavesTheOriginalAsItWas() {
        TaskDescription original = TaskDescription.of("true").withTimeLimit("30s");

        TaskDescription copy = original.withTimeLimit((Duration) null).withName("n");

        assertThat(original.timeLimit()).isEqualTo("30s");
        assertThat(original.name()).isNull();
        assertThat(copy.timeLimit()).isNull();
    }
}
