package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.Escrowd;
import dev.fabric.escrow.testing.Dist;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20 point 1: exact recovery with the public API alone. A line server written only with
 * {@link Escrow}, {@link HeldConnection} and {@link RecoveryFacts} ({@link StepServer}, a real
 * process) is killed with -9 between reading a request and answering it, and between answering
 * it and consuming it; the server started next recovers the connection from the escrow, and the
 * client gets every byte back once, in order: nothing lost, nothing doubled.
 */
class ExactRecoveryIT {

    @TempDir
    Path dir;
    Escrowd escrowd;
    final List<Process> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(p -> p.destroyForcibly().onExit().join());
        if (escrowd != null) {
            escrowd.close();
        }
    }

    @ParameterizedTest(name = "killed {0}")
    @CsvSource({"after-peek, 0", "after-write, 6"})
    void aServerKilledBetweenReadingAndAnsweringLosesAndDoublesNothing(String haltPoint, int answeredButNotConsumed) throws Exception {
        escrowd = TestDaemon.start(dir);
        int port = Dist.freePort();

        Dist.Started first = startServer(port, haltPoint);
        first.awaitOutput("listening", Duration.ofSeconds(30));
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            first.awaitOutput("serving", Duration.ofSeconds(30));
            write(client, "hello\n");
            first.awaitOutput("halted " + haltPoint, Duration.ofSeconds(30));
            first.kill9();

            Dist.Started second = startServer(port, "never");
            second.awaitOutput("recovered, skipped " + answeredButNotConsumed + " bytes", Duration.ofSeconds(30));
            write(client, "world\n");

            assertThat(readExactly(client, 12)).isEqualTo("hello\nworld\n");
            assertThat(nothingMoreArrives(client)).as("no byte echoed twice").isTrue();
        }
    }

    private Dist.Started startServer(int port, String haltPoint) throws IOException {
        Path log = dir.resolve("server-" + servers.size() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), StepServer.class.getName(), escrowd.path().toString(),
                Integer.toString(port), haltPoint)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        servers.add(process);
        return new Dist.Started(process, log);
    }

    private static void write(SocketChannel channel, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static String readExactly(SocketChannel channel, int count) throws IOException {
        channel.socket().setSoTimeout(30_000);
        InputStream in = channel.socket().getInputStream();
        byte[] bytes = in.readNBytes(count);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static boolean nothingMoreArrives(SocketChannel channel) throws IOException {
        channel.socket().setSoTimeout(500);
        try {
            return channel.socket().getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return true;
        }
    }

    /**
     * A line echo server written with the library's public API only, serving one client: each
     * chunk is peeked, answered, then consumed; after a restart, what was answered but not yet
     * consumed is skipped. {@code halt} stops it for ever (for the test's kill -9) right after the
     * first peek ({@code after-peek}) or the first answer ({@code after-write}).
     */
    public static final class StepServer {

        public static void main(String[] args) throws Exception {
            Path path = Path.of(args[0]);
            int port = Integer.parseInt(args[1]);
            String halt = args[2];
            PrintStream out = System.out;
            try (Escrow escrow = Escrow.open(path, 0, 2, Duration.ofSeconds(30))) {
                SocketChannel channel;
                boolean recovered;
                try {
                    channel = escrow.get(1, 0).socketChannel();
                    recovered = true;
                } catch (SlotNotFoundException first) {
                    try (ServerSocketChannel listener = ServerSocketChannel.open()
                            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                        out.println("listening");
                        channel = listener.accept();
                        // The window a crash can lose a connection in: from accept to this add.
                        escrow.add(1, 0, channel, null);
                    }
                    recovered = false;
                }
                HeldConnection connection = HeldConnection.of(channel);
                if (recovered) {
                    RecoveryFacts facts = connection.facts();
                    long answered = facts.bytesSent() - facts.bytesConsumed();
                    connection.skip(answered);
                    out.println("recovered, skipped " + answered + " bytes");
                } else {
                    out.println("serving");
                }
                byte[] buffer = new byte[1024];
                while (true) {
                    int n = connection.peek(buffer, buffer.length);
                    if (n < 0) {
                        return;
                    }
                    haltIf(halt.equals("after-peek"), "halted after-peek", out);
                    connection.writeAll(buffer, n);
                    haltIf(halt.equals("after-write"), "halted after-write", out);
                    connection.skip(n);
                }
            }
        }

        private static void haltIf(boolean halt, String line, PrintStream out) {
            if (halt) {
                out.println(line);
                out.flush();
                while (true) {
                    LockSupport.park();
                }
            }
        }
    }
}
