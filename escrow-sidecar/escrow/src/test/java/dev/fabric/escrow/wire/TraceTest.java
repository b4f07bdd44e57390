package dev.fabric.escrow.wire;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The VERBOSE trace prints the lines of the C escrow's README, character for character. */
class TraceTest {

    @Test
    void printsTheCEscrowsTraceLines() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Trace trace = Trace.to(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        trace.sent(new Message.Get(0, 0), -1, 0);
        trace.received(new Message.Rep(-2, "Non-existent index in a GET request."), -1, 0);
        trace.sent(new Message.Add(0, 0, 5, new byte[0]), 5, 0);
        trace.received(new Message.Add(0, 0, 5, new byte[0]), 6, 0);
        trace.sent(Message.Rep.ok(), -1, 0);
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "send: {GET   0   0} (-1)   0",
                "recv: {REP  -2 \"Non-existent index in a GET request.\"} (-1)   0",
                "send: {ADD   0   0   5    0} (5)   0",
                "recv: {ADD   0   0   5    0} (6)   0",
                "send: {REP   0 \"\"} (-1)   0");
    }

    @Test
    void formatsTheOtherMessagesLikeTheCMprint() {
        assertThat(Trace.format(new Message.Del(1, 2))).isEqualTo("{DEL   1   2}");
        assertThat(Trace.format(new Message.Inf(3, 120))).isEqualTo("{INF    3   120}");
        assertThat(Trace.format(new Message.Tag(4))).isEqualTo("{TAG   4}");
    }

    @Test
    void offPrintsNothing() {
        Trace trace = Trace.off();
        trace.sent(new Message.Tag(0), -1, 0);
        assertThat(trace.enabled()).isFalse();
    }
}
