package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.descriptor.Receiver;
import dev.fabric.escrow.descriptor.Posix;
import dev.fabric.escrow.descriptor.Sender;
import dev.fabric.escrow.wire.DecodeException;
import dev.fabric.escrow.wire.Extension;
import dev.fabric.escrow.wire.Frame;
import dev.fabric.escrow.wire.Limits;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageDecoder;
import dev.fabric.escrow.wire.MessageEncoder;
import dev.fabric.escrow.wire.Trace;
import org.newsclub.net.unix.AFUNIXSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * One client session: reads requests message by message, applies them to the slot table and
 * answers each, with the C daemon's replies. Semantic errors (a tag out of range, an empty slot,
 * a descriptor where none belongs) get the C error reply and the session goes on; a stream that
 * cannot be parsed (unknown opcode, impossible size, several descriptors, truncation) gets an
 * error reply and the session ends, because the next message boundary is unknown. Either way the
 * slot table is only changed by a complete, valid ADD or DEL.
 * <p>
 * Limits: an ADD that would take the escrow over its slots or payload bytes answers
 * {@code -28 "Escrow full: ..."} (ENOSPC, the C convention of a negated errno) and the session goes
 * on. A client that stays silent for the idle timeout while another client waits for the session
 * (a stopped or hung process) has its session closed, so that it cannot hold the escrow for ever.
 */
final class Session {

    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private final AFUNIXSocket socket;
    private final SlotTable slots;
    private final EscrowdConfig config;
    private final Limits limits;
    private final Trace trace;
    private final Counters counters;
    private final BooleanSupplier someoneWaits;
    private final MessageEncoder encoder = new MessageEncoder();
    private final MessageDecoder decoder = new MessageDecoder();
    /** Replies go out through our own sendmsg, the counterpart of the Receiver (no JNI call, nothing allocated per reply). */
    private Sender sender;
    private static final FileDescriptor[] NO_DESCRIPTORS = new FileDescriptor[0];
    /** The kernel dropped a descriptor of the message being read (MSG_CTRUNC): the message is refused when complete. */
    private boolean descriptorsLost;

    /**
     * @param someoneWaits whether another client waits for the session now (asked only once this
     *        one has been silent for the idle timeout)
     */
    Session(AFUNIXSocket socket, SlotTable slots, EscrowdConfig config, Limits limits, Trace trace, Counters counters,
            BooleanSupplier someoneWaits) {
        this.socket = socket;
        this.slots = slots;
        this.config = config;
        this.limits = limits;
        this.trace = trace;
        this.counters = counters;
        this.someoneWaits = someoneWaits;
    }

    /**
     * Serves the session until the client leaves, the stream breaks, it idles out or the socket is closed under it.
     * <p>
     * Reading: one {@code recvmsg} of whatever has arrived, up to a whole ADD (a C client's request is
     * one {@code sendmsg} and is all there), then the decoder takes the messages in it one by one. A
     * descriptor goes to the message that holds the read's last byte: Linux ends a read right after
     * the bytes of a {@code sendmsg} that brought descriptors ({@link MessageDecoder#decode}).
     */
    void run() {
        int result = -Posix.ESHUTDOWN;
        Receiver receiver = null;
        try {
            int number = Descriptors.number(socket.getFileDescriptor());
            receiver = new Receiver(number, Limits.MAX_MESSAGE);
            sender = new Sender(number, Limits.MAX_MESSAGE);
            long idleNanos = config.idleTimeout().toNanos();
            if (idleNanos > 0) {
                receiver.setTimeout(Duration.ofMillis(checkInterval(config.idleTimeout())));
            }
            byte[] buffer = new byte[Limits.MAX_MESSAGE];
            long lastHeard = System.nanoTime();
            reading:
            while (!socket.isClosed()) {
                // Whatever has arrived, up to a whole ADD: one recvmsg for a request, as the C daemon's.
                int n = receiver.read(buffer, 0, buffer.length);
                if (n == Receiver.TIMED_OUT) {
                    if (System.nanoTime() - lastHeard >= idleNanos && someoneWaits.getAsBoolean()) {
                        result = idledOut();
                        break;
                    }
                    continue;
                }
                lastHeard = System.nanoTime();
                FileDescriptor[] arrived = receiver.descriptors();
                boolean lost = receiver.descriptorsTruncated();
                if (n == 0) {
                    closeAll(arrived);
                    if (decoder.inMessage()) {
                        result = truncated();
                    }
                    break;
                }
                ByteBuffer in = ByteBuffer.wrap(buffer, 0, n);
                do {
                    Optional<Frame> frame;
                    try {
                        frame = decoder.decode(in, arrived);
                    } catch (DecodeException e) {
                        result = malformed(e);
                        break reading;
                    }
                    arrived = NO_DESCRIPTORS;
                    // Descriptors the kernel dropped were the last message's of this read (see MessageDecoder#decode).
                    descriptorsLost |= lost && !in.hasRemaining();
                    if (frame.isPresent() && !handle(frame.get())) {
                        result = -Posix.EPIPE;
                        break reading;
                    }
                } while (in.hasRemaining());
            }
        } catch (IOException e) {
            if (!socket.isClosed()) {
                counters.count(Rejection.IO_ERROR);
                LOG.debug("session ended by an I/O error: {}", e.toString());
            }
            result = -Posix.ECONNRESET;
        } finally {
            decoder.releaseDescriptors().forEach(Descriptors::close);
            trace.note("Session completed with " + result + ".");
        }
    }

