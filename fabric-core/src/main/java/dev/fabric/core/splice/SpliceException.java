package dev.fabric.core.splice;

import java.io.IOException;

/** A splice that did not happen, with a stable reason and what was seen. */
public final class SpliceException extends IOException {

    /** Why a splice failed. */
    public enum Reason {
        /** The registry refused the rendezvous (unknown, expired, used, a side taken, a bad signature): see the detail. */
        REFUSED,
        /** The other side did not join within the patience. */
        PEER_NEVER_ARRIVED,
        /** Both joined, but no connection opened within the dialing window (a symmetric NAT, a firewall). */
        NO_CONNECTION,
        /** The registry could not be reached, or answered something unreadable. */
        BROKER_UNREACHABLE
    }

    private final Reason reason;

    public SpliceException(Reason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    public SpliceException(Reason reason, String detail, Throwable cause) {
        super(detail, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
