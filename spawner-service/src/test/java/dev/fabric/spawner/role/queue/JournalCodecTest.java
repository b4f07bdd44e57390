package dev.fabric.spawner.role.queue;

import dev.fabric.spawner.role.journal.JournalCorruptException;
import dev.fabric.spawner.role.journal.JournalDecoder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The journal codec against byte fixtures. The CRC32C values were computed apart from the JDK's
 * {@code CRC32C} (bitwise, polynomial 0x82F63B78), so a wrong checksum cannot agree with itself.
 */
class JournalCodecTest {

    static final UUID ID = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    static final String ID_HEX = "00112233445566778899aabbccddeeff";
    static final String HEADER = "46514a31";
    /** ENQUEUE(ID, "hi"): length 19, CRC32C, kind 1, id, body. */
    static final String ENQUEUE_HI = "00000013" + "7714c642" + "01" + ID_HEX + "6869";
    static final String ENQUEUE_EMPTY = "00000011" + "8fa60cde" + "01" + ID_HEX;
    /** ACK(ID): length 17, CRC32C, kind 2, id. */
    static final String ACK = "00000011" + "6f8b683f" + "02" + ID_HEX;

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    static String hex(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return HexFormat.of().formatHex(out);
    }

    record Read(List<JournalRecord> records, List<Long> offsets, JournalDecoder.Decoded decoded) {}

    static Read decode(String hex) throws IOException, JournalCorruptException {
        byte[] journal = bytes(hex);
        List<JournalRecord> records = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        JournalDecoder.Decoded decoded = QueueJournal.decode(new ByteArrayInputStream(journal), journal.length, (record, offset) -> {
            records.add(record);
            offsets.add(offset);
        });
        return new Read(records, offsets, decoded);
    }

    @Test
    void headerIsTheMagic() {
        assertThat(HexFormat.of().formatHex(QueueJournal.header())).isEqualTo(HEADER);
    }

    @Test
    void encodesEachRecordAsItsFixture() {
        assertThat(hex(QueueJournal.frame(new JournalRecord.Enqueue(ID, "hi".getBytes(StandardCharsets.UTF_8))))).isEqualTo(ENQUEUE_HI);
        assertThat(hex(QueueJournal.frame(new JournalRecord.Enqueue(ID, new byte[0])))).isEqualTo(ENQUEUE_EMPTY);
        assertThat(hex(QueueJournal.frame(new JournalRecord.Ack(ID)))).isEqualTo(ACK);
    }

