package dev.fabric.core.registry.stream;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.spring.FabricRestClients;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;

/**
 * A member's heartbeats over one kept-open stream to the registry (docs/registry.md#heartbeat-streams):
 * one signed handshake per session, then each heartbeat a small frame proven with HMAC-SHA256 under a
 * key only this member and the registry hold. {@link #beat()} returns once the registry has committed
 * the heartbeat, as the signed {@code POST .../heartbeat} does; a refusal is a
 * {@link RegistryCallException} with the same statuses and reasons. One member, one incarnation; not
 * thread-safe (a member heartbeats from one thread).
 */
public final class HeartbeatStream implements AutoCloseable {

    private final URI baseUrl;
    private final String id;
    private final long incarnation;
    private final Duration timeout;
    private final Clock clock;
    private final FabricKeys keys;
    private final HttpClient http;

    private HeartbeatChannel session;
    private long seq;

    public HeartbeatStream(URI baseUrl, FabricKeys keys, String id, long incarnation, Duration timeout, Clock clock) {
        this.baseUrl = baseUrl;
        this.id = id;
        this.incarnation = incarnation;
        this.timeout = timeout;
        this.clock = clock;
        this.keys = keys;
        this.http = FabricRestClients.jdkClientBuilder().connectTimeout(timeout).build();
    }

    /**
     * One heartbeat, opening a session first when none is open. An expired or dropped session is
     * opened again once and the heartbeat sent on the new one.
     *
     * @throws RegistryCallException the registry's refusal (status and reason), or status 0 when it cannot be reached
     */
    public void beat() {
        boolean fresh = session == null;
        if (fresh) {
            session = HeartbeatChannel.open(http, baseUrl, keys, id, incarnation, timeout);
        }
        try {
            session.beat(new HeartbeatFrame(++seq, clock.millis(), incarnation, id));
        } catch (RegistryCallException e) {
            close();
            boolean retry = !fresh && (e.unreachable() || "session-expired".equals(e.reason()));
            if (!retry) {
                throw e;
            }
            session = HeartbeatChannel.open(http, baseUrl, keys, id, incarnation, timeout);
            try {
                session.beat(new HeartbeatFrame(++seq, clock.millis(), incarnation, id));
            } catch (RegistryCallException again) {
                close();
                throw again;
            }
        }
    }

    /** Whether a session is open now. */
    public boolean isOpen() {
        return session != null;
    }

    @Override
    public void close() {
        HeartbeatChannel open = session;
        session = null;
        if (open != null) {
            open.close();
        }
    }
}
