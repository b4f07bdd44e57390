package dev.fabric.spawner.spawn;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A node shutting down with {@code stop-members-on-shutdown} stops its members at once: a member
 * that is itself a spawner (a pilot manager) has only its own stop grace to stop all of its members
 * in, so one after the other it was killed with the last of them still running.
 */
class StopAllTest {

    @Test
    void everyMemberIsStoppedAtOnceNotOneAfterTheOther() {
        List<String> ids = List.of("queue-1", "pubsub-1", "agent-1", "agent-2");
        CountDownLatch allStopping = new CountDownLatch(ids.size());
        Set<String> stopped = ConcurrentHashMap.newKeySet();
        // Each stop ends only once every stop has begun: stops made one after the other never get there.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> SpawnService.stopAtOnce(ids, id -> {
            allStopping.countDown();
            try {
                assertThat(allStopping.await(30, TimeUnit.SECONDS)).as("every stop began while %s was stopping", id).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            stopped.add(id);
        }));
        assertThat(stopped).containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void aMemberThatCannotBeStoppedCleanlyDoesNotKeepTheOthersRunning() {
        Set<String> stopped = ConcurrentHashMap.newKeySet();
        SpawnService.stopAtOnce(List.of("queue-1", "agent-1", "agent-2"), id -> {
            if (id.equals("agent-1")) {
                throw new IllegalStateException("its registry did not answer");
            }
            stopped.add(id);
        });
        assertThat(stopped).containsExactlyInAnyOrder("queue-1", "agent-2");
    }
}
