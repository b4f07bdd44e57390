package dev.fabric.escrow.client;

/**
 * What {@link Escrow#tag} returns (the C INF message).
 *
 * @param slots slots present in the tag
 * @param totalBytes the sum of their payload sizes (saturated at {@link Integer#MAX_VALUE} by our daemon)
 */
public record TagInfo(int slots, int totalBytes) {
}
