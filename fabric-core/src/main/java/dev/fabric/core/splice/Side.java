package dev.fabric.core.splice;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** The two sides of a splice: the one that opened the rendezvous, and the peer it named. */
public enum Side {
    INITIATOR,
    PEER;

    /** The side's name in paths and JSON: {@code initiator}, {@code peer}. */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The side a path segment names. */
    public static Side fromWire(String name) {
        for (Side side : values()) {
            if (side.wireName().equals(name)) {
                return side;
            }
        }
        throw new IllegalArgumentException("a splice's side is 'initiator' or 'peer', not '" + name + "'");
    }
}
