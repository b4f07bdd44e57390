package dev.fabric.cli.commands.console;

import dev.fabric.cli.SlowSpawner;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The console's spawn and restart: their spawner answers once it has started the member, so they
 * wait as long as {@code fabric spawn} does, not a plain request's time (cut after 300 ms here).
 */
class ConsoleLaunchTest {

    @TempDir
    Path home;

    private SlowSpawner spawner;
    private ConsoleActions actions;

    @BeforeEach
    void start() throws IOException {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        spawner = new SlowSpawner();
        Map<String, String> env = Map.of(FabricHome.HOME_ENV, home.toString(), FabricHome.SPAWNER_ENV, spawner.url());
        CommandContext context = new CommandContext(env, FabricHome.of(env, home), Clock.systemUTC(), () -> null, () -> null,
                Duration.ofMillis(300));
        actions = new ConsoleActions(context, null);
    }

    @AfterEach
    void stop() {
        spawner.close();
    }

    @Test
    void aSpawnAndARestartSlowerThanAPlainRequestSucceed() {
        spawner.answerAfter(Duration.ofMillis(1500));
        assertThat(actions.spawn("queue", null)).isEqualTo("queue-1");
        actions.restart("queue-1");
    }

    @Test
    void aStopIsAPlainRequest() {
        spawner.answerAfter(null);
        CliException stop = catchThrowableOfType(CliException.class, () -> actions.stop("queue-1"));
        assertThat(stop.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(stop.getMessage()).contains("no answer in time");
    }
}
