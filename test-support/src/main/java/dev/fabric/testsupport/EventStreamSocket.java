package dev.fabric.testsupport;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One HTTP/1.1 {@code GET} for a {@code text/event-stream} over a plain socket, as a client written
 * from the docs would send it, with nothing between the test and the socket: no connection pool
 * that keeps a connection, no client that drains a body before closing. {@link #close()} hangs up
 * at once, mid-stream, the way a client that is killed or cut off does.
 *
 * <pre>{@code
 * try (EventStreamSocket stream = EventStreamSocket.open(uri, signedHeaders, Duration.ofSeconds(10))) {
 *     assertThat(stream.status()).isEqualTo(200);
 *     assertThat(stream.readLine()).startsWith(":");
 * }
 * }</pre>
 */
public final class EventStreamSocket implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final int status;
    private final Map<String, String> headers;

    private EventStreamSocket(Socket socket, InputStream in, int status, Map<String, String> headers) {
        this.socket = socket;
        this.in = in;
        this.status = status;
        this.headers = headers;
    }

    /**
     * Sends {@code GET uri} with {@code Accept: text/event-stream} and the given headers (a
     * signature, {@code Last-Event-ID}...) and reads the status line and the headers.
     *
     * @param patience how long each read may wait
     */
    public static EventStreamSocket open(URI uri, Map<String, String> headers, Duration patience) throws IOException {
        int port = uri.getPort() > 0 ? uri.getPort() : 80;
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(uri.getHost(), port), (int) patience.toMillis());
            socket.setSoTimeout((int) patience.toMillis());
            StringBuilder request = new StringBuilder("GET ").append(uri.getRawPath())
                    .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getRawAuthority()).append("\r\n")
                    .append("Accept: text/event-stream\r\n");
            headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String statusLine = line(in);
            if (statusLine == null || !statusLine.startsWith("HTTP/1.1 ")) {
                throw new IOException("not an HTTP/1.1 answer: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            Map<String, String> answered = new LinkedHashMap<>();
            String header;
            while ((header = line(in)) != null && !header.isEmpty()) {
                int colon = header.indexOf(':');
                answered.put(header.substring(0, colon).strip().toLowerCase(Locale.ROOT), header.substring(colon + 1).strip());
            }
            return new EventStreamSocket(socket, in, status, answered);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The answer's status. */
    public int status() {
        return status;
    }

    /** An answer header by its name, in any case. */
    public Optional<String> header(String name) {
        return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }

    /**
     * The next line of the body with the chunked transfer coding's framing left in (chunk sizes
     * show as lines of hex digits); enough to see comments, {@code id:} and {@code data:} lines go
     * by, or {@code null} at the end.
     */
    public String readLine() throws IOException {
        return line(in);
    }

    /** The rest of the body, for a refusal's problem (its length is small and the server closes or ends it). */
    public String readBody() throws IOException {
        int length = header("content-length").map(Integer::parseInt).orElse(-1);
        if (length >= 0) {
            return new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }
        StringBuilder body = new StringBuilder();
        String size;
        while ((size = line(in)) != null) {
            int chunk = Integer.parseInt(size.strip(), 16);
            if (chunk == 0) {
                break;
            }
            body.append(new String(in.readNBytes(chunk), StandardCharsets.UTF_8));
            line(in);
        }
        return body.toString();
    }

    /** Hangs up at once, whatever the server is sending: no drain, no end of the stream awaited. */
    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.UTF_8);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
    }
}
