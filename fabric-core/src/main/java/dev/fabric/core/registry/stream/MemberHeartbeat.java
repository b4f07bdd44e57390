package dev.fabric.core.registry.stream;

import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.registry.RegistryClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a member calls each interval: its heartbeat stream, and the signed {@code POST .../heartbeat}
 * for a beat the stream cannot carry (the registry is older, the stream broke, a proxy refuses the
 * upgrade). A refusal about the instance itself (404, 409: unknown, stale, not running) is the
 * registry's answer and is thrown as the signed call would throw it; the stream is tried again on
 * the next beat. Not thread-safe: one heartbeat at a time.
 */
public final class MemberHeartbeat implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MemberHeartbeat.class);

    private final RegistryClient signed;
    private final HeartbeatStream stream;
    private final String id;
    private final long incarnation;
    private boolean fellBack;

    public MemberHeartbeat(RegistryClient signed, HeartbeatStream stream, String id, long incarnation) {
        this.signed = signed;
        this.stream = stream;
        this.id = id;
        this.incarnation = incarnation;
    }

    /**
     * One heartbeat.
     *
     * @return true when it went over the stream, false when by the signed call
     * @throws RegistryCallException the registry's refusal, or status 0 when it cannot be reached either way
     */
    public boolean beat() {
        try {
            stream.beat();
            if (fellBack) {
                log.info("member {}: heartbeats go over the heartbeat stream again", id);
                fellBack = false;
            }
            return true;
        } catch (RegistryCallException e) {
            if (e.status() == 404 || e.status() == 409) {
                throw e;
            }
            if (!fellBack) {
                log.info("member {}: heartbeat stream unavailable ({}); heartbeating with signed requests meanwhile", id, e.getMessage());
                fellBack = true;
            }
        }
        signed.heartbeat(id, incarnation);
        return false;
    }

    @Override
    public void close() {
        stream.close();
    }
}