    /** How often a silent session looks at the clock and the backlog: a quarter of the timeout, between 10 ms and 1 s. */
    private static int checkInterval(Duration idleTimeout) {
        return (int) Math.clamp(idleTimeout.toMillis() / 4, 10, 1_000);
    }

    private int idledOut() {
        counters.count(Rejection.IDLE_TIMEOUT);
        LOG.warn("closing a session silent for {} while another client waits (a stopped or hung client?); set the idle timeout "
                + "to change this", config.idleTimeout());
        trace.note("Session idle for " + config.idleTimeout().toMillis() + " ms while another client waits; closed.");
        return -Posix.ETIMEDOUT;
    }

    /** Applies one request; false when the reply could not be sent (the client is gone). */
    private boolean handle(Frame frame) {
        FileDescriptor fd = frame.descriptor();
        if (trace.enabled()) {
            trace.received(frame.message(), Descriptors.numberOrMinusOne(fd), 0);
        }
        if (descriptorsLost) {
            // The kernel could not give us a descriptor that came with this message (none left here): refuse it whole.
            descriptorsLost = false;
            frame.descriptors().forEach(Descriptors::close);
            LOG.warn("a descriptor sent with {} was lost: this process has no descriptors left", Trace.format(frame.message()));
            return reject(Rejection.DESCRIPTOR_UNUSABLE, -Posix.EMFILE, "Cannot keep the descriptor.");
        }
        return switch (frame.message()) {
            case Message.Add add -> add(add, fd);
            case Message.Del del -> del(del, fd);
            case Message.Get get -> get(get, fd);
            case Message.Tag tag -> tag(tag, fd);
            case Message.GetBatch getBatch -> getBatch(getBatch, fd);
            case Message.Rep _, Message.Inf _, Message.Hel _, Message.Batch _ -> {
                frame.descriptors().forEach(Descriptors::close);
                yield reject(Rejection.UNEXPECTED_MESSAGE, -Posix.EPROTO, "Unexpected message type.");
            }
        };
    }

    private boolean add(Message.Add add, FileDescriptor fd) {
        if (!limits.validTag(add.tag()) || !Limits.validIdx(add.idx())) {
            Descriptors.close(fd);
            return reject(Rejection.WRONG_REQUEST, -Posix.EINVAL, "Wrong ADD request.");
        }
        SlotTable.Totals after = slots.totalsAfterPut(add.tag(), add.idx(), add.nob());
        if (after.slots() > config.maxSlots()) {
            Descriptors.close(fd);
            return reject(Rejection.ESCROW_FULL, -Posix.ENOSPC, "Escrow full: it holds its maximum of " + config.maxSlots()
                    + " slots (max-slots); DEL some or raise the limit.");
        }
        if (after.payloadBytes() > config.maxPayloadBytes()) {
            Descriptors.close(fd);
            return reject(Rejection.ESCROW_FULL, -Posix.ENOSPC, "Escrow full: this payload would take it over its maximum of "
                    + config.maxPayloadBytes() + " payload bytes (max-payload-bytes); DEL some or raise the limit.");
        }
        // The received descriptor is ours outright (Receiver): kept as it is, no duplicate, no close.
        Slot replaced = slots.put(add.tag(), add.idx(), new Slot(fd, add.ufd(), add.payload()));
        if (replaced != null) {
            Descriptors.close(replaced.descriptor());
        }
        tagChanged(add.tag());
        return reply(Message.Rep.ok(), null);
    }

