package dev.fabric.escrow.bench;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.client.SlotNotFoundException;
import dev.fabric.escrow.client.TagInfo;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.wire.Frame;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageEncoder;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A service just restarted, for {@link EscrowBenchmark}: in a fresh JVM, open the escrow and GET
 * every slot of tag 1 back, holding what comes back (revived JDK channels), as a recovering service
 * does. Prints {@code recovered N descriptors in T ms (open and TAG: S ms)}, then does it again in
 * the same, now warm, JVM and prints {@code again, warm, N descriptors in T ms ...}.
 * <p>
 * {@code RecoverAll PATH} uses the client library, one GET and its answer at a time.
 * {@code RecoverAll PATH pipelined W} sends W GETs before reading their W answers (the same wire
 * messages; our escrowd reads message by message, so it serves them in order; the C daemon, which
 * trusts one read to be one message, would not).
 * {@code RecoverAll PATH bulk} uses the client library's {@code getAll}: with our escrowd, the bulk
 * recovery extension (many descriptors per message).
 */
public final class RecoverAll {

    private RecoverAll() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        String mode = args.length > 1 ? args[1] : "one-by-one";
        recover(socket, mode, args, "recovered");
        // Once more in the same JVM: how much of the time above was this JVM warming up.
        recover(socket, mode, args, "again, warm,");
    }

    private static void recover(Path socket, String mode, String[] args, String what) throws Exception {
        boolean pipelined = mode.equals("pipelined");
        long started = System.nanoTime();
        List<Channel> held = new ArrayList<>();
        long opened;
        try (Escrow escrow = Escrow.open(socket, 0, 2)) {
            TagInfo info = escrow.tag(1);
            opened = System.nanoTime();
            if (mode.equals("bulk")) {
                if (!escrow.hasBulkRecovery()) {
                    throw new IllegalStateException("the daemon at " + socket + " has no bulk recovery");
                }
                for (Slot slot : escrow.getAll(1)) {
                    held.add(slot.socketChannel());
                }
            } else if (pipelined) {
                escrow.close();
                recoverPipelined(socket, info.slots(), Integer.parseInt(args[2]), held);
            } else {
                for (int idx = 0; held.size() < info.slots(); idx++) {
                    try {
                        Slot slot = escrow.get(1, idx);
                        held.add(slot.socketChannel());
                    } catch (SlotNotFoundException gap) {
                        // freed index
                    }
                }
            }
        }
        long done = System.nanoTime();
        System.out.printf("%s %d descriptors in %d ms (open and TAG: %d ms)%s%n", what, held.size(), (done - started) / 1_000_000,
                (opened - started) / 1_000_000, pipelined ? " pipelined, window " + args[2] : " " + mode);
        for (Channel channel : held) {
            channel.close();
        }
    }

    /** GETs for indices 0.. in windows of {@code window}; assumes the slots are dense (0..slots-1), as the benchmark makes them. */
    private static void recoverPipelined(Path socketPath, int slots, int window, List<Channel> held) throws IOException {
        MessageEncoder encoder = new MessageEncoder();
        try (RawClient client = RawClient.connect(socketPath)) {
            for (int first = 0; first < slots; first += window) {
                int last = Math.min(slots, first + window);
                ByteArrayOutputStream requests = new ByteArrayOutputStream();
                for (int idx = first; idx < last; idx++) {
                    requests.writeBytes(encoder.encode(new Message.Get(1, idx)));
                }
                client.send(requests.toByteArray());
                for (int idx = first; idx < last; idx++) {
                    Frame frame = client.read();
                    if (!(frame.message() instanceof Message.Add) || frame.descriptor() == null) {
                        throw new IOException("GET 1/" + idx + " answered " + frame.message());
                    }
                    FileDescriptor fd = frame.descriptor();
                    if (Descriptors.kind(fd) != DescriptorKind.SOCKET) {
                        throw new IOException("slot 1/" + idx + " is not a socket");
                    }
                    StandardProtocolFamily family = Descriptors.family(fd).orElseThrow();
                    held.add(Descriptors.asSocketChannel(fd, family));
                }
            }
        }
    }
}
