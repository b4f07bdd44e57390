package dev.fabric.spawner.member;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SocketPipe;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.SplicedConnection;
import dev.fabric.core.splice.Splicer;
import dev.fabric.spawner.reach.Circuit;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.Semaphore;

/**
 * A running member in mode 4, after its bootstrap: a caller that cannot reach it opens a rendezvous at
 * the registry and asks it, through its bridge, to join (docs/connectivity.md, "Reaching a mode 4 member
 * after its bootstrap"). The member joins as the peer, signed with the fabric key, dials, and serves the
 * spliced connection as one to its own management port, so every request over it is verified as on any
 * other path. It records the outcome in its registration ({@code splice.on-demand}).
 */
@RestController
@Profile("member")
public class OnDemandSpliceController {

    /** Splices being made or open at once; one more is refused, and its caller goes through the bridge. */
    static final int MAX_SPLICES = 16;

    private static final Logger log = LoggerFactory.getLogger("fabric.member.splice");

    private final MemberNode node;
    private final Semaphore splices = new Semaphore(MAX_SPLICES);

    public OnDemandSpliceController(MemberNode node) {
        this.node = node;
    }

    @Operation(summary = "Mode 4: join a rendezvous a caller opened at the registry, and serve the spliced connection as one to "
            + "this port (sent through the member's bridge, signed)")
    @ProblemAnswer(status = 400, reasons = "invalid-rendezvous")
    @ProblemAnswer(status = 409, reasons = "not-spliced")
    @ProblemAnswer(status = 503, reasons = {"not-ready", "too-many-splices"})
    @PostMapping("/management/v1/splices")
    @ResponseStatus(HttpStatus.ACCEPTED)
    public RendezvousWire.Joining join(@RequestBody RendezvousWire.Invite invite) {
        String id = node.settings().serviceId();
        if (invite.rendezvous() == null || !invite.rendezvous().matches(Circuit.RENDEZVOUS_PATTERN)) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-rendezvous", "a rendezvous id is 8 to 64 characters of "
                    + "A-Z, a-z, 0-9, '_' and '-', as the registry makes them, not '" + invite.rendezvous() + "'");
        }
        if (node.settings().connectivity() != Connectivity.SPLICED) {
            throw new SpawnerException(HttpStatus.CONFLICT, "not-spliced", "member " + id + " runs in mode "
                    + node.settings().connectivity() + ", not SPLICED: call it directly or through its bridge");
        }
        if (node.phase() != MemberNode.Phase.RUNNING) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "not-ready", "member " + id + " is " + node.phase()
                    + "; retry once it is RUNNING");
        }
        if (!splices.tryAcquire()) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "too-many-splices", "member " + id + " has " + MAX_SPLICES
                    + " spliced connections open or being made; go through its bridge");
        }
        Thread.ofVirtual().name("splice-" + invite.rendezvous()).start(() -> splice(invite));
        return new RendezvousWire.Joining(invite.rendezvous());
    }

    private void splice(RendezvousWire.Invite invite) {
        MemberSettings settings = node.settings();
        boolean released = false;
        try {
            Splicer splicer = new Splicer(settings.registryUrl(), new RequestSigner(node.keys().orElseThrow(), Clock.systemUTC()),
                    SpliceSchedule.ON_DEMAND, Clock.systemUTC());
            SplicedConnection spliced = splicer.splice(invite.rendezvous(), Side.PEER);
            URI own = node.managementUrl();
            Socket server;
            try {
                server = new Socket(own.getHost(), own.getPort());
            } catch (IOException e) {
                spliced.close();
                log.warn("member {}: spliced with a caller, but cannot reach its own port {}: {}", settings.serviceId(), own, e.getMessage());
                return;
            }
            SocketPipe.Joined joined = SocketPipe.join(spliced.socket(), server);
            released = true;
            joined.closed().whenComplete((r, e) -> splices.release());
            String how = "spliced " + spliced.local() + " <-> " + spliced.remote() + (invite.upgrade() ? " (an upgrade from the bridge)" : "");
            log.info("member {}: {} on demand (rendezvous {}, dial {}, {} ms)", settings.serviceId(), how, invite.rendezvous(),
                    spliced.attempts(), spliced.dialing().toMillis());
            node.reachedOnDemand(how);
        } catch (SpliceException e) {
            String reason = e.reason().name().toLowerCase(Locale.ROOT).replace('_', '-');
            log.info("member {}: the splice of rendezvous {} failed ({}): {}", settings.serviceId(), invite.rendezvous(), reason,
                    e.getMessage());
            node.reachedOnDemand("relayed through bridge " + node.viaBridge() + " (splice failed (" + reason + "))");
        } catch (IOException | RuntimeException e) {
            log.warn("member {}: the splice of rendezvous {} failed: {}", settings.serviceId(), invite.rendezvous(), e.getMessage());
        } finally {
            if (!released) {
                splices.release();
            }
        }
    }
}
