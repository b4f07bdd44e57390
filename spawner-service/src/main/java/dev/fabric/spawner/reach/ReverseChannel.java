package dev.fabric.spawner.reach;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A member's outward connection to its bridge (docs/connectivity.md, "Reachable in every mode"):
 * a WebSocket the member opens to the bridge's relay port, over which the requests callers make
 * for it come in. Each request is handed, unchanged, to the member's own port on loopback (its own
 * Tomcat, as to a proxy, so the target the signature covers stays the member's URL), and its
 * answer goes back under the request's id. The member verifies every request itself; the channel
 * adds no trust.
 *
 * <p>While the member runs the channel is kept open: when it closes (the bridge restarted, the
 * network failed) it is opened again, every {@link #RETRY} at most, for as long as the member lives.
 */
public final class ReverseChannel implements AutoCloseable {

    /** The path of the channel on a bridge's relay port. */
    public static final String PATH = "/bridge/v1/channel";

    /** The WebSocket close status a bridge uses to refuse a channel at its limit (1013, "try again later"). */
    public static final int REFUSED = 1013;

    static final Duration RETRY = Duration.ofSeconds(1);
    static final Duration PING = Duration.ofSeconds(5);
    static final int MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

    private static final Logger log = LoggerFactory.getLogger("fabric.member.channel");

    private final URI bridgeUrl;
    private final String memberId;
    private final long incarnation;
    private final URI memberUrl;
    private final RequestSigner signer;
    private final HttpClient opener = FabricRestClients.jdkClientBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpClient local;
    private final Duration requestTimeout;
    /** A bridge's relay port, for the requests for other members that come down this channel (a bridge chain); null: none. */
    private volatile HttpClient relay;
    private volatile boolean closed;
    private volatile WebSocket socket;
    private volatile String bridgeId;

    /** Why a bridge would not hold the channel. */
    public static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    /**
     * @param bridgeUrl the bridge's relay port, {@code http://host:port}
     * @param memberUrl this member's own URL, the target of the requests for it
     * @param localPort the port this member's web server listens on
     */
    public ReverseChannel(URI bridgeUrl, String memberId, long incarnation, URI memberUrl, int localPort, FabricKeys keys,
                          Duration requestTimeout) {
        this.bridgeUrl = Objects.requireNonNull(bridgeUrl, "bridgeUrl");
        this.memberId = memberId;
        this.incarnation = incarnation;
        this.memberUrl = memberUrl;
        this.signer = new RequestSigner(keys, Clock.systemUTC());
        this.requestTimeout = requestTimeout;
        this.local = FabricRestClients.jdkClientBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", localPort))).build();
    }

    /**
     * This member is a bridge reached through another bridge: requests that come down its channel
     * for other members (those reached through it) are handed to its relay port, which relays them
     * on, instead of being refused {@code 421}.
     */
    public void relayOthersTo(InetSocketAddress relayPort) {
        this.relay = FabricRestClients.jdkClientBuilder().version(HttpClient.Version.HTTP_1_1).proxy(ProxySelector.of(relayPort)).build();
    }

    /** The bridge's relay port as the address of an HTTP proxy, for this member's outward calls. */
    public static InetSocketAddress relayAddress(URI bridgeUrl) {
        if (bridgeUrl.getHost() == null || bridgeUrl.getPort() < 1) {
            throw new IllegalArgumentException("the bridge '" + bridgeUrl + "' is not http://host:port (its relay port)");
        }
        return InetSocketAddress.createUnresolved(bridgeUrl.getHost(), bridgeUrl.getPort());
    }

    /**
     * Opens the channel and waits for the bridge's welcome; from then on keeps it open.
     *
     * @return the bridge member's id
     * @throws RefusedException when the bridge refuses it (at its limit) or cannot be reached in {@code timeout}
     */
    public String open(Duration timeout) throws RefusedException, InterruptedException {
        CompletableFuture<String> welcome = new CompletableFuture<>();
        try {
            connect(welcome).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            String id = welcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Thread.ofPlatform().daemon().name("channel-ping-" + memberId).start(this::keepOpen);
            return id;
        } catch (ExecutionException e) {
            throw new RefusedException("the bridge at " + bridgeUrl + " did not take the channel: " + describe(e.getCause()));
        } catch (TimeoutException e) {
            throw new RefusedException("the bridge at " + bridgeUrl + " did not answer within " + timeout.toSeconds() + " s");
        }
    }

    /** The bridge that holds the channel now. */
    public String bridgeId() {
        return bridgeId;
    }

    @Override
    public void close() {
        closed = true;
        WebSocket current = socket;
        if (current != null) {
            current.sendClose(WebSocket.NORMAL_CLOSURE, "member stopping");
        }
    }

    private CompletableFuture<WebSocket> connect(CompletableFuture<String> welcome) {
        URI target = bridgeUrl.resolve(PATH + "?member=" + memberId + "&incarnation=" + incarnation
                + "&url=" + java.net.URLEncoder.encode(memberUrl.toString(), java.nio.charset.StandardCharsets.UTF_8));
        WebSocket.Builder builder = opener.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        signer.sign("GET", target, Map.of(), new byte[0]).forEach(builder::header);
        URI ws = URI.create(target.toString().replaceFirst("^http", "ws"));
        return builder.buildAsync(ws, new Listener(welcome)).thenApply(opened -> socket = opened);
    }

    /** Pings while open (so the bridge's idle timeout spares a quiet member); opens the channel again when it closed. */
    private void keepOpen() {
        long lastPing = System.nanoTime();
        while (!closed) {
            try {
                Thread.sleep(RETRY);
                WebSocket current = socket;
                if (current != null && !current.isOutputClosed() && !current.isInputClosed()) {
                    if (System.nanoTime() - lastPing >= PING.toNanos()) {
                        current.sendPing(ByteBuffer.allocate(0));
                        lastPing = System.nanoTime();
                    }
                    continue;
                }
                CompletableFuture<String> welcome = new CompletableFuture<>();
                connect(welcome).get(10, TimeUnit.SECONDS);
                String id = welcome.get(10, TimeUnit.SECONDS);
                log.info("member {}: channel to bridge {} at {} open again", memberId, id, bridgeUrl);
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                log.warn("member {}: channel to the bridge at {} not open: {}; trying again", memberId, bridgeUrl,
                        describe(e instanceof ExecutionException ? e.getCause() : e));
            }
        }
    }

    private static String describe(Throwable failure) {
        if (failure instanceof java.net.http.WebSocketHandshakeException handshake) {
            return "HTTP " + handshake.getResponse().statusCode() + " to the channel's opening";
        }
        return dev.fabric.core.spring.FabricRestClients.describeFailure(failure);
    }

    /** Answers one relayed request from this member's own port. */
    private RelayFrame.Response answer(RelayFrame.Request request) {
        URI target;
        try {
            target = URI.create(request.target());
        } catch (IllegalArgumentException e) {
            return problem(request.id(), 400, "the relayed target '" + request.target() + "' is not a URL");
        }
        HttpClient to = local;
        if (!Objects.equals(target.getRawAuthority(), memberUrl.getRawAuthority()) || !"http".equals(target.getScheme())) {
            // A member answers for itself only: it is nobody's proxy. A bridge passes it to its relay port, which decides.
            to = relay;
            if (to == null || !"http".equals(target.getScheme())) {
                return problem(request.id(), 421, "member " + memberId + " is " + memberUrl + "; it answers no request for " + target);
            }
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(target).timeout(requestTimeout)
                .method(request.method(), request.body().length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(request.body()));
        for (RelayFrame.Header header : request.headers()) {
            if (!HopByHop.dropped(header.name())) {
                try {
                    builder.header(header.name(), header.value());
                } catch (IllegalArgumentException restricted) {
                    // A field the JDK client sets itself: the member's server sees its own value.
                }
            }
        }
        try {
            HttpResponse<byte[]> response = to.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
            List<RelayFrame.Header> headers = new ArrayList<>();
            response.headers().map().forEach((name, values) -> {
                if (!HopByHop.dropped(name) && !name.startsWith(":")) {
                    values.forEach(value -> headers.add(new RelayFrame.Header(name, value)));
                }
            });
            return new RelayFrame.Response(request.id(), response.statusCode(), headers, response.body());
        } catch (HttpTimeoutException e) {
            return problem(request.id(), 504, "member " + memberId + " did not answer within " + requestTimeout.toSeconds() + " s");
        } catch (IOException e) {
            return problem(request.id(), 502, "member " + memberId + " could not pass the request to its own port: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return problem(request.id(), 503, "member " + memberId + " is stopping");
        }
    }

    private static RelayFrame.Response problem(long id, int status, String detail) {
        String reason = status == 421 ? "misdirected-request" : "member-relay-failed";
        String body = "{\"type\":\"urn:fabric:problem:" + reason + "\",\"reason\":\"" + reason + "\",\"status\":" + status
                + ",\"detail\":\"" + detail.replace("\\", "\\\\").replace("\"", "'") + "\"}";
        return new RelayFrame.Response(id, status, List.of(new RelayFrame.Header("Content-Type", "application/problem+json")),
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void send(WebSocket ws, RelayFrame frame) {
        // The JDK's WebSocket takes one message at a time.
        synchronized (ws) {
            ws.sendBinary(ByteBuffer.wrap(RelayFrameEncoder.encode(frame)), true).join();
        }
    }

    private final class Listener implements WebSocket.Listener {

        private final CompletableFuture<String> welcome;
        private final ByteArrayOutputStream message = new ByteArrayOutputStream();

        Listener(CompletableFuture<String> welcome) {
            this.welcome = welcome;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            if (message.size() + data.remaining() > MAX_MESSAGE_BYTES) {
                ws.sendClose(1009, "message over " + MAX_MESSAGE_BYTES + " bytes");
                return null;
            }
            byte[] part = new byte[data.remaining()];
            data.get(part);
            message.writeBytes(part);
            if (last) {
                byte[] whole = message.toByteArray();
                message.reset();
                handle(ws, whole);
            }
            ws.request(1);
            return null;
        }

        private void handle(WebSocket ws, byte[] bytes) {
            RelayFrame frame;
            try {
                frame = RelayFrameDecoder.decode(ByteBuffer.wrap(bytes));
            } catch (RelayFrameDecoder.MalformedFrameException e) {
                log.warn("member {}: a malformed frame from the bridge ({}); closing the channel", memberId, e.getMessage());
                ws.sendClose(1002, "malformed frame");
                return;
            }
            switch (frame) {
                case RelayFrame.Welcome(String id) -> {
                    bridgeId = id;
                    welcome.complete(id);
                    log.info("member {}: channel to bridge {} at {} open", memberId, id, bridgeUrl);
                }
                case RelayFrame.Request request -> Thread.ofVirtual().name("relayed-" + request.id()).start(() -> {
                    try {
                        send(ws, answer(request));
                    } catch (RuntimeException e) {
                        log.warn("member {}: the answer to relayed request {} did not go out: {}", memberId, request.id(), e.toString());
                    }
                });
                case RelayFrame.Response response ->
                        log.warn("member {}: the bridge sent an answer ({}), which only members send; ignored", memberId, response.id());
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            String why = "closed by the bridge at " + bridgeUrl + " (" + statusCode + (reason.isBlank() ? "" : ": " + reason) + ")";
            if (statusCode == REFUSED) {
                log.error("member {}: the bridge refused the channel: {}", memberId, reason);
            } else if (!closed) {
                log.warn("member {}: channel {}; opening it again", memberId, why);
            }
            welcome.completeExceptionally(new IllegalStateException(statusCode == REFUSED ? reason : why));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            if (!closed) {
                log.warn("member {}: channel to the bridge at {} failed: {}; opening it again", memberId, bridgeUrl, error.toString());
            }
            welcome.completeExceptionally(error);
        }
    }
}
