package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.Cli;
import dev.fabric.cli.SlowSpawner;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A spawner answers a spawn once it has started the member, which may take longer than a plain
 * request may (a starting slot to wait for, the distribution to stage on an SSH host): the spawn
 * waits as long as its --timeout allows. Plain requests are cut after {@link #PLAIN} here, so that
 * a spawner slower than that shows it without a test sitting through the real 30 s.
 */
class SpawnAnswerTimeTest {

    private static final Duration PLAIN = Duration.ofMillis(300);
    /** Longer than a plain request may take, well within the spawns' --timeout. */
    private static final Duration SLOW = Duration.ofMillis(1500);

    @TempDir
    Path home;

    private SlowSpawner spawner;
    private Cli cli;

    @BeforeEach
    void start() throws IOException {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        spawner = new SlowSpawner();
        cli = Cli.withHome(home).withRequestTimeout(PLAIN);
    }

    @AfterEach
    void stop() {
        spawner.close();
    }

    @Test
    void aSpawnWaitsForTheSpawnersAnswerWithinItsTimeoutNotThePlainRequestTimeout() {
        spawner.answerAfter(SLOW);

        Cli.Result spawn = cli.run("--registry", spawner.url(), "spawn", "bridge", "--host", "gateway", "--spawner", spawner.url(),
                "--wait", "--timeout", "1m");

        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        assertThat(spawn.out()).isEqualTo("queue-1\n");
        assertThat(spawn.err()).contains("RUNNING");
    }

    @Test
    void withoutWaitTheSpawnWaitsForItsAnswerToo() {
        spawner.answerAfter(SLOW);

        Cli.Result spawn = cli.run("spawn", "queue", "--spawner", spawner.url());

        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        assertThat(spawn.out()).isEqualTo("queue-1\n");
    }

    @Test
    void aSpawnThroughAMemberWaitsForItsAnswerToo() {
        spawner.answerAfter(SLOW);

        Cli.Result spawn = cli.run("--registry", spawner.url(), "spawn", "queue", "--parent", "parent-1", "--wait", "--timeout", "1m");

        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        assertThat(spawn.out()).isEqualTo("queue-1\n");
    }

    @Test
    void aSpawnNotAnsweredWithinItsTimeoutSaysTheMemberMayStillBeStartingAndHowToSeeIt() {
        spawner.answerAfter(null);

        Cli.Result spawn = cli.run("--registry", spawner.url(), "spawn", "queue", "--spawner", spawner.url(), "--wait", "--timeout", "1s");

        assertThat(spawn.exitCode()).as(spawn.err()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(spawn.out()).isEmpty();
        assertThat(spawn.err()).startsWith("fabric: the spawner at " + spawner.url() + " did not answer the spawn within 1s"
                        + " (a connection was made): it may still be starting the member")
                .contains("`fabric services --type queue`", "PENDING", "`fabric service ID`", "--timeout (it was 1s)")
                .doesNotContain("cannot reach", "Is the spawner running");
    }

    @Test
    void withoutWaitTheTimeoutBoundsTheSpawnAlone() {
        spawner.answerAfter(null);

        Cli.Result spawn = cli.run("spawn", "queue", "--spawner", spawner.url(), "--timeout", "1s");

        assertThat(spawn.exitCode()).as(spawn.err()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(spawn.err()).startsWith("fabric: the spawner at " + spawner.url() + " did not answer the spawn within 1s")
                .doesNotContain("Is the spawner running");
    }

    @Test
    void aMemberThatDoesNotAnswerASpawnInTimeIsNamed() {
        spawner.answerAfter(null);

        Cli.Result spawn = cli.run("--registry", spawner.url(), "spawn", "queue", "--parent", "parent-1", "--timeout", "1s");

        assertThat(spawn.exitCode()).as(spawn.err()).isEqualTo(ExitCodes.MEMBER_FAILED);
        assertThat(spawn.err()).startsWith("fabric: member parent-1 at " + spawner.url() + " did not answer the spawn within 1s")
                .contains("`fabric services --type queue --parent parent-1`");
    }

    @Test
    void aPlainRequestIsStillCutAtThePlainTimeout() {
        spawner.answerAfter(null);

        Cli.Result stop = cli.run("stop", "queue-1", "--spawner", spawner.url());

        assertThat(stop.exitCode()).as(stop.err()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(stop.err()).contains("cannot reach the spawner at " + spawner.url() + " (no answer in time)");
    }
}
