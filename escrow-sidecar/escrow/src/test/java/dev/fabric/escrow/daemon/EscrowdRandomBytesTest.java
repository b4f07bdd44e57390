package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Message;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random bytes never crash the daemon or disturb what it holds: every answer is a well-formed
 * message, the session ends cleanly, the next session is served, a sentinel slot is untouched,
 * and no descriptor leaks. (Random bytes may happen to form a valid ADD or DEL of some other slot;
 * those are legitimate requests, so the check is on the sentinel and the daemon's health.)
 */
class EscrowdRandomBytesTest {

    private static final byte[] SENTINEL = "the sentinel".getBytes(StandardCharsets.UTF_8);
    private static Path dir;
    private static Escrowd escrowd;
    private static long openDescriptors;

    @BeforeContainer
    static void start() throws Exception {
        dir = Files.createTempDirectory("escrow-fuzz");
        escrowd = TestDaemon.start(dir);
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8)) {
            escrow.add(7, 777_777, SENTINEL);
        }
        openDescriptors = openDescriptors();
    }

    @AfterContainer
    static void stop() throws Exception {
        escrowd.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
        // Noise after a plausible opcode reaches the per-opcode parsing more often than pure noise.
        Arbitrary<byte[]> opcodeThenNoise = Arbitraries.integers().between(-2, 9).flatMap(op ->
                Arbitraries.bytes().array(byte[].class).ofMaxSize(300).map(rest -> {
                    ByteBuffer b = ByteBuffer.allocate(2 + rest.length).order(ByteOrder.nativeOrder());
                    return b.putShort(op.shortValue()).put(rest).array();
                }));
        return Arbitraries.oneOf(noise, opcodeThenNoise);
    }

    @Property(tries = 300)
    void randomBytesGetWellFormedAnswersAndLeaveTheSentinelAlone(@ForAll("streams") byte[] stream) throws Exception {
        try (RawClient raw = RawClient.connect(escrowd.path())) {
            raw.send(stream);
            raw.shutdownOutput();
            List<Message> answers = raw.readUntilClosed();
            assertThat(answers).allSatisfy(m -> assertThat(m).isInstanceOfAny(Message.Rep.class, Message.Inf.class, Message.Add.class));
        }
        assertThat(escrowd.isServing()).isTrue();
        try (Escrow escrow = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
            assertThat(escrow.get(7, 777_777).payload()).isEqualTo(SENTINEL);
        }
        EscrowStats stats = escrowd.stats();
        assertThat(stats.descriptors()).as("no descriptor was sent, none is held").isZero();
        assertThat(openDescriptors()).as("no descriptor leaked").isLessThanOrEqualTo(openDescriptors + 4);
    }

    private static long openDescriptors() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
