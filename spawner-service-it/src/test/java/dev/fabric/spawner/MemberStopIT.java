package dev.fabric.spawner;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A member stopped by its spawner (docs/spawner.md, {@code DELETE /api/v1/members/{id}}; {@code ./fabric down})
 * ends the requests that would never end by themselves, a pubsub's subscriber streams and a queue's long-polled
 * leases, before its web server waits for the requests in progress: it shuts down gracefully and exits, instead of
 * waiting on them until its spawner's stop grace kills it. A pilot manager stopping its pubsub that way was killed
 * itself first, and left the pubsub running.
 */
class MemberStopIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;

    @BeforeAll
    static void start() throws Exception {
        // A grace far longer than a clean stop takes: a member that waits on its streams is killed at its end.
        fabric = new FabricUnderTest(dir, "--fabric.spawner.stop-grace=60s");
        fabric.startSpawner();
    }

    @AfterAll
    static void stop() throws Exception {
        fabric.close();
    }

    @Test
    void aStoppedPubsubEndsItsStreamsAndExitsCleanly() throws Exception {
        String id = fabric.spawn(Map.of("type", "pubsub"));
        ServiceInstance running = fabric.awaitState(id, InstanceState.RUNNING, 1);
        RestClient pubsub = fabric.signedClient(running.endpoints().get("pubsub"));
        CountDownLatch subscribed = new CountDownLatch(1);
        CompletableFuture<Integer> stream = CompletableFuture.supplyAsync(() -> pubsub.get().uri("/topics/{topic}/messages", "tasks.stop")
                .accept(MediaType.TEXT_EVENT_STREAM).exchange((request, response) -> {
                    try (InputStream body = response.getBody()) {
                        int read = body.read();
                        subscribed.countDown();
                        // Until the member ends it: the subscriber itself never leaves.
                        return read < 0 ? 0 : 1 + body.readAllBytes().length;
                    }
                }));
        assertThat(subscribed.await(30, TimeUnit.SECONDS)).as("the stream's first bytes (its opening comment)").isTrue();

        stopAndAssertItExitedCleanly(id);
        assertThat(stream.get(30, TimeUnit.SECONDS)).as("bytes the subscriber read before the stream ended").isPositive();
    }

    @Test
    void aStoppedQueueAnswersItsWaitingLeasesAndExitsCleanly() throws Exception {
        String id = fabric.spawn(Map.of("type", "queue"));
        ServiceInstance running = fabric.awaitState(id, InstanceState.RUNNING, 1);
        RestClient queue = fabric.signedClient(running.endpoints().get("queue"));
        // The longest wait a lease may ask for; the queue is empty, so it waits all of it unless the stop ends it.
        CompletableFuture<Integer> lease = CompletableFuture.supplyAsync(() -> queue.post().uri("/leases?max=1&wait=20s")
                .retrieve().toBodilessEntity().getStatusCode().value());
        // Time for the request to reach the queue and wait there (nothing in the queue's status counts waiting leases).
        Thread.sleep(2000);
        assertThat(lease).as("the lease waits for a message").isNotDone();

        stopAndAssertItExitedCleanly(id);
        // Answered by the stop (the queue stopping: 503, retry elsewhere or later), not at the end of its 20 s (200, empty).
        assertThat(lease.get(30, TimeUnit.SECONDS)).as("the waiting lease's answer").isEqualTo(503);
    }

    /** Stops the member through its spawner and asserts it shut down gracefully, not killed at the end of the grace. */
    private static void stopAndAssertItExitedCleanly(String id) throws InterruptedException {
        int status = fabric.spawnerClient().delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity().getStatusCode().value();
        assertThat(status).isEqualTo(204);
        fabric.awaitState(id, InstanceState.STOPPED, 1);
        assertThat(FabricUnderTest.log(fabric.memberLog(id))).contains("Graceful shutdown complete")
                .doesNotContain("Graceful shutdown aborted");
        assertThat(FabricUnderTest.log(fabric.spawnerLog())).doesNotContain("member " + id + " (pid");
    }
}
