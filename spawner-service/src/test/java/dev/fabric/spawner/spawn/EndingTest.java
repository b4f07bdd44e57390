package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.spawner.launch.LaunchOutcome;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What follows the end of an incarnation, decided without a process, a launcher or a registry. */
class EndingTest {

    static Ending.Seen running() {
        return new Ending.Seen(true, false, Optional.of(InstanceState.RUNNING));
    }

    static LaunchOutcome exit(BootstrapExit exit) {
        return new LaunchOutcome.Exited(exit.code());
    }

    @Test
    void aCrashOrAKillOfARunningMemberRecordsItDeadAndRestartsIt() {
        assertThat(Ending.decide(new LaunchOutcome.Killed(9, null), running()))
                .isEqualTo(new Ending.Restart("its previous incarnation killed by signal 9", Optional.of("its process killed by signal 9")));
        assertThat(Ending.decide(new LaunchOutcome.Exited(1), running())).isInstanceOf(Ending.Restart.class);
        assertThat(Ending.decide(new LaunchOutcome.Vanished(), running())).isInstanceOf(Ending.Restart.class);
        assertThat(Ending.decide(new LaunchOutcome.Failed("pod deleted"), running())).isInstanceOf(Ending.Restart.class);
    }

    @Test
    void aMemberTheRegistryAlreadyShowsDeadIsRestartedWithoutRecordingItAgain() {
        Ending ending = Ending.decide(new LaunchOutcome.Killed(9, null), new Ending.Seen(true, false, Optional.of(InstanceState.DEAD)));
        assertThat(ending).isInstanceOfSatisfying(Ending.Restart.class, restart -> assertThat(restart.dead()).isEmpty());
    }

    @Test
    void exit86IsLostWithItsState() {
        assertThat(Ending.decide(exit(BootstrapExit.STATE_UNRECOVERABLE), running()))
                .isEqualTo(new Ending.Lose("could not recover its state after a restart (exited with status 86)"));
    }

    @Test
    void anotherBootstrapExitFailsTheMemberWithItsMeaning() {
        assertThat(Ending.decide(exit(BootstrapExit.OTP_REFUSED), running()))
                .isEqualTo(new Ending.Fail("exited with status 82: one-time password refused"));
        assertThat(Ending.decide(exit(BootstrapExit.ROLE_FAILED), running())).isInstanceOf(Ending.Fail.class);
    }

    @Test
    void aCleanExitAfterTheRegistryDeclaredTheMemberDeadIsARestart() {
        // A link cut longer than the dead threshold: the registry declares the member DEAD, and the
        // member, refused at its first heartbeat after the link is back, exits 0. It must come back.
        Ending ending = Ending.decide(new LaunchOutcome.Exited(0), new Ending.Seen(true, false, Optional.of(InstanceState.DEAD)));

        assertThat(ending).isEqualTo(new Ending.Restart(
                "its previous incarnation left after the registry declared it DEAD (exited with status 0)", Optional.empty()));
    }

    @Test
    void aCleanExitIsAStop() {
        assertThat(Ending.decide(new LaunchOutcome.Exited(0), running())).isEqualTo(new Ending.Stop("ended on its own (exited with status 0)"));
    }

    @Test
    void anEndOnPurposeASupersededIncarnationOrABootstrapGoingOnIsLeftAlone() {
        LaunchOutcome killed = new LaunchOutcome.Killed(9, null);
        assertThat(Ending.decide(killed, new Ending.Seen(false, false, Optional.of(InstanceState.RUNNING)))).isInstanceOf(Ending.Ignore.class);
        assertThat(Ending.decide(killed, new Ending.Seen(true, true, Optional.empty()))).isInstanceOf(Ending.Ignore.class);
        assertThat(Ending.decide(killed, new Ending.Seen(true, false, Optional.empty()))).isInstanceOf(Ending.Ignore.class);
    }

    @Test
    void aFailedBootstrapIsLostOnlyWhenTheMemberSaidItsStateIsGone() {
        assertThat(Ending.bootstrapFailed(exit(BootstrapExit.STATE_UNRECOVERABLE), "configuring role queue failed"))
                .isEqualTo(new Ending.Lose("could not recover its state after a restart: configuring role queue failed"));
        assertThat(Ending.bootstrapFailed(null, "not RUNNING within 60s")).isEqualTo(new Ending.Fail("bootstrap failed: not RUNNING within 60s"));
        assertThat(Ending.bootstrapFailed(exit(BootstrapExit.ROLE_FAILED), "x")).isInstanceOf(Ending.Fail.class);
    }

    @Test
    void everyOutcomeHasItsMetricTag() {
        assertThat(Ending.metricTag(new LaunchOutcome.Exited(0))).isEqualTo("exited");
        assertThat(Ending.metricTag(exit(BootstrapExit.OTP_REFUSED))).isEqualTo("bootstrap-exit");
        assertThat(Ending.metricTag(new LaunchOutcome.Exited(1))).isEqualTo("crashed");
        assertThat(Ending.metricTag(new LaunchOutcome.Killed(9, null))).isEqualTo("killed");
        assertThat(Ending.metricTag(new LaunchOutcome.Failed("x"))).isEqualTo("launcher-failed");
        assertThat(Ending.metricTag(new LaunchOutcome.Stopped())).isEqualTo("stopped");
        assertThat(Ending.metricTag(new LaunchOutcome.Vanished())).isEqualTo("vanished");
    }
}
