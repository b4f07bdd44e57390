package dev.fabric.core.registry.stream;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.problem.Problem;
import dev.fabric.core.registry.RegistryCallException;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.signature.RequestSigner;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import javax.crypto.Mac;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One session of a heartbeat stream: the signed handshake, the key it derives, and frames sent one at
 * a time, each answered by the registry's acknowledgement or refusal. {@link HeartbeatStream} is what
 * a member uses; this is the protocol step by step (docs/registry.md#heartbeat-streams).
 */
public final class HeartbeatChannel implements AutoCloseable {

    /** The handshake, a WebSocket upgrade: {@code GET} it signed, with {@code ?incarnation=N&key=K}. */
    public static final String PATH = "/api/v1/instances/{id}/heartbeat-stream";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI baseUrl;
    private final String id;
    private final Duration timeout;
    private final WebSocket socket;
    private final Inbox inbox;
    private final Mac mac;
    private final String session;

    private HeartbeatChannel(URI baseUrl, String id, Duration timeout, WebSocket socket, Inbox inbox, Mac mac, String session) {
        this.baseUrl = baseUrl;
        this.id = id;
        this.timeout = timeout;
        this.socket = socket;
        this.inbox = inbox;
        this.mac = mac;
        this.session = session;
    }

    /**
     * Opens a session for one incarnation of a member: a signed upgrade whose target carries the
     * incarnation and a fresh ephemeral X25519 key, then the registry's hello with its own.
     *
     * @throws RegistryCallException the registry's refusal, or status 0 when it cannot be reached
     */
    public static HeartbeatChannel open(HttpClient http, URI baseUrl, FabricKeys keys, String id, long incarnation, Duration timeout) {
        KeyPair ephemeral = KeySealing.newEphemeralKeyPair();
        byte[] memberSpki = ephemeral.getPublic().getEncoded();
        URI target = baseUrl.resolve(PATH.replace("{id}", URLEncoder.encode(id, StandardCharsets.UTF_8)) + "?incarnation=" + incarnation
                + "&key=" + Base64.getUrlEncoder().withoutPadding().encodeToString(memberSpki));
        Inbox inbox = new Inbox();
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(timeout);
        new RequestSigner(keys, Clock.systemUTC()).sign("GET", target, Map.of(), new byte[0]).forEach(builder::header);
        WebSocket socket;
        try {
            socket = builder.buildAsync(URI.create(target.toString().replaceFirst("^http", "ws")), inbox)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw handshakeFailure(baseUrl, id, e.getCause());
        } catch (TimeoutException e) {
            throw unreachable(baseUrl, id, "the handshake was not answered within " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(baseUrl, id, "interrupted", e);
        }
        Object hello = inbox.next(timeout);
        JsonNode answer = hello instanceof String text ? JSON.readTree(text) : null;
        if (answer == null || !answer.has("session")) {
            socket.abort();
            throw failure(baseUrl, id, hello, timeout);
        }
        String session = answer.get("session").asString();
        byte[] registrySpki = Base64.getUrlDecoder().decode(answer.get("key").asString());
        Mac mac = HeartbeatSessionKey.mac(ephemeral.getPrivate(), KeySealing.publicKeyFromSpki(registrySpki), memberSpki, registrySpki,
                id, incarnation, session);
        return new HeartbeatChannel(baseUrl, id, timeout, socket, inbox, mac, session);
    }

    /** The session id the registry gave. */
    public String session() {
        return session;
    }

    /**
     * Sends one heartbeat and waits for its acknowledgement.
     *
     * @throws RegistryCallException the refusal (the registry then closes the stream), or status 0
     */
    public void beat(HeartbeatFrame frame) {
        send(frame.seal(mac), frame.seq());
    }

    /** Sends bytes as they are (a test's forged or replayed frame) and waits for the acknowledgement of {@code seq}. */
    public void send(byte[] frame, long seq) {
        try {
            socket.sendBinary(ByteBuffer.wrap(frame), true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw unreachable(baseUrl, id, "cannot send: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(baseUrl, id, "interrupted", e);
        }
        Object answer = inbox.next(timeout);
        if (answer instanceof ByteBuffer ack && HeartbeatFrame.ackedSeq(ack) == seq) {
            return;
        }
        throw failure(baseUrl, id, answer, timeout);
    }

    @Override
    public void close() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(1, TimeUnit.SECONDS).whenComplete((ok, e) -> socket.abort());
    }

    private static RegistryCallException handshakeFailure(URI baseUrl, String id, Throwable cause) {
        Throwable failure = cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
        if (failure instanceof WebSocketHandshakeException refused) {
            var response = refused.getResponse();
            Object body = response.body();
            byte[] bytes = body instanceof byte[] b ? b : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : new byte[0];
            Problem problem = Problem.decode(response.statusCode(), "", bytes, JSON, "the registry");
            return new RegistryCallException(problem.status(), problem.reason(), "the registry at " + baseUrl
                    + " refused the heartbeat stream of " + id + ": " + problem.message(), failure);
        }
        return unreachable(baseUrl, id, String.valueOf(failure.getMessage()), failure);
    }

    private static RegistryCallException failure(URI baseUrl, String id, Object event, Duration timeout) {
        if (event instanceof String text) {
            JsonNode problem = JSON.readTree(text);
            String reason = problem.path("reason").asString("");
            return new RegistryCallException(problem.path("status").asInt(0), reason, "the registry at " + baseUrl
                    + " refused a heartbeat of " + id + ": " + problem.path("detail").asString(reason) + " (" + reason + ")", null);
        }
        String why = event instanceof Closed closed ? "the registry closed the stream (" + closed.code() + " " + closed.reason() + ")"
                : event instanceof Throwable t ? String.valueOf(t.getMessage())
                : event == null ? "no answer within " + timeout.toMillis() + " ms" : "an answer that is not this heartbeat's";
        return unreachable(baseUrl, id, why, event instanceof Throwable t ? t : null);
    }

    private static RegistryCallException unreachable(URI baseUrl, String id, String why, Throwable cause) {
        return new RegistryCallException(0, "unreachable", "cannot keep the heartbeat stream of " + id + " to the registry at "
                + baseUrl + ": " + why, cause);
    }

    private record Closed(int code, String reason) {}

    /** What the registry sends, whole messages in order: String (hello, refusal), ByteBuffer (ack), Closed, Throwable. */
    private static final class Inbox implements WebSocket.Listener {
        private final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private ByteBuffer binary = ByteBuffer.allocate(0);

        Object next(Duration timeout) {
            try {
                return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return e;
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            ByteBuffer joined = ByteBuffer.allocate(binary.remaining() + data.remaining()).put(binary).put(data).flip();
            if (last) {
                messages.add(joined);
                binary = ByteBuffer.allocate(0);
            } else {
                binary = joined;
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
            messages.add(new Closed(code, reason));
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            messages.add(error);
        }
    }
}
