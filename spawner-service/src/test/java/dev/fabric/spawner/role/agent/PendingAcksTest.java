package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Who acknowledges a finished task's lease: the next lease request, or the acker once none took it in time; and none is lost. */
class PendingAcksTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final PendingAcks<String> acks = new PendingAcks<>(Duration.ofMillis(50), now::get);

    @Test
    void aLeaseRequestCarriesWhatIsPendingOldestFirst() {
        acks.add("a");
        acks.add("b");
        acks.add("c");

        assertThat(acks.carry(2)).containsExactly("a", "b");
        assertThat(acks.carry(500)).containsExactly("c");
        assertThat(acks.isEmpty()).isTrue();
    }

    @Test
    void theAckerLeavesThemToALeaseRequestUntilTheyHaveWaitedTheirTurn() {
        acks.add("a");
        now.addAndGet(Duration.ofMillis(30).toNanos());
        acks.add("b");

        assertThat(acks.due(500)).as("a lease request may still carry them").isEmpty();
        now.addAndGet(Duration.ofMillis(20).toNanos());
        assertThat(acks.due(500)).as("the oldest has waited its turn: all go in one ack request").containsExactly("a", "b");
    }

    @Test
    void acksCarriedByALeaseRequestThatFailedAreAckedAfterAllAndFirst() throws InterruptedException {
        acks.add("a");
        acks.add("b");
        List<String> carried = acks.carry(500);
        acks.add("c");

        acks.putBack(carried);

        // Due at once, whatever their age: the acker sends them without waiting for another lease request.
        assertThat(acks.takeDue(500)).containsExactly("a", "b", "c");
    }

    @Test
    void acksPutBackGoWithTheNextLeaseRequestToo() {
        acks.add("a");
        acks.putBack(acks.carry(500));

        assertThat(acks.carry(500)).containsExactly("a");
    }

    @Test
    void onceHurriedEveryAckIsDueAtOnce() throws InterruptedException {
        acks.hurry();
        acks.add("a");

        assertThat(acks.takeDue(500)).containsExactly("a");
    }

    @Test
    void theAckerTakesThemWhenTheirTurnComesOnARealClock() throws InterruptedException {
        PendingAcks<String> real = new PendingAcks<>(Duration.ofMillis(10), System::nanoTime);
        Thread.ofVirtual().start(() -> real.add("a"));

        assertThat(real.takeDue(500)).containsExactly("a");
    }
}
