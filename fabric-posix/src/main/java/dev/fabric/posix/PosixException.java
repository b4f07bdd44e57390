package dev.fabric.posix;

/**
 * A C library call failed: which call, and its errno. Unchecked, like the JDK's own
 * {@code UncheckedIOException}: most callers cannot do better than let it reach the place that
 * reports the failure, and those that can (ESRCH of {@code kill}, ENOTSOCK of {@code getsockopt})
 * catch it and look at {@link #errno()}.
 */
public final class PosixException extends RuntimeException {

    private final String call;
    private final int errno;

    public PosixException(String call, int errno) {
        this.call = call;
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /**
     * {@code kill failed: ESRCH (No such process)}. Made when asked, not when thrown: a call made
     * with borrowed credentials (fab's per-thread uid flip) must run nothing else before it restores them.
     */
    @Override
    public String getMessage() {
        return call + " failed: " + Errno.describe(errno);
    }
}
