package dev.fabric.posix;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DowncallTest {

    private static final Downcall GETPID = Downcall.of("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall KILL = Downcall.capturingErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall UNLINK = Downcall.capturingErrno("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // Above Linux's pid_max (2^22): no such process can exist.
    private static final int NO_SUCH_PID = 1 << 23;

    @Test
    void aCallThatCannotFailReturnsItsValue() {
        assertThat(GETPID.value(h -> (int) h.invokeExact())).isEqualTo((int) ProcessHandle.current().pid());
    }

    @Test
    void aSuccessfulCallReturnsWhatTheFunctionReturned() {
        int self = GETPID.value(h -> (int) h.invokeExact());
        assertThat(KILL.call((h, state) -> (int) h.invokeExact(state, self, 0))).isZero();
    }

    @Test
    void aFailedCallThrowsWithTheErrnoTheCallSet() {
        assertThatThrownBy(() -> KILL.call((h, state) -> (int) h.invokeExact(state, NO_SUCH_PID, 0)))
                .isInstanceOf(PosixException.class)
                .hasMessage("kill failed: ESRCH (No such process)")
                .satisfies(e -> assertThat(((PosixException) e).errno()).isEqualTo(3));
    }

    @Test
    void theExceptionNamesWhatTheCallerSaysItDid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom("/nonexistent/fabric-posix-test");
            assertThatThrownBy(() -> UNLINK.call("unlink /nonexistent/fabric-posix-test", (h, state) -> (int) h.invokeExact(state, path)))
                    .isInstanceOf(PosixException.class)
                    .hasMessage("unlink /nonexistent/fabric-posix-test failed: ENOENT (No such file or directory)");
        }
    }

    @Test
    void aFunctionIsBoundOnFirstUseNotWhenDeclared() {
        Downcall missing = Downcall.capturingErrno("fabric_posix_no_such_function", FunctionDescriptor.of(JAVA_INT));

        assertThat(missing.available()).isFalse();
        assertThatThrownBy(missing::handle)
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessage("libc has no fabric_posix_no_such_function");
    }

    @Test
    void theHandleIsMadeOnceAndKept() {
        Downcall getppid = Downcall.of("getppid", FunctionDescriptor.of(JAVA_INT));
        assertThat(getppid.handle()).isSameAs(getppid.handle());
    }

    @Test
    void aFunctionBoundWithoutErrnoCannotBeCheckedForFailure() {
        assertThatThrownBy(() -> GETPID.call((h, state) -> (int) h.invokeExact()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("value()");
    }

    @Test
    void errnoTextsComeFromTheCLibrary() {
        assertThat(Errno.name(1)).isEqualTo("EPERM");
        assertThat(Errno.describe(1)).isEqualTo("EPERM (Operation not permitted)");
        assertThat(Errno.describe(-5)).isEqualTo("errno -5");
    }
}
