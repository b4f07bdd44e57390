package dev.fabric.escrow.echo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The C escrow's echo client: sends numbered lines ({@code 0\n}, {@code 1\n}, ...) and checks that
 * every echo comes back, in order, each exactly once. At most {@code window} lines are in flight.
 * Errors (a wrong line, a lost connection) are collected, not thrown, so a caller can report them all.
 */
public final class EchoClient implements AutoCloseable {

    private final SocketChannel channel;
    private final Semaphore window;
    private final long pauseNanos;
    private final long maxLines;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong echoed = new AtomicLong();
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean sending = true;
    private volatile boolean closed;
    private Thread writer;
    private Thread reader;

    /**
     * @param window lines in flight at most
     * @param pause pause between two lines (zero: as fast as the echoes allow)
     */
    public EchoClient(SocketChannel channel, int window, Duration pause) {
        this(channel, window, pause, 0);
    }

    /** As above, sending at most {@code maxLines} lines (0: until {@link #finish} or {@link #close}). */
    public EchoClient(SocketChannel channel, int window, Duration pause, long maxLines) {
        this.channel = channel;
        this.window = new Semaphore(window);
        this.pauseNanos = pause.toNanos();
        this.maxLines = maxLines;
    }

    public EchoClient start() {
        writer = Thread.ofVirtual().name("echo-client-writer").start(this::write);
        reader = Thread.ofVirtual().name("echo-client-reader").start(this::read);
        return this;
    }

    public long sent() {
        return sent.get();
    }

    public long echoed() {
        return echoed.get();
    }

    public List<String> errors() {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }

    public boolean readerAlive() {
        return reader != null && reader.isAlive();
    }

    /** Stops sending, then waits until every sent line is echoed (true) or the timeout passes (false). */
    public boolean finish(Duration timeout) throws InterruptedException {
        sending = false;
        writer.join(timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (echoed.get() < sent.get() && System.nanoTime() < deadline && reader.isAlive()) {
            Thread.sleep(10);
        }
        return echoed.get() == sent.get();
    }

    private void write() {
        long next = 0;
        try {
            while (sending && (maxLines == 0 || next < maxLines)) {
                if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                ByteBuffer line = ByteBuffer.wrap((next + "\n").getBytes(StandardCharsets.US_ASCII));
                while (line.hasRemaining()) {
                    channel.write(line);
                }
                next++;
                sent.set(next);
                if (pauseNanos > 0) {
                    Thread.sleep(Duration.ofNanos(pauseNanos));
                }
            }
        } catch (IOException e) {
            if (!closed) {
                errors.add("sending line " + next + " failed: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void read() {
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        StringBuilder line = new StringBuilder();
        long expected = 0;
        try {
            while (true) {
                int n = channel.read(in);
                if (n < 0) {
                    if (!closed) {
                        errors.add("the server closed the connection after " + expected + " echoed lines");
                    }
                    return;
                }
                in.flip();
                while (in.hasRemaining()) {
                    char c = (char) in.get();
                    if (c != '\n') {
                        line.append(c);
                        continue;
                    }
                    String got = line.toString();
                    line.setLength(0);
                    if (!got.equals(Long.toString(expected))) {
                        errors.add("expected line " + expected + ", got '" + got + "'");
                        try {
                            expected = Long.parseLong(got);
                        } catch (NumberFormatException e) {
                            // Keep counting from where we were; the next lines tell the rest.
                        }
                    }
                    expected++;
                    echoed.set(expected);
                    window.release();
                }
                in.clear();
            }
        } catch (IOException e) {
            if (!closed) {
                errors.add("reading the echo failed after " + expected + " lines: " + e.getMessage());
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        sending = false;
        channel.close();
    }
}
