package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowBusyException;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One session at a time: the next client waits until the current one lets go (the upgrade hand-off). */
class SessionHandOffTest {

    @TempDir
    Path dir;
    Escrowd escrowd;

    @BeforeEach
    void start() throws Exception {
        escrowd = TestDaemon.start(dir);
    }

    @AfterEach
    void stop() {
        escrowd.close();
    }

    @Test
    void secondClientWaitsUntilTheFirstDisconnects() throws Exception {
        Escrow oldVersion = Escrow.open(escrowd.path(), 0, 8);
        oldVersion.add(0, 0, "state".getBytes());
        try (var executor = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon(true).factory())) {
            CompletableFuture<byte[]> newVersion = CompletableFuture.supplyAsync(() -> {
                try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
                    return escrow.get(0, 0).payload();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, executor);
            Thread.sleep(300);
            assertThat(newVersion).as("blocked while the old version holds the session").isNotDone();
            oldVersion.close();
            assertThat(newVersion.get(5, TimeUnit.SECONDS)).isEqualTo("state".getBytes());
        }
    }

    @Test
    void waitTimeoutGivesUpWhileAnotherSessionIsActive() throws Exception {
        try (Escrow holder = Escrow.open(escrowd.path(), 0, 8)) {
            holder.tag(0);
            long start = System.nanoTime();
            assertThatThrownBy(() -> Escrow.open(escrowd.path(), 0, 8, Duration.ofMillis(300)))
                    .isInstanceOfSatisfying(EscrowBusyException.class, e -> {
                        assertThat(e.errno()).isEqualTo(110);
                        assertThat(e.getMessage()).contains("serving another session");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(290));
            assertThat(holder.tag(0).slots()).as("the holder's session is unaffected").isZero();
        }
    }

    @Test
    void waitTimeoutIsMetWhenTheHolderLetsGoInTime() throws Exception {
        Escrow holder = Escrow.open(escrowd.path(), 0, 8);
        holder.tag(0);
        try (var executor = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon(true).factory())) {
            CompletableFuture<Integer> next = CompletableFuture.supplyAsync(() -> {
                try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
                    return escrow.tag(1).slots();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, executor);
            Thread.sleep(200);
            holder.close();
            assertThat(next.get(5, TimeUnit.SECONDS)).isZero();
        }
    }

    @Test
    void sessionsAreServedInTurn() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
                escrow.add(1, i, new byte[] {(byte) i});
            }
        }
        assertThat(escrowd.stats().sessions()).isEqualTo(20);
        assertThat(escrowd.stats().totalSlots()).isEqualTo(20);
    }
}
