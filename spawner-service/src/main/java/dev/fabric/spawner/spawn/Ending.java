package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.spawner.launch.LaunchOutcome;

import java.util.Optional;

/**
 * What the spawner does when an incarnation of a member ends: the decision alone, apart from the
 * registry calls and processes that carry it out ({@link SpawnService}).
 *
 * <pre>
 *   not ours any more (stopped on purpose, superseded), or not registered at it ... Ignore
 *   its bootstrap is still going on .............................................. Ignore (the bootstrap records it)
 *   exit 86 (state unrecoverable) ................................................ Lose
 *   another bootstrap exit (80 to 89) ............................................ Fail
 *   exit 0 after the registry declared it DEAD ...................................... Restart (it left on its refused heartbeat)
 *   exit 0 ....................................................................... Stop (it ended on its own)
 *   anything else (a crash, a kill, a vanished pod) .............................. Restart (DEAD first if it was RUNNING or SUSPECT)
 * </pre>
 */
public sealed interface Ending {

    /** The reason recorded in the registry with the step. */
    String reason();

    /**
     * Start a new incarnation under the same id.
     *
     * @param dead when present, the old incarnation is first recorded DEAD with this reason (it was RUNNING or SUSPECT)
     */
    record Restart(String reason, Optional<String> dead) implements Ending {}

    /** Mark the incarnation FAILED: a bootstrap that cannot work. */
    record Fail(String reason) implements Ending {}

    /** Mark the member LOST with all its state (and replace it, by its role's policy). */
    record Lose(String reason) implements Ending {}

    /** Record the member STOPPED: it ended by itself, cleanly. */
    record Stop(String reason) implements Ending {}

    /** Nothing to do here. */
    record Ignore(String reason) implements Ending {}

    /**
     * How the spawner sees the member when an incarnation ends.
     *
     * @param current whether the ended incarnation is the one this spawner looks after, and not stopped on purpose
     * @param bootstrapping whether its bootstrap is still going on (the bootstrap then records the failure)
     * @param registered the state the registry shows for that incarnation, empty when it shows another or none
     */
    record Seen(boolean current, boolean bootstrapping, Optional<InstanceState> registered) {}

    /** The decision for an incarnation that ended with {@code outcome}. */
    static Ending decide(LaunchOutcome outcome, Seen seen) {
        if (!seen.current()) {
            return new Ignore("stopped on purpose or superseded");
        }
        if (seen.bootstrapping()) {
            return new Ignore("its bootstrap records how it ended");
        }
        if (seen.registered().isEmpty()) {
            return new Ignore("the registry shows another incarnation");
        }
        Optional<BootstrapExit> exit = outcome instanceof LaunchOutcome.Exited(int code) ? BootstrapExit.of(code) : Optional.empty();
        if (exit.isPresent() && exit.get() == BootstrapExit.STATE_UNRECOVERABLE) {
            return new Lose("could not recover its state after a restart (" + outcome.describe() + ")");
        }
        if (exit.isPresent()) {
            return new Fail(outcome.describe() + ": " + exit.get().meaning());
        }
        InstanceState state = seen.registered().get();
        if (outcome instanceof LaunchOutcome.Exited(int code) && code == 0) {
            // A member the registry declared DEAD (a partition outlasted the dead threshold) leaves
            // cleanly on its first refused heartbeat; it is dead, not stopped, and comes back.
            return state == InstanceState.DEAD
                    ? new Restart("its previous incarnation left after the registry declared it DEAD (" + outcome.describe() + ")",
                            Optional.empty())
                    : new Stop("ended on its own (" + outcome.describe() + ")");
        }
        boolean wasUp = state == InstanceState.RUNNING || state == InstanceState.SUSPECT;
        return new Restart("its previous incarnation " + outcome.describe(),
                wasUp ? Optional.of("its process " + outcome.describe()) : Optional.empty());
    }

    /**
     * The decision for a bootstrap that failed with {@code failure}: LOST when the member exited
     * saying it could not recover its state, else FAILED.
     *
     * @param exited how the member ended meanwhile, or {@code null} when it did not (it is then stopped)
     */
    static Ending bootstrapFailed(LaunchOutcome exited, String failure) {
        if (exited instanceof LaunchOutcome.Exited(int code) && code == BootstrapExit.STATE_UNRECOVERABLE.code()) {
            return new Lose("could not recover its state after a restart: " + failure);
        }
        return new Fail("bootstrap failed: " + failure);
    }

    /** The {@code outcome} tag of {@code fabric.spawner.ends}: how a member ended. */
    static String metricTag(LaunchOutcome outcome) {
        return switch (outcome) {
            case LaunchOutcome.Exited(int code) when code == 0 -> "exited";
            case LaunchOutcome.Exited(int code) when BootstrapExit.of(code).isPresent() -> "bootstrap-exit";
            case LaunchOutcome.Exited _ -> "crashed";
            case LaunchOutcome.Killed _ -> "killed";
            case LaunchOutcome.Failed _ -> "launcher-failed";
            case LaunchOutcome.Stopped _ -> "stopped";
            case LaunchOutcome.Vanished _ -> "vanished";
        };
    }
}
