package dev.fabric.spawner.reach;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * One side of a circuit through a bridge: the relay mode 4 falls back to when a splice fails
 * (docs/connectivity.md). Both sides of a rendezvous open a TCP connection to the same bridge's relay
 * port and upgrade it from HTTP/1.1 to a plain byte stream ({@code Upgrade: }{@value #UPGRADE}),
 * naming the rendezvous; once the bridge has paired them it writes {@value #PAIRED} and a newline,
 * and from then on every byte one side writes reaches the other. The circuit is handed out as that
 * connection's {@link Socket}, so that a circuit and a spliced connection are used alike
 * ({@code SocketPipe}), with no framing and no copy on this side: TCP's flow control is the
 * circuit's, end to end through the bridge's blocking copies.
 *
 * <p>A WebSocket per side carried circuits before; it relayed at 0.04x a direct connection
 * (docs/benchmarks.md): every 16 KiB went through a loopback pump, a masked frame, the bridge's
 * message buffer, and back out through the receiver's pump.
 */
public final class Circuit {

    /** The spawner's side: signed with the fabric key. */
    public static final String INITIATOR_PATH = "/bridge/v1/circuit";
    /** The member's side: it holds no key yet; what crosses the circuit is authenticated end to end. */
    public static final String PEER_PATH = "/bootstrap/v1/circuit";
    /** The protocol a circuit's opening upgrades to. */
    public static final String UPGRADE = "fabric-circuit";
    /** What the bridge writes to both halves, on a line of its own, once paired. */
    public static final String PAIRED = "paired";
    /** A rendezvous id, as the registry makes them. */
    public static final String RENDEZVOUS_PATTERN = "[A-Za-z0-9_-]{8,64}";
    /** The bridge's piece of copying: large enough that per-read costs stay small against the bytes. */
    public static final int CHUNK = 256 * 1024;

    private static final Logger log = LoggerFactory.getLogger("fabric.circuit");
    private static final int MAX_HEAD = 16 * 1024;

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
        int port = target.getPort() < 0 ? 80 : target.getPort();
        StringBuilder head = new StringBuilder("GET ").append(target.getRawPath()).append('?').append(target.getRawQuery())
                .append(" HTTP/1.1\r\nHost: ").append(target.getRawAuthority())
                .append("\r\nConnection: Upgrade\r\nUpgrade: ").append(UPGRADE).append("\r\n");
        if (initiator) {
            new RequestSigner(keys, Clock.systemUTC()).sign("GET", target, Map.of(), new byte[0])
                    .forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        }
        head.append("\r\n");
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(target.getHost(), port), 5000);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            String answer = readUntil(in, "\r\n\r\n");
            int status = Integer.parseInt(answer.substring(answer.indexOf(' ') + 1, answer.indexOf(' ') + 4));
            if (status != 101) {
                throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": HTTP " + status
                        + " to the circuit's opening" + reason(answer, in));
            }
            socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, wait.toMillis())));
            String said;
            try {
                said = readUntil(in, "\n").strip();
            } catch (SocketTimeoutException e) {
                throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": the other side did not arrive within " + wait);
            }
            if (!PAIRED.equals(said)) {
                throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": the bridge said " + said);
            }
            socket.setSoTimeout(0);
        } catch (FailedException e) {
            socket.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw new FailedException("no circuit through the bridge at " + bridgeUrl + ": "
                    + dev.fabric.core.spring.FabricRestClients.describeFailure(e));
        }
        log.info("circuit {} through the bridge at {}: paired ({})", rendezvous, bridgeUrl, initiator ? "initiator" : "peer");
        return socket;
    }

    /**
     * Reads byte by byte up to and including {@code end}: nothing past the bridge's answer may be
     * taken from the stream, since the circuit's first bytes may follow in the same segment.
     */
    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        byte[] tail = end.getBytes(StandardCharsets.ISO_8859_1);
        int matched = 0;
        while (matched < tail.length) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the bridge closed the connection" + (read.size() == 0 ? "" : " after: " + read.toString(StandardCharsets.UTF_8).strip()));
            }
            if (read.size() >= MAX_HEAD) {
                throw new IOException("the bridge's answer is longer than " + MAX_HEAD + " bytes");
            }
            read.write(b);
            matched = b == tail[matched] ? matched + 1 : (b == tail[0] ? 1 : 0);
        }
        return read.toString(StandardCharsets.UTF_8);
    }

    /** A refusal's reason, from its problem+json body when it has one of a sane length. */
    private static String reason(String head, InputStream in) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                try {
                    int length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
                    if (length > 0 && length <= MAX_HEAD) {
                        return ": " + new String(in.readNBytes(length), StandardCharsets.UTF_8);
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // no reason to add
                }
            }
        }
        return "";
    }
}
