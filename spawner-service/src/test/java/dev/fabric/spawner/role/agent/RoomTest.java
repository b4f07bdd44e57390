package dev.fabric.spawner.role.agent;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

class RoomTest {

    private static final long MILLISECOND = Duration.ofMillis(1).toNanos();

    @Test
    void untilATaskEndedItHoldsPrefetchPerSlot() throws InterruptedException {
        Room room = new Room(2, 3, Duration.ofMillis(100));

        assertThat(room.take(1000)).isEqualTo(6);
        assertThat(room.held()).isEqualTo(6);
    }

    @Test
    void shortTasksLetItHoldAHorizonsWorkPerSlotUpTo256() {
        Room room = new Room(2, 2, Duration.ofMillis(100));

        room.ran(10 * MILLISECOND);
        assertThat(room.limit()).as("10 ms tasks: 10 a slot fill 100 ms").isEqualTo(20);

        Room quick = new Room(2, 2, Duration.ofMillis(100));
        quick.ran(MILLISECOND / 10);
        assertThat(quick.limit()).as("0.1 ms tasks: 1,000 a slot would, 256 is the most").isEqualTo(512);
    }

    @Test
    void longTasksKeepItAtPrefetch() {
        Room room = new Room(4, 2, Duration.ofMillis(100));

        room.ran(Duration.ofSeconds(5).toNanos());

        assertThat(room.limit()).isEqualTo(8);
    }

    @Test
    void aZeroHorizonHoldsPrefetchWhateverTheTasksTake() {
        Room room = new Room(1, 2, Duration.ZERO);

        room.ran(1000);

        assertThat(room.limit()).isEqualTo(2);
    }

    @Test
    void theAverageFollowsTasksThatGrowLonger() {
        Room room = new Room(1, 2, Duration.ofMillis(100));
        room.ran(MILLISECOND);
        assertThat(room.limit()).isEqualTo(100);

        for (int i = 0; i < 200; i++) {
            room.ran(Duration.ofSeconds(1).toNanos());
        }

        assertThat(room.limit()).isEqualTo(2);
        assertThat(room.averageTask()).isBetween(Duration.ofMillis(900), Duration.ofSeconds(1));
    }

    @Test
    void aTakeAsksForAtMostWhatTheCallerCanUse() throws InterruptedException {
        Room room = new Room(32, 64, Duration.ZERO);

        assertThat(room.take(1000)).isEqualTo(1000);
        assertThat(room.take(1000)).isEqualTo(1000);
        assertThat(room.take(1000)).isEqualTo(48);
    }

    @Test
    void aboveThePrefetchItLeasesAgainOnlyOnceHalfTheLimitIsFree() throws Exception {
        Room room = new Room(1, 2, Duration.ofMillis(100));
        room.ran(MILLISECOND);
        assertThat(room.take(1000)).isEqualTo(100);

        CompletableFuture<Integer> next = takeLater(room);
        room.release(49);
        Thread.sleep(100);
        assertThat(next).as("51 held, more than half of 100").isNotDone();

        room.release(1);
        assertThat(next.get(10, TimeUnit.SECONDS)).isEqualTo(50);
    }

    @Test
    void aTakeWaitsForRoomAndThenTakesAllThatFreed() throws Exception {
        Room room = new Room(1, 2, Duration.ZERO);
        assertThat(room.take(1000)).isEqualTo(2);

        CompletableFuture<Integer> next = takeLater(room);
        Thread.sleep(100);
        assertThat(next).isNotDone();

        room.release(2);
        assertThat(next.get(10, TimeUnit.SECONDS)).isEqualTo(2);
    }

    @Test
    void whenTheLimitFallsBelowWhatIsHeldATakeWaitsUntilFewerAreHeld() throws Exception {
        Room room = new Room(1, 2, Duration.ofMillis(100));
        room.ran(MILLISECOND);
        assertThat(room.take(1000)).isEqualTo(100);
        for (int i = 0; i < 200; i++) {
            room.ran(Duration.ofSeconds(1).toNanos());
        }

        CompletableFuture<Integer> next = takeLater(room);
        room.release(98);
        Thread.sleep(100);
        assertThat(next).as("2 held, the limit 2").isNotDone();

        room.release(1);
        assertThat(next.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        await().until(() -> room.held() == 2);
    }

    @Test
    void nonsenseIsRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> new Room(0, 2, Duration.ZERO));
        assertThatIllegalArgumentException().isThrownBy(() -> new Room(1, 0, Duration.ZERO));
        assertThatIllegalArgumentException().isThrownBy(() -> new Room(1, 65, Duration.ZERO));
        assertThatIllegalArgumentException().isThrownBy(() -> new Room(1, 2, Duration.ofMillis(-1)));
    }

    /** A take on another thread, to see whether it waits. */
    private static CompletableFuture<Integer> takeLater(Room room) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return room.take(1000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
