package dev.fabric.registry.rendezvous;

import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open rendezvous, in this registry's memory: a rendezvous lives a minute or so, and a registry
 * restart in that minute makes both sides fail their splice and fall back, which costs less than a
 * table. With several registry replicas, both sides of a splice must reach the same one (they use the
 * URL the opener used). A spent or expired rendezvous is remembered until {@link #FORGET_AFTER} past
 * its expiry, so a late or replayed join hears why it is refused.
 */
@Service
public class RendezvousService {

    static final String METRIC = "fabric.registry.rendezvous";
    private static final Duration FORGET_AFTER = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger("fabric.registry.rendezvous");

    private final Map<String, Rendezvous> open = new ConcurrentHashMap<>();
    private final RendezvousProperties properties;
    private final Clock clock;
    private final MeterRegistry meters;
    private final SecureRandom random = new SecureRandom();

    public RendezvousService(RendezvousProperties properties, Clock clock, MeterRegistry meters) {
        this.properties = properties;
        this.clock = clock;
        this.meters = meters;
    }

    /** Opens a rendezvous for {@code peer}, whose join must be signed with {@code peerKey} (null: the fabric key). */
    public RendezvousWire.Opened open(String peer, PublicKey peerKey, Duration ttl) {
        Instant now = clock.instant();
        forgetOld(now);
        long live = open.values().stream().filter(r -> !r.used() && now.isBefore(r.expiresAt())).count();
        if (live >= properties.maxOpen()) {
            count("full");
            throw RendezvousRefusal.full(properties.maxOpen());
        }
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        String id = "rv-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Rendezvous rendezvous = new Rendezvous(id, peer, peerKey, now.plus(ttl));
        open.put(id, rendezvous);
        count("opened");
        log.info("rendezvous {} opened for {} (peer signs with {}), expires in {}", id, peer,
                peerKey == null ? "the fabric key" : "its bootstrap identity", ttl);
        return new RendezvousWire.Opened(id, peer, rendezvous.expiresAt());
    }

    /** The rendezvous {@code id}, to check a join's signature against before {@link #join}. */
    Rendezvous find(String id) {
        Rendezvous rendezvous = open.get(id);
        if (rendezvous == null) {
            throw RendezvousRefusal.unknown(id);
        }
        return rendezvous;
    }

    /** Records a verified join from {@code address} ({@code ip:port} as this registry saw the connection). */
    public RendezvousWire.Joined join(String id, Side side, String address) {
        Rendezvous rendezvous = find(id);
        Instant now = clock.instant();
        if (!now.isBefore(rendezvous.expiresAt()) && !rendezvous.used()) {
            count("expired-join");
            throw RendezvousRefusal.expired(id);
        }
        RendezvousWire.Joined joined;
        try {
            joined = rendezvous.join(side, address, now, properties.startDelay());
        } catch (RuntimeException refused) {
            count("refused-join");
            throw refused;
        }
        if (joined.state() == RendezvousWire.State.READY && rendezvous.used()) {
            count("ready");
            log.info("rendezvous {} brokered: {}", id, rendezvous.observed());
        }
        return joined;
    }

    /** What the registry knows of rendezvous {@code id}: its sides' observed addresses. */
    public Map<Side, String> observed(String id) {
        return find(id).observed();
    }

    Duration ttl(Integer seconds) {
        if (seconds == null) {
            return properties.ttl();
        }
        Duration asked = Duration.ofSeconds(seconds);
        if (seconds < 1 || asked.compareTo(properties.maxTtl()) > 0) {
            throw RendezvousRefusal.badRequest("bad-ttl", "ttlSeconds must be between 1 and " + properties.maxTtl().toSeconds()
                    + " (fabric.registry.rendezvous.max-ttl), not " + seconds);
        }
        return asked;
    }

    private void forgetOld(Instant now) {
        open.values().removeIf(r -> now.isAfter(r.expiresAt().plus(FORGET_AFTER)));
    }

    void count(String outcome) {
        meters.counter(METRIC, "outcome", outcome).increment();
    }
}
