package dev.fabric.escrow.stats;

import dev.fabric.escrow.descriptor.DescriptorKind;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text the daemon serves on its stats socket ({@code <path>.stats}), and its parser.
 * Line-based, one fact per line, readable with {@code socat - UNIX-CONNECT:usock.stats}:
 * <pre>
 * escrowd-stats 1
 * path /run/escrow/usock
 * pid 4242
 * nr_tags 32
 * state serving
 * session active
 * sessions 3
 * refused_peers 0
 * error wrong_request 1
 * tag 0 slots=1 bytes=4 socket=0 server_socket=1 other_socket=0 file=0 none=0
 * slot 0 0 kind=server_socket nob=4 ufd=7
 * end
 * </pre>
 * A client asks with one request line: {@code STATS} (without slot lines) or {@code SLOTS}; any other
 * line is answered with one line, {@code error: unknown request "FOO"; send STATS or SLOTS}.
 */
public final class StatsFormat {

    public static final String REQUEST_STATS = "STATS";
    public static final String REQUEST_SLOTS = "SLOTS";
    private static final String MAGIC = "escrowd-stats 1";

    private StatsFormat() {
    }

    public static String render(EscrowStats stats) {
        StringBuilder out = new StringBuilder(256 + stats.slots().size() * 48);
        out.append(MAGIC).append('\n');
        out.append("path ").append(stats.path()).append('\n');
        out.append("pid ").append(stats.pid()).append('\n');
        out.append("nr_tags ").append(stats.nrTags()).append('\n');
        out.append("state ").append(stats.state().name().toLowerCase(Locale.ROOT)).append('\n');
        out.append("session ").append(stats.sessionActive() ? "active" : "idle").append('\n');
        out.append("sessions ").append(stats.sessions()).append('\n');
        out.append("refused_peers ").append(stats.refusedPeers()).append('\n');
        stats.errors().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.append("error ").append(e.getKey()).append(' ').append(e.getValue()).append('\n'));
        for (EscrowStats.TagStats tag : stats.tags()) {
            out.append("tag ").append(tag.tag()).append(" slots=").append(tag.slots()).append(" bytes=").append(tag.bytes());
            for (DescriptorKind kind : DescriptorKind.values()) {
                out.append(' ').append(kind.label()).append('=').append(tag.count(kind));
            }
            out.append('\n');
        }
        for (EscrowStats.SlotInfo slot : stats.slots()) {
            out.append("slot ").append(slot.tag()).append(' ').append(slot.idx()).append(" kind=").append(slot.kind().label())
                    .append(" nob=").append(slot.nob()).append(" ufd=").append(slot.ufd()).append('\n');
        }
        return out.append("end\n").toString();
    }

    /** The answer to a request line that is neither {@code STATS} nor {@code SLOTS}: one line, the request shown printable. */
    public static String unknownRequest(String request) {
        String shown = request.codePoints().map(c -> c >= 0x20 && c < 0x7f ? c : '?')
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return "error: unknown request \"" + shown + "\"; send " + REQUEST_STATS + " or " + REQUEST_SLOTS + "\n";
    }

    /** Parses {@link #render} output; throws {@link IllegalArgumentException} for anything else. */
    public static EscrowStats parse(String text) {
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].equals(MAGIC)) {
            throw new IllegalArgumentException("not escrowd stats: " + (lines.length == 0 ? "" : lines[0]));
        }
        String path = "";
        long pid = -1;
        int nrTags = 0;
        EscrowStats.State state = EscrowStats.State.SERVING;
        boolean active = false;
        long sessions = 0;
        long refused = 0;
        Map<String, Long> errors = new LinkedHashMap<>();
        List<EscrowStats.TagStats> tags = new ArrayList<>();
        List<EscrowStats.SlotInfo> slots = new ArrayList<>();
        boolean ended = false;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int space = line.indexOf(' ');
            String key = space < 0 ? line : line.substring(0, space);
            String rest = space < 0 ? "" : line.substring(space + 1);
            switch (key) {
                case "path" -> path = rest;
                case "pid" -> pid = Long.parseLong(rest);
                case "nr_tags" -> nrTags = Integer.parseInt(rest);
                case "state" -> state = EscrowStats.State.valueOf(rest.toUpperCase(Locale.ROOT));
                case "session" -> active = rest.equals("active");
                case "sessions" -> sessions = Long.parseLong(rest);
                case "refused_peers" -> refused = Long.parseLong(rest);
                case "error" -> {
                    String[] parts = rest.split(" ");
                    errors.put(parts[0], Long.parseLong(parts[1]));
                }
                case "tag" -> tags.add(parseTag(rest));
                case "slot" -> slots.add(parseSlot(rest));
                case "end" -> ended = true;
                default -> {
                    // Newer daemons may add lines; older readers skip them.
                }
            }
        }
        if (!ended) {
            throw new IllegalArgumentException("escrowd stats ended early (no 'end' line)");
        }
        return new EscrowStats(path, pid, nrTags, state, active, sessions, refused, errors, tags, slots);
    }

    private static EscrowStats.TagStats parseTag(String rest) {
        String[] parts = rest.split(" ");
        Map<String, String> fields = fields(parts, 1);
        Map<DescriptorKind, Integer> kinds = new EnumMap<>(DescriptorKind.class);
        for (DescriptorKind kind : DescriptorKind.values()) {
            kinds.put(kind, Integer.parseInt(fields.getOrDefault(kind.label(), "0")));
        }
        return new EscrowStats.TagStats(Integer.parseInt(parts[0]), Integer.parseInt(fields.get("slots")),
                Long.parseLong(fields.get("bytes")), kinds);
    }

    private static EscrowStats.SlotInfo parseSlot(String rest) {
        String[] parts = rest.split(" ");
        Map<String, String> fields = fields(parts, 2);
        return new EscrowStats.SlotInfo(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]),
                DescriptorKind.ofLabel(fields.get("kind")), Integer.parseInt(fields.get("nob")), Integer.parseInt(fields.get("ufd")));
    }

    private static Map<String, String> fields(String[] parts, int from) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = from; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq > 0) {
                fields.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
            }
        }
        return fields;
    }
}
