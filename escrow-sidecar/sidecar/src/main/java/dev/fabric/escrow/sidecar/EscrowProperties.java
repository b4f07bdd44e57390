package dev.fabric.escrow.sidecar;

import dev.fabric.escrow.daemon.EscrowdConfig;
import dev.fabric.escrow.daemon.EscrowdListener;
import dev.fabric.escrow.daemon.PeerPolicy;
import dev.fabric.escrow.descriptor.Posix;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sidecar's escrowd ({@code fabric.escrow.*}; in the environment {@code FABRIC_ESCROW_SOCKETPATH},
 * {@code FABRIC_ESCROW_NRTAGS}, {@code FABRIC_ESCROW_ALLOWEDUIDS=10001,10002}, ...).
 *
 * @param socketPath the escrow socket, in the directory the app container shares (default
 *        {@code /run/escrow/escrow.sock}); {@code <path>.stats} and {@code <path>.lock} sit beside
 *        it. At most 107 bytes, the kernel's limit for a socket path.
 * @param nrTags tags, fixed for the daemon's life: {@code 0 <= tag < nrTags} (default 32, at most 32768)
 * @param allowedUids peer uids allowed to connect (default: empty, which means the sidecar's own uid
 *        when {@code allowedGids} is empty too). The socket file is mode 0600 whatever this says, so
 *        a peer with another uid needs root's override: run the app container as the sidecar's uid.
 * @param allowedGids peer gids allowed to connect (default: none)
 * @param force replace a stale socket file left by an escrowd that died (default true: in a pod the
 *        socket directory outlives a crashed sidecar container; a live escrowd on the path is
 *        never replaced, its lock file says it is there)
 * @param verbose print the C escrow's message trace on stderr (default false)
 * @param shutdownGrace on shutdown, how long the current session may go on before it is cut
 *        (default 5s); new sessions are refused at once
 * @param maxSlots slots held at most over all tags (default 131072); an ADD past it answers
 *        {@code -28 "Escrow full: ..."}
 * @param maxPayloadBytes payload bytes held at most over all slots (default 16 MiB); an ADD past it
 *        answers {@code -28 "Escrow full: ..."}
 * @param idleTimeout how long a session's client may stay silent while another client waits for
 *        the session before the session is closed (default 30s; 0 never): a stopped or hung app
 *        container must not hold the escrow for ever
 */
@ConfigurationProperties("fabric.escrow")
@Validated
public record EscrowProperties(
        @NotNull @DefaultValue("/run/escrow/escrow.sock") Path socketPath,
        @Min(value = 1, message = "must be between 1 and 32768 (tags travel as int16); the default is 32")
        @Max(value = 32768, message = "must be between 1 and 32768 (tags travel as int16); the default is 32")
        @DefaultValue("32") int nrTags,
        @NotNull @DefaultValue List<@NotNull @PositiveOrZero Integer> allowedUids,
        @NotNull @DefaultValue List<@NotNull @PositiveOrZero Integer> allowedGids,
        @DefaultValue("true") boolean force,
        @DefaultValue("false") boolean verbose,
        @NotNull @DefaultValue("5s") Duration shutdownGrace,
        @Min(value = 1, message = "must be at least 1; the default is 131072") @DefaultValue("131072") int maxSlots,
        @PositiveOrZero @DefaultValue("16777216") long maxPayloadBytes,
        @NotNull @DefaultValue("30s") Duration idleTimeout) {

    /** Who may connect: the listed uids and gids, or the sidecar's own uid when both lists are empty. */
    public PeerPolicy peers() {
        Set<Integer> uids = new HashSet<>(allowedUids);
        if (uids.isEmpty() && allowedGids.isEmpty()) {
            uids.add(Posix.getuid());
        }
        return new PeerPolicy(uids, Set.copyOf(allowedGids));
    }

    /** The engine's configuration, with {@code listener} told of every change. */
    public EscrowdConfig toConfig(EscrowdListener listener) {
        return EscrowdConfig.of(socketPath.toAbsolutePath()).withNrTags(nrTags).withForce(force).withPeers(peers())
                .withTrace(verbose ? System.err : null).withShutdownGrace(shutdownGrace).withListener(listener)
                .withMaxSlots(maxSlots).withMaxPayloadBytes(maxPayloadBytes).withIdleTimeout(idleTimeout);
    }
}
