package dev.fabric.escrow.client;

import dev.fabric.escrow.daemon.EscrowdConfig;
import dev.fabric.escrow.daemon.EscrowdLauncher;
import dev.fabric.escrow.daemon.LaunchArguments;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.descriptor.Receiver;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.stats.StatsFormat;
import dev.fabric.escrow.wire.DecodeException;
import dev.fabric.escrow.wire.Extension;
import dev.fabric.escrow.wire.Frame;
import dev.fabric.escrow.wire.Limits;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageDecoder;
import dev.fabric.escrow.wire.MessageEncoder;
import dev.fabric.escrow.wire.Trace;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * A session with an escrow daemon: the Java counterpart of the C library's {@code escrow_init},
 * {@code escrow_add}, {@code escrow_get}, {@code escrow_del}, {@code escrow_tag} and
 * {@code escrow_fini}, speaking the C wire protocol, so it works with our escrowd and with the C one.
 * <p>
 * Typical zero-downtime upgrade of a service: the old version, once quiescent,
 * {@link #add adds} its listening and accepted sockets and exits; the new version
 * {@link #open opens} the escrow (waiting while the old one still holds the session),
 * {@link #get gets} the sockets back and resumes. See {@code docs/escrow.md}.
 * <p>
 * One session at a time per daemon: the three-argument {@code open} returns once connected, and
 * the first request waits, without limit, until the daemon serves us (another client may hold the
 * session: an upgrade's old version). The four-argument {@code open} waits inside {@code open}, at
 * most its timeout, and throws {@link EscrowBusyException}. Methods are {@code synchronized}:
 * threads may share one {@code Escrow} and take turns on its session.
 * <p>
 * Payloads are {@code byte[]} of 0 to 32,768 bytes ({@code null}: empty). Every failure is an
 * {@link EscrowException}, an {@link IOException}, typed by the daemon's errno
 * ({@link SlotNotFoundException}, {@link RequestRejectedException}, {@link EscrowFullException}, ...).
 * A payload-only {@link #add(int, int, byte[]) add} on a slot that holds a socket replaces the
 * slot and the daemon closes its copy of the socket: use {@link #updatePayload} to change a held
 * connection's state. Exact recovery of a byte stream after {@code kill -9}: {@link HeldConnection}.
 * <p>
 * While otherwise idle, a session sends a harmless {@code TAG 0} every 10 s ({@value #KEEPALIVE_MILLIS}),
 * so that our escrowd's idle timeout only takes the session from a stopped or hung process.
 * <p>
 * Descriptors: {@code add} accepts JDK {@code SocketChannel}s and {@code ServerSocketChannel}s,
 * junixsocket channels, and {@link FileDescriptor}s. {@code get} revives TCP and UNIX stream
 * sockets as JDK channels (blocking, selectable, virtual-thread friendly; closing one closes only
 * this copy) and returns a {@link Descriptor} that the caller owns; it stays valid after this
 * session is closed. JDK channels are reached through {@code sun.nio.ch}: run the JVM with
 * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}.
 * <p>
 * Threads: the calls block in junixsocket. Prefer platform threads: junixsocket 2.11 serves
 * virtual threads that wait on its sockets from a pool with one thread per core, so a few idle
 * waiters in virtual threads can starve the rest (see the note in {@code Escrowd}).
 */
public final class Escrow implements AutoCloseable {

    /** Start a daemon on the path when nobody listens there (the C {@code ESCROW_CREAT}). */
    public static final int CREAT = 1;
    /** Print every message sent and received on stderr, in the C escrow's trace format. */
    public static final int VERBOSE = 2;
    /** A daemon started by {@link #CREAT} replaces a stale socket file at the path. */
    public static final int FORCE = 4;
    /** The environment variable naming the socket path when none is given. */
    public static final String ESCROW_PATH = "ESCROW_PATH";

    /**
     * System property: how often a session that has been quiet that long sends a harmless
     * {@code TAG 0}, in milliseconds (default 10,000; 0: never). Our escrowd closes a session whose
     * client stays silent for its idle timeout (30 s by default) while another client waits; the
     * keep-alive tells a live, idle holder from a stopped one, which sends nothing.
     */
    public static final String KEEPALIVE_MILLIS = "escrow.keepalive.millis";
    static final long DEFAULT_KEEPALIVE_MILLIS = 10_000;

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** junixsocket's receive buffer for control messages (it takes no more than 256 bytes); batches are read with {@link Receiver}. */
    static final int ANCILLARY_BUFFER = 256;

    private final Path path;
    private final AFUNIXSocket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Trace trace;
    private final MessageEncoder encoder = new MessageEncoder();
    private final MessageDecoder decoder = new MessageDecoder();
    private final byte[] buffer = new byte[Limits.MAX_MESSAGE];
    private final long keepAliveNanos;
    private volatile long lastExchange = System.nanoTime();
    private Thread keepAlive;
    /** Reads batches with recvmsg directly; made on the first bulk recovery. */
    private Receiver receiver;
    /** Whether the daemon answered {@link Extension#PROBE} as ours does; null until asked. */
    private Boolean bulkRecovery;

    private Escrow(Path path, AFUNIXSocket socket, Trace trace) throws IOException {
        this.path = path;
        this.socket = socket;
        this.trace = trace;
        this.keepAliveNanos = Duration.ofMillis(Long.getLong(KEEPALIVE_MILLIS, DEFAULT_KEEPALIVE_MILLIS)).toNanos();
        socket.setAncillaryReceiveBufferSize(ANCILLARY_BUFFER);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * Connects to the escrow daemon at {@code path}, without bounding the wait for the session.
     *
     * @param path the daemon's socket; null for {@value #ESCROW_PATH}
     * @param flags {@link #CREAT}, {@link #VERBOSE}, {@link #FORCE}, or'ed
     * @param nrTags the number of tags for a daemon started by {@link #CREAT}
     * @throws EscrowUnavailableException when nobody listens and no daemon could be started
     */
    public static Escrow open(Path path, int flags, int nrTags) throws IOException {
        return open(path, flags, nrTags, null);
    }

    /**
     * Connects to the escrow daemon at {@code path} and, when {@code waitTimeout} is given, waits
     * at most that long for the daemon to serve this session (it serves one at a time: a new
     * service version waits here until the old one lets go). The wait is measured with a
     * harmless {@code TAG 0} request.
     *
     * @throws EscrowBusyException when the daemon did not take the session within {@code waitTimeout}
     */
    public static Escrow open(Path path, int flags, int nrTags, Duration waitTimeout) throws IOException {
        Path resolved = resolvePath(path, System.getenv());
        Trace trace = (flags & VERBOSE) != 0 ? Trace.to(System.err) : Trace.off();
        AFUNIXSocket socket = connect(resolved, flags, nrTags, trace);
        Escrow escrow;
        try {
            escrow = new Escrow(resolved, socket, trace);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        if (waitTimeout != null) {
            escrow.awaitSession(waitTimeout);
        }
        return escrow;
    }

    /** The path to use: the given one, else {@value #ESCROW_PATH} from {@code env}. */
    static Path resolvePath(Path path, Map<String, String> env) throws EscrowException {
        if (path != null) {
            return path;
        }
        String fromEnv = env.get(ESCROW_PATH);
        if (fromEnv == null || fromEnv.isBlank()) {
            throw new EscrowException(Posix.EINVAL, "", "no escrow socket path: give one or set " + ESCROW_PATH);
        }
        return Path.of(fromEnv);
    }

    private static AFUNIXSocket connect(Path path, int flags, int nrTags, Trace trace) throws IOException {
        EscrowdLauncher.Spawned started = null;
        boolean lastChance = false;
        long deadline = 0;
        long backoffMillis = 20;
        while (true) {
            int errno;
            IOException cause;
            try {
                AFUNIXSocket socket = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path));
                trace.note("Connected to \"" + path + "\"");
                return socket;
            } catch (ConnectionRefusedSocketException e) {
                errno = Posix.ECONNREFUSED;
                cause = e;
            } catch (SocketException e) {
                if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    throw new EscrowUnavailableException(Posix.ECONNREFUSED, "cannot connect to escrowd at " + path + ": " + e.getMessage(), e);
                }
                errno = Posix.ENOENT;
                cause = e;
            }
            if ((flags & CREAT) == 0) {
                throw new EscrowUnavailableException(errno, "nobody listens on " + path + " (" + Posix.name(errno)
                        + "): start one with 'escrow daemon " + path + "' or open with CREAT", cause);
            }
            if (started == null) {
                trace.note("Starting escrowd (" + errno + ").");
                started = EscrowdLauncher.spawn(LaunchArguments.of(path, nrTags, (flags & VERBOSE) != 0, (flags & FORCE) != 0));
                deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            } else if (lastChance) {
                // The daemon says why on its output; where that went is all we can add.
                throw new EscrowUnavailableException(errno, "escrowd started for " + path + " exited with status "
                        + started.process().exitValue() + " and nobody listens there: "
                        + (started.output() != null ? "its output is in " + started.output() + ", saying why"
                                : "it said why on this process's stderr, which it shares"), cause);
            } else if (!started.process().isAlive()) {
                lastChance = true; // it may have lost a start race to another daemon that now listens
            } else if (System.nanoTime() > deadline) {
                throw new EscrowUnavailableException(Posix.ETIMEDOUT, "escrowd started for " + path + " did not listen within " + START_TIMEOUT, cause);
            }
            try {
                Thread.sleep(backoffMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EscrowUnavailableException(Posix.EINTR, "interrupted while waiting for escrowd at " + path, e);
            }
            backoffMillis = Math.min(backoffMillis * 2, 200);
        }
    }

    private void awaitSession(Duration waitTimeout) throws IOException {
        try {
            socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, waitTimeout.toMillis())));
            tag(0);
            socket.setSoTimeout(0);
        } catch (SocketTimeoutException e) {
            close();
            throw new EscrowBusyException("escrowd at " + path + " is serving another session and did not take ours within " + waitTimeout);
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** The daemon's socket path. */
    public Path path() {
        return path;
    }

    /**
     * Stores {@code channel}'s descriptor and {@code payload} at (tag, idx), replacing (and
     * closing) what was there. The daemon keeps its own copy: the caller may close the channel
     * afterwards without disconnecting its peer. (A junixsocket channel shuts its socket down
     * when closed, for every copy: close it with {@link Descriptors#closeKeepingConnection}.)
     *
     * @param channel a socket channel (JDK or junixsocket), or null for a payload-only slot
     * @param payload up to 32 KiB; null for none
     * @throws RequestRejectedException for a tag or index out of the daemon's range
     */
    public void add(int tag, int idx, Channel channel, byte[] payload) throws IOException {
        add(tag, idx, channel == null ? null : Descriptors.of(channel), payload);
    }

    /**
     * As {@link #add(int, int, Channel, byte[])}, for a raw descriptor (null for a payload-only slot).
     *
     * @throws IllegalArgumentException for a payload over 32 KiB (nothing is sent)
     * @throws EscrowFullException when our escrowd holds its maximum of slots or payload bytes
     */
    public synchronized void add(int tag, int idx, FileDescriptor fd, byte[] payload) throws IOException {
        byte[] bytes = checkedPayload(payload);
        int ufd = fd == null ? -1 : Descriptors.number(fd);
        expectOk(exchange(new Message.Add(tag, idx, ufd, bytes), fd), "ADD " + tag + "/" + idx);
    }

    private static byte[] checkedPayload(byte[] payload) {
        byte[] bytes = payload == null ? new byte[0] : payload;
        if (bytes.length > Limits.MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload of " + bytes.length + " bytes is over the escrow's limit of " + Limits.MAX_PAYLOAD);
        }
        return bytes;
    }

    /**
     * Stores a payload without a descriptor (the escrow as a small memory-only database). On a slot
     * that holds a descriptor this replaces the slot and the daemon closes its copy, which ends the
     * connection unless another copy is open: to change a held connection's state, use
     * {@link #updatePayload}.
     */
    public void add(int tag, int idx, byte[] payload) throws IOException {
        add(tag, idx, (FileDescriptor) null, payload);
    }

    /**
     * Retrieves the slot at (tag, idx): its descriptor revived as a channel of its kind, and its
     * payload. The slot stays in the escrow.
     *
     * @throws SlotNotFoundException when the slot is empty
     */
    public synchronized Slot get(int tag, int idx) throws IOException {
        Frame reply = exchange(new Message.Get(tag, idx), null);
        return switch (reply.message()) {
            case Message.Add add -> new Slot(add.tag(), add.idx(), revive(reply.descriptor()), add.payload(), add.ufd());
            case Message.Rep rep -> {
                Descriptors.close(reply.descriptor());
                throw EscrowException.fromReply(rep.rc(), rep.text(), "GET " + tag + "/" + idx);
            }
            default -> throw unexpected(reply, "GET");
        };
    }

    /**
     * Replaces the payload of the slot at (tag, idx) and keeps its descriptor: the connection in the
     * slot stays open. (A payload-only {@link #add(int, int, byte[]) add} on a slot that holds a
     * descriptor replaces the whole slot, and the daemon closes its copy: the peer sees the
     * connection end unless some process still holds another copy.)
     * <p>
     * It is a GET followed by an ADD of the same descriptor and the original {@code ufd}, in this
     * session, which nobody else can use meanwhile; it works with our escrowd and with the C one. The
     * descriptor this process receives in between is closed again before returning.
     *
     * @param payload up to 32 KiB; null for none
     * @throws SlotNotFoundException when the slot is empty
     * @throws EscrowFullException when the new payload would take our escrowd over its limit (the old one stays)
     */
    public synchronized void updatePayload(int tag, int idx, byte[] payload) throws IOException {
        byte[] bytes = checkedPayload(payload);
        Frame current = exchange(new Message.Get(tag, idx), null);
        FileDescriptor fd = current.descriptor();
        try {
            switch (current.message()) {
                case Message.Add add -> expectOk(exchange(new Message.Add(tag, idx, add.ufd(), bytes), fd), "ADD " + tag + "/" + idx);
                case Message.Rep rep -> throw EscrowException.fromReply(rep.rc(), rep.text(), "GET " + tag + "/" + idx);
                default -> throw unexpected(current, "GET");
            }
        } finally {
            Descriptors.close(fd);
        }
    }

    /**
     * Whether the daemon serving this session is our escrowd (this library's {@code Escrowd}), found
     * without sending it a byte: the peer's pid ({@code SO_PEERCRED} of this session) must be the pid
     * that {@code <path>.stats}, which only our escrowd serves, reports. The C daemon aborts on a
     * message it does not know, so an extension of the protocol may be used only when this is true.
     * False when the daemon's pid is not visible here (another pid namespace): assume the C daemon.
     */
    public boolean servedByOurEscrowd() {
        long peerPid;
        try {
            peerPid = socket.getPeerCredentials().getPid();
        } catch (IOException e) {
            return false;
        }
        if (peerPid <= 0 || !Files.exists(EscrowdConfig.statsPath(path), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            return stats(path, false).pid() == peerPid;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Whether the daemon serving this session has our protocol extension (bulk recovery), asked once
     * per session with {@link Extension#PROBE}: a {@code TAG -32768}, which the C daemon answers with
     * {@code REP -22 "Wrong TAG request."} and nothing else, and our escrowd with
     * {@link Extension#PROBE_REPLY}. Unlike {@link #servedByOurEscrowd()}, it works across pid
     * namespaces (a sidecar in its own container), and it is false for an escrowd of ours too old to
     * have the extension.
     */
    public synchronized boolean hasBulkRecovery() throws IOException {
        if (bulkRecovery == null) {
            Frame reply = exchange(Extension.PROBE, null);
            reply.descriptors().forEach(Descriptors::close);
            bulkRecovery = Extension.isOurProbeReply(reply.message());
        }
        return bulkRecovery;
    }

    /**
     * Every slot of {@code tag}, in index order, each with its descriptor revived as by {@link #get}
     * and its payload: what a new service version recovers after its restart. The slots stay in the
     * escrow.
     * <p>
     * With our escrowd ({@link #hasBulkRecovery()}) one request brings them all back, many
     * descriptors per message (253, the kernel's most). With the C daemon (or an escrowd of ours without the extension) it
     * asks {@code TAG} how many there are and GETs them one at a time, skipping empty indices, since
     * the C daemon takes one read to be one message and cannot be sent several requests ahead.
     * <p>
     * On failure no descriptor is left open in this process (those already revived are closed
     * again), the slots are all still in the escrow, and after a malformed answer the session is
     * closed: open a new one to retry.
     *
     * @throws EscrowProtocolException when the daemon's answer breaks the protocol (a batch with
     *         fewer descriptors than it announces, more than 253 slots, a truncated message)
     */
    public synchronized List<Slot> getAll(int tag) throws IOException {
        List<Slot> slots = new ArrayList<>();
        try {
            if (hasBulkRecovery()) {
                getAllInBatches(tag, slots);
            } else {
                getAllOneByOne(tag, slots);
            }
            return slots;
        } catch (IOException | RuntimeException e) {
            for (Slot slot : slots) {
                try {
                    slot.descriptor().close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            throw e;
        }
    }

    private void getAllInBatches(int tag, List<Slot> into) throws IOException {
        send(new Message.GetBatch(tag, 0, Extension.MAX_BATCH), null);
        while (true) {
            Frame reply = receive(true);
            switch (reply.message()) {
                case Message.Batch batch -> {
                    List<FileDescriptor> fds = reply.descriptors();
                    int next = 0;
                    try {
                        for (Message.Batch.Entry entry : batch.entries()) {
                            FileDescriptor fd = entry.hasDescriptor() ? fds.get(next++) : null;
                            into.add(new Slot(batch.tag(), entry.idx(), revive(fd, entry.description()), entry.payload(), entry.ufd()));
                        }
                    } catch (IOException | RuntimeException e) {
                        fds.subList(next, fds.size()).forEach(Descriptors::close);
                        close(); // the rest of the answer is still coming: this session cannot go on
                        throw e;
                    }
                    if (batch.next() < 0) {
                        return;
                    }
                }
                case Message.Rep rep -> {
                    reply.descriptors().forEach(Descriptors::close);
                    throw EscrowException.fromReply(rep.rc(), rep.text(), "GTB " + tag);
                }
                default -> {
                    close();
                    throw unexpected(reply, "GTB " + tag);
                }
            }
        }
    }

    private void getAllOneByOne(int tag, List<Slot> into) throws IOException {
        int slots = tag(tag).slots();
        for (int idx = 0; into.size() < slots && idx < Limits.MAX_IDX; idx++) {
            try {
                into.add(get(tag, idx));
            } catch (SlotNotFoundException gap) {
                // an index freed by a connection that ended
            }
        }
    }

    /** Removes the slot at (tag, idx); the daemon closes its copy of the descriptor. */
    public synchronized void del(int tag, int idx) throws IOException {
        expectOk(exchange(new Message.Del(tag, idx), null), "DEL " + tag + "/" + idx);
    }

    /** How many slots the tag holds and their total payload bytes. */
    public synchronized TagInfo tag(int tag) throws IOException {
        Frame reply = exchange(new Message.Tag(tag), null);
        return switch (reply.message()) {
            case Message.Inf(int nr, int total) -> new TagInfo(nr, total);
            case Message.Rep rep -> throw EscrowException.fromReply(rep.rc(), rep.text(), "TAG " + tag);
            default -> throw unexpected(reply, "TAG");
        };
    }

    /** The daemon's stats view (our escrowd only: the C daemon has no stats socket). */
    public EscrowStats stats() throws IOException {
        return stats(path, false);
    }

    /**
     * Reads the stats of the escrowd at {@code path} from its stats socket, without taking the
     * escrow session (so it works while a service holds it).
     *
     * @param withSlots include one entry per slot
     */
    public static EscrowStats stats(Path path, boolean withSlots) throws IOException {
        Path resolved = resolvePath(path, System.getenv());
        Path statsPath = EscrowdConfig.statsPath(resolved);
        AFUNIXSocket socket;
        try {
            socket = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(statsPath));
        } catch (SocketException e) {
            throw new EscrowUnavailableException(Files.exists(statsPath) ? Posix.ECONNREFUSED : Posix.ENOENT,
                    "no stats socket at " + statsPath + " (" + e.getMessage() + "): is an escrowd of ours running on " + resolved
                            + "? The C escrowd has none.", e);
        }
        try (socket) {
            socket.setSoTimeout(10_000);
            String text;
            try {
                socket.getOutputStream().write(((withSlots ? StatsFormat.REQUEST_SLOTS : StatsFormat.REQUEST_STATS) + "\n")
                        .getBytes(StandardCharsets.US_ASCII));
                text = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                text = ""; // closed on us (EPIPE, ECONNRESET): refused, as below
            }
            if (text.isEmpty()) {
                throw new EscrowUnavailableException(Posix.EPERM, "escrowd at " + resolved
                        + " closed the stats connection without an answer: is this uid allowed (escrow daemon --allow-uid)?");
            }
            return StatsFormat.parse(text);
        }
    }

    private Receiver receiver() throws IOException {
        if (receiver == null) {
            receiver = new Receiver(Descriptors.number(socket.getFileDescriptor()), buffer.length);
        }
        return receiver;
    }

    /** Ends the session; the daemon then serves the next client. Revived descriptors stay open. */
    @Override
    public void close() throws IOException {
        socket.close();

        Thread k;
        synchronized (this) {
            k = keepAlive;
        }
        if (k != null) {
            LockSupport.unpark(k);
        }
    }

    /** Started once the daemon has answered (the session is ours); ends with the session. */
    private void startKeepAlive() {
        if (keepAlive == null && keepAliveNanos > 0) {
            // A platform thread: it waits on a junixsocket socket (see the note on threads above).
            keepAlive = Thread.ofPlatform().name("escrow-keepalive").daemon(true).start(this::keepAliveLoop);
        }
    }

    private void keepAliveLoop() {
        while (!socket.isClosed()) {
            long quiet = System.nanoTime() - lastExchange;
            if (quiet < keepAliveNanos) {
                LockSupport.parkNanos(this, keepAliveNanos - quiet);
                continue;
            }
            synchronized (this) {
                if (socket.isClosed() || System.nanoTime() - lastExchange < keepAliveNanos) {
                    continue;
                }
                try {
                    tag(0);
                } catch (IOException e) {
                    return; // the session is gone; the next request says so
                }
            }
        }
    }

    private Frame exchange(Message request, FileDescriptor fd) throws IOException {
        send(request, fd);
        Frame reply = receive();
        lastExchange = System.nanoTime();
        startKeepAlive();
        return reply;
    }

    private void send(Message request, FileDescriptor fd) throws IOException {
        byte[] bytes = encoder.encode(request);
        int fdNumber = fd == null ? -1 : Descriptors.numberOrMinusOne(fd);
        try {
            if (fd != null) {
                socket.setOutboundFileDescriptors(fd);
            }
            out.write(bytes);
        } catch (IOException e) {
            trace.sent(request, fdNumber, -Posix.EPIPE);
            throw new EscrowUnavailableException(Posix.EPIPE, "cannot send to escrowd at " + path + ": " + e.getMessage(), e);
        }
        trace.sent(request, fdNumber, 0);
    }

    private Frame receive() throws IOException {
        return receive(false);
    }

    /**
     * The next message. {@code direct}: read with our own {@code recvmsg} ({@link Receiver}), for
     * batches: room for 253 descriptors a message (junixsocket takes 60), and descriptors that are
     * this process's outright, not junixsocket's to duplicate and close.
     */
    private Frame receive(boolean direct) throws IOException {
        while (true) {
            int n;
            FileDescriptor[] arrived;
            try {
                if (direct) {
                    Receiver r = receiver();
                    n = r.read(buffer, 0, Math.min(buffer.length, decoder.bytesWanted()));
                    arrived = r.descriptors();
                    if (r.descriptorsTruncated()) {
                        for (FileDescriptor fd : arrived) {
                            Descriptors.close(fd);
                        }
                        decoder.releaseDescriptors().forEach(Descriptors::close);
                        close();
                        throw new EscrowProtocolException("", "escrowd at " + path + " sent descriptors this process could not take"
                                + " (out of descriptors? raise the open-file limit, ulimit -n); the escrow still holds them");
                    }
                    n = n == 0 ? -1 : n;
                } else {
                    n = in.read(buffer, 0, Math.min(buffer.length, decoder.bytesWanted()));
                    arrived = keep(socket.getReceivedFileDescriptors());
                }
            } catch (SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                decoder.releaseDescriptors().forEach(Descriptors::close);
                throw new EscrowUnavailableException(Posix.ECONNRESET, "escrowd at " + path
                        + " dropped the session (" + e.getMessage() + "): is this uid allowed? did the daemon stop?", e);
            }
            if (n < 0) {
                for (FileDescriptor fd : arrived) {
                    Descriptors.close(fd);
                }
                boolean truncated = decoder.inMessage();
                decoder.releaseDescriptors().forEach(Descriptors::close);
                if (truncated) {
                    close();
                    throw new EscrowProtocolException("", "escrowd at " + path + " closed the session in the middle of a message");
                }
                throw new EscrowUnavailableException(Posix.ESHUTDOWN, "escrowd at " + path
                        + " closed the session (is this uid allowed? did the daemon stop? was this session silent past the daemon's idle timeout?)");
            }
            Optional<Frame> frame;
            try {
                frame = decoder.decode(ByteBuffer.wrap(buffer, 0, n), arrived);
            } catch (DecodeException e) {
                decoder.releaseDescriptors().forEach(Descriptors::close);
                close();
                throw new EscrowProtocolException("", "escrowd at " + path + " sent bytes that are no message: " + e.getMessage());
            }
            if (frame.isPresent()) {
                Frame f = frame.get();
                trace.received(f.message(), Descriptors.numberOrMinusOne(f.descriptor()), 0);
                lastExchange = System.nanoTime();
                if (f.message() instanceof Message.Rep(int rc, String text) && rc != 0) {
                    trace.note("Received from the escrowd: " + rc + " \"" + text + "\"");
                }
                return f;
            }
        }
    }

    /** Received descriptors die with this session's socket (junixsocket closes them): keep duplicates. */
    private static FileDescriptor[] keep(FileDescriptor[] received) throws IOException {
        FileDescriptor[] kept = new FileDescriptor[received.length];
        for (int i = 0; i < received.length; i++) {
            try {
                kept[i] = Descriptors.duplicate(received[i]);
            } finally {
                Descriptors.close(received[i]);
            }
        }
        return kept;
    }

    /** As {@link #revive(FileDescriptor)}, trusting what our escrowd said of the descriptor (no system call) when it said anything. */
    private static Descriptor revive(FileDescriptor fd, int description) throws IOException {
        Extension.SocketKind kind = Extension.kindOf(description);
        StandardProtocolFamily family = Extension.familyOf(description);
        if (fd == null || kind == null || family == null) {
            return revive(fd);
        }
        try {
            return kind == Extension.SocketKind.STREAM
                    ? new Descriptor.Socket(Descriptors.asSocketChannel(fd, family))
                    : new Descriptor.ServerSocket(Descriptors.asServerSocketChannel(fd, family));
        } catch (IOException | RuntimeException e) {
            Descriptors.close(fd);
            throw e;
        }
    }

    private static Descriptor revive(FileDescriptor fd) throws IOException {
        if (fd == null) {
            return new Descriptor.None();
        }
        try {
            DescriptorKind kind = Descriptors.kind(fd);
            Optional<StandardProtocolFamily> family = kind == DescriptorKind.SOCKET || kind == DescriptorKind.SERVER_SOCKET
                    ? Descriptors.family(fd) : Optional.empty();
            if (family.isEmpty()) {
                return new Descriptor.File(fd, kind);
            }
            return kind == DescriptorKind.SOCKET
                    ? new Descriptor.Socket(Descriptors.asSocketChannel(fd, family.get()))
                    : new Descriptor.ServerSocket(Descriptors.asServerSocketChannel(fd, family.get()));
        } catch (IOException | RuntimeException e) {
            Descriptors.close(fd);
            throw e;
        }
    }

    private void expectOk(Frame reply, String what) throws IOException {
        Descriptors.close(reply.descriptor());
        if (reply.message() instanceof Message.Rep(int rc, String text)) {
            if (rc != 0) {
                throw EscrowException.fromReply(rc, text, what);
            }
            return;
        }
        throw unexpected(reply, what);
    }

    private EscrowProtocolException unexpected(Frame reply, String what) {
        Descriptors.close(reply.descriptor());
        return new EscrowProtocolException("", what + ": unexpected reply from escrowd at " + path + ": " + Trace.format(reply.message()));
    }
}
