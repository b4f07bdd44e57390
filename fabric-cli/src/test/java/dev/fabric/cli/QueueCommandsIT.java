package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.core.registry.InstanceState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code queue put|take|ack|nack|stats} against a real fabric (the registry in this JVM, the
 * spawner jar as a process) and real queue members it spawns. Skipped when the spawner jar has
 * not been built.
 */
class QueueCommandsIT {

    @RegisterExtension
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass();

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static String spawnQueue() {
        Cli.Result spawn = fabric.cli().run("spawn", "queue", "--wait", "--timeout", "3m");
        assertThat(spawn.exitCode()).as(spawn.err()).isZero();
        return spawn.out().strip();
    }

    private static Cli.Result ok(String... args) {
        Cli.Result result = fabric.cli().run(args);
        assertThat(result.exitCode()).as("%s: %s", List.of(args), result.err()).isZero();
        return result;
    }

    private static JsonNode json(Cli.Result result) {
        return JSON.readTree(result.out());
    }

    @Test
    void messagesGoInComeOutAndLeaveWhenAcked() {
        String queue = spawnQueue();

        List<String> ids = ok("queue", "put", queue, "resize image 42", "resize image 43").out().lines().toList();
        assertThat(ids).hasSize(2).doesNotHaveDuplicates().allSatisfy(id -> assertThat(UUID.fromString(id)).isNotNull());
        assertThat(ok("queue", "stats", queue).out()).isEqualTo("""
                READY  LEASED  ACKED
                2      0       0
                """);

        // The oldest first, as a table: ID, LEASE, DELIVERIES, DEADLINE, BODY.
        List<String> taken = ok("queue", "take", queue, "--visibility", "5m").out().lines().toList();
        assertThat(taken).hasSize(2);
        assertThat(taken.getFirst()).startsWith("ID").contains("LEASE", "DELIVERIES", "DEADLINE", "BODY");
        String[] row = taken.get(1).split(" +", 5);
        assertThat(row[0]).isEqualTo(ids.get(0));
        assertThat(row[2]).isEqualTo("1");
        assertThat(row[4]).isEqualTo("resize image 42");
        String lease = row[1];
        assertThat(json(ok("queue", "stats", queue, "-o", "json")).path("leased").asInt()).isEqualTo(1);

        assertThat(ok("queue", "ack", queue, lease).out()).isEqualTo("acked " + lease + "\n");
        assertThat(ok("queue", "ack", queue, lease).exitCode()).as("an ack repeated").isZero();
        JsonNode stats = json(ok("queue", "stats", queue, "-o", "json"));
        assertThat(stats.path("ready").asInt()).isEqualTo(1);
        assertThat(stats.path("leased").asInt()).isZero();
        assertThat(stats.path("acked").asInt()).isEqualTo(1);

        // The second message, as JSON; nacked, it comes back with one more delivery.
        JsonNode second = json(ok("queue", "take", queue, "--max", "10", "-o", "json")).path("messages");
        assertThat(second.size()).isEqualTo(1);
        assertThat(second.path(0).path("id").asString()).isEqualTo(ids.get(1));
        assertThat(second.path(0).path("body").asString()).isEqualTo("resize image 43");
        assertThat(second.path(0).path("deliveries").asInt()).isEqualTo(1);
        String secondLease = second.path(0).path("leaseId").asString();
        assertThat(ok("queue", "nack", queue, secondLease).out()).isEqualTo("nacked " + secondLease + "\n");

        JsonNode again = json(ok("queue", "take", queue, "-o", "json")).path("messages").path(0);
        assertThat(again.path("id").asString()).isEqualTo(ids.get(1));
        assertThat(again.path("deliveries").asInt()).isEqualTo(2);
        ok("queue", "ack", queue, again.path("leaseId").asString());

        Cli.Result empty = ok("queue", "take", queue);
        assertThat(empty.out()).isEmpty();
        assertThat(empty.err()).isEqualTo("no message ready in queue " + queue + "\n");
        assertThat(json(ok("queue", "take", queue, "-o", "json")).path("messages").isEmpty()).isTrue();
        assertThat(ok("queue", "stats", queue).out()).endsWith("0      0       2\n");
    }

    @Test
    void theQueuesRefusalsShowTheirReasonAndANextStep() {
        String queue = spawnQueue();
        ok("queue", "put", queue, "once");
        String lease = json(ok("queue", "take", queue, "-o", "json")).path("messages").path(0).path("leaseId").asString();
        ok("queue", "ack", queue, lease);

        Cli.Result nackAfterAck = fabric.cli().run("queue", "nack", queue, lease);
        assertThat(nackAfterAck.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(nackAfterAck.out()).isEmpty();
        assertThat(nackAfterAck.err()).startsWith("fabric: ").contains(lease, "(lease-acked, HTTP 409)", "nothing to give back");

        String unknown = UUID.randomUUID().toString();
        Cli.Result unknownLease = fabric.cli().run("queue", "ack", queue, unknown);
        assertThat(unknownLease.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknownLease.err()).contains(unknown, "(lease-unknown, HTTP 404)", "fabric queue take " + queue);

        Cli.Result notALease = fabric.cli().run("queue", "nack", queue, "not-a-lease");
        assertThat(notALease.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(notALease.err()).contains("'not-a-lease' is not a lease id", "(invalid-request, HTTP 400)");

        Cli.Result tooMany = fabric.cli().run("queue", "take", queue, "--max", "1001");
        assertThat(tooMany.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(tooMany.err()).contains("max must be a whole number from 1 to 1000", "(invalid-request, HTTP 400)");

        Cli.Result tooLong = fabric.cli().run("queue", "take", queue, "--visibility", "13h");
        assertThat(tooLong.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(tooLong.err()).contains("visibility must be from 1s to 12h, not '13h'");

        // Acks before the failure stand; the command stops at it.
        ok("queue", "put", queue, "twice");
        String next = json(ok("queue", "take", queue, "-o", "json")).path("messages").path(0).path("leaseId").asString();
        Cli.Result partly = fabric.cli().run("queue", "ack", queue, next, unknown);
        assertThat(partly.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(partly.out()).isEqualTo("acked " + next + "\n");

        ok("stop", queue);
        assertThat(fabric.registry().get(queue).state()).isEqualTo(InstanceState.STOPPED);
        Cli.Result stopped = fabric.cli().run("queue", "stats", queue);
        assertThat(stopped.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(stopped.err()).contains("member " + queue + " is STOPPED", "only a running member serves its queue",
                "fabric service " + queue);
    }

    @Test
    void onlyAQueueMemberServesAQueue() {
        Cli.Result unknown = fabric.cli().run("queue", "put", "queue-nosuch", "hello");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(unknown.err()).contains("queue-nosuch", "(unknown-instance, HTTP 404)", "fabric services");

        String spawner = json(ok("services", "--type", "spawner", "-o", "json")).path("instances").path(0).path("id").asString();
        Cli.Result notAQueue = fabric.cli().run("queue", "stats", spawner);
        assertThat(notAQueue.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(notAQueue.err()).contains("member " + spawner + " (type spawner) is RUNNING and publishes no queue endpoint",
                "fabric service " + spawner);
    }
}
