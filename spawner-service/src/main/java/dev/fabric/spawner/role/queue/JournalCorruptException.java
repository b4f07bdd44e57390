package dev.fabric.spawner.role.queue;

/**
 * The journal holds a record that is damaged or makes no sense where a crash cannot explain it
 * (anywhere but at the very end): replaying past it would silently lose or invent messages.
 */
final class JournalCorruptException extends Exception {

    private final long offset;

    JournalCorruptException(long offset, String message) {
        super("at byte " + offset + ": " + message);
        this.offset = offset;
    }

    /** Where in the file the damage starts. */
    long offset() {
        return offset;
    }
}
