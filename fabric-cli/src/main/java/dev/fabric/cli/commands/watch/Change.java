package dev.fabric.cli.commands.watch;

import dev.fabric.cli.common.Formats;
import dev.fabric.cli.registry.RegistryWire;

import java.time.Instant;

/**
 * One change of the registry as its watch stream tells it: the event's id is the revision, its type
 * the kind, its data {@code {"instance": ..., "from": ..., "to": ..., "reason": ..., "session": ...}}.
 */
public record Change(long revision, String kind, RegistryWire.Instance instance, String from, String to, String reason, String session,
                     Instant at) {

    /** The data of an event, as the registry writes it; {@code at} is read when a registry sends it. */
    record Data(RegistryWire.Instance instance, String from, String to, String reason, String session, Instant at) {}

    static Change of(long revision, String kind, Data data) {
        return new Change(revision, kind, data.instance(), data.from(), data.to(), data.reason(), data.session(), data.at());
    }

    /** The instance id, or {@code -} for an event without one. */
    public String instanceId() {
        return instance == null ? "-" : instance.id();
    }

    /**
     * When the change happened: the event's own time when it has one, else the instance's
     * {@code updatedAt}, which is the change's time for REGISTERED and STATE events only.
     */
    public Instant time() {
        if (at != null) {
            return at;
        }
        return instance != null && ("REGISTERED".equals(kind) || "STATE".equals(kind)) ? instance.updatedAt() : null;
    }

    /** {@code REVISION  TIME  KIND  INSTANCE  [FROM -> TO]  [session S]  [REASON]}. */
    public String line() {
        StringBuilder line = new StringBuilder(String.format("%-6d  %-24s  %-15s  %s", revision, Formats.timeMillis(time()), kind, instanceId()));
        if (to != null) {
            line.append("  ").append(from == null ? "-" : from).append(" -> ").append(to);
        }
        if (session != null) {
            line.append("  session ").append(session);
        }
        if (reason != null && !reason.isBlank()) {
            line.append("  ").append(reason);
        }
        return line.toString();
    }
}
