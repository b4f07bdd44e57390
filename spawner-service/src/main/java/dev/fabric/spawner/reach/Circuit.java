package dev.fabric.spawner.reach;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One side of a circuit through a bridge: the relay mode 4 falls back to when a splice fails
 * (docs/connectivity.md). Both sides of a rendezvous open a WebSocket to the same bridge's relay port
 * naming the rendezvous; once the bridge has paired them it says {@value #PAIRED}, and from then on
 * every byte one side writes reaches the other. This class hands the circuit out as a plain
 * {@link Socket} (the near end of a loopback connection whose far end it pumps to and from the
 * WebSocket), so that a circuit and a spliced connection are used alike ({@code SocketPipe}).
 */
public final class Circuit {

    /** The spawner's side: signed with the fabric key. */
    public static final String INITIATOR_PATH = "/bridge/v1/circuit";
    /** The member's side: it holds no key yet; what crosses the circuit is authenticated end to end. */
    public static final String PEER_PATH = "/bootstrap/v1/circuit";
    /** What the bridge says to both halves once paired. */
    public static final String PAIRED = "paired";
    /** A rendezvous id, as the registry makes them. */
    public static final String RENDEZVOUS_PATTERN = "[A-Za-z0-9_-]{8,64}";

    private static final Logger log = LoggerFactory.getLogger("fabric.circuit");
    private static final int CHUNK = 16 * 1024;

    private Circuit() {
    }

    /** Why a circuit did not open. */
    public static final class FailedException extends IOException {
        FailedException(String message) {
            super(message);
        }
    }

    /**
     * Opens this side's half of the circuit for {@code rendezvous} at the bridge {@code bridgeUrl}
     * ({@code http://host:port}, its relay port) and waits until the bridge paired it.
     *
     * @param keys the fabric keys to sign the opening with (the initiator), or null (the peer)
     * @return the circuit, as a connected socket; closing it closes the circuit
     * @throws FailedException when the bridge refuses, cannot be reached, or pairs nothing within {@code wait}
     */
    public static Socket open(URI bridgeUrl, String rendezvous, FabricKeys keys, Duration wait) throws IOException {
        boolean initiator = keys != null;
        URI target = bridgeUrl.resolve((initiator ? INITIATOR_PATH : PEER_PATH) + "?rendezvous=" + rendezvous);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (initiator) {
            new RequestSigner(keys, Clock.systemUTC()).sign("GET", target, Map.of(), new byte[0]).forEach(builder::header);
        }
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket near = new Socket();
        Socket far;
        try (listener) {
            near.connect(listener.getLocalSocketAddress());
            far = listener.accept();
        } catch (IOException e) {
            near.close();
            throw e;
        }
        CompletableFuture<Void> paired = new CompletableFuture<>();
        WebSocket socket;
        try {
            socket = builder.buildAsync(URI.create(target.toString().replaceFirst("^http", "ws")), new Listener(far, paired))
                    .get(10, TimeUnit.SECONDS);
            paired.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            close(near, far);
            throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": " + describe(e.getCause()));
        } catch (TimeoutException e) {
            close(near, far);
            throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": the other side did not arrive within " + wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(near, far);
            throw new FailedException("interrupted while opening a circuit");
        }
        Thread.ofVirtual().name("circuit-out").start(() -> pumpOut(far, socket));
        log.info("circuit {} through the bridge at {}: paired ({})", rendezvous, bridgeUrl, initiator ? "initiator" : "peer");
        return near;
    }

    /** What this side writes into the near end goes out as binary messages, one at a time. */
    private static void pumpOut(Socket far, WebSocket socket) {
        byte[] buffer = new byte[CHUNK];
        try (InputStream in = far.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                socket.sendBinary(ByteBuffer.wrap(buffer, 0, n).asReadOnlyBuffer(), true).get();
                buffer = new byte[CHUNK];
            }
        } catch (IOException | ExecutionException | RuntimeException e) {
            log.debug("circuit closed on the way out: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!socket.isOutputClosed()) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "closed");
            }
            closeQuietly(far);
        }
    }

    /** What arrives is written into the far end; the bridge's {@value #PAIRED} opens the circuit. */
    private static final class Listener implements WebSocket.Listener {
        private final Socket far;
        private final CompletableFuture<Void> paired;
        private final StringBuilder text = new StringBuilder();

        Listener(Socket far, CompletableFuture<Void> paired) {
            this.far = far;
            this.paired = paired;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                if (PAIRED.contentEquals(text)) {
                    paired.complete(null);
                }
                text.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            try {
                OutputStream out = far.getOutputStream();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                socket.abort();
                return null;
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            paired.completeExceptionally(new FailedException("the bridge closed the circuit (" + status + (reason == null || reason.isBlank()
                    ? "" : ": " + reason) + ")"));
            closeQuietly(far);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            paired.completeExceptionally(error);
            closeQuietly(far);
        }
    }

    private static String describe(Throwable failure) {
        if (failure instanceof java.net.http.WebSocketHandshakeException handshake) {
            return "HTTP " + handshake.getResponse().statusCode() + " to the circuit's opening";
        }
        return dev.fabric.core.spring.FabricRestClients.describeFailure(failure);
    }

    private static void close(Socket near, Socket far) {
        closeQuietly(near);
        closeQuietly(far);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
