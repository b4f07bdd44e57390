package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A client written in C ({@code src/test/c/escrow_client.c}) against our escrowd: the proof that
 * a non-JVM service can use it. The C client speaks the documented wire format the way the
 * C escrow library does (one sendmsg per message, SCM_RIGHTS), and exchanges descriptors with Java
 * through the escrow in both directions.
 */
class CClientIT {

    @TempDir
    Path dir;

    @Test
    void cClientAddsGetsAndTagsAgainstOurDaemon() throws Exception {
        Path binary = compile();
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withNrTags(4)); TcpPair tcp = TcpPair.open()) {
            try (Escrow java = Escrow.open(escrowd.path(), 0, 4)) {
                java.add(3, 1, tcp.accepted, "from Java".getBytes(StandardCharsets.UTF_8));
            }
            tcp.accepted.close();

            Process c = new ProcessBuilder(binary.toString(), escrowd.path().toString()).redirectErrorStream(true).start();
            assertThat(c.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String output = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.exitValue()).as(output).isZero();
            assertThat(output).contains("ok: ADD pipe", "ok: GET pipe", "ok: TAG", "ok: payload-only ADD",
                    "ok: GET empty slot -2 \"Non-existent index in a GET request.\"", "ok: GET Java socket");

            ByteBuffer line = ByteBuffer.allocate("hello from C\n".length());
            while (line.hasRemaining()) {
                assertThat(tcp.client.read(line)).isNotNegative();
            }
            assertThat(new String(line.array(), StandardCharsets.UTF_8)).isEqualTo("hello from C\n");

            try (Escrow java = Escrow.open(escrowd.path(), 0, 4, Duration.ofSeconds(5))) {
                Slot fromC = java.get(2, 7);
                assertThat(fromC.descriptor().kind()).isEqualTo(DescriptorKind.FILE);
                assertThat(fromC.payload()).asString(StandardCharsets.UTF_8).isEqualTo("written by C");
                assertThat(java.get(2, 8).hasDescriptor()).isFalse();
                assertThat(java.tag(2).slots()).isEqualTo(2);
                fromC.descriptor().close();
            }
        }
    }

    private Path compile() throws IOException, InterruptedException {
        Path source = Path.of(System.getProperty("escrow.testC", "src/test/c"), "escrow_client.c");
        Path binary = dir.resolve("escrow_client");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-o", binary.toString(), source.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "gcc is not installed here, so the C client test is skipped (apt-get install gcc to run it)");
            throw e;
        }
        assertThat(gcc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.exitValue()).as("gcc: " + output).isZero();
        assertThat(Files.isExecutable(binary)).isTrue();
        return binary;
    }
}
