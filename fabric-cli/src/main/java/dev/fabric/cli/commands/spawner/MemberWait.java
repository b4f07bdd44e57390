package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.DurationConverter;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Formats;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;

import java.time.Duration;
import java.util.List;

/** The {@code --wait} of {@code spawn} and {@code restart}: a member's bootstrap followed in the registry until it runs. */
final class MemberWait {

    /** How often a wait asks the registry: often enough to follow a bootstrap of seconds, rare enough to cost nothing. */
    static final Duration POLL_INTERVAL = Duration.ofMillis(500);

    private MemberWait() {}

    /**
     * Prints each step of the member's history from {@code incarnation} on (on stderr) until that
     * incarnation, or a later one, is RUNNING, or ends, or the time is up ({@code deadline}, of
     * {@link System#nanoTime()}: {@code limit} after the request was sent).
     */
    static void awaitRunning(Registry registry, Output out, String id, long incarnation, Duration limit, long deadline)
            throws InterruptedException {
        long printed = 0;
        while (true) {
            // The state first, then the history: every step up to the state seen is in the history read
            // after it, so the step the wait ends on (RUNNING, FAILED...) is always printed.
            RegistryWire.Instance member = registry.member(id);
            for (RegistryWire.Transition step : registry.decode(registry.history(id), RegistryWire.Transition[].class)) {
                if (step.seq() > printed && step.incarnation() >= incarnation) {
                    out.note("  " + Formats.time(step.at()) + "  " + step.to() + "  " + (step.reason() == null ? "" : step.reason()));
                    printed = step.seq();
                }
            }
            if (member.incarnation() >= incarnation) {
                switch (member.state()) {
                    case "RUNNING" -> {
                        return;
                    }
                    case "FAILED", "LOST", "STOPPED" -> throw new CliException(ExitCodes.MEMBER_FAILED, "member " + id + " is " + member.state()
                            + (member.stateReason() == null ? "" : ": " + member.stateReason()),
                            List.of("`fabric service " + id + "` shows every step of its bootstrap;",
                                    "its output is in the spawner's data directory, members/" + id + "/member.log (`fabric log " + id + "`)"));
                    default -> { }
                }
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new CliException(ExitCodes.MEMBER_FAILED, "member " + id + " is not RUNNING after " + DurationConverter.format(limit)
                        + " (it is " + member.state() + (member.stateReason() == null ? "" : ": " + member.stateReason()) + ")",
                        List.of("it may still come up: `fabric service " + id + "` shows where it is;",
                                "wait longer with --timeout, or give up on it with `fabric stop " + id + "`"));
            }
            Thread.sleep(POLL_INTERVAL);
        }
    }
}
