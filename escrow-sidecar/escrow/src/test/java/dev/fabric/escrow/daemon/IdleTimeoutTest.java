package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowBusyException;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 12 item 11: a stopped (SIGSTOP) or hung client no longer holds the one session for ever.
 * A client that stays silent for the idle timeout while another waits loses the session; the raw
 * client here, which sends nothing more, is what the daemon sees of a stopped process. A silent
 * session nobody waits behind is left alone, and a live Java client keeps its session with
 * keep-alives.
 */
class IdleTimeoutTest {

    @TempDir
    Path dir;
    Escrowd escrowd;

    @AfterEach
    void stop() {
        System.clearProperty(Escrow.KEEPALIVE_MILLIS);
        if (escrowd != null) {
            escrowd.close();
        }
    }

    @Test
    void aSilentSessionIsClosedOnceAnotherClientWaitsAndNothingHeldIsLost() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withIdleTimeout(Duration.ofMillis(300)));
        try (RawClient stopped = RawClient.connect(escrowd.path())) {
            assertThat(stopped.request(new Message.Add(3, 7, -1, "before it stopped".getBytes(StandardCharsets.UTF_8))))
                    .isEqualTo(Message.Rep.ok());

            try (Escrow waiting = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(20))) {
                assertThat(waiting.get(3, 7).payload()).asString(StandardCharsets.UTF_8).isEqualTo("before it stopped");
            }
            assertThatThrownBy(() -> stopped.request(new Message.Tag(0))).as("its session was closed").isInstanceOf(IOException.class);
        }
        assertThat(escrowd.errors(Rejection.IDLE_TIMEOUT)).isEqualTo(1);
        assertThat(escrowd.stats().totalSlots()).isEqualTo(1);
    }

    @Test
    void aSilentSessionThatNobodyWaitsBehindKeepsTheEscrow() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withIdleTimeout(Duration.ofMillis(100)));
        try (RawClient alone = RawClient.connect(escrowd.path())) {
            assertThat(alone.request(new Message.Tag(0))).isEqualTo(new Message.Inf(0, 0));
            Thread.sleep(600);
            assertThat(alone.request(new Message.Tag(0))).isEqualTo(new Message.Inf(0, 0));
        }
        assertThat(escrowd.errors(Rejection.IDLE_TIMEOUT)).isZero();
    }

    @Test
    void aLiveJavaClientKeepsItsSessionWhileAnotherWaits() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withIdleTimeout(Duration.ofSeconds(1)));
        System.setProperty(Escrow.KEEPALIVE_MILLIS, "50");
        try (Escrow holder = Escrow.open(escrowd.path(), 0, 8)) {
            holder.add(0, 0, "old version".getBytes(StandardCharsets.UTF_8));
            System.clearProperty(Escrow.KEEPALIVE_MILLIS);
            assertThatThrownBy(() -> Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(3)))
                    .as("the new version waits for the old one, idle but alive").isInstanceOf(EscrowBusyException.class);
            assertThat(holder.get(0, 0).payload()).asString(StandardCharsets.UTF_8).isEqualTo("old version");
        }
        assertThat(escrowd.errors(Rejection.IDLE_TIMEOUT)).isZero();
    }

    @Test
    void aZeroIdleTimeoutNeverClosesASession() throws Exception {
        escrowd = Escrowd.start(TestDaemon.config(dir).withIdleTimeout(Duration.ZERO));
        try (RawClient silent = RawClient.connect(escrowd.path())) {
            assertThat(silent.request(new Message.Tag(0))).isEqualTo(new Message.Inf(0, 0));
            assertThatThrownBy(() -> Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(1))).isInstanceOf(EscrowBusyException.class);
            assertThat(silent.request(new Message.Tag(0))).isEqualTo(new Message.Inf(0, 0));
        }
    }
}
