package dev.fabric.escrow.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the built distribution ({@code target/escrow-dist/bin/escrow}) as real processes, with
 * their output in files, for the process-level integration tests. Kills what it started.
 */
public final class Dist implements AutoCloseable {

    private final Path bin;
    private final Path logs;
    private final List<Process> started = new ArrayList<>();
    private int counter;

    public Dist(Path logs) {
        String dist = System.getProperty("escrow.dist");
        assertThat(dist).as("escrow.dist is set by the Failsafe configuration").isNotNull();
        this.bin = Path.of(dist, "bin", "escrow");
        assertThat(bin).as("the distribution is built in package, before the ITs").isExecutable();
        this.logs = logs;
    }

    /** Starts {@code escrow args...}; stdout and stderr go to the returned log file. */
    public Started start(String... args) throws IOException {
        Path log = logs.resolve("process-" + (++counter) + "-" + args[0] + ".log");
        ProcessBuilder builder = builder(Map.of(), args).redirectErrorStream(true).redirectOutput(log.toFile());
        Process process = builder.start();
        started.add(process);
        return new Started(process, log);
    }

    /**
     * Starts {@code escrow args...} with {@code env} added, its stdout and stderr left as pipes to
     * this process, as a shell's {@code $(...)} would capture them.
     */
    public Process startCaptured(Map<String, String> env, String... args) throws IOException {
        Process process = builder(env, args).start();
        started.add(process);
        return process;
    }

    private ProcessBuilder builder(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>();
        command.add(bin.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().putAll(env);
        return builder;
    }

    /** A started process and its output. */
    public record Started(Process process, Path log) {

        public String output() throws IOException {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        }

        /** Waits until the output matches {@code regex} (found anywhere), failing with the output so far. */
        public void awaitOutput(String regex, Duration timeout) throws Exception {
            Pattern pattern = Pattern.compile(regex);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (pattern.matcher(output()).find()) {
                    return;
                }
                if (!process.isAlive() && !pattern.matcher(output()).find()) {
                    throw new AssertionError("process exited (" + process.exitValue() + ") before printing /" + regex + "/:\n" + output());
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no /" + regex + "/ within " + timeout + " in:\n" + output());
        }

        /** kill -9 */
        public void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            return probe.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.onExit().join();
            }
        }
    }
}
