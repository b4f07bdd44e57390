package dev.fabric.spawner.member;

import dev.fabric.spawner.contract.Durations;
import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.reach.ReverseChannel;
import dev.fabric.spawner.contract.OneAtATime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Profile;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientResponseException;

import dev.fabric.core.signature.RequestSigner;
import dev.fabric.spawner.reach.SpliceOrRelay;
import dev.fabric.core.splice.BootstrapIdentity;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SocketPipe;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.SplicedConnection;
import dev.fabric.core.splice.Splicer;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The member's side of the bootstrap handshake, once its port serves: modes 1 and 2 dial the
 * spawner and redeem the one-time password; mode 3 waits for the spawner to dial in; mode 4 splices
 * a connection with the spawner through the registry and serves the spawner's calls over it. Then it waits
 * to be configured. Each failure exits with its {@link BootstrapExit} status.
 */
@Component
@Profile("member")
public class MemberBootstrap {

    private static final Logger log = LoggerFactory.getLogger("fabric.member.bootstrap");

    private final MemberNode node;
    private final MemberProperties properties;
    private final OneAtATime heartbeats = new OneAtATime();

    public MemberBootstrap(MemberNode node, MemberProperties properties) {
        this.node = node;
        this.properties = properties;
    }

    @EventListener(ApplicationReadyEvent.class)
    public void ready() {
        Thread.ofVirtual().name("member-bootstrap").start(this::run);
    }

    /** At a fixed rate on a thread of its own, so the member's own supervision rounds never hold it back ({@link OneAtATime}). */
    @Scheduled(fixedRateString = "${fabric.member.heartbeat-interval:2s}")
    public void heartbeat() {
        heartbeats.run(node::heartbeat);
    }

