package dev.fabric.spawner.contract;

import java.time.Duration;

/** Durations in the messages of spawners and members, as the settings are written, not ISO-8601. */
public final class Durations {

    private Durations() {}

    /** {@code 60s}, {@code 1500ms}. */
    public static String text(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }
}
