package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcRoots;
import dev.fabric.fab.posix.Libc;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Starts and stops a project's two pairs, fabw/fabd and fabw/faba: the client does it when it runs
 * as one user, the system service does it in the credential model. fabd's fabw holds
 * {@code fabd/lock} for its whole life (also while it re-executes fabd), so "a pair runs" is "the
 * lock is held", never a guess from a pid that may be between two fabds.
 */
public final class Pairs {
    /** How long a starting daemon may take to publish its pid (a JVM starting on a busy machine). */
    private static final long START_SECONDS = 60;

    private final IpcRoots roots;
    private final IpcDirectory ipc;
    private final Consumer<String> log;

    public Pairs(IpcRoots roots, IpcDirectory ipc, Consumer<String> log) {
        this.roots = roots;
        this.ipc = ipc;
        this.log = log;
    }

    /** -B: SIGTERM to fabd's process group, then wait until its fabw let go of fabd/lock. */
    public void stopFabd() throws InterruptedException {
        int fabd = ipc.fabdPid();
        if (Libc.alive(fabd)) {
            log.accept("-B: stopping fabd " + fabd);
            try {
                Libc.kill(-fabd, Daemon.SIGTERM);
            } catch (RuntimeException gone) {
                // Already gone.
            }
        }
        waitUntil(() -> !fabdPairRunning(), "fabd " + fabd + " and its fabw to stop");
    }

    /** Stops faba {@code faba}, checked by the caller (its fabw follows): another developer takes the project over. */
    public void stopFaba(int faba) throws InterruptedException {
        if (Libc.alive(faba)) {
            log.accept("stopping faba " + faba);
            try {
                Libc.kill(faba, Daemon.SIGTERM);
            } catch (RuntimeException gone) {
                // Already gone.
            }
            waitUntil(() -> !Libc.alive(faba), "faba " + faba + " to stop");
        }
    }

    /** Whether fabd's fabw runs: it holds fabd/lock. */
    public boolean fabdPairRunning() {
        try (FileChannel ch = FileChannel.open(ipc.fabdLock(), StandardOpenOption.READ)) {
            FileLock probe = ch.tryLock(0, Long.MAX_VALUE, true);
            if (probe == null) {
                return true;
            }
            probe.release();
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot probe " + ipc.fabdLock(), e);
        }
    }

    /** Whether the faba of {@code fabd/faba} runs, and is this project's faba rather than a process that got its pid since. */
    public boolean fabaRunning() {
        return isFabaOf(ipc.fabaPid(), ipc);
    }

    /** Whether {@code pid} runs faba for {@code ipc}'s project (its command line, from /proc). */
    static boolean isFabaOf(int pid, IpcDirectory ipc) {
        if (pid <= 0) {
            return false;
        }
        try {
            List<String> argv = List.of(new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).split("\0"));
            int project = argv.indexOf("--project");
            return argv.contains(Faba.class.getName()) && project >= 0 && project + 1 < argv.size()
                    && argv.get(project + 1).equals(ipc.dir().toString());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The real uid of a process, from /proc, or -1 when it is gone. */
    static int realUid(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone meanwhile.
        }
        return -1;
    }

    /**
     * Starts what is missing and waits until both daemons published themselves. {@code extra} goes to
     * each fabw; {@code fabaUid} is whose faba it is: a faba is ready once it runs as that uid (in the
     * credential model it publishes its pid while still root, and the developer's fab may not ring it
     * before it has become the developer).
     */
    public void ensureRunning(List<String> extra, int fabaUid) throws InterruptedException {
        boolean fabdUp = fabdPairRunning();
        int faba = ipc.fabaPid();
        boolean fabaUp = isFabaOf(faba, ipc);
        if (!fabdUp) {
            start("fabd", extra);
        }
        if (!fabaUp) {
            start("faba", extra);
        }
        waitUntil(() -> Libc.alive(ipc.fabdPid()) && IpcDirectory.linkedPid(ipc.dsc()) == ipc.fabdPid(), "fabd to start");
        if (!fabdUp) {
            log.accept("fabd " + ipc.fabdPid() + " is up");
        }
        if (!fabaUp) {
            waitUntil(() -> ipc.fabaPid() != faba && isFabaOf(ipc.fabaPid(), ipc) && realUid(ipc.fabaPid()) == fabaUid, "faba to start");
            log.accept("faba " + ipc.fabaPid() + " is up");
        }
    }

    private void start(String child, List<String> extra) {
        Path home = Path.of(System.getProperty("fab.home", "."));
        Path fabw = home.resolve("bin/fabw");
        List<String> cmd = new ArrayList<>(List.of(fabw.toString(), "--child", child, "--project", ipc.dir().toString()));
        cmd.addAll(roots.options());
        cmd.addAll(extra);
        try {
            new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(ipc.logs().toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(ipc.logs().toFile())).start();
            log.accept("started " + String.join(" ", cmd));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + fabw + " (run the fab of a complete distribution: bin/fab sets fab.home)", e);
        }
    }

    static void waitUntil(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new FabException(ExitStatus.FABDFAIL, "gave up waiting for " + what + " after " + START_SECONDS
                        + " s; the daemons' own messages are in the logs file of the project's IPC directory");
            }
            Thread.sleep(20);
        }
    }
}