    @Test
    void refusesToEncodeABodyOverTheLimit() {
        assertThatThrownBy(() -> QueueJournal.frame(new JournalRecord.Enqueue(ID, new byte[JournalFormat.MAX_BODY_BYTES + 1])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("262145 bytes");
    }

    @Test
    void decodesTheFixtureJournalWithItsOffsets() throws Exception {
        Read read = decode(HEADER + ENQUEUE_HI + ENQUEUE_EMPTY + ACK);

        assertThat(read.records()).containsExactly(new JournalRecord.Enqueue(ID, "hi".getBytes(StandardCharsets.UTF_8)),
                new JournalRecord.Enqueue(ID, new byte[0]), new JournalRecord.Ack(ID));
        assertThat(read.offsets()).containsExactly(4L, 31L, 56L);
        assertThat(read.decoded()).isEqualTo(new JournalDecoder.Decoded(81, 0, null));
    }

    @Test
    void aJournalOfOnlyTheHeaderIsEmpty() throws Exception {
        Read read = decode(HEADER);

        assertThat(read.records()).isEmpty();
        assertThat(read.decoded().validLength()).isEqualTo(4);
        assertThat(read.decoded().torn()).isFalse();
    }

    @Test
    void aFrameHeaderCutShortIsTorn() throws Exception {
        Read read = decode(HEADER + ENQUEUE_HI + "000000");

        assertThat(read.records()).hasSize(1);
        assertThat(read.decoded()).isEqualTo(new JournalDecoder.Decoded(31, 3, "a frame header cut short"));
    }

    @Test
    void aPayloadCutShortIsTorn() throws Exception {
        String cut = ACK.substring(0, ACK.length() - 10);
        Read read = decode(HEADER + ENQUEUE_HI + cut);

        assertThat(read.records()).containsExactly(new JournalRecord.Enqueue(ID, "hi".getBytes(StandardCharsets.UTF_8)));
        assertThat(read.decoded().validLength()).isEqualTo(31);
        assertThat(read.decoded().tornBytes()).isEqualTo(20);
        assertThat(read.decoded().tornReason()).isEqualTo("a frame of 17 bytes with only 12 written");
    }

    @Test
    void aLastFrameFailingItsCrcIsTorn() throws Exception {
        String damaged = ACK.substring(0, ACK.length() - 2) + "00";
        Read read = decode(HEADER + ENQUEUE_HI + damaged);

        assertThat(read.records()).hasSize(1);
        assertThat(read.decoded()).isEqualTo(new JournalDecoder.Decoded(31, 25, "the last frame fails its CRC32C check"));
    }

    @Test
    void zerosAtTheEndAreTorn() throws Exception {
        Read read = decode(HEADER + ENQUEUE_HI + "00".repeat(40));

        assertThat(read.records()).hasSize(1);
        assertThat(read.decoded()).isEqualTo(new JournalDecoder.Decoded(31, 40, "zeros where a frame should be"));
    }

    @Test
    void aFrameFailingItsCrcWithAFrameAfterItIsCorrupt() {
        String damaged = ENQUEUE_HI.substring(0, ENQUEUE_HI.length() - 2) + "00";

        assertThatThrownBy(() -> decode(HEADER + damaged + ACK)).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte 4: a frame fails its CRC32C check and 25 bytes follow it")
                .satisfies(e -> assertThat(((JournalCorruptException) e).offset()).isEqualTo(4));
    }

    @Test
    void aZeroLengthFrameWithDataAfterItIsCorrupt() {
        assertThatThrownBy(() -> decode(HEADER + ENQUEUE_HI + "0000000000000000" + ACK)).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte 31: a frame of length 0");
    }

    @Test
    void aFrameTooShortForKindAndIdIsCorrupt() {
        assertThatThrownBy(() -> decode(HEADER + "00000005" + "53518fab" + "0102030405" + ACK))
                .isInstanceOf(JournalCorruptException.class).hasMessage("at byte 4: a frame of length 5, outside 17..262161");
    }

    @Test
    void anUnknownKindUnderAValidCrcIsCorruptEvenAtTheEnd() {
        assertThatThrownBy(() -> decode(HEADER + ENQUEUE_HI + "00000011" + "4a10b3ed" + "07" + ID_HEX))
                .isInstanceOf(JournalCorruptException.class).hasMessage("at byte 31: a record of unknown kind 7");
    }

    @Test
    void anAckWithABodyIsCorrupt() {
        assertThatThrownBy(() -> decode(HEADER + "00000012" + "d7fd6601" + "02" + ID_HEX + "68"))
                .isInstanceOf(JournalCorruptException.class).hasMessage("at byte 4: an ACK frame of 18 bytes, not 17");
    }

    @Test
    void aFileWithoutTheHeaderIsNotAJournal() {
        assertThatThrownBy(() -> decode("46514a32" + ACK)).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte 0: the file starts with 46514a32, not the queue journal header 46514a31");
        assertThatThrownBy(() -> decode("4651")).isInstanceOf(JournalCorruptException.class)
                .hasMessage("at byte 0: the file is 2 bytes long, too short for the journal header");
    }

    @Property(tries = 200)
    void everyRecordDecodesToItself(@ForAll @Size(max = 20) List<@Size(max = 300) byte[]> bodies) throws Exception {
        List<JournalRecord> written = new ArrayList<>();
        for (byte[] body : bodies) {
            UUID id = UUID.randomUUID();
            written.add(new JournalRecord.Enqueue(id, body));
            if (body.length % 2 == 0) {
                written.add(new JournalRecord.Ack(id));
            }
        }
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        journal.writeBytes(QueueJournal.header());
        for (JournalRecord record : written) {
            ByteBuffer frame = QueueJournal.frame(record);
            journal.write(frame.array(), frame.position(), frame.remaining());
        }

        Read read = decode(HexFormat.of().formatHex(journal.toByteArray()));

        assertThat(read.records()).isEqualTo(written);
        assertThat(read.decoded()).isEqualTo(new JournalDecoder.Decoded(journal.size(), 0, null));
    }
}
