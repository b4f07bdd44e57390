package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.launch.LaunchException;

/**
 * What a host answered about a member's pid ({@link RemoteCommands#probe}). Only a whole answer
 * counts: a host that cannot be reached, a command that does not finish in time, or a session that
 * breaks off before the command says {@link RemoteCommands#RUNS} or {@link RemoteCommands#GONE} is
 * {@link #UNKNOWN}, never taken for the member's death, so a slow host never makes a spawner start a
 * second process of a member that still runs.
 */
enum Liveness {

    /** The pid runs the member. */
    RUNS,
    /** The pid does not run it (any more). */
    GONE,
    /** No answer: it may run or not. */
    UNKNOWN;

    /** The answer of a probe that ran, from what it printed and how it ended. */
    static Liveness of(RemoteHost.Result result) {
        if (!result.succeeded()) {
            return UNKNOWN;
        }
        // Its last line: what the shell said before it (a message of the host's login) does not count.
        String[] lines = result.output().strip().split("\n");
        return switch (lines[lines.length - 1].strip()) {
            case RemoteCommands.RUNS -> RUNS;
            case RemoteCommands.GONE -> GONE;
            default -> UNKNOWN;
        };
    }

    /** Asks {@code host} whether {@code pid} runs member {@code serviceId}. */
    static Answer probe(RemoteHost host, long pid, String serviceId) {
        try {
            RemoteHost.Result result = host.run(RemoteCommands.probe(pid, serviceId));
            Liveness liveness = of(result);
            return new Answer(liveness, liveness != UNKNOWN ? "" : "host " + host.name + " gave no answer about pid " + pid
                    + " (exit status " + result.exitStatus() + (result.exitSignal() == null ? "" : ", signal " + result.exitSignal())
                    + ", output '" + result.output().strip() + "')");
        } catch (LaunchException e) {
            return new Answer(UNKNOWN, e.getMessage());
        }
    }

    /** A liveness and, when it is {@link #UNKNOWN}, why. */
    record Answer(Liveness liveness, String why) {}
}
