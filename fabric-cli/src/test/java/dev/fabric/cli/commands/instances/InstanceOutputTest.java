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
}
