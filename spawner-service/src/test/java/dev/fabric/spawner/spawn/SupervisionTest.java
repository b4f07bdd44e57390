package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Who supervises a member and what an adopter does with the members of a gone supervisor, decided without a registry. */
class SupervisionTest {

    static ServiceInstance instance(String id, InstanceState state, String parent, Map<String, String> metadata) {
        Instant now = Instant.parse("2026-12-01T12:00:00Z");
        return new ServiceInstance(id, "queue", id, state, "registered " + state, 1, parent, Connectivity.DIRECT, Map.of(), metadata,
                now, now, now);
    }

    @Test
    void aMemberIsSupervisedByItsParentUntilAnotherNodeAdoptsIt() {
        assertThat(Supervision.supervisorOf(instance("b", InstanceState.RUNNING, "a", Map.of()))).isEqualTo("a");
        assertThat(Supervision.supervisorOf(instance("b", InstanceState.RUNNING, "a", Map.of("supervisor", "spawner-1"))))
                .isEqualTo("spawner-1");
        assertThat(Supervision.supervisorOf(instance("spawner-1", InstanceState.RUNNING, null, null))).isNull();
    }

    @Test
    void eachMemberHasExactlyOneSupervisorAmongTheNodes() {
        List<ServiceInstance> all = List.of(
                instance("a", InstanceState.RUNNING, "spawner-1", Map.of()),
                instance("b", InstanceState.RUNNING, "a", Map.of()),
                instance("c", InstanceState.RUNNING, "a", Map.of("supervisor", "spawner-1")));
        assertThat(Supervision.supervisedBy("spawner-1", all)).extracting(ServiceInstance::id).containsExactly("a", "c");
        assertThat(Supervision.supervisedBy("a", all)).extracting(ServiceInstance::id).containsExactly("b");
        assertThat(Supervision.supervisedBy("b", all)).isEmpty();
    }

    @Test
    void onlyASupervisorThatNobodyRestartsLeavesItsMembersToBeAdopted() {
        assertThat(Supervision.goneForGood(InstanceState.STOPPED)).isTrue();
        assertThat(Supervision.goneForGood(InstanceState.FAILED)).isTrue();
        assertThat(Supervision.goneForGood(InstanceState.LOST)).isTrue();
        // A DEAD supervisor is restarted by its own supervisor, and its new incarnation takes its members back.
        assertThat(Supervision.goneForGood(InstanceState.DEAD)).isFalse();
        assertThat(Supervision.goneForGood(InstanceState.SUSPECT)).isFalse();
        assertThat(Supervision.goneForGood(InstanceState.RUNNING)).isFalse();
    }

    @Test
    void anAdopterTakesARunningMemberRestartsADeadOrUnfinishedOneWaitsForASuspectAndLeavesAnEndedOne() {
        ServiceInstance gone = instance("a", InstanceState.STOPPED, "spawner-1", Map.of());
        assertThat(Supervision.adopt(instance("b", InstanceState.RUNNING, "a", Map.of()), gone, "spawner-1", false))
                .isEqualTo(new Supervision.Adoption.Take("adopted by spawner-1: its supervisor a is STOPPED"));
        assertThat(Supervision.adopt(instance("b", InstanceState.DEAD, "a", Map.of()), gone, "spawner-1", false))
                .isEqualTo(new Supervision.Adoption.Restart("adopted by spawner-1: its supervisor a is STOPPED (and it was DEAD)"));
        assertThat(Supervision.adopt(instance("b", InstanceState.BOOTSTRAPPING, "a", Map.of()), gone, "spawner-1", false))
                .isInstanceOf(Supervision.Adoption.Restart.class);
        assertThat(Supervision.adopt(instance("b", InstanceState.PENDING, "a", Map.of()), gone, "spawner-1", false))
                .isInstanceOf(Supervision.Adoption.Restart.class);
        assertThat(Supervision.adopt(instance("b", InstanceState.SUSPECT, "a", Map.of()), gone, "spawner-1", false))
                .isInstanceOf(Supervision.Adoption.Wait.class);
        for (InstanceState ended : List.of(InstanceState.STOPPED, InstanceState.FAILED, InstanceState.LOST)) {
            assertThat(Supervision.adopt(instance("b", ended, "a", Map.of()), gone, "spawner-1", false))
                    .isInstanceOf(Supervision.Adoption.Leave.class);
        }
    }

