package dev.fabric.cli.context;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The FabricClients a command makes end with it: their connections and threads are not left to the JVM's exit. */
class CommandContextCloseTest {

    @TempDir
    Path home;

    @Test
    void closeClosesTheClientsTheCommandMadeAndTheNextCommandMakesNewOnes() throws Exception {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        Map<String, String> env = Map.of(FabricHome.HOME_ENV, home.toString());
        CommandContext context = new CommandContext(env, FabricHome.of(env, home), Clock.systemUTC(), () -> null, () -> null);
        FabricClient first = context.fabricClient();
        FabricClient second = context.fabricClient();

        context.close();

        assertThat(first.isClosed()).isTrue();
        assertThat(second.isClosed()).isTrue();
        FabricClient next = context.fabricClient();
        assertThat(next.isClosed()).isFalse();
        context.close();
        assertThat(next.isClosed()).isTrue();
    }
}
