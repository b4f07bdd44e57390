package dev.fabric.spawner.role.journal;

/**
 * The journal holds a record that is damaged or makes no sense where a crash cannot explain it
 * (anywhere but at the very end): replaying past it would silently lose or invent messages.
 */
public final class JournalCorruptException extends Exception {

    private final long offset;

    public JournalCorruptException(long offset, String message) {
        super("at byte " + offset + ": " + message);
        this.offset = offset;
    }

    /** Where in the file the damage starts. */
    public long offset() {
        return offset;
    }
}
