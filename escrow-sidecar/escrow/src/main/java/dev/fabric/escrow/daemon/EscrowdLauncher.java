package dev.fabric.escrow.daemon;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts escrowd as a separate, detached {@code java} process, the way the C client forks a
 * daemon for {@code ESCROW_CREAT}: the same java binary and class path as this JVM, the daemon
 * main class, and {@code --detached} so the daemon starts its own session (setsid) and outlives
 * the process that started it.
 * <p>
 * System properties: {@code escrow.daemon.java} (java binary), {@code escrow.daemon.classpath},
 * {@code escrow.daemon.log} (append the daemon's output to this file; default: inherit ours, as
 * the C daemon keeps its parent's stdio). The environment's {@value #JAVA_OPTS} (the JVM options
 * {@code bin/escrow} passes) reach the daemon's JVM too, split at white space as the script does.
 */
public final class EscrowdLauncher {

    public static final String MAIN_CLASS = "dev.fabric.escrow.daemon.EscrowdMain";
    /**
     * The daemon's JVM: a bounded heap with a small young generation and compact object headers,
     * one compiler thread, native memory handed back (the resident memory of issue 17,
     * {@code docs/benchmarks.md}). C1 only: C2 alone would answer requests sooner but leave the first
     * bulk recovery interpreted. The same list is in {@code bin/escrow} for {@code escrow daemon};
     * keep them in step.
     */
    static final List<String> DAEMON_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
            "-XX:+UseCompactObjectHeaders", "-Xss256k", "-Xms8m", "-Xmx96m", "-Xmn2m", "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=20", "-XX:ReservedCodeCacheSize=16m", "-XX:-UsePerfData", "-XX:TrimNativeHeapInterval=5000");

    /** The environment variable with extra JVM options, as {@code bin/escrow} reads it. */
    public static final String JAVA_OPTS = "ESCROW_JAVA_OPTS";

    private EscrowdLauncher() {
    }

    /** Starts the daemon process and returns at once; the caller waits for the socket to answer. */
    public static Process spawn(Path path, int nrTags, boolean verbose, boolean force, List<String> extraArgs) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command(path, nrTags, verbose, force, extraArgs, System.getenv(JAVA_OPTS)));
        builder.redirectInput(Redirect.from(new File("/dev/null")));
        String log = System.getProperty("escrow.daemon.log");
        if (extraArgs.stream().anyMatch(arg -> arg.startsWith(EscrowdMain.LOG_FILE_OPTION))) {
            // The daemon opens its own log (never through a link) and makes it its stdout and
            // stderr; nothing of the caller's stays open in it, so `pid=$(escrow daemon -d PATH)` returns.
            builder.redirectOutput(Redirect.DISCARD);
            builder.redirectError(Redirect.DISCARD);
        } else if (log != null && !log.isBlank()) {
            builder.redirectOutput(Redirect.appendTo(new File(log)));
            builder.redirectErrorStream(true);
        } else {
            builder.redirectOutput(Redirect.INHERIT);
            builder.redirectError(Redirect.INHERIT);
        }
        return builder.start();
    }

    static List<String> command(Path path, int nrTags, boolean verbose, boolean force, List<String> extraArgs, String javaOpts) {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.add("--enable-native-access=ALL-UNNAMED");
        // The session makes FileDescriptors of the descriptor numbers it receives (sun.nio.ch.IOUtil), as bin/escrow allows.
        command.addAll(List.of("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"));
        command.addAll(DAEMON_JVM_OPTIONS);
        if (javaOpts != null && !javaOpts.isBlank()) {
            command.addAll(List.of(javaOpts.trim().split("\\s+")));
        }
        command.add("-cp");
        command.add(System.getProperty("escrow.daemon.classpath", System.getProperty("java.class.path")));
        command.add(MAIN_CLASS);
        command.add("--detached");
        if (verbose) {
            command.add("-v");
        }
        if (force) {
            command.add("-f");
        }
        command.add("-t");
        command.add(Integer.toString(nrTags));
        command.addAll(extraArgs);
        command.add(path.toString());
        return command;
    }

    static String javaBinary() {
        String configured = System.getProperty("escrow.daemon.java");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        return ProcessHandle.current().info().command()
                .filter(c -> c.endsWith("/java"))
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
