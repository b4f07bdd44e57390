package dev.fabric.fab.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real distribution's fab, run as a process against IPC and tmp roots of the test's own, so tests
 * never share daemons with each other or with a fab of the machine; {@link #close} stops every daemon
 * the test's fab started (they are found through the roots, never by name). The client is
 * {@code bin/fab}, the native one, unless the system property {@code fab.client} is {@code jvm}
 * ({@code mvn verify -Dfab.client=jvm} runs every daemon IT with the Java client, {@code bin/fab-jvm}).
 */
public final class Daemons implements AutoCloseable {
    public final Path ipcRoot;
    public final Path tmpRoot;
    private final Path fab;

    public Daemons(Path dir) {
        this(dir, System.getProperty("fab.client", "native"));
    }

    /** With the client {@code client}: {@code native} ({@code bin/fab}) or {@code jvm} ({@code bin/fab-jvm}). */
    public Daemons(Path dir, String client) {
        this.ipcRoot = dir.resolve("ipc");
        this.tmpRoot = dir.resolve("tmp");
        this.fab = Path.of(System.getProperty("fab.dist", "target/fab-dist")).resolve(switch (client) {
            case "native" -> "bin/fab";
            case "jvm" -> "bin/fab-jvm";
            default -> throw new IllegalArgumentException("fab.client=" + client + ": native or jvm");
        });
    }

    public ProcessBuilder fab(Path cwd, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(fab.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().put("FAB_IPC_DIR", ipcRoot.toString());
        pb.environment().put("FAB_TMP_DIR", tmpRoot.toString());
        if (System.getenv("JAVA_HOME") == null) {
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        }
        return pb;
    }

    /** What one fab printed and how it exited. */
    public record Run(int status, String out, String err) {
    }

    /** Runs fab in {@code cwd} and waits for it (two minutes at most); its output goes through files beside the roots. */
    public Run run(Path cwd, String... args) throws Exception {
        Path out = ipcRoot.resolveSibling("fab.out");
        Path err = ipcRoot.resolveSibling("fab.err");
        Process p = fab(cwd, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("fab " + String.join(" ", args) + " did not end within two minutes");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Runs fab in {@code cwd} as {@link #run} does; it must exit 0, or the assertion shows what it printed. */
    public Run runOk(Path cwd, String... args) throws Exception {
        Run r = run(cwd, args);
        assertThat(r.status()).as(r.out() + r.err()).isZero();
        return r;
    }

    /** Runs a program a build made and answers what it printed, stripped; it must exit 0. */
    public static String output(Path program) throws Exception {
        Process p = new ProcessBuilder(program.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isZero();
        return out.strip();
    }

    /** The single project directory under the IPC root. */
    public Path project() {
        try (Stream<Path> s = Files.list(ipcRoot)) {
            return s.filter(Files::isDirectory).findFirst().orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int fabdPid() {
        try {
            return Integer.parseInt(Files.readString(project().resolve("fabd/pgid")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int fabaPid() {
        try {
            return Integer.parseInt(Files.readSymbolicLink(project().resolve("bp")).getParent().getFileName().toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The parent of a daemon: its fabw. */
    public static long parentOf(int pid) {
        return ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElseThrow();
    }

    public static void awaitDeath(long pid) throws Exception {
        ProcessHandle.of(pid).ifPresent(p -> {
            try {
                p.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("pid " + pid + " did not end", e);
            }
        });
    }

    @Override
    public void close() throws Exception {
        if (!Files.isDirectory(tmpRoot.resolve("pid"))) {
            return;
        }
        // Every daemon, its watcher and what it runs (a formula still running), stopped and awaited:
        // a process left writing under the roots would race the test's removal of its directory.
        List<ProcessHandle> stopping = new java.util.ArrayList<>();
        try (Stream<Path> s = Files.list(tmpRoot.resolve("pid"))) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().matches("[0-9]+")) {
                    continue;
                }
                ProcessHandle.of(Long.parseLong(p.getFileName().toString())).ifPresent(h -> {
                    h.parent().ifPresent(stopping::add);
                    stopping.add(h);
                    h.descendants().forEach(stopping::add);
                });
            }
        }
        stopping.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : stopping) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
                h.onExit().get(10, TimeUnit.SECONDS);
            }
        }
    }
}
