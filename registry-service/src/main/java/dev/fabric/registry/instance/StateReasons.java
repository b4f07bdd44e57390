package dev.fabric.registry.instance;

/**
 * Reasons are stored in columns of {@value #MAX_LENGTH} characters. A reason the registry composes
 * (a prefix such as "failed, reported by ..." before a client's reason) can exceed that although
 * each part is within its own limit; it is cut, and says so, rather than failing the change.
 */
final class StateReasons {

    static final int MAX_LENGTH = 1024;
    static final String TRUNCATED = " [truncated]";

    private StateReasons() {}

    static String fit(String reason) {
        if (reason == null || reason.length() <= MAX_LENGTH) {
            return reason;
        }
        int end = MAX_LENGTH - TRUNCATED.length();
        if (Character.isHighSurrogate(reason.charAt(end - 1))) {
            end--;
        }
        return reason.substring(0, end) + TRUNCATED;
    }
}
