package dev.fabric.escrow.stats;

import dev.fabric.escrow.descriptor.DescriptorKind;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A read-only view of an escrowd for operators: what it holds, per tag and per descriptor kind,
 * and how its sessions went.
 *
 * @param path the daemon's socket path
 * @param pid the daemon's process id
 * @param nrTags the number of tags the daemon was started with
 * @param state serving, draining (shutting down, refusing new sessions) or stopped
 * @param sessionActive whether a client session is being served right now
 * @param sessions sessions served since start
 * @param refusedPeers connections refused by the peer-credential check
 * @param errors error replies and aborted sessions by reason (see the daemon's {@code Rejection})
 * @param tags the non-empty tags
 * @param slots every slot, when asked for ({@code ls -l}); empty otherwise
 */
public record EscrowStats(String path, long pid, int nrTags, State state, boolean sessionActive, long sessions,
                          long refusedPeers, Map<String, Long> errors, List<TagStats> tags, List<SlotInfo> slots) {

    /** The daemon's life cycle. */
    public enum State {
        SERVING, DRAINING, STOPPED
    }

    /** One tag's slots. */
    public record TagStats(int tag, int slots, long bytes, Map<DescriptorKind, Integer> kinds) {
        public TagStats {
            Map<DescriptorKind, Integer> present = new EnumMap<>(DescriptorKind.class);
            kinds.forEach((kind, n) -> {
                if (n != null && n > 0) {
                    present.put(kind, n);
                }
            });
            kinds = Map.copyOf(present);
        }

        public int count(DescriptorKind kind) {
            return kinds.getOrDefault(kind, 0);
        }
    }

    /** One slot. */
    public record SlotInfo(int tag, int idx, DescriptorKind kind, int nob, int ufd) {
    }

    public EscrowStats {
        errors = Map.copyOf(errors);
        tags = List.copyOf(tags);
        slots = List.copyOf(slots);
    }

    public int totalSlots() {
        return tags.stream().mapToInt(TagStats::slots).sum();
    }

    public long totalBytes() {
        return tags.stream().mapToLong(TagStats::bytes).sum();
    }

    public int count(DescriptorKind kind) {
        return tags.stream().mapToInt(t -> t.count(kind)).sum();
    }

    /** Descriptors held (slots that are not payload-only). */
    public int descriptors() {
        return totalSlots() - count(DescriptorKind.NONE);
    }

    public Map<DescriptorKind, Integer> kinds() {
        Map<DescriptorKind, Integer> out = new EnumMap<>(DescriptorKind.class);
        for (DescriptorKind kind : DescriptorKind.values()) {
            out.put(kind, count(kind));
        }
        return out;
    }

    /** One line for people: {@code 3 slots in 2 tags (2 socket, 1 server_socket), 12 payload bytes}. */
    public String summary() {
        StringJoiner kinds = new StringJoiner(", ", " (", ")").setEmptyValue("");
        for (DescriptorKind kind : DescriptorKind.values()) {
            int n = count(kind);
            if (n > 0) {
                kinds.add(n + " " + (kind == DescriptorKind.NONE ? "payload-only" : kind.label()));
            }
        }
        return String.format(Locale.ROOT, "%d slot%s in %d tag%s%s, %d payload bytes", totalSlots(), totalSlots() == 1 ? "" : "s",
                tags.size(), tags.size() == 1 ? "" : "s", kinds, totalBytes());
    }
}