    private void run() {
        MemberSettings settings = node.settings();
        try {
            if (settings.connectivity() == Connectivity.SPLICED) {
                if (!splice(settings)) {
                    return;
                }
                if (!node.awaitKeys(properties.configureTimeout())) {
                    node.exit(BootstrapExit.NOT_CONFIGURED, "spliced, but the spawner sent no keys over the splice within "
                            + Durations.text(properties.configureTimeout()));
                    return;
                }
            } else if (settings.connectivity() == Connectivity.FIREWALL_FROM_SERVICE) {
                log.info("member {}: mode 3, waiting for the spawner to dial {}", settings.serviceId(), node.managementUrl());
                if (!node.awaitKeys(properties.configureTimeout())) {
                    node.exit(BootstrapExit.NOT_CONFIGURED, "the spawner did not dial in within " + Durations.text(properties.configureTimeout()));
                    return;
                }
            } else {
                redeem(settings);
            }
            if (!node.awaitConfiguration(properties.configureTimeout())) {
                node.exit(BootstrapExit.NOT_CONFIGURED, "keys received, but the spawner did not configure a role within "
                        + Durations.text(properties.configureTimeout()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Mode 4: meet the spawner at its rendezvous, signed with the identity the one-time password
     * derives, splice one connection with it, and join that connection to this member's own web
     * server: the spawner's hello, key offer, setup check and configuration arrive over it as
     * ordinary HTTP (docs/connectivity.md). A splice that fails ends the member with
     * {@link BootstrapExit#SPAWNER_UNREACHABLE} and the reason.
     */
    private boolean splice(MemberSettings settings) {
        String id = settings.serviceId();
        Splicer splicer = new Splicer(settings.registryUrl(), new RequestSigner(BootstrapIdentity.of(settings.otp(), id), Clock.systemUTC()),
                SpliceSchedule.DEFAULT.withPatience(properties.spawnerTimeout()), Clock.systemUTC());
        Socket connection;
        try {
            SpliceOrRelay.Connection connected = SpliceOrRelay.connect(() -> splicer.splice(settings.rendezvous(), Side.PEER),
                    settings.via(), settings.rendezvous(), null, properties::spawnerTimeout);
            connection = connected.socket();
            if (connected.relayed()) {
                // The fallback: a circuit through the bridge both sides can reach, for the same rendezvous.
                String reason = reason(connected.spliceFailure());
                node.splicedWith("splice failed (" + reason + ")", true);
                log.info("member {}: the splice failed ({}); relayed through the bridge at {}", id,
                        connected.spliceFailure().getMessage(), settings.via());
            } else {
                SplicedConnection spliced = connected.spliced();
                node.splicedWith("spliced " + spliced.local() + " <-> " + spliced.remote(), false);
                log.info("member {}: spliced with its spawner, {} <-> {} (dial {}, {} ms); serving its management API over it", id,
                        spliced.local(), spliced.remote(), spliced.attempts(), spliced.dialing().toMillis());
            }
        } catch (SpliceException e) {
            node.exit(BootstrapExit.SPAWNER_UNREACHABLE, "mode 4: could not splice a connection with the spawner ("
                    + reason(e) + "): " + e.getMessage());
            return false;
        } catch (SpliceOrRelay.RelayFailedException relayFailure) {
            node.exit(BootstrapExit.SPAWNER_UNREACHABLE, "mode 4: could not splice a connection with the spawner ("
                    + reason(relayFailure.splice()) + "), and the relay through the bridge at " + settings.via() + " failed too: "
                    + relayFailure.getMessage());
            return false;
        }
        try {
            carry(connection, settings, 0);
        } catch (IOException e) {
            node.exit(BootstrapExit.SPAWNER_UNREACHABLE, "mode 4: connected, but cannot reach its own web server at "
                    + node.managementUrl() + ": " + e.getMessage());
            return false;
        }
        return true;
    }

    /**
     * Joins a bootstrap connection (the splice, or a circuit) to this member's own web server, and
     * watches it: one that ends before the member is configured dropped ({@link #dropped}). Once the
     * member runs, its spawner closes it, and that is the end of it.
     */
    private void carry(Socket connection, MemberSettings settings, int drops) throws IOException {
        URI own = node.managementUrl();
        Socket server = new Socket(own.getHost(), own.getPort());
        SocketPipe.join(connection, server).closed().whenComplete((done, error) ->
                Thread.ofVirtual().name("member-bootstrap-dropped").start(() -> dropped(settings, drops + 1)));
    }

    /**
     * Mode 4: the bootstrap's connection ended before the member was configured, so it dropped (a NAT
     * that forgot it, a reset, a bridge that went). The bootstrap goes on over a circuit through the
     * bridge ({@link SpliceOrRelay#resume}), which the spawner opens too when its call over the dropped
     * connection fails; without a bridge, or when the circuit does not open, the member exits
     * {@link BootstrapExit#SPAWNER_UNREACHABLE} with why: it is not left waiting unconfigured.
     */
    private void dropped(MemberSettings settings, int drop) {
        if (node.bootstrapOver()) {
            return;
        }
        String id = settings.serviceId();
        String before = node.phase() == MemberNode.Phase.AWAITING_KEYS ? "before its keys arrived" : "before it was configured";
        String what = "mode 4: the connection with its spawner dropped " + before;
        log.warn("member {}: {}", id, what);
        Socket circuit;
        try {
            // As long as it would wait for its spawner's keys and configuration: a spawner that was not told of the drop (a
            // reset that reached only this side) sees it when its call times out (30 s), and then opens its half.
            circuit = SpliceOrRelay.resume(settings.via(), settings.rendezvous(), drop, null, properties.configureTimeout());
        } catch (SpliceOrRelay.NoRelayException e) {
            if (!node.bootstrapOver()) {
                node.exit(BootstrapExit.SPAWNER_UNREACHABLE, what + ", and " + e.getMessage());
            }
            return;
        } catch (IOException e) {
            if (node.bootstrapOver()) {
                log.info("member {}: no circuit replaced its dropped bootstrap connection, and none was needed: {}", id, e.getMessage());
            } else {
                node.exit(BootstrapExit.SPAWNER_UNREACHABLE, what + ", and the relay through the bridge at " + settings.via()
                        + " failed too: " + e.getMessage());
            }
            return;
        }
        if (node.bootstrapOver()) {
            closeQuietly(circuit);
            return;
        }
        String followUp = SpliceOrRelay.followUp(settings.rendezvous(), drop);
        String earlier = node.bootstrapPath();
        node.splicedWith((earlier == null ? "" : earlier + "; ") + "dropped " + before + ", went on over circuit " + followUp, true);
        log.info("member {}: its dropped bootstrap connection is replaced by circuit {} through the bridge at {}", id, followUp,
                settings.via());
        try {
            carry(circuit, settings, drop);
        } catch (IOException e) {
            closeQuietly(circuit);
            node.exit(BootstrapExit.SPAWNER_UNREACHABLE, what + ", and then it could not reach its own web server at "
                    + node.managementUrl() + ": " + e.getMessage());
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static String reason(SpliceException e) {
        return e.reason().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * Modes 1 and 2: dial the spawner, retrying while it cannot be reached or fails, until the
     * deadline. A retry is safe: the spawner answers the same request with the same keys. A member
     * with a bridge ({@code FABRIC_VIA}) sends it through the bridge's relay port, as it sends its
     * registry calls, and directly when the bridge cannot be reached or cannot pass it on
     * (docs/connectivity.md): a member that sees only its bridge redeems all the same.
     */
    private void redeem(MemberSettings settings) throws InterruptedException {
        // Unsigned: the member has no keys yet; its password is the credential. The bridge adds no trust: the keys come
        // back sealed to this member's ephemeral key, bound to its id.
        RestClient direct = FabricRestClients.plain(Duration.ofSeconds(2), Duration.ofSeconds(10)).build();
        RestClient bridged = settings.via() == null ? null
                : FabricRestClients.plain(Duration.ofSeconds(2), Duration.ofSeconds(10), ReverseChannel.relayAddress(settings.via())).build();
        URI redeemUrl = settings.spawnerUrl().resolve("/bootstrap/v1/redeem");
        BootstrapWire.Redeem request = new BootstrapWire.Redeem(settings.serviceId(), settings.incarnation(), settings.otp().reveal(),
                node.publicKey(), node.managementUrl().toString(), node.bootstrapKey());
        Instant deadline = Instant.now().plus(properties.spawnerTimeout());
        String lastFailure = "";
        while (Instant.now().isBefore(deadline)) {
            Attempt attempt = bridged == null ? Attempt.failed("") : attempt(bridged, redeemUrl, request, "through the bridge at " + settings.via());
            if (attempt.failure() != null) {
                Attempt straight = attempt(direct, redeemUrl, request, "directly");
                lastFailure = bridged == null ? straight.failure() : attempt.failure() + "; " + straight.failure();
                attempt = straight;
            }
            if (attempt.failure() == null) {
                return;
            }
            Thread.sleep(250);
        }
        node.exit(BootstrapExit.SPAWNER_UNREACHABLE, "could not reach the spawner at " + redeemUrl
                + (bridged == null ? "" : " (through the bridge at " + settings.via() + " nor directly)") + " within "
                + Durations.text(properties.spawnerTimeout()) + ": " + lastFailure);
    }

    /** One redemption: {@code failure} null when it is over (the keys are in, or the member is exiting), else why to try again. */
    private record Attempt(String failure) {
        static final Attempt OVER = new Attempt(null);

        static Attempt failed(String failure) {
            return new Attempt(failure);
        }
    }

    private Attempt attempt(RestClient spawner, URI redeemUrl, BootstrapWire.Redeem request, String how) {
        MemberSettings settings = node.settings();
        try {
            BootstrapWire.Released released = spawner.post().uri(redeemUrl).body(request).retrieve().body(BootstrapWire.Released.class);
            if (released == null || released.keys() == null) {
                node.exit(BootstrapExit.KEYS_UNSEALABLE, "the spawner answered without keys");
                return Attempt.OVER;
            }
            node.deliver(released.keys(), released.keyId(), URI.create(released.registryUrl()));
            log.info("member {}: one-time password redeemed at {} {}", settings.serviceId(), settings.spawnerUrl(), how);
            return Attempt.OVER;
        } catch (RestClientResponseException e) {
            Problem problem = Problem.decode(e, "the spawner");
            if (e.getStatusCode().is5xxServerError() || problem.reason() != null && problem.reason().startsWith("bridge-")) {
                // The spawner failed, or the bridge could not pass the request on (no route, destination unreachable).
                return Attempt.failed(how + ": HTTP " + e.getStatusCode().value() + (problem.hasReason() ? " " + problem.reason() : ""));
            }
            node.exit(BootstrapExit.OTP_REFUSED, "the spawner refused the redeem: " + problem.message());
            return Attempt.OVER;
        } catch (ResourceAccessException e) {
            return Attempt.failed(how + ": " + e.getMostSpecificCause());
        } catch (RuntimeException e) {
            // deliver() has already chosen the exit status
            return Attempt.OVER;
        }
    }
}
