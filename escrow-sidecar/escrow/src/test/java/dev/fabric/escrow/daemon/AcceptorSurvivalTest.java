package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 12 item 11: nothing that goes wrong inside one session stops the daemon from serving the
 * next one. Before, the acceptor caught only IOException, so an OutOfMemoryError or a bug ended
 * accepting for good while the daemon went on holding every descriptor.
 */
class AcceptorSurvivalTest {

    @TempDir
    Path dir;
    Escrowd escrowd;

    @AfterEach
    void stop() {
        if (escrowd != null) {
            escrowd.close();
        }
    }

    @Test
    void anOutOfMemoryErrorEndsThatSessionAndTheNextClientIsServed() throws Exception {
        AtomicBoolean outOfMemory = new AtomicBoolean(true);
        escrowd = Escrowd.start(TestDaemon.config(dir).withListener(tag -> {
            if (outOfMemory.getAndSet(false)) {
                throw new OutOfMemoryError("Java heap space (as an allocation in the daemon would)");
            }
        }));
        try (TcpPair tcp = TcpPair.open()) {
            try (Escrow first = Escrow.open(escrowd.path(), 0, 8)) {
                assertThatThrownBy(() -> first.add(1, 0, tcp.accepted, "kept".getBytes(StandardCharsets.UTF_8)))
                        .isInstanceOf(EscrowUnavailableException.class);
            }

            try (Escrow next = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(20))) {
                Slot slot = next.get(1, 0);
                assertThat(slot.payload()).asString(StandardCharsets.UTF_8).isEqualTo("kept");
                TcpPair.assertTalks(tcp.client, slot.socketChannel(), "still connected");
                slot.socketChannel().close();
                next.add(1, 1, "more".getBytes(StandardCharsets.UTF_8));
                assertThat(next.tag(1).slots()).isEqualTo(2);
            }
        }
        assertThat(escrowd.isAccepting()).isTrue();
        assertThat(escrowd.errors(Rejection.INTERNAL_ERROR)).isEqualTo(1);
    }

    @Test
    void aRuntimeExceptionEndsThatSessionWithNothingHalfAppliedAndTheNextClientIsServed() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                if (broken.getAndSet(false)) {
                    throw new IllegalStateException("the trace's sink broke (a bug, as far as the daemon can tell)");
                }
            }
        };
        escrowd = Escrowd.start(TestDaemon.config(dir).withTrace(new PrintStream(sink, true, StandardCharsets.UTF_8)));
        try (Escrow first = Escrow.open(escrowd.path(), 0, 8)) {
            assertThatThrownBy(() -> first.add(2, 0, "lost with its session".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(EscrowUnavailableException.class);
        }

        try (Escrow next = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(20))) {
            assertThat(next.tag(2).slots()).as("the failed request was not applied").isZero();
            next.add(2, 0, "served".getBytes(StandardCharsets.UTF_8));
            assertThat(next.get(2, 0).payload()).asString(StandardCharsets.UTF_8).isEqualTo("served");
        }
        assertThat(escrowd.isAccepting()).isTrue();
        assertThat(escrowd.errors(Rejection.INTERNAL_ERROR)).isEqualTo(1);
    }
}
