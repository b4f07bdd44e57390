package dev.fabric.spawner.reach;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SplicedConnection;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Mode 4's connection between the two sides of a rendezvous (docs/connectivity.md): a splice, and
 * when the splice opened no connection ({@code no-connection}: a symmetric NAT, a NAT that resets, a
 * firewall) and a bridge both sides can reach is named, a {@link Circuit} through that bridge for the
 * same rendezvous. Both sides decide alike, from the same schedule and start, so both fall back at
 * about the same moment. A peer that never arrived, a refused join or an unreachable registry does
 * not fall back: nobody is there to relay to, or the rendezvous itself failed.
 *
 * <p>The spawner's bootstrap, the member's, and the splice benchmark connect through this one path.
 *
 * <p>A bootstrap's connection that drops before the bootstrap is over ({@link #resume}) is replaced by a
 * circuit through the same bridge, under a follow-up id both sides derive from the rendezvous and the
 * number of drops so far ({@link #followUp}): the rendezvous itself is spent, and the bridge, which pairs
 * what crosses without trusting it, needs no new word from the registry. What crosses is authenticated
 * end to end as on the first connection.
 */
public final class SpliceOrRelay {

    private SpliceOrRelay() {
    }

    /** One side's splice, as its caller runs it (the spawner races it against its member's end). */
    @FunctionalInterface
    public interface Splice {
        SplicedConnection splice() throws SpliceException;
    }

    /**
     * The two sides' connection.
     *
     * @param socket the connection: the spliced TCP connection, or this side's connection to the bridge
     * @param spliced the splice, or null when relayed
     * @param spliceFailure why it was relayed, or null when spliced
     */
    public record Connection(Socket socket, SplicedConnection spliced, SpliceException spliceFailure) {

        public boolean relayed() {
            return spliced == null;
        }
    }

    /** The splice opened no connection, and the circuit through the bridge failed too. */
    public static final class RelayFailedException extends IOException {
        private final transient SpliceException splice;

        RelayFailedException(SpliceException splice, IOException relay) {
            super(relay.getMessage(), relay);
            this.splice = splice;
        }

        /** Why the splice failed (it fell back). */
        public SpliceException splice() {
            return splice;
        }
    }

    /** How many times a bootstrap's connection may drop and be replaced by a circuit before the bootstrap fails. */
    public static final int MAX_DROPS = 3;

    /** The bootstrap's connection dropped, and no bridge is named to go on through. */
    public static final class NoRelayException extends IOException {
        NoRelayException(String message) {
            super(message);
        }
    }

    /**
     * The id of the circuit that replaces a bootstrap's connection after its {@code drop}th drop
     * (1, 2, ...): {@code RENDEZVOUS-rN}. Both sides count the drops of their one shared connection, so
     * both name the same circuit.
     */
    public static String followUp(String rendezvous, int drop) {
        if (drop < 1 || drop > MAX_DROPS) {
            throw new IllegalArgumentException("a bootstrap's connection is replaced at most " + MAX_DROPS + " times, not " + drop);
        }
        return rendezvous + "-r" + drop;
    }

    /**
     * The bootstrap's connection (spliced, or a circuit) dropped before the bootstrap was over: this side's
     * half of the circuit through {@code via} that replaces it, paired with the other side's.
     *
     * @param drop how many times the connection has dropped, this one included (1 the first time)
     * @param keys the fabric keys (the initiator), or null (the peer)
     * @throws NoRelayException when no bridge is named, or it dropped more than {@link #MAX_DROPS} times
     * @throws IOException when the circuit did not open ({@link Circuit.FailedException})
     */
    public static Socket resume(URI via, String rendezvous, int drop, FabricKeys keys, Duration wait) throws IOException {
        if (via == null) {
            throw new NoRelayException("no bridge (via) to relay through");
        }
        if (drop > MAX_DROPS) {
            throw new NoRelayException("it dropped " + drop + " times (at most " + MAX_DROPS + " are replaced)");
        }
        return Circuit.open(via, followUp(rendezvous, drop), keys, wait);
    }

    /** Whether a splice that failed so falls back to a circuit through {@code via}. */
    public static boolean fallsBack(SpliceException failure, URI via) {
        return failure.reason() == SpliceException.Reason.NO_CONNECTION && via != null;
    }

    /**
     * Splices, and falls back to a circuit through {@code via} for {@code rendezvous} when the splice
     * opened no connection.
     *
     * @param via the bridge's relay URL ({@code http://host:port}), or null: no fallback
     * @param keys the fabric keys to open the circuit with (the initiator), or null (the peer, before it holds keys)
     * @param wait how long the circuit waits for the other side, asked when the splice has failed
     * @throws SpliceException when the splice failed and does not fall back ({@link #fallsBack})
     * @throws RelayFailedException when the splice failed and so did the circuit
     */
    public static Connection connect(Splice splice, URI via, String rendezvous, FabricKeys keys, Supplier<Duration> wait)
            throws SpliceException, RelayFailedException {
        try {
            SplicedConnection spliced = splice.splice();
            return new Connection(spliced.socket(), spliced, null);
        } catch (SpliceException e) {
            if (!fallsBack(e, via)) {
                throw e;
            }
            try {
                return new Connection(Circuit.open(via, rendezvous, keys, wait.get()), null, e);
            } catch (IOException relay) {
                throw new RelayFailedException(e, relay);
            }
        }
    }
}
