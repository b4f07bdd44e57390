package dev.fabric.posix;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The errno a call captured, and its text. Names and descriptions come from the C library itself
 * ({@code strerrorname_np}, {@code strerrordesc_np}, glibc 2.32+, both thread-safe), so every
 * product prints the same {@code ESRCH (No such process)} for the same errno; where the C library
 * lacks them (musl) the text is {@code errno 3}.
 */
@SuppressWarnings("restricted") // reads the C library's constant strings
public final class Errno {

    /** A signal interrupted the call; {@link Downcall#callRetryingInterrupted} calls again. */
    public static final int EINTR = 4;

    static final StructLayout STATE = Linker.Option.captureStateLayout();
    static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final Downcall NAME = Downcall.of("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final Downcall DESCRIPTION = Downcall.of("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    // Long enough for any of the C library's messages.
    private static final long LONGEST_TEXT = 256;

    private Errno() {
    }

    static int of(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The errno's symbolic name ({@code EPERM}), or {@code errno N} when the C library cannot say. */
    public static String name(int errno) {
        return text(NAME, errno);
    }

    /** Name and description: {@code EPERM (Operation not permitted)}; {@code errno N} when the C library cannot say. */
    public static String describe(int errno) {
        String name = name(errno);
        String description = text(DESCRIPTION, errno);
        return name.equals(description) ? name : name + " (" + description + ")";
    }

    private static String text(Downcall function, int errno) {
        if (!function.available()) {
            return "errno " + errno;
        }
        MemorySegment text;
        try {
            text = (MemorySegment) function.handle().invokeExact(errno);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (text.equals(MemorySegment.NULL)) {
            return "errno " + errno;
        }
        return text.reinterpret(LONGEST_TEXT).getString(0);
    }
}
