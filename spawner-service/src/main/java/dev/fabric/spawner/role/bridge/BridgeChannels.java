package dev.fabric.spawner.role.bridge;

import dev.fabric.spawner.reach.RelayFrame;
import dev.fabric.spawner.reach.RelayFrameDecoder;
import dev.fabric.spawner.reach.RelayFrameEncoder;
import dev.fabric.spawner.reach.ReverseChannel;
import io.micrometer.core.instrument.Gauge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.stereotype.Component;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.BinaryWebSocketHandler;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.util.UriComponents;
import org.springframework.web.util.UriComponentsBuilder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reverse channels members keep open to this bridge ({@link ReverseChannel}), by the authority
 * ({@code host:port}) of the member's own URL: the authority relayed requests are addressed to. A
 * member that opens its channel again replaces its old one. A bridge at its limit of channels
 * refuses a new one with close status {@value ReverseChannel#REFUSED} and the reason.
 */
@Component
@Profile("member")
public class BridgeChannels extends BinaryWebSocketHandler {

    private static final Logger log = LoggerFactory.getLogger(BridgeChannels.class);
    private static final String CHANNEL = "fabric.channel";
    private static final String PARTS = "fabric.parts";

    private final BridgeRole role;
    private final Map<String, Channel> byAuthority = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** One member's open channel and the requests that await its answers. */
    record Channel(String memberId, long incarnation, URI memberUrl, WebSocketSession session,
                   Map<Long, CompletableFuture<RelayFrame.Response>> pending) {}

    /** Thrown when the channel closes before the member answered. */
    static final class ChannelClosedException extends RuntimeException {
        ChannelClosedException(String message) {
            super(message);
        }
    }

    public BridgeChannels(BridgeRole role) {
        this.role = role;
        Gauge.builder(BridgeRole.CHANNELS_METRIC, byAuthority, Map::size).description("members' reverse channels open")
                .register(role.meters());
    }

    @Override
    public boolean supportsPartialMessages() {
        return true;
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession session) throws IOException {
        BridgeRole.Running bridge = role.running();
        if (bridge == null) {
            session.close(new CloseStatus(ReverseChannel.REFUSED, "bridge-not-started: this member runs no bridge"));
            return;
        }
        UriComponents query = UriComponentsBuilder.fromUri(session.getUri()).build();
        String member = query.getQueryParams().getFirst("member");
        String url = query.getQueryParams().getFirst("url");
        long incarnation;
        URI memberUrl;
        try {
            incarnation = Long.parseLong(query.getQueryParams().getFirst("incarnation"));
            memberUrl = URI.create(java.net.URLDecoder.decode(url, java.nio.charset.StandardCharsets.UTF_8));
            if (member == null || memberUrl.getRawAuthority() == null) {
                throw new IllegalArgumentException("no member or url");
            }
        } catch (RuntimeException e) {
            session.close(CloseStatus.POLICY_VIOLATION.withReason("a channel names ?member=ID&incarnation=N&url=its own URL"));
            return;
        }
        String authority = memberUrl.getRawAuthority();
        Channel previous = byAuthority.get(authority);
        boolean replacing = previous != null && previous.memberId().equals(member);
        if (previous != null && !replacing && previous.session().isOpen()) {
            // Two members on different hosts may both be 127.0.0.1:PORT: the first keeps it, the second hears why not.
            role.refused("authority-taken");
            session.close(new CloseStatus(ReverseChannel.REFUSED, "authority-taken: " + authority + " is member " + previous.memberId()
                    + "'s at this bridge; advertise another host or port"));
            return;
        }
        if (!replacing && byAuthority.size() >= bridge.settings().maxChannels()) {
            role.refused("channels");
            String reason = "bridge-full: bridge " + bridge.bridgeId() + " holds its limit of " + bridge.settings().maxChannels()
                    + " channels (" + BridgeSettings.MAX_CHANNELS + ")";
            log.warn("refused the channel of member {}: {}", member, reason);
            session.close(new CloseStatus(ReverseChannel.REFUSED, reason.length() > 120 ? reason.substring(0, 120) : reason));
            return;
        }
        Channel channel = new Channel(member, incarnation, memberUrl,
                new ConcurrentWebSocketSessionDecorator(session, (int) bridge.settings().idleTimeout().toMillis(),
                        (int) Math.min(Integer.MAX_VALUE, 4 * bridge.settings().maxCircuitBytes())),
                new ConcurrentHashMap<>());
        if (session instanceof org.springframework.web.socket.adapter.NativeWebSocketSession nativeSession
                && nativeSession.getNativeSession() instanceof jakarta.websocket.Session container) {
            // A channel nothing crossed for so long (not even the member's pings) is gone: close it.
            container.setMaxIdleTimeout(bridge.settings().idleTimeout().toMillis());
        }
        session.getAttributes().put(CHANNEL, channel);
        byAuthority.put(authority, channel);
        if (previous != null && previous.session().isOpen()) {
            previous.session().close(CloseStatus.NORMAL.withReason("replaced by a newer channel of " + member));
        }
        channel.session().sendMessage(new BinaryMessage(RelayFrameEncoder.encode(new RelayFrame.Welcome(bridge.bridgeId()))));
        log.info("member {} incarnation {} ({}) opened its channel", member, incarnation, memberUrl);
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) throws IOException {
        Channel channel = (Channel) session.getAttributes().get(CHANNEL);
        BridgeRole.Running bridge = role.running();
        if (channel == null || bridge == null) {
            return;
        }
        ByteArrayOutputStream parts = (ByteArrayOutputStream) session.getAttributes().computeIfAbsent(PARTS, k -> new ByteArrayOutputStream());
        ByteBuffer payload = message.getPayload();
        if (parts.size() + payload.remaining() > bridge.settings().maxCircuitBytes() + 64 * 1024) {
            session.close(CloseStatus.TOO_BIG_TO_PROCESS.withReason("an answer over " + BridgeSettings.MAX_CIRCUIT_BYTES));
            return;
        }
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        parts.writeBytes(bytes);
        if (!message.isLast()) {
            return;
        }
        byte[] whole = parts.toByteArray();
        parts.reset();
        RelayFrame frame;
        try {
            frame = RelayFrameDecoder.decode(ByteBuffer.wrap(whole));
        } catch (RelayFrameDecoder.MalformedFrameException e) {
            log.warn("member {}: malformed frame ({}); closing its channel", channel.memberId(), e.getMessage());
            session.close(CloseStatus.PROTOCOL_ERROR.withReason("malformed frame"));
            return;
        }
        if (frame instanceof RelayFrame.Response response) {
            CompletableFuture<RelayFrame.Response> waiting = channel.pending().remove(response.id());
            if (waiting != null) {
                waiting.complete(response);
            }
        } else {
            log.warn("member {}: sent a {} frame, which only a bridge sends; ignored", channel.memberId(), frame.getClass().getSimpleName());
        }
    }

    @Override
    public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
        Channel channel = (Channel) session.getAttributes().get(CHANNEL);
        if (channel == null) {
            return;
        }
        byAuthority.remove(channel.memberUrl().getRawAuthority(), channel);
        channel.pending().values().forEach(waiting -> waiting.completeExceptionally(new ChannelClosedException(
                "the channel of member " + channel.memberId() + " closed (" + status + ") before it answered")));
        log.info("member {}: channel closed ({})", channel.memberId(), status);
    }

    /** The channel of the member whose own URL has this authority, or null. */
    Channel channelFor(String authority) {
        return byAuthority.get(authority);
    }

    /** Sends a request down a member's channel; the future completes with its answer. */
    CompletableFuture<RelayFrame.Response> send(Channel channel, String method, String target, java.util.List<RelayFrame.Header> headers,
                                                byte[] body) throws IOException {
        long id = ids.incrementAndGet();
        CompletableFuture<RelayFrame.Response> answer = new CompletableFuture<>();
        channel.pending().put(id, answer);
        try {
            channel.session().sendMessage(new BinaryMessage(RelayFrameEncoder.encode(new RelayFrame.Request(id, method, target, headers, body))));
        } catch (IOException | RuntimeException e) {
            channel.pending().remove(id);
            throw e;
        }
        answer.whenComplete((r, e) -> channel.pending().remove(id));
        return answer;
    }
}
