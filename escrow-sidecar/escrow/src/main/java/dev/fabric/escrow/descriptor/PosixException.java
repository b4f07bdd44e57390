package dev.fabric.escrow.descriptor;

import java.io.IOException;

/** A system call failed; {@link #errno()} is the C errno. */
public final class PosixException extends IOException {

    private final int errno;

    public PosixException(String call, int errno) {
        super(call + " failed: errno " + errno + " (" + Posix.name(errno) + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
