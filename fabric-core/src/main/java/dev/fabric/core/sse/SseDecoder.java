package dev.fabric.core.sse;

import java.io.BufferedReader;
import java.util.Optional;

/**
 * Decodes a {@code text/event-stream} line by line, as the HTML Living Standard's "interpreting an
 * event stream" says: {@code field: value} lines (one optional space after the colon), data lines
 * joined with {@code \n}, comments ({@code :...}) ignored, an empty line dispatches, an event without
 * data is dropped, and an id carries over to later events. Lines end with CRLF, LF or CR, which is
 * what {@link BufferedReader#readLine()} splits on. Use one decoder per connection: an event left
 * unfinished when a stream ends is discarded with its decoder, as the standard says.
 */
public final class SseDecoder {

    private final StringBuilder data = new StringBuilder();
    private String type = "";
    private String lastEventId;
    private boolean hasData;
    private long retryMillis = -1;

    /** Feeds one line (without its end); returns the event an empty line dispatches. */
    public Optional<ServerSentEvent> line(String line) {
        if (line.isEmpty()) {
            return dispatch();
        }
        if (line.charAt(0) == ':') {
            return Optional.empty();
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "event" -> type = value;
            case "data" -> {
                if (hasData) {
                    data.append('\n');
                }
                data.append(value);
                hasData = true;
            }
            case "id" -> {
                if (value.indexOf('\0') < 0) {
                    lastEventId = value;
                }
            }
            case "retry" -> {
                if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    try {
                        retryMillis = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        // More digits than a long: ignore, as for any invalid value.
                    }
                }
            }
            default -> {
                // Unknown fields are ignored.
            }
        }
        return Optional.empty();
    }


    /** The id of the last event seen, which a reconnecting client resumes after. */
    public String lastEventId() {
        return lastEventId;
    }

    /** The reconnection delay the stream asked for, or -1. */
    public long retryMillis() {
        return retryMillis;
    }

    private Optional<ServerSentEvent> dispatch() {
        if (!hasData) {
            reset();
            return Optional.empty();
        }
        ServerSentEvent event = new ServerSentEvent(lastEventId, type.isEmpty() ? "message" : type, data.toString());
        reset();
        return Optional.of(event);
    }

    private void reset() {
        data.setLength(0);
        hasData = false;
        type = "";
    }
}
