package dev.fabric.fab.ipc;

import java.util.List;

/**
 * The binary files of the IPC directories ({@code args}, {@code fab/env}, {@code fabd/exit}, {@code fabd/error},
 * {@code bp/stages}, {@code bp/commands}, {@code bp/<stage>/<n>/exit}), one record each. Every record
 * that answers an invocation carries its id, so a reader never takes a previous command's answer for
 * the one it waits for. {@link IpcCodec} writes and reads them.
 */
public sealed interface IpcRecord {
    /** {@code args}: what fab was asked, exactly as typed (fabd parses it again), under a fresh invocation id. */
    record Args(long invocation, List<String> argv) implements IpcRecord {
        public Args {
            argv = List.copyOf(argv);
        }
    }

    /**
     * {@code fab/env}: the environment ({@code NAME=VALUE} entries) and umask of the fab that asked for the
     * invocation, which faba gives every formula and discovery it runs for it. Only the developer reads it
     * (mode 0600): an environment may hold secrets, so it is not in {@code args}, which fabd reads.
     */
    record Environment(long invocation, int umask, List<String> variables) implements IpcRecord {
        public Environment {
            variables = List.copyOf(variables);
        }
    }

    /** {@code fabd/exit}: the exit status of the invocation fabd finished last. */
    record Exit(long invocation, int status) implements IpcRecord {
    }

    /** {@code fabd/error}: the last invocation's error code and message; code 0 and an empty message when it succeeded. */
    record Error(long invocation, int code, String message) implements IpcRecord {
    }

    /** {@code bp/stages}: the plan's stage count, and how many stages fabd has handed to faba so far. */
    record Stages(long invocation, int total, int released) implements IpcRecord {
    }

    /** {@code bp/commands}: the plan's command count. */
    record Commands(long invocation, int total) implements IpcRecord {
    }

    /** {@code bp/<stage>/<n>/exit}: a command's exit status as the shell reported it (128+N: killed by signal N). */
    record CommandExit(int status) implements IpcRecord {
    }
}
