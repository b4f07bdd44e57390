package dev.fabric.fab.daemon;

import dev.fabric.fab.FabException;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcFiles;
import dev.fabric.fab.ipc.LogLine;
import dev.fabric.fab.ipc.LogSink;
import dev.fabric.fab.posix.Libc;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

/** What fabd and faba share: tied to their fabw, a heartbeat, the IPC log, and how they end. */
final class Daemon {
    /** fabd's exit status asking its fabw to start it again (an edited fabfile). */
    static final int REEXEC = 75;
    static final int SIGTERM = 15;
    /** How long after the last command a daemon collects its heap and gives the unused part back. */
    static final Duration GIVE_BACK_AFTER = Duration.ofSeconds(5);

    private final String name;
    private final LogSink sink;
    private volatile boolean ipcLogging;

    Daemon(String name, LogSink sink) {
        this.name = name;
        this.sink = sink;
    }

    /**
     * Dies with the parent: PR_SET_PDEATHSIG makes the kernel send SIGTERM when fabw goes (even by
     * kill -9), so no daemon outlives the process that would report its death. Called after any
     * credential change, which clears the setting.
     */
    static void tieToParent() {
        Libc.prctl(Libc.PR_SET_PDEATHSIG, SIGTERM);
        String expected = System.getenv("FAB_PARENT_PID");
        if (expected != null && Libc.getppid() != Integer.parseInt(expected)) {
            // fabw died before the line above took effect.
            System.exit(1);
        }
    }

    /** Runs {@code body}, turning an error into its exit status and a line in the project's logs. */
    static void main(String name, Body body) {
        nameProcess(name);
        try {
            body.run();
        } catch (FabException e) {
            System.err.println(name + ": " + e.getMessage());
            System.exit(e.status().code());
        } catch (UncheckedIOException e) {
            System.err.println(name + ": " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause()));
            System.exit(128);
        } catch (InterruptedException e) {
            System.exit(130);
        }
    }

    /**
     * Names the process {@code name} for {@code ps -o comm} and {@code top} (the kernel calls every JVM
     * "java"): the name of the thread group's leader, {@code /proc/self/task/<pid>/comm}, which any thread
     * of the process may set. Java's main method runs on another thread than the leader, so
     * {@code /proc/thread-self/comm} would rename only that one. Cosmetic: a failure changes nothing.
     */
    static void nameProcess(String name) {
        try {
            Files.writeString(Path.of("/proc/self/task/" + ProcessHandle.current().pid() + "/comm"), name);
        } catch (Exception e) {
            // Not Linux, or /proc not mounted: ps shows "java" and the arguments still say which daemon this is.
        }
    }

    interface Body {
        void run() throws InterruptedException;
    }

    /** Whether the client of the current command asked for +IPC. */
    void ipcLogging(boolean on) {
        ipcLogging = on;
    }

    void ipc(String message) {
        if (ipcLogging) {
            sink.line(LogLine.OUT, message);
        }
    }

    String name() {
        return name;
    }

    /**
     * Touches the stamp now and then (its modification time says the daemon lives), gives the heap a
     * build left behind back to the system once a command is {@link #GIVE_BACK_AFTER} past, and ends the
     * daemon when its project directory was removed (nobody could reach it any more) or when no
     * command came for the idle time ({@link IdleTimeout}): the last command is the last {@code args}
     * a fab wrote, and while the fab of {@code fab/pid} runs the project is not idle.
     */
    static void heartbeat(Path stamp, IpcDirectory ipc) {
        Duration idle = IdleTimeout.of(System.getenv());
        Instant started = Instant.now();
        Thread.ofVirtual().name("heartbeat").start(() -> {
            Instant collectedAfter = null;
            while (true) {
                try {
                    Thread.sleep(2000);
                    Instant last = idleSince(ipc, started);
                    if (!last.equals(collectedAfter) && last.plus(GIVE_BACK_AFTER).isBefore(Instant.now())) {
                        // Once per quiet spell: a build's garbage collected and the heap shrunk to what the graph
                        // holds (the serial collector gives memory back only after a full collection).
                        collectedAfter = last;
                        System.gc();
                    }
                    if (!Files.isDirectory(ipc.fabdDir())) {
                        System.err.println("IPC directory " + ipc.dir() + " is gone: stopping");
                        System.exit(0);
                    }
                    if (!idle.isZero() && idleSince(ipc, started).plus(idle).isBefore(Instant.now()) && !Libc.alive(ipc.fabPid())) {
                        System.err.println("no command for " + IdleTimeout.format(idle) + " (" + IdleTimeout.VARIABLE + "): stopping");
                        System.exit(0);
                    }
                    Files.setLastModifiedTime(stamp, FileTime.from(Instant.now()));
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // A missed heartbeat is harmless; the next one tries again.
                }
            }
        });
    }

    /** When the project's last command came: {@code args}'s modification time, or the daemon's start when later. */
    private static Instant idleSince(IpcDirectory ipc, Instant started) {
        try {
            Instant args = Files.getLastModifiedTime(ipc.args()).toInstant();
            return args.isAfter(started) ? args : started;
        } catch (java.io.IOException e) {
            return started;
        }
    }

    static void touch(Path file, String mode) {
        IpcFiles.touch(file, mode);
    }
}
