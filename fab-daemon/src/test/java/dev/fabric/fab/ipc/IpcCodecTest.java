package dev.fabric.fab.ipc;

import dev.fabric.fab.FabException;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The IPC files byte for byte: each record against a fixture, and every way a file can be corrupt. */
class IpcCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void argsEncodeToTheirFixtureAndBack() {
        var args = new IpcRecord.Args(0x0102030405060708L, List.of("-j", "é"));
        String fixture = "46414241" + "01" + "0102030405060708" + "00000002" + "00000002" + "2d6a" + "00000002" + "c3a9";
        assertThat(HEX.formatHex(IpcCodec.encode(args))).isEqualTo(fixture);
        assertThat(IpcCodec.decode(IpcRecord.Args.class, HEX.parseHex(fixture), "args")).isEqualTo(args);
    }

    @Test
    void exitAndErrorEncodeToTheirFixtures() {
        assertThat(HEX.formatHex(IpcCodec.encode(new IpcRecord.Exit(1, 14)))).isEqualTo("46414258" + "01" + "0000000000000001" + "0000000e");
        var error = new IpcRecord.Error(-1, 3, "no");
        String fixture = "46414245" + "01" + "ffffffffffffffff" + "00000003" + "00000002" + "6e6f";
        assertThat(HEX.formatHex(IpcCodec.encode(error))).isEqualTo(fixture);
        assertThat(IpcCodec.decode(IpcRecord.Error.class, HEX.parseHex(fixture), "error")).isEqualTo(error);
    }

    @Test
    void environmentEncodesToItsFixtureAndBack() {
        var env = new IpcRecord.Environment(0x0102030405060708L, 0022, List.of("A=b", "\u00e9="));
        String fixture = "46414256" + "01" + "0102030405060708" + "00000012" + "00000002" + "00000003" + "413d62" + "00000003" + "c3a93d";
        assertThat(HEX.formatHex(IpcCodec.encode(env))).isEqualTo(fixture);
        assertThat(IpcCodec.decode(IpcRecord.Environment.class, HEX.parseHex(fixture), "fab/env")).isEqualTo(env);
    }

    @Test
    void stageRecordsRoundTrip() {
        for (IpcRecord r : List.of(new IpcRecord.Stages(7, 3, 2), new IpcRecord.Commands(7, 12), new IpcRecord.CommandExit(137))) {
            assertThat(IpcCodec.decode(r.getClass(), IpcCodec.encode(r), "f")).isEqualTo(r);
        }
        assertThat(HEX.formatHex(IpcCodec.encode(new IpcRecord.CommandExit(2)))).isEqualTo("46414252" + "01" + "00000002");
    }

    @Test
    void corruptFilesAreBadipcNamingTheFileAndTheFault() {
        byte[] good = IpcCodec.encode(new IpcRecord.Args(5, List.of("x")));
        assertBadipc(java.util.Arrays.copyOf(good, good.length - 1), "truncated");
        assertBadipc(java.util.Arrays.copyOf(good, good.length + 1), "trailing");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertBadipc(magic, "not a FABA record");
        byte[] version = good.clone();
        version[4] = 9;
        assertBadipc(version, "version 9");
        assertBadipc(HEX.parseHex("4641424101" + "0000000000000005" + "00000001" + "7fffffff"), "string length");
        assertBadipc(HEX.parseHex("4641424101" + "0000000000000005" + "00000001" + "00000001" + "ff"), "not UTF-8");
        assertBadipc(HEX.parseHex("4641424101" + "0000000000000005" + "ffffffff"), "argument count");
    }

    private static void assertBadipc(byte[] bytes, String fault) {
        assertThatThrownBy(() -> IpcCodec.decode(IpcRecord.Args.class, bytes, "/run/fab/p/args"))
                .isInstanceOfSatisfying(FabException.class, e -> assertThat(e.status().code()).isEqualTo(3))
                .hasMessageContaining("/run/fab/p/args").hasMessageContaining(fault);
    }

    @Test
    void logLinesKeepTheirChannelAndUntaggedLinesGoToStderr() {
        assertThat(new LogLine(LogLine.PROGRESS, "[stage 1/1]").encode()).isEqualTo("P [stage 1/1]\n");
        assertThat(LogLine.decode("O hello")).isEqualTo(new LogLine('O', "hello"));
        assertThat(LogLine.decode("Exception in thread main")).isEqualTo(new LogLine('E', "Exception in thread main"));
    }

    @Test
    void everyMessageHasItsOwnSignal() {
        List<Message> all = List.of(Message.START, Message.DONE, Message.BPSTART, Message.BPGOOD, Message.BPBAD,
                Message.REINTERPRET, Message.REPLAN, Message.REEXEC, Message.CHILD_DIED);
        assertThat(all.stream().map(Message::signalNumber).distinct()).hasSize(all.size());
        assertThat(all.stream().map(Message::name)).containsExactly("START", "DONE", "BPSTART", "BPGOOD", "BPBAD",
                "REINTERPRET", "REPLAN", "REEXEC", "CHILD_DIED");
    }
}
