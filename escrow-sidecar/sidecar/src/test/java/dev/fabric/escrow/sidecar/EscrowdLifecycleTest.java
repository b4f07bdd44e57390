package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowUnavailableException;
import dev.fabric.escrow.daemon.EscrowdListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.health.contributor.Status;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The engine's life inside the app, and the readiness it reports, without a Spring context. */
class EscrowdLifecycleTest {

    @TempDir
    Path dir;

    private EscrowdLifecycle lifecycle(Path socket) {
        EscrowProperties properties = new EscrowProperties(socket, 4, List.of(), List.of(), true, false, Duration.ofMillis(200), 131_072, 16L << 20,
                Duration.ofSeconds(30));
        return new EscrowdLifecycle(properties, new StaticListableBeanFactory().getBeanProvider(EscrowdListener.class));
    }

    @Test
    void readinessIsUpWhileTheSocketAcceptsAndDownWhenItIsGone() throws Exception {
        EscrowdLifecycle lifecycle = lifecycle(dir.resolve("escrow.sock"));
        EscrowHealthIndicator health = new EscrowHealthIndicator(lifecycle);
        assertThat(health.health().getStatus()).as("before start").isEqualTo(Status.DOWN);

        lifecycle.start();
        try {
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);
            Files.delete(dir.resolve("escrow.sock"));
            assertThat(health.health().getStatus()).as("clients would get ENOENT").isEqualTo(Status.DOWN);
        } finally {
            lifecycle.stop();
        }
    }

    @Test
    void stopRefusesNewSessionsAndClosesWhatWasHeld() throws Exception {
        Path socket = dir.resolve("run/escrow/escrow.sock");
        EscrowdLifecycle lifecycle = lifecycle(socket);
        EscrowHealthIndicator health = new EscrowHealthIndicator(lifecycle);
        lifecycle.start();
        assertThat(socket).as("the directory is made when missing").exists();
        try (Escrow escrow = Escrow.open(socket, 0, 4)) {
            escrow.add(1, 0, "state".getBytes());
        }

        lifecycle.stop();

        assertThat(lifecycle.isRunning()).isFalse();
        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(socket).doesNotExist();
        assertThatThrownBy(() -> Escrow.open(socket, 0, 4)).isInstanceOf(EscrowUnavailableException.class);
        assertThat(lifecycle.escrowd().orElseThrow().stats().totalSlots()).as("closed on stop").isZero();
    }

    @Test
    void aLiveEscrowdOnThePathIsNeverReplaced() {
        Path socket = dir.resolve("escrow.sock");
        EscrowdLifecycle first = lifecycle(socket);
        first.start();
        try {
            assertThatThrownBy(() -> lifecycle(socket).start()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Another escrowd owns it");
        } finally {
            first.stop();
        }
    }
}
