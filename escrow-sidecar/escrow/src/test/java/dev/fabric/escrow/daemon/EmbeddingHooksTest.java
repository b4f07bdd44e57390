package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.RequestRejectedException;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the engine offers whoever embeds it (the sidecar app): the listener, readiness, counters. */
class EmbeddingHooksTest {

    @TempDir
    Path dir;

    @Test
    void listenerHearsEveryAddAndDelByTagButNotFailedRequests() throws Exception {
        List<Integer> changed = new CopyOnWriteArrayList<>();
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withListener(changed::add));
             Escrow escrow = Escrow.open(escrowd.path(), 0, 8);
             TcpPair tcp = TcpPair.open()) {
            escrow.add(3, 0, tcp.accepted, "x".getBytes());
            escrow.add(5, 7, "payload only".getBytes());
            escrow.del(3, 0);
            assertThatThrownBy(() -> escrow.del(3, 0)).isInstanceOf(RequestRejectedException.class);
            assertThatThrownBy(() -> escrow.add(99, 0, "tag out of range".getBytes())).isInstanceOf(RequestRejectedException.class);

            assertThat(changed).containsExactly(3, 5, 3);
        }
    }

    @Test
    void aFailingListenerNeitherBreaksTheSessionNorTheSlot() throws Exception {
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withListener(tag -> {
            throw new IllegalStateException("listener bug");
        })); Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(1, 1, "kept".getBytes());
            assertThat(escrow.get(1, 1).payload()).asString().isEqualTo("kept");
        }
    }

    @Test
    void acceptingUntilShutdownOrUntilTheSocketFileIsGone() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir)) {
            assertThat(escrowd.isAccepting()).isTrue();
            Files.delete(escrowd.path());
            assertThat(escrowd.isAccepting()).as("clients would get ENOENT").isFalse();
        }
        try (Escrowd escrowd = Escrowd.start(TestDaemon.config(dir).withForce(true))) {
            assertThat(escrowd.isAccepting()).isTrue();
            escrowd.shutdown();
            assertThat(escrowd.isAccepting()).isFalse();
        }
    }

    @Test
    void sessionsAreCountedAndTheActiveOneIsSeen() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir)) {
            assertThat(escrowd.sessions()).isZero();
            assertThat(escrowd.sessionActive()).isFalse();
            try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
                escrow.tag(0);
                assertThat(escrowd.sessionActive()).isTrue();
                assertThat(escrowd.sessions()).isEqualTo(1);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (escrowd.sessionActive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(escrowd.sessionActive()).isFalse();
        }
    }
}
