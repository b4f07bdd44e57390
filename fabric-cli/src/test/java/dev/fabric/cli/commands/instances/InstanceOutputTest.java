package dev.fabric.cli.commands.instances;

import dev.fabric.cli.registry.RegistryWire;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceOutputTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private static final RegistryWire.Instance WEB = new RegistryWire.Instance("web-1", "web", "frontend", "RUNNING", "registered RUNNING", 2,
            "spawner-1", "DIRECT", Map.of("management", "http://10.0.0.5:9000", "service", "http://10.0.0.5:8080"), Map.of("zone", "a"),
            NOW.minusSeconds(600), NOW.minusSeconds(60), NOW.minusSeconds(3));
    private static final RegistryWire.Instance DB = new RegistryWire.Instance("db-1", "db", "db-1", "PENDING", null, 1, null, "DIRECT",
            null, null, NOW.minusSeconds(30), NOW.minusSeconds(30), null);

    @Test
    void servicesPrintsOneRowPerInstance() {
        assertThat(ServicesCommand.table(List.of(WEB, DB), NOW)).isEqualTo("""
                ID     TYPE  NAME      STATE    INCARNATION  PARENT     LAST HEARTBEAT  ENDPOINTS
                web-1  web   frontend  RUNNING  2            spawner-1  3s ago          management=http://10.0.0.5:9000,service=http://10.0.0.5:8080
                db-1   db    db-1      PENDING  1            -          -               -
                """);
    }

    static RegistryWire.Instance member(String id, String type, String parent, Map<String, String> metadata) {
        return new RegistryWire.Instance(id, type, id, "RUNNING", null, 1, parent, "DIRECT", null, metadata, NOW.minusSeconds(60),
                NOW.minusSeconds(60), NOW.minusSeconds(1));
    }

    @Test
    void servicesTreeShowsEachMemberUnderTheMemberThatSpawnedItAndWhoSupervisesIt() {
        List<RegistryWire.Instance> instances = List.of(
                member("queue-b", "queue", "gateway-a", Map.of()),
                member("spawner-1", "spawner", null, Map.of()),
                member("gateway-a", "queue", "spawner-1", Map.of()),
                member("agent-c", "agent", "queue-b", Map.of()),
                member("queue-d", "queue", "gateway-a", Map.of("supervisor", "spawner-1")),
                member("orphan-e", "queue", "gone-x", Map.of()));
        assertThat(ServicesCommand.tree(instances, NOW)).isEqualTo("""
                ID                TYPE     NAME       STATE    INCARNATION  SUPERVISOR           LAST HEARTBEAT  ENDPOINTS
                spawner-1         spawner  spawner-1  RUNNING  1            -                    1s ago          -
                └─ gateway-a      queue    gateway-a  RUNNING  1            spawner-1            1s ago          -
                   ├─ queue-b     queue    queue-b    RUNNING  1            gateway-a            1s ago          -
                   │  └─ agent-c  agent    agent-c    RUNNING  1            queue-b              1s ago          -
                   └─ queue-d     queue    queue-d    RUNNING  1            spawner-1 (adopted)  1s ago          -
                orphan-e          queue    orphan-e   RUNNING  1            gone-x               1s ago          -
                """);
    }

    @Test
    void serviceShowsFieldsSessionsAndHistory() {
        String text = ServiceCommand.describe(WEB, List.of("s-1", "s-2"), List.of(
                new RegistryWire.Transition(1, 1, null, "RUNNING", "registered as incarnation 1", NOW.minusSeconds(900)),
                new RegistryWire.Transition(4, 2, "DEAD", "RUNNING", "restarted as incarnation 2 (was 1, DEAD)", NOW.minusSeconds(600))), NOW);
        assertThat(text).isEqualTo("""
                ID              web-1
                TYPE            web
                NAME            frontend
                STATE           RUNNING (registered RUNNING)
                INCARNATION     2
                PARENT          spawner-1
                CONNECTIVITY    DIRECT
                REACHED         direct (since 2026-03-01T11:50:00Z)
                ENDPOINTS       management=http://10.0.0.5:9000,service=http://10.0.0.5:8080
                METADATA        zone=a
                REGISTERED      2026-03-01T11:50:00Z
                UPDATED         2026-03-01T11:59:00Z
                LAST HEARTBEAT  3s ago (2026-03-01T11:59:57Z)

                SESSIONS
                  s-1
                  s-2

                HISTORY
                SEQ  AT                    INCARNATION  FROM  TO       REASON
                1    2026-03-01T11:45:00Z  1            -     RUNNING  registered as incarnation 1
                4    2026-03-01T11:50:00Z  2            DEAD  RUNNING  restarted as incarnation 2 (was 1, DEAD)
                """);
        assertThat(ServiceCommand.describe(DB, List.of(), List.of(), NOW)).contains("SESSIONS\n  (none)\n");
    }

    @Test
    void serviceSaysAMemberBehindABridgeIsRelayedAndSinceWhen() {
        RegistryWire.Instance relayed = member("queue-r", "queue", "spawner-1", Map.of("via", "bridge-1"));

        assertThat(ServiceCommand.describe(relayed, List.of(), List.of(), NOW))
                .contains("REACHED         relayed through bridge bridge-1 (since 2026-03-01T11:59:00Z)");
    }

    @Test
    void serviceSaysHowAModeFourMemberWasBootstrappedSplicedOrRelayedAndSinceWhen() {
        RegistryWire.Instance spliced = member("queue-s", "queue", "spawner-1", Map.of("via", "bridge-1",
                "splice", "spliced /10.14.5.10:40123 <-> /10.14.1.31:41877", "splice.since", "2026-03-01T11:58:30Z"));
        RegistryWire.Instance relayed = member("queue-t", "queue", "spawner-1", Map.of("via", "bridge-1",
                "splice", "relayed through bridge bridge-1 (splice failed (no-connection))", "splice.since", "not a time"));

        assertThat(ServiceCommand.describe(spliced, List.of(), List.of(), NOW)).contains("REACHED         relayed through bridge bridge-1 "
                + "(since 2026-03-01T11:59:00Z); bootstrap spliced /10.14.5.10:40123 <-> /10.14.1.31:41877 (since 2026-03-01T11:58:30Z)");
        assertThat(ServiceCommand.describe(relayed, List.of(), List.of(), NOW))
                .contains("; bootstrap relayed through bridge bridge-1 (splice failed (no-connection)) (since not a time)");
    }

    @Test
    void serviceSaysAModeFourMemberIsSplicedOnDemandAndHowItsLastCallerReachedIt() {
        Map<String, String> metadata = Map.of("via", "bridge-1", "splice", "spliced /10.14.5.10:40123 <-> /10.14.1.31:41877",
                "splice.since", "2026-03-01T11:58:30Z", "splice.on-demand", "spliced /10.14.5.10:40200 <-> /10.14.1.35:41000 (an upgrade "
                        + "from the bridge)", "splice.on-demand.since", "2026-03-01T11:59:30Z");
        RegistryWire.Instance spliced = new RegistryWire.Instance("queue-u", "queue", "queue-u", "RUNNING", null, 1, "spawner-1", "SPLICED",
                null, metadata, NOW.minusSeconds(60), NOW.minusSeconds(60), NOW.minusSeconds(1));

        assertThat(ServiceCommand.describe(spliced, List.of(), List.of(), NOW)).contains("REACHED         spliced on demand, else relayed "
                + "through bridge bridge-1 (since 2026-03-01T11:59:00Z); bootstrap spliced /10.14.5.10:40123 <-> /10.14.1.31:41877 "
                + "(since 2026-03-01T11:58:30Z); last caller spliced /10.14.5.10:40200 <-> /10.14.1.35:41000 (an upgrade from the "
                + "bridge) (since 2026-03-01T11:59:30Z)");
    }
}
