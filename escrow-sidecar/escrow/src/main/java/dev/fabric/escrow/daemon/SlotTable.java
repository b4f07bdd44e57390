package dev.fabric.escrow.daemon;

import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.stats.EscrowStats;
import dev.fabric.escrow.wire.Extension;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The escrow's contents: per tag, the slots by index, and their totals, which the daemon's memory
 * limits are checked against. The session thread changes it; the stats threads read it, hence the lock.
 */
final class SlotTable {

    private final List<TreeMap<Integer, Slot>> tags;
    private int slotCount;
    private long payloadBytes;

    SlotTable(int nrTags) {
        tags = new ArrayList<>(nrTags);
        for (int i = 0; i < nrTags; i++) {
            tags.add(new TreeMap<>());
        }
    }

    /** What storing {@code payloadLength} bytes at (tag, idx) would make the totals, the slot it replaces counted out. */
    synchronized Totals totalsAfterPut(int tag, int idx, int payloadLength) {
        Slot replaced = tags.get(tag).get(idx);
        return replaced == null ? new Totals(slotCount + 1, payloadBytes + payloadLength)
                : new Totals(slotCount, payloadBytes - replaced.payload().length + payloadLength);
    }

    /** Slots held and their payload bytes, over all tags. */
    record Totals(int slots, long payloadBytes) {
    }

    /** Stores a slot and returns the one it replaces, if any (the caller closes its descriptor). */
    synchronized Slot put(int tag, int idx, Slot slot) {
        Slot replaced = tags.get(tag).put(idx, slot);
        if (replaced == null) {
            slotCount++;
        } else {
            payloadBytes -= replaced.payload().length;
        }
        payloadBytes += slot.payload().length;
        return replaced;
    }

    synchronized Slot get(int tag, int idx) {
        return tags.get(tag).get(idx);
    }

    /**
     * The slots of {@code tag} at indices {@code >= from}, in index order: at most {@code max}, and no
     * more than fit in {@code maxBytes} of batch entries (at least one); {@code next} is the index to go
     * on from, or -1 when none is left.
     */
    synchronized Slice slice(int tag, int from, int max, int maxBytes) {
        List<Map.Entry<Integer, Slot>> out = new ArrayList<>(Math.min(max, 64));
        int bytes = 0;
        for (Map.Entry<Integer, Slot> e : tags.get(tag).tailMap(from, true).entrySet()) {
            int size = Extension.entrySize(e.getValue().payload().length);
            if (out.size() == max || (!out.isEmpty() && bytes + size > maxBytes)) {
                return new Slice(out, e.getKey());
            }
            out.add(Map.entry(e.getKey(), e.getValue()));
            bytes += size;
        }
        return new Slice(out, -1);
    }

    /** A run of slots of one tag, by index, and where the next run starts (-1: none). */
    record Slice(List<Map.Entry<Integer, Slot>> slots, int next) {
    }

    synchronized Slot remove(int tag, int idx) {
        Slot removed = tags.get(tag).remove(idx);
        if (removed != null) {
            slotCount--;
            payloadBytes -= removed.payload().length;
        }
        return removed;
    }

    /** Slots in the tag and their payload bytes, saturated at int32 as INF carries it. */
    synchronized int[] info(int tag) {
        long total = 0;
        for (Slot slot : tags.get(tag).values()) {
            total += slot.payload().length;
        }
        return new int[] {tags.get(tag).size(), (int) Math.min(Integer.MAX_VALUE, total)};
    }

    synchronized List<EscrowStats.TagStats> tagStats() {
        List<EscrowStats.TagStats> out = new ArrayList<>();
        for (int tag = 0; tag < tags.size(); tag++) {
            TreeMap<Integer, Slot> slots = tags.get(tag);
            if (slots.isEmpty()) {
                continue;
            }
            Map<DescriptorKind, Integer> kinds = new EnumMap<>(DescriptorKind.class);
            long bytes = 0;
            for (Slot slot : slots.values()) {
                kinds.merge(slot.kind(), 1, Integer::sum);
                bytes += slot.payload().length;
            }
            out.add(new EscrowStats.TagStats(tag, slots.size(), bytes, kinds));
        }
        return out;
    }

    synchronized List<EscrowStats.SlotInfo> slotInfos() {
        List<EscrowStats.SlotInfo> out = new ArrayList<>();
        for (int tag = 0; tag < tags.size(); tag++) {
            for (Map.Entry<Integer, Slot> e : tags.get(tag).entrySet()) {
                Slot slot = e.getValue();
                out.add(new EscrowStats.SlotInfo(tag, e.getKey(), slot.kind(), slot.payload().length, slot.ufd()));
            }
        }
        return out;
    }

    /** Empties the table and returns everything it held, for closing. */
    synchronized List<Slot> drain() {
        List<Slot> out = new ArrayList<>();
        for (TreeMap<Integer, Slot> slots : tags) {
            out.addAll(slots.values());
            slots.clear();
        }
        slotCount = 0;
        payloadBytes = 0;
        return out;
    }
}
