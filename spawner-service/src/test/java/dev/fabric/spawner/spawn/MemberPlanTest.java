package dev.fabric.spawner.spawn;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.Resources;
import dev.fabric.spawner.web.SpawnerException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemberPlanTest {

    static final List<String> ROLES = List.of("queue");

    static void refused(SpawnRequest request, String reason) {
        assertThatThrownBy(() -> MemberPlan.of(request, ROLES)).isInstanceOfSatisfying(SpawnerException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.reason()).isEqualTo(reason);
        });
    }

    @Test
    void aBareRequestGetsTheDefaults() {
        MemberPlan plan = MemberPlan.of(new SpawnRequest("queue", null, null, null, null), ROLES);
        assertThat(plan).isEqualTo(new MemberPlan("queue", null, Connectivity.DIRECT, Resources.DEFAULT, Map.of()));
    }

    @Test
    void requestsThisSpawnerCannotCarryOutAreRefusedWithTheirReason() {
        refused(new SpawnRequest("pilot-manager", null, null, null, null), "unknown-role");
        refused(new SpawnRequest("queue", null, null, new SpawnRequest.ResourceRequest("lots", null), null), "invalid-resources");
        refused(new SpawnRequest("queue", null, null, new SpawnRequest.ResourceRequest(null, "16Mi"), null), "invalid-resources");
        refused(new SpawnRequest("queue", null, Connectivity.FIREWALL_TO_SERVICE, null, Map.of("via", "gateway:8480")), "invalid-via");
        refused(new SpawnRequest("queue", null, Connectivity.FIREWALL_TO_SERVICE, null, Map.of("via", "http://gateway")), "invalid-via");
        for (String more : List.of("http://gateway:8480/path", "http://gateway:8480?x=1", "http://user@gateway:8480", "http://gateway:8480#f")) {
            refused(new SpawnRequest("queue", null, Connectivity.FIREWALL_TO_SERVICE, null, Map.of("via", more)), "invalid-via");
        }
    }

    @Test
    void aPlanSurvivesTheRegistrySoARestartRepeatsIt() {
        MemberPlan plan = MemberPlan.of(new SpawnRequest("queue", "orders", Connectivity.FIREWALL_FROM_SERVICE,
                new SpawnRequest.ResourceRequest("1", "512Mi"), Map.of("journal.sync", "always")), ROLES);
        Map<String, String> metadata = plan.metadata("process");
        assertThat(metadata).containsEntry("launcher", "process").containsEntry("cpu", "1").containsEntry("memory", "512Mi")
                .containsEntry("config.journal.sync", "always");

        // The launcher and the member add their own metadata; the plan ignores it.
        Map<String, String> registered = new java.util.HashMap<>(metadata);
        registered.put("pid", "4242");
        registered.put(SpawnService.REPLACE_WHEN_LOST, "false");
        ServiceInstance instance = new ServiceInstance("queue-1", "queue", "orders", InstanceState.DEAD, "", 2, "spawner-1",
                Connectivity.FIREWALL_FROM_SERVICE, Map.of(), registered, null, null, null);
        assertThat(MemberPlan.of(instance)).isEqualTo(plan);
        assertThat(MemberPlan.of(plan.freshRequest(), ROLES)).isEqualTo(plan);
    }

    @Test
    void anOlderRegistrationWithoutPlanReadsAsTheDefaults() {
        ServiceInstance instance = new ServiceInstance("queue-1", "queue", null, InstanceState.DEAD, "", 1, "spawner-1",
                null, null, null, null, null, null);
        assertThat(MemberPlan.of(instance)).isEqualTo(new MemberPlan("queue", null, Connectivity.DIRECT, Resources.DEFAULT, Map.of()));
    }

    @Test
    void aPlacementMustNameAConfiguredHostAndIsKeptForRestarts() {
        SpawnRequest placed = new SpawnRequest("queue", null, null, null, null, "compute-1");
        assertThatThrownBy(() -> MemberPlan.of(placed, ROLES, java.util.Set.of("compute-2")))
                .isInstanceOfSatisfying(SpawnerException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.reason()).isEqualTo("unknown-host");
                    assertThat(e.getMessage()).contains("no host 'compute-1'").contains("[compute-2]");
                });
        assertThatThrownBy(() -> MemberPlan.of(placed, ROLES)).isInstanceOfSatisfying(SpawnerException.class,
                e -> assertThat(e.getMessage()).contains("no SSH hosts configured"));

        MemberPlan plan = MemberPlan.of(placed, ROLES, java.util.Set.of("compute-1"));
        Map<String, String> metadata = plan.metadata("ssh");
        assertThat(metadata).containsEntry("host", "compute-1").containsEntry("launcher", "ssh");
        ServiceInstance registered = new ServiceInstance("queue-1", "queue", null, InstanceState.RUNNING, null, 1, "spawner-1",
                Connectivity.DIRECT, Map.of(), metadata, null, null, null);
        assertThat(MemberPlan.of(registered)).isEqualTo(plan);
        assertThat(plan.freshRequest().host()).isEqualTo("compute-1");
    }
}
