package dev.fabric.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./fabric up} when another process holds one of its ports: it must never take that
 * process's answer for its own service's and say "fabric is up", but fail naming the port and the
 * option that chooses another: before it builds or starts anything when the port is taken already,
 * and when it is taken while the registry starts (the registry's port file tells its own answer).
 */
class FabricUpPortTakenIT {

    @TempDir
    Path home;

    @Test
    void aRegistryPortHeldByAnotherFabricIsNamedWithTheOptionToChooseAnother() throws Exception {
        HttpServer other = answeringLikeAFabric(0);
        try (ServerSocket free = new ServerSocket(0)) {
            int port = other.getAddress().getPort();
            int spawnerPort = free.getLocalPort();
            free.close();

            Run up = up("--port", Integer.toString(port), "--spawner-port", Integer.toString(spawnerPort));

            assertThat(up.exitCode).isEqualTo(1);
            assertThat(up.out).doesNotContain("fabric is up");
            assertThat(up.err)
                    .contains("port " + port + ", where the registry would listen, is taken by another fabric service")
                    .contains("./fabric up --port N");
            assertNothingStarted();
        } finally {
            other.stop(0);
        }
    }

    @Test
    void aSpawnerPortHeldByAnyProcessIsNamedWithItsOption() throws Exception {
        try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                ServerSocket free = new ServerSocket(0)) {
            int registryPort = free.getLocalPort();
            free.close();

            Run up = up("--port", Integer.toString(registryPort), "--spawner-port", Integer.toString(held.getLocalPort()));

            assertThat(up.exitCode).isEqualTo(1);
            assertThat(up.out).doesNotContain("fabric is up");
            assertThat(up.err)
                    .contains("port " + held.getLocalPort() + ", where the spawner would listen, is taken by another process")
                    .contains("./fabric up --spawner-port N");
            assertNothingStarted();
        }
    }

    @Test
    void aPortTakenAfterTheCheckIsNotMistakenForTheRegistryUpStarted() throws Exception {
        FabricLauncher.assumeBuilt();
        FabricLauncher fabric = launcher();
        int[] ports = FabricLauncher.twoFreePorts();
        int port = ports[0];
        Process up = fabric.up(port, ports[1]).start();
        HttpServer other = null;
        try {
            // The keys appear after the launcher checked the ports and before the registry binds its
            // port (a JVM and Spring take seconds): another fabric's registry takes the port then.
            while (!Files.exists(home.resolve("keys/fabric.key")) && up.isAlive()) {
                Thread.sleep(10);
            }
            other = answeringLikeAFabric(port);
            assertThat(up.waitFor(120, TimeUnit.SECONDS)).as("./fabric up ended").isTrue();

            assertThat(up.exitValue()).isEqualTo(1);
            assertThat(Files.readString(fabric.output("up"))).doesNotContain("fabric is up");
            assertThat(Files.readString(fabric.errors("up")))
                    .contains("port " + port + ", where the registry would listen, is taken by another fabric service")
                    .contains("./fabric up --port N");
        } finally {
            up.destroyForcibly();
            if (other != null) {
                other.stop(0);
            }
            fabric.down();
        }
    }

    private void assertNothingStarted() throws IOException {
        Path run = home.resolve("run");
        if (Files.isDirectory(run)) {
            try (var files = Files.list(run)) {
                assertThat(files.filter(f -> f.toString().endsWith(".pid"))).isEmpty();
            }
        }
        assertThat(home.resolve("keys")).doesNotExist();
    }

    private record Run(int exitCode, String out, String err) {}

    /** Another fabric's registry: it answers the readiness probe as ours would. */
    private static HttpServer answeringLikeAFabric(int port) throws IOException {
        HttpServer other = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        other.createContext("/", exchange -> {
            byte[] body = "{\"status\":\"UP\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        other.start();
        return other;
    }

    /** About ports, not start-up: without the AOT caches, so no training runs come between the keys appearing and the registry starting. */
    private FabricLauncher launcher() {
        return new FabricLauncher(home, false);
    }

    private Run up(String... options) throws Exception {
        List<String> arguments = new ArrayList<>(List.of("up"));
        arguments.addAll(List.of(options));
        FabricLauncher fabric = launcher();
        Process process = fabric.command(arguments.toArray(String[]::new)).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("./fabric up did not end within 120 s; its error output: " + Files.readString(fabric.errors("up")));
        }
        return new Run(process.exitValue(), Files.readString(fabric.output("up")), Files.readString(fabric.errors("up")));
    }
}