    private boolean del(Message.Del del, FileDescriptor fd) {
        if (!limits.validTag(del.tag()) || !Limits.validIdx(del.idx())) {
            Descriptors.close(fd);
            return reject(Rejection.WRONG_REQUEST, -Posix.EINVAL, "Wrong DEL request.");
        }
        if (fd != null) {
            Descriptors.close(fd);
            return reject(Rejection.DESCRIPTOR_PRESENT, -Posix.EINVAL, "Descriptor present in a DEL request.");
        }
        Slot removed = slots.remove(del.tag(), del.idx());
        if (removed == null) {
            return reject(Rejection.NO_SUCH_INDEX, -Posix.EINVAL, "Non-existent index in DEL request.");
        }
        Descriptors.close(removed.descriptor());
        tagChanged(del.tag());
        return reply(Message.Rep.ok(), null);
    }

    private boolean get(Message.Get get, FileDescriptor fd) {
        if (!limits.validTag(get.tag()) || !Limits.validIdx(get.idx())) {
            Descriptors.close(fd);
            // Sic: the C daemon answers a bad GET with the DEL text; clients may match on it.
            return reject(Rejection.WRONG_REQUEST, -Posix.EINVAL, "Wrong DEL request.");
        }
        if (fd != null) {
            Descriptors.close(fd);
            return reject(Rejection.DESCRIPTOR_PRESENT, -Posix.EINVAL, "Descriptor present in a GET request.");
        }
        Slot slot = slots.get(get.tag(), get.idx());
        if (slot == null) {
            return reject(Rejection.NO_SUCH_INDEX, -Posix.ENOENT, "Non-existent index in a GET request.");
        }
        return reply(new Message.Add(get.tag(), get.idx(), slot.ufd(), slot.payload()), slot.descriptor());
    }

    private boolean tag(Message.Tag tag, FileDescriptor fd) {
        if (tag.equals(Extension.PROBE) && fd == null) {
            // The C daemon answers this TAG with -22 "Wrong TAG request."; a client that sees this reply knows it may use the extension.
            return reply(new Message.Rep(0, Extension.PROBE_REPLY), null);
        }
        if (!limits.validTag(tag.tag())) {
            Descriptors.close(fd);
            return reject(Rejection.WRONG_REQUEST, -Posix.EINVAL, "Wrong TAG request.");
        }
        if (fd != null) {
            Descriptors.close(fd);
            return reject(Rejection.DESCRIPTOR_PRESENT, -Posix.EINVAL, "Descriptor present in a TAG request.");
        }
        int[] info = slots.info(tag.tag());
        return reply(new Message.Inf(info[0], info[1]), null);
    }

