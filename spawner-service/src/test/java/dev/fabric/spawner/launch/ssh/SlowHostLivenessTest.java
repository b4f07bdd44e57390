package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SSH launcher's checks of a member on a host that answers slowly or not at all (ChainAcrossTheLabIT's
 * head, restarted, taking back its queue on compute-1): a check that gets no answer is "unknown", never
 * the member's death, so a member that still runs is adopted and watched, and not started a second
 * time; and a restart's stop of the old process goes on only once the host confirms it gone.
 */
class SlowHostLivenessTest {

    @TempDir
    Path dir;

    LoopbackSshd sshd;
    SshLauncher launcher;

    @BeforeEach
    void start() throws Exception {
        sshd = new LoopbackSshd(dir.resolve("sshd"));
        launcher = sshd.launcher(Duration.ofMillis(100));
    }

    @AfterEach
    void stop() throws Exception {
        launcher.close();
        sshd.close();
    }

    static ServiceInstance registered(String id, Process process) {
        Instant now = Instant.now();
        return new ServiceInstance(id, "queue", id, InstanceState.RUNNING, "registered RUNNING", 3, "head-1",
                Connectivity.FIREWALL_TO_SERVICE, Map.of(), Map.of("launcher", "ssh", "host", LoopbackSshd.HOST,
                "pid", Long.toString(process.pid()), "log", "/nowhere/members/" + id + "/member.log"), now, now, now);
    }

    @Test
    void aMemberWhoseFirstCheckGetsNoAnswerIsAdoptedAndWatchedNotTakenForDead() throws Exception {
        Process member = sshd.startMember("queue-1");
        sshd.checksToLeaveUnanswered.set(1);

        Optional<LaunchedMember> adopted = launcher.adopt(registered("queue-1", member));

        assertThat(adopted).as("a member whose check got no answer is adopted, not given up (and started again)").isPresent();
        assertThat(member.isAlive()).isTrue();

        // Its watch goes on through more unanswered checks: none of them ends it.
        int asked = sshd.checks.get();
        sshd.checksToLeaveUnanswered.set(3);
        awaitChecks(asked + 5);
        assertThat(adopted.get().outcome()).as("unanswered checks are no proof of death").isNotDone();

        // Once it really ends, an answered check says so.
        member.destroyForcibly().waitFor();
        assertThat(adopted.get().outcome().get(30, TimeUnit.SECONDS)).isInstanceOf(LaunchOutcome.Vanished.class);
    }

    @Test
    void aMemberTheHostSaysIsGoneIsNotAdopted() throws Exception {
        Process member = sshd.startMember("queue-2");
        ServiceInstance instance = registered("queue-2", member);
        member.destroyForcibly().waitFor();

        assertThat(launcher.adopt(instance)).isEmpty();
    }

    @Test
    void theOldProcessOfARestartIsStoppedAndConfirmedGoneOnlyWhenTheHostAnswers() throws Exception {
        Process member = sshd.startMember("queue-3");
        ServiceInstance instance = registered("queue-3", member);

        sshd.stopsToLeaveUnanswered.set(1);
        assertThat(launcher.ensureGone(instance, Duration.ofSeconds(5))).as("no answer confirms nothing")
                .hasValueSatisfying(why -> assertThat(why).contains("queue-3").contains(LoopbackSshd.HOST));
        assertThat(member.isAlive()).isTrue();

        assertThat(launcher.ensureGone(instance, Duration.ofSeconds(5))).isEmpty();
        assertThat(member.waitFor(30, TimeUnit.SECONDS)).as("stopped by the host").isTrue();
        assertThat(LoopbackSshd.processesOf("queue-3")).isEmpty();
        // Nothing left to stop: confirmed at once.
        assertThat(launcher.ensureGone(instance, Duration.ofSeconds(5))).isEmpty();
    }

    private void awaitChecks(int count) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (sshd.checks.get() < count && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
        assertThat(sshd.checks.get()).as("checks the host was asked").isGreaterThanOrEqualTo(count);
    }
}
