package dev.fabric.core.sse;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SseDecoderTest {

    /** Feeds a stream through one decoder, as the watch does, and collects what it dispatches. */
    private static List<ServerSentEvent> decode(String stream) throws IOException {
        SseDecoder decoder = new SseDecoder();
        BufferedReader reader = new BufferedReader(new StringReader(stream));
        List<ServerSentEvent> events = new ArrayList<>();
        String line;
        while ((line = reader.readLine()) != null) {
            decoder.line(line).ifPresent(events::add);
        }
        return events;
    }

    @Test
    void aRegistryStreamDecodesToItsEvents() throws IOException {
        String stream = """
                :watching changes after revision 0

                id:1
                event:REGISTERED
                data:{"instance":{"id":"web-1"},"from":null,"to":"RUNNING","reason":"registered as incarnation 1"}

                id:2
                event:SESSION_ADDED
                data:{"instance":{"id":"web-1"},"session":"s-1"}

                :keep-alive

                """;
        assertThat(decode(stream)).containsExactly(
                new ServerSentEvent("1", "REGISTERED", "{\"instance\":{\"id\":\"web-1\"},\"from\":null,\"to\":\"RUNNING\",\"reason\":\"registered as incarnation 1\"}"),
                new ServerSentEvent("2", "SESSION_ADDED", "{\"instance\":{\"id\":\"web-1\"},\"session\":\"s-1\"}"));
    }

    @Test
    void dataLinesAreJoinedWithNewlines() throws IOException {
        assertThat(decode("id: 7\nevent: STATE\ndata: {\"a\":\ndata:  1}\ndata\n\n"))
                .containsExactly(new ServerSentEvent("7", "STATE", "{\"a\":\n 1}\n"));
    }

    @Test
    void commentsAndUnknownFieldsAreIgnoredAnywhere() throws IOException {
        assertThat(decode(": hello\nid: 3\n: in the middle\nfoo: bar\ndata: x\n:before the end\n\n"))
                .containsExactly(new ServerSentEvent("3", "message", "x"));
    }

    @Test
    void onlyOneSpaceAfterTheColonIsRemoved() throws IOException {
        assertThat(decode("data:  two spaces\n\n")).containsExactly(new ServerSentEvent(null, "message", " two spaces"));
    }

    @Test
    void crlfAndCrEndLinesToo() throws IOException {
        assertThat(decode("id: 1\r\nevent: STATE\r\ndata: a\r\n\r\nid: 2\revent: STATE\rdata: b\r\r"))
                .containsExactly(new ServerSentEvent("1", "STATE", "a"), new ServerSentEvent("2", "STATE", "b"));
    }

    @Test
    void theIdCarriesOverAndTheTypeDoesNot() throws IOException {
        assertThat(decode("id: 5\nevent: STATE\ndata: a\n\ndata: b\n\n"))
                .containsExactly(new ServerSentEvent("5", "STATE", "a"), new ServerSentEvent("5", "message", "b"));
    }

    @Test
    void anEventWithoutDataIsNotDispatchedButItsIdCounts() throws IOException {
        SseDecoder decoder = new SseDecoder();
        decoder.line("id: 9");
        decoder.line("event: STATE");
        assertThat(decoder.line("")).isEmpty();
        assertThat(decoder.lastEventId()).isEqualTo("9");
        decoder.line("data: x");
        assertThat(decoder.line("")).contains(new ServerSentEvent("9", "message", "x"));
    }

    @Test
    void anUnfinishedEventAtTheEndOfTheStreamIsDropped() throws IOException {
        assertThat(decode("id: 1\ndata: complete\n\nid: 2\ndata: cut off")).containsExactly(new ServerSentEvent("1", "message", "complete"));
    }

    @Test
    void retryTakesOnlyDigits() {
        SseDecoder decoder = new SseDecoder();
        decoder.line("retry: soon");
        assertThat(decoder.retryMillis()).isEqualTo(-1);
        decoder.line("retry: 1500");
        assertThat(decoder.retryMillis()).isEqualTo(1500);
    }

    @Test
    void anIdWithNulIsIgnored() {
        SseDecoder decoder = new SseDecoder();
        decoder.line("id: 1");
        decoder.line("id: 2\0");
        assertThat(decoder.lastEventId()).isEqualTo("1");
    }
}
