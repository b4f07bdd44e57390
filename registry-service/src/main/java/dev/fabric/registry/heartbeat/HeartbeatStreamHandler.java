package dev.fabric.registry.heartbeat;

import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.registry.stream.HeartbeatFrame;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.registry.instance.InstanceRepository.Touch;
import dev.fabric.registry.instance.InstanceService;
import dev.fabric.registry.instance.RegistryException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.BinaryWebSocketHandler;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A heartbeat stream (docs/registry.md#heartbeat-streams): after the signed handshake
 * ({@link HeartbeatHandshake}) the registry sends {@code {"session", "key", "expiresAt"}}; then each
 * binary message is a {@link HeartbeatFrame}, checked in this order: the session has not expired, the
 * MAC matches the session's key, it speaks for the session's id and incarnation, its sequence number
 * grows, its time lies within the clock-skew window. A heartbeat that passes is recorded by the next
 * batch ({@link HeartbeatWriter}) and acknowledged with its sequence number once committed. Anything
 * refused is answered with a problem document naming the reason and the stream is closed (code 4000 +
 * the HTTP status the signed call would get); the member opens a new one.
 */
@Component
class HeartbeatStreamHandler extends BinaryWebSocketHandler {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatStreamHandler.class);

    private final HeartbeatWriter writer;
    private final InstanceService instances;
    private final StreamProblems problems;
    private final Clock clock;
    private final Duration skew;
    private final Duration writeTimeout;
    private final Counter heartbeats;
    private final HeartbeatStreams streams;

    HeartbeatStreamHandler(HeartbeatWriter writer, InstanceService instances, StreamProblems problems, HeartbeatStreams streams, Clock clock,
                           FabricSecurityProperties security, MeterRegistry meters,
                           @Value("${fabric.registry.writes.timeout:10s}") Duration writeTimeout) {
        this.writer = writer;
        this.streams = streams;
        this.instances = instances;
        this.problems = problems;
        this.clock = clock;
        this.skew = security.signature().skew();
        this.writeTimeout = writeTimeout;
        this.heartbeats = meters.counter("fabric.registry.heartbeats", "path", "stream");
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession socket) throws IOException {
        HeartbeatSession session = session(socket);
        streams.opened(session.id);
        socket.sendMessage(new TextMessage("{\"session\":\"" + session.session + "\",\"key\":\""
                + Base64.getUrlEncoder().withoutPadding().encodeToString(session.registryKey) + "\",\"expiresAt\":\""
                + session.expiresAt + "\"}"));
    }

    @Override
    public void afterConnectionClosed(WebSocketSession socket, CloseStatus status) {
        streams.closed(session(socket).id);
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession socket, BinaryMessage message) throws IOException {
        if (!socket.isOpen()) {
            // A frame that was on its way when the registry refused one and closed the stream: nothing to answer.
            return;
        }
        HeartbeatSession session = session(socket);
        byte[] bytes = new byte[message.getPayloadLength()];
        message.getPayload().get(bytes);
        long seq = 0;
        try {
            HeartbeatFrame frame = check(session, bytes);
            seq = frame.seq();
            record(session);
            heartbeats.increment();
            socket.sendMessage(new BinaryMessage(HeartbeatFrame.ack(seq)));
        } catch (RuntimeException failure) {
            ProblemException refused = problems.of(failure);
            log.info("heartbeat stream of {} incarnation {}: refused ({}: {}); closing it", session.id, session.incarnation,
                    refused.reason(), refused.detail());
            socket.sendMessage(new TextMessage(problems.document(refused, "/api/v1/instances/" + session.id + "/heartbeat-stream", seq)));
            socket.close(new CloseStatus(4000 + refused.status(), refused.reason()));
        }
    }

    private HeartbeatFrame check(HeartbeatSession session, byte[] bytes) {
        Instant now = clock.instant();
        if (!now.isBefore(session.expiresAt)) {
            throw refusal(HttpStatus.UNAUTHORIZED, "session-expired", "the heartbeat session expired at " + session.expiresAt
                    + "; open a new stream with a signed handshake");
        }
        Optional<HeartbeatFrame> opened;
        try {
            opened = HeartbeatFrame.open(bytes, session.mac);
        } catch (IllegalArgumentException e) {
            throw refusal(HttpStatus.BAD_REQUEST, "malformed-frame", e.getMessage());
        }
        HeartbeatFrame frame = opened.orElseThrow(() -> refusal(HttpStatus.UNAUTHORIZED, "bad-mac",
                "the heartbeat's MAC does not match this session's key: altered, forged, or made for another session"));
        if (!frame.id().equals(session.id) || frame.incarnation() != session.incarnation) {
            throw refusal(HttpStatus.FORBIDDEN, "wrong-member", "this stream speaks for " + session.id + " incarnation "
                    + session.incarnation + ", not " + frame.id() + " incarnation " + frame.incarnation() + "; each member opens its own");
        }
        if (frame.seq() <= session.lastSeq) {
            throw refusal(HttpStatus.UNAUTHORIZED, "replayed", "heartbeat " + frame.seq() + " is not after heartbeat "
                    + session.lastSeq + ", the last this stream accepted");
        }
        session.lastSeq = frame.seq();
        Duration off = Duration.between(Instant.ofEpochMilli(frame.sentAtMillis()), now).abs();
        if (off.compareTo(skew) > 0) {
            throw refusal(HttpStatus.UNAUTHORIZED, "expired", "heartbeat " + frame.seq() + " was sent " + off.toMillis()
                    + " ms away from the registry's clock, outside the " + skew.toSeconds() + " s window; keep clocks synchronised");
        }
        return frame;
    }

    /** The batched fast path; an instance that is not RUNNING at that incarnation takes the signed call's slow path. */
    private void record(HeartbeatSession session) {
        boolean recorded;
        try {
            recorded = writer.record(new Touch(session.id, session.incarnation, clock.instant()))
                    .get(writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy", "the heartbeat was not recorded within "
                    + writeTimeout.toMillis() + " ms; retry", Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(HttpStatus.SERVICE_UNAVAILABLE, "registry-busy", "the registry is stopping; retry");
        }
        if (!recorded) {
            instances.slowHeartbeat(session.id, session.incarnation);
        }
    }

    private static RegistryException refusal(HttpStatus status, String reason, String detail) {
        return new RegistryException(status, reason, detail);
    }

    private static HeartbeatSession session(WebSocketSession socket) {
        return (HeartbeatSession) socket.getAttributes().get(HeartbeatHandshake.SESSION);
    }
}
