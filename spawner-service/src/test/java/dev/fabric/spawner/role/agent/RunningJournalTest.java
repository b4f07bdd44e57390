package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's journal of held leases: what a restart under its id finds. */
class RunningJournalTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    @Test
    void aRestartFindsTheTasksWhoseLeasesWereNotAcknowledged() throws Exception {
        Instant started = Instant.parse("2026-12-04T20:00:00Z");
        try (RunningJournal journal = RunningJournal.open(dir, JSON)) {
            journal.leased("t-1", "pilot-1", "lease-1", 1);
            journal.leased("t-2", "pilot-1", "lease-2", 2);
            journal.leased("t-3", "pilot-1", "lease-3", 1);
            journal.leased("t-4", "pilot-1", "lease-4", 1);
            journal.started("t-1", "lease-1", 4242, started);
            journal.started("t-2", "lease-2", 4243, started);
            journal.published("t-2", "lease-2");
            journal.started("t-3", "lease-3", 4244, started);
            journal.published("t-3", "lease-3");
            journal.acked("t-3", "lease-3");
            journal.released("t-4", "lease-4");
        }

        try (RunningJournal reopened = RunningJournal.open(dir, JSON)) {
            assertThat(reopened.open()).containsExactly(
                    new RunningJournal.Open("t-1", "pilot-1", "lease-1", 1, 4242L, started, false),
                    new RunningJournal.Open("t-2", "pilot-1", "lease-2", 2, 4243L, started, true));
        }
    }

    @Test
    void aTornLastLineIsIgnored() throws Exception {
        try (RunningJournal journal = RunningJournal.open(dir, JSON)) {
            journal.leased("t-1", "pilot-1", "lease-1", 1);
        }
        Files.writeString(dir.resolve(RunningJournal.FILE_NAME), "{\"step\":\"acked\",\"task\":\"t-1\",\"lea", StandardOpenOption.APPEND);

        try (RunningJournal reopened = RunningJournal.open(dir, JSON)) {
            assertThat(reopened.open()).extracting(RunningJournal.Open::task).containsExactly("t-1");
        }
    }

    @Test
    void reopeningCompactsToTheOpenTasksOnly() throws Exception {
        try (RunningJournal journal = RunningJournal.open(dir, JSON)) {
            for (int i = 0; i < 100; i++) {
                journal.leased("t-" + i, "pilot-1", "lease-" + i, 1);
                if (i != 7) {
                    journal.acked("t-" + i, "lease-" + i);
                }
            }
        }

        try (RunningJournal reopened = RunningJournal.open(dir, JSON)) {
            assertThat(Files.readAllLines(reopened.file())).hasSize(1);
            assertThat(reopened.open()).extracting(RunningJournal.Open::task).containsExactly("t-7");
            assertThat(Files.getPosixFilePermissions(reopened.file())).extracting(Object::toString)
                    .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
        }
    }

    @Test
    void theLeasesOfOneRequestAndTheAcksOfOneAckGoInOneWriteEach() throws Exception {
        try (RunningJournal journal = RunningJournal.open(dir, JSON)) {
            journal.leased(List.of(new RunningJournal.Lease("t-1", "pilot-1", "lease-1", 1), new RunningJournal.Lease("t-2", "pilot-1", "lease-2", 3),
                    new RunningJournal.Lease("t-3", "pilot-1", "lease-3", 1)));
            assertThat(Files.readAllLines(journal.file())).as("written at once").hasSize(3);
            journal.acked(List.of(Map.entry("t-1", "lease-1"), Map.entry("t-3", "lease-3")));
            assertThat(Files.readAllLines(journal.file())).hasSize(5);

            // Read as a restart would, the first incarnation still open (a kill -9 leaves it so).
            try (RunningJournal restarted = RunningJournal.open(dir, JSON)) {
                assertThat(restarted.open()).containsExactly(new RunningJournal.Open("t-2", "pilot-1", "lease-2", 3, null, null, false));
            }
        }
    }

    @Test
    void publishedLinesWaitForAFlushAndAStartedLineWritesThemFirst() throws Exception {
        Instant started = Instant.parse("2026-12-07T18:00:00Z");
        try (RunningJournal journal = RunningJournal.open(dir, JSON)) {
            journal.leased(List.of(new RunningJournal.Lease("t-1", "pilot-1", "lease-1", 1), new RunningJournal.Lease("t-2", "pilot-1", "lease-2", 1),
                    new RunningJournal.Lease("t-3", "pilot-1", "lease-3", 1)));
            journal.started("t-1", "lease-1", 4242, started);
            journal.published("t-1", "lease-1");
            assertThat(publishedOnDisk()).as("a published line waits in memory").isEmpty();

            journal.flush();
            assertThat(publishedOnDisk()).containsExactly("t-1");

            journal.started("t-2", "lease-2", 4243, started);
            journal.published("t-2", "lease-2");
            journal.started("t-3", "lease-3", 4244, started);
            assertThat(publishedOnDisk()).as("written before the started line that followed it").containsExactly("t-1", "t-2");
            journal.published("t-3", "lease-3");
        }
        try (RunningJournal reopened = RunningJournal.open(dir, JSON)) {
            assertThat(reopened.open()).as("closing writes what waits").extracting(RunningJournal.Open::published)
                    .containsExactly(true, true, true);
        }
    }

    @Test
    void aPublishThatEndsAfterTheJournalClosedWritesNothingAndThrowsNothing() throws Exception {
        RunningJournal journal = RunningJournal.open(dir, JSON);
        journal.leased("t-1", "pilot-1", "lease-1", 1);
        journal.close();

        journal.published("t-1", "lease-1");
        journal.flush();

        assertThat(publishedOnDisk()).isEmpty();
    }

    private List<String> publishedOnDisk() throws Exception {
        return Files.readAllLines(dir.resolve(RunningJournal.FILE_NAME)).stream()
                .map(line -> JSON.readTree(line))
                .filter(line -> line.path("step").asString().equals("published"))
                .map(line -> line.path("task").asString())
                .toList();
    }
}
