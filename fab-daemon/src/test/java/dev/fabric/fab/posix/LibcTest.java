package dev.fabric.fab.posix;

import dev.fabric.posix.PosixException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The per-thread credential flip of faba's ring to fabd ({@link Libc#killAsEffectiveUid}): the raw
 * system call is bound correctly, a refused flip signals nothing and changes nothing. That the other
 * threads keep their ids while one flips needs root and a second user: the workspace container's IT
 * builds through it (a build whose commands finish while faba rings fabd).
 */
class LibcTest {

    @Test
    void ringingWithOnesOwnEffectiveUidSignalsAndLeavesTheIdsAsTheyWere() {
        int[] before = Libc.getresuid();
        int me = Libc.geteuid();
        // Signal 0: the permission check alone.
        Libc.killAsEffectiveUid(me, me, Libc.getpid(), 0);
        assertThat(Libc.getresuid()).containsExactly(before);
    }

    @Test
    void aVirtualThreadRingsFromAPlatformThread() throws Exception {
        int me = Libc.geteuid();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                Libc.killAsEffectiveUid(me, me, Libc.getpid(), 0);
            } catch (Throwable t) {
                failure.set(t);
            }
        }).join();
        assertThat(failure.get()).isNull();
    }

    @Test
    void anEffectiveUidThatIsNotOursIsRefusedAndNothingChanges() {
        assumeTrue(Libc.geteuid() != 0, "root may take any uid");
        int[] before = Libc.getresuid();
        int other = before[0] + 4242;
        assertThatThrownBy(() -> Libc.killAsEffectiveUid(other, before[1], Libc.getpid(), 0))
                .isInstanceOf(PosixException.class)
                .satisfies(e -> assertThat(((PosixException) e).errno()).isEqualTo(Libc.EPERM));
        assertThat(Libc.getresuid()).containsExactly(before);
    }
}
