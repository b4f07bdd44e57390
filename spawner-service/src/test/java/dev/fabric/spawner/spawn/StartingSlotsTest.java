package dev.fabric.spawner.spawn;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StartingSlotsTest {

    @Test
    void aLaunchBeyondTheSlotsWaitsUntilOneIsGivenBack() throws Exception {
        StartingSlots slots = new StartingSlots(2);
        StartingSlots.Slot first = slots.take();
        slots.take();

        CompletableFuture<StartingSlots.Slot> third = CompletableFuture.supplyAsync(() -> {
            try {
                return slots.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (slots.waiting() == 0) {
            Thread.sleep(5);
        }
        assertThat(third).isNotDone();

        first.close();

        assertThat(third.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(slots.waiting()).isZero();
    }

    @Test
    void aSlotIsGivenBackOnlyOnceHoweverOftenItIsClosed() throws Exception {
        StartingSlots slots = new StartingSlots(1);
        StartingSlots.Slot slot = slots.take();

        slot.close();
        slot.close();

        slots.take();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                slots.take();
            } catch (InterruptedException expected) {
                Thread.currentThread().interrupt();
            }
        });
        while (slots.waiting() == 0) {
            Thread.sleep(5);
        }
        assertThat(waiter.isAlive()).as("the second close gave no second slot back").isTrue();
        waiter.interrupt();
        waiter.join();
    }

    @Test
    void noSizeMeansOneSlotPerCpuAndNoSlotHoldsNothing() {
        assertThat(new StartingSlots(0).size()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(new StartingSlots(3).size()).isEqualTo(3);
        StartingSlots.Slot.NONE.close();
    }
}
