package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

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
}
