package dev.fabric.fab.posix;

/** A system call that failed: its name and errno. */
public final class PosixException extends RuntimeException {
    private final int errno;

    public PosixException(String call, int errno) {
        super(call + " failed: " + Libc.errnoName(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
