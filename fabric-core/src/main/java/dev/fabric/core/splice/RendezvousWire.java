package dev.fabric.core.splice;

import java.time.Instant;

/**
 * The JSON of the registry's rendezvous API ({@code docs/api.md}, {@code docs/connectivity.md} mode 4):
 * the one definition the registry writes and the two sides read.
 */
public final class RendezvousWire {

    private RendezvousWire() {
    }

    /**
     * {@code POST /api/v1/rendezvous}, signed with the fabric key by the side that opens it (the
     * initiator, e.g. a spawner).
     *
     * @param peer the fabric id of the other side (the member to be spliced with)
     * @param peerKey the other side's key, base64 SPKI, when it holds no fabric key yet: a member during
     *     bootstrap joins with the key its one-time password derives ({@link BootstrapIdentity}); absent,
     *     the peer joins with the fabric key
     * @param ttlSeconds how long the rendezvous may wait for both sides; absent: the registry's default
     */
    public record Open(String peer, String peerKey, Integer ttlSeconds) {}

    /** The answer to {@link Open}: the rendezvous's id (128 random bits) and when it expires. */
    public record Opened(String id, String peer, Instant expiresAt) {}

    /** Where a rendezvous is. */
    public enum State {
        /** One side, or none, has joined. */
        WAITING,
        /** Both sides have joined: each knows the other's address and when to dial. */
        READY
    }

    /**
     * The answer to {@code POST /rendezvous/v1/{id}/{side}}, which a side sends, signed, from the port it
     * will dial from, until the state is {@link State#READY}.
     *
     * @param observed this side's public address and port, as the registry saw the request come
     * @param peerAddress the other side's, once it has joined
     * @param startInMillis once ready: in how many milliseconds both sides start dialing (relative, so
     *     the sides' clocks need not agree)
     */
    public record Joined(String id, Side side, State state, String observed, String peerAddress, Long startInMillis,
                         Instant expiresAt) {}

    /**
     * {@code POST /management/v1/splices} to a running member in mode 4, signed with the fabric key and
     * sent through its bridge: join rendezvous {@code rendezvous} as its peer, with the fabric key, and
     * serve the spliced connection as a connection to the management port (docs/connectivity.md).
     *
     * @param upgrade whether the caller is relayed through the bridge and retrying (recorded as an upgrade)
     */
    public record Invite(String rendezvous, boolean upgrade) {}

    /** The member's answer to {@link Invite}: {@code 202}, it is joining. */
    public record Joining(String rendezvous) {}
}
