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

    static final List<String> EVERY_ROLE = List.of("queue", "bridge", "pubsub", "agent", "pilot-manager");

    static SpawnerException refusedConfig(String role, Map<String, String> config) {
        try {
            MemberPlan.of(new SpawnRequest(role, null, null, null, config), EVERY_ROLE);
        } catch (SpawnerException e) {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.reason()).isEqualTo("invalid-config");
            return e;
        }
        throw new AssertionError("a " + role + " with config " + config + " was planned");
    }

    @Test
    void aSettingTheRoleDoesNotTakeIsRefusedNamingTheKeyAndTheRolesSettings() {
        assertThat(refusedConfig("pubsub", Map.of("no-such-setting", "1")).getMessage())
                .contains("'no-such-setting' is not a setting of role pubsub")
                .contains("[keep-alive, max-subscribers, retention-age, retention-bytes, retention-count, via]");
        assertThat(refusedConfig("queue", Map.of("retention-count", "5")).getMessage())
                .contains("'retention-count' is not a setting of role queue; its settings are [via]");
        assertThat(refusedConfig("pilot-manager", Map.of("agent-prefech", "4")).getMessage())
                .contains("'agent-prefech' is not a setting of role pilot-manager");
        assertThat(refusedConfig("bridge", Map.of("Port", "8480")).getMessage()).contains("'Port' is not a setting of role bridge");
    }

    @Test
    void aValueTheRoleWouldRefuseAtItsStartIsRefusedBeforeAnythingIsSpawned() {
        assertThat(refusedConfig("pubsub", Map.of("keep-alive", "abc")).getMessage())
                .isEqualTo("config of a pubsub: keep-alive must be a duration from 100ms to 10m (e.g. 15s), not 'abc'");
        assertThat(refusedConfig("pubsub", Map.of("retention-count", "0")).getMessage()).contains("retention-count must be a whole number");
        assertThat(refusedConfig("agent", Map.of("pubsub", "p-1", "pilot", "pilot-1")).getMessage())
                .contains("an agent needs the setting queue");
        assertThat(refusedConfig("bridge", Map.of("max-channels", "0")).getMessage()).contains("max-channels must be a whole number");
        assertThat(refusedConfig("pilot-manager", Map.of("launch-timeout", "soon")).getMessage())
                .contains("pilot-manager setting launch-timeout is 'soon'");
        assertThat(refusedConfig("pilot-manager", Map.of("agent-prefetch-horizon", "-5ms")).getMessage())
                .contains("pilot-manager setting agent-prefetch-horizon must be an agent's prefetch-horizon: prefetch-horizon must be a "
                        + "duration from 0s to 10m");
    }

    @Test
    void everySettingTheRolesDocumentIsTaken() {
        for (Map.Entry<String, Map<String, String>> valid : Map.of(
                "queue", Map.<String, String>of(),
                "bridge", Map.of("port", "0", "max-channels", "10", "max-circuits", "10", "max-circuit-bytes", "8MB", "idle-timeout", "30s",
                        "address", "0.0.0.0", "host", "gateway", "max-circuit-duration", "10m"),
                "pubsub", Map.of("retention-count", "100", "retention-age", "1h", "retention-bytes", "1MB", "max-subscribers", "1",
                        "keep-alive", "1s"),
                "agent", Map.ofEntries(Map.entry("queue", "queue-1"), Map.entry("pubsub", "pubsub-1"), Map.entry("pilot", "pilot-1"),
                        Map.entry("topic", "tasks.pilot-1"), Map.entry("rerun-policy", "fail"), Map.entry("cores", "2"),
                        Map.entry("output-limit", "1KB"), Map.entry("sandbox", "tasks"), Map.entry("sandbox-retention", "0s"),
                        Map.entry("visibility", "30s"), Map.entry("prefetch", "4"), Map.entry("prefetch-horizon", "50ms"),
                        Map.entry("via", "http://gateway:8480")),
                "pilot-manager", Map.of("launch-timeout", "1m", "supervise-interval", "2s", "max-replacements", "0",
                        "retention-count", "1000", "agent-prefetch", "8", "finished-pilot-retention", "1d",
                        "agent-prefetch-horizon", "0")).entrySet()) {
            MemberPlan plan = MemberPlan.of(new SpawnRequest(valid.getKey(), null, null, null, valid.getValue()), EVERY_ROLE);
            assertThat(plan.config()).isEqualTo(valid.getValue());
        }
    }

    @Test
    void aRoleOfAnotherMakingKeepsItsSettingsToItself() {
        MemberPlan plan = MemberPlan.of(new SpawnRequest("sorter", null, null, null, Map.of("anything", "goes")), List.of("sorter"));
        assertThat(plan.config()).containsEntry("anything", "goes");
    }

    @Test
    void aPlanSurvivesTheRegistrySoARestartRepeatsIt() {
        MemberPlan plan = MemberPlan.of(new SpawnRequest("queue", "orders", Connectivity.FIREWALL_FROM_SERVICE,
                new SpawnRequest.ResourceRequest("1", "512Mi"), Map.of("via", "http://gateway:8480")), ROLES);
        Map<String, String> metadata = plan.metadata("process");
        assertThat(metadata).containsEntry("launcher", "process").containsEntry("cpu", "1").containsEntry("memory", "512Mi")
                .containsEntry("config.via", "http://gateway:8480");

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