    @Test
    void theMembersOfASupervisorThatStoppedWithItsMembersAreStoppedForGoodNotRestarted() {
        // stop-members-on-shutdown: a's STOPPED means its members were stopped too; those that outlived its stop go as well.
        ServiceInstance stopped = instance("a", InstanceState.STOPPED, "spawner-1", Map.of());
        for (InstanceState left : List.of(InstanceState.RUNNING, InstanceState.SUSPECT, InstanceState.DEAD, InstanceState.PENDING,
                InstanceState.BOOTSTRAPPING)) {
            assertThat(Supervision.adopt(instance("b", left, "a", Map.of()), stopped, "spawner-1", true)).isEqualTo(
                    new Supervision.Adoption.Stop("stopped with its supervisor a, which is STOPPED and stops its members with it (it was "
                            + left + "; stopped by spawner-1)"));
        }
        for (InstanceState ended : List.of(InstanceState.STOPPED, InstanceState.FAILED, InstanceState.LOST)) {
            assertThat(Supervision.adopt(instance("b", ended, "a", Map.of()), stopped, "spawner-1", true))
                    .isInstanceOf(Supervision.Adoption.Leave.class);
        }
        // A FAILED or LOST supervisor stopped nothing: its members are still kept alive by the adopter.
        for (InstanceState failed : List.of(InstanceState.FAILED, InstanceState.LOST)) {
            ServiceInstance gone = instance("a", failed, "spawner-1", Map.of());
            assertThat(Supervision.adopt(instance("b", InstanceState.DEAD, "a", Map.of()), gone, "spawner-1", true))
                    .isInstanceOf(Supervision.Adoption.Restart.class);
            assertThat(Supervision.adopt(instance("b", InstanceState.RUNNING, "a", Map.of()), gone, "spawner-1", true))
                    .isInstanceOf(Supervision.Adoption.Take.class);
        }
    }

    @Test
    void aNodeThatStopsItsMembersIsGivenTheirGraceOnTopOfItsOwnForEachLevelBelowIt() {
        Duration grace = Duration.ofSeconds(10);
        // spawner-1 -> manager -> agent -> its own queue; manager -> a STOPPED queue; spawner-1 -> pubsub.
        List<ServiceInstance> all = List.of(
                instance("manager", InstanceState.RUNNING, "spawner-1", Map.of()),
                instance("agent", InstanceState.RUNNING, "manager", Map.of()),
                instance("agents-queue", InstanceState.RUNNING, "agent", Map.of()),
                instance("old-queue", InstanceState.STOPPED, "manager", Map.of()),
                instance("pubsub", InstanceState.RUNNING, "spawner-1", Map.of()));
        assertThat(Supervision.stopGrace(grace, "pubsub", all, true)).isEqualTo(grace);
        assertThat(Supervision.stopGrace(grace, "agents-queue", all, true)).isEqualTo(grace);
        assertThat(Supervision.stopGrace(grace, "agent", all, true)).isEqualTo(Duration.ofSeconds(20));
        assertThat(Supervision.stopGrace(grace, "manager", all, true)).isEqualTo(Duration.ofSeconds(30));
        // Without stop-members-on-shutdown a node leaves its members running: its own grace is enough.
        assertThat(Supervision.stopGrace(grace, "manager", all, false)).isEqualTo(grace);
        // Members that ended do not count.
        assertThat(Supervision.stopGrace(grace, "manager", List.of(instance("manager", InstanceState.RUNNING, "spawner-1", Map.of()),
                instance("agent", InstanceState.FAILED, "manager", Map.of())), true)).isEqualTo(grace);
    }

    @Test
    void aParentThatComesBackAfterItsMembersWereAdoptedLeavesThemWithTheAdopter() {
        // a (FAILED) was restarted by hand after spawner-1 adopted b; c was spawned by a's new incarnation.
        List<ServiceInstance> all = List.of(
                instance("a", InstanceState.RUNNING, "spawner-1", Map.of()),
                instance("b", InstanceState.RUNNING, "a", Map.of("supervisor", "spawner-1")),
                instance("c", InstanceState.RUNNING, "a", Map.of()));
        assertThat(Supervision.supervisedBy("a", all)).extracting(ServiceInstance::id).containsExactly("c");
        assertThat(Supervision.supervisedBy("spawner-1", all)).extracting(ServiceInstance::id).containsExactly("a", "b");
    }

    @Test
    void theAdopterIsRecordedOnlyWhenItIsNotTheParent() {
        assertThat(Supervision.recorded("a", "a")).isEmpty();
        assertThat(Supervision.recorded("spawner-1", "a")).containsExactly(Map.entry("supervisor", "spawner-1"));
    }
}
