package dev.fabric.spawner.role.pubsub;

import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.web.SpawnerException;
import dev.fabric.testsupport.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The role's life: first start, stop, recovery under the same id, the states it refuses to recover, its settings. */
class PubSubRoleTest {

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

    RoleContext context(boolean restart, Map<String, String> config) {
        return new RoleContext("pubsub-7", restart ? 2 : 1, dir.resolve("pubsub-7"), config, restart);
    }

    @Test
    void servesOnlyWhileStartedAndRecoversWhatItAcknowledged() throws Exception {
        PubSubRole first = new PubSubRole(clock, 100);
        assertThat(first.name()).isEqualTo("pubsub");
        assertThat(first.policy().replaceWhenLost()).isFalse();
        assertThat(first.endpoints()).isEqualTo(Map.of("pubsub", "/pubsub/v1"));
        assertThat(first.status()).isEqualTo(Map.of("started", false));
        assertThatThrownBy(first::running).isInstanceOfSatisfying(SpawnerException.class,
                e -> assertThat(e.reason()).isEqualTo("pubsub-not-started"));

        first.start(context(false, Map.of(PubSubSettings.RETENTION_COUNT, "100")));
        first.running().store().publish("events", "kept".getBytes(StandardCharsets.UTF_8));
        assertThat(first.status()).containsEntry("started", true).containsEntry("topics", 1).containsEntry("retained", 1L)
                .containsEntry("published", 1L).containsEntry("retention-count", 100);
        first.stop();
        assertThatThrownBy(first::running).isInstanceOf(SpawnerException.class);

        PubSubRole second = new PubSubRole(clock, 100);
        second.recover(context(true, Map.of()));
        second.start(context(true, Map.of()));
        assertThat(second.running().store().read("events", 0, 10).entries()).hasSize(1);
        second.stop();
    }

    @Test
    void aMissingJournalOnARestartIsUnrecoverable() {
        assertThatThrownBy(() -> new PubSubRole(clock, 100).recover(context(true, Map.of())))
                .isInstanceOf(StateUnrecoverableException.class)
                .hasMessageContaining("pubsub.journal is missing, so the messages of pubsub-7 are gone");
    }

    @Test
    void aCorruptJournalIsUnrecoverableAndSaysWhere() throws Exception {
        Files.createDirectories(context(true, Map.of()).dataDirectory());
        Files.write(context(true, Map.of()).dataDirectory().resolve(PubSubJournal.FILE_NAME), "FQJ1".getBytes(StandardCharsets.US_ASCII));

        assertThatThrownBy(() -> new PubSubRole(clock, 100).recover(context(true, Map.of())))
                .isInstanceOf(StateUnrecoverableException.class)
                .hasMessageContaining("is corrupt at byte 0: the file starts with 46514a31, not the pubsub journal header 46504a31");
    }

    @Test
    void aSettingThatIsNotValidIsRefusedWithWhatItMustBe() {
        PubSubRole role = new PubSubRole(clock, 100);

        assertThatThrownBy(() -> role.start(context(false, Map.of(PubSubSettings.RETENTION_COUNT, "0"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retention-count must be a whole number from 1 to 10000000, not '0'");
        assertThatThrownBy(() -> role.start(context(false, Map.of(PubSubSettings.RETENTION_AGE, "soon"))))
                .hasMessage("retention-age must be a duration from 1s to 3650d (e.g. 1d), not 'soon'");
        assertThatThrownBy(() -> role.start(context(false, Map.of(PubSubSettings.RETENTION_BYTES, "1KB"))))
                .hasMessage("retention-bytes must be a size from 256KB to 16GB (e.g. 64MB), not '1KB'");
        assertThat(PubSubSettings.of(Map.of())).isEqualTo(PubSubSettings.DEFAULTS);
    }
}