    /**
     * Bulk recovery (our extension): every slot of the tag from {@code from} on, in batches of at most
     * {@code max} slots with their descriptors in one SCM_RIGHTS each, streamed without waiting for the
     * client; the last batch says {@code next = -1}. The slots stay in the escrow, as with GET.
     */
    private boolean getBatch(Message.GetBatch request, FileDescriptor fd) {
        if (!limits.validTag(request.tag()) || !Limits.validIdx(request.from()) || request.max() < 1
                || request.max() > Extension.MAX_BATCH) {
            Descriptors.close(fd);
            return reject(Rejection.WRONG_REQUEST, -Posix.EINVAL, "Wrong GTB request: tag 0.." + (limits.nrTags() - 1)
                    + ", from 0.." + (Limits.MAX_IDX - 1) + ", max 1.." + Extension.MAX_BATCH + ".");
        }
        if (fd != null) {
            Descriptors.close(fd);
            return reject(Rejection.DESCRIPTOR_PRESENT, -Posix.EINVAL, "Descriptor present in a GTB request.");
        }
        int from = request.from();
        while (true) {
            SlotTable.Slice slice = slots.slice(request.tag(), from, request.max(), Extension.MAX_BATCH_BYTES);
            List<Message.Batch.Entry> entries = new ArrayList<>(slice.slots().size());
            List<FileDescriptor> descriptors = new ArrayList<>(slice.slots().size());
            for (Map.Entry<Integer, Slot> e : slice.slots()) {
                Slot slot = e.getValue();
                entries.add(new Message.Batch.Entry(e.getKey(), slot.ufd(), slot.descriptor() != null, slot.payload(), slot.description()));
                if (slot.descriptor() != null) {
                    descriptors.add(slot.descriptor());
                }
            }
            if (!replyWith(new Message.Batch(request.tag(), slice.next(), entries), descriptors.toArray(FileDescriptor[]::new))) {
                return false;
            }
            if (slice.next() < 0) {
                return true;
            }
            from = slice.next();
        }
    }

    private void tagChanged(int tag) {
        try {
            config.listener().tagChanged(tag);
        } catch (RuntimeException e) {
            LOG.warn("the escrowd listener failed for tag {}: {}", tag, e.toString());
        }
    }

    private int malformed(DecodeException e) {
        decoder.releaseDescriptors().forEach(Descriptors::close);
        Rejection rejection = switch (e.reason()) {
            case UNKNOWN_OPCODE -> Rejection.UNKNOWN_OPCODE;
            case BAD_LENGTH -> Rejection.BAD_LENGTH;
            case TOO_MANY_DESCRIPTORS -> Rejection.TOO_MANY_DESCRIPTORS;
            case BAD_BATCH -> Rejection.BAD_BATCH;
        };
        boolean badAdd = e.reason() == DecodeException.Reason.BAD_LENGTH && e.opcode() == 1;
        int rc = badAdd ? -Posix.EINVAL : -Posix.EPROTO;
        String text = switch (e.reason()) {
            case UNKNOWN_OPCODE -> "Unexpected message type.";
            case BAD_LENGTH -> badAdd ? "Wrong ADD request." : "Unexpected message type.";
            case TOO_MANY_DESCRIPTORS -> "Too many descriptors in a message.";
            case BAD_BATCH -> "Unexpected message type.";
        };
        trace.receivedMalformed(e.getMessage(), -1, rc);
        LOG.info("closing a session after a malformed message: {}", e.getMessage());
        reject(rejection, rc, text);
        return rc;
    }

    private int truncated() {
        trace.receivedMalformed("truncated message", -1, -Posix.EPROTO);
        LOG.info("the client left in the middle of a message; nothing of it was applied");
        reject(Rejection.TRUNCATED, -Posix.EPROTO, "Truncated message.");
        return -Posix.EPROTO;
    }

    private boolean reject(Rejection rejection, int rc, String text) {
        counters.count(rejection);
        return reply(new Message.Rep(rc, text), null);
    }

    /** Sends one message, with a descriptor as SCM_RIGHTS on the same write; false when the client is gone. */
    private boolean reply(Message message, FileDescriptor fd) {
        return fd == null ? replyWith(message, NO_DESCRIPTORS) : replyWith(message, new FileDescriptor[] {fd});
    }

    /** Sends one message, with its descriptors as one SCM_RIGHTS on the same write; false when the client is gone. */
    private boolean replyWith(Message message, FileDescriptor[] fds) {
        byte[] bytes = encoder.encode(message);
        int fdNumber = fds.length == 0 || !trace.enabled() ? -1 : Descriptors.numberOrMinusOne(fds[0]);
        try {
            sender.send(bytes, bytes.length, fds);
            trace.sent(message, fdNumber, 0);
            return true;
        } catch (IOException e) {
            trace.sent(message, fdNumber, -Posix.EPIPE);
            LOG.debug("cannot reply to the client: {}", e.toString());
            return false;
        }
    }

    private static void closeAll(FileDescriptor[] fds) {
        for (FileDescriptor fd : fds) {
            Descriptors.close(fd);
        }
    }
}
