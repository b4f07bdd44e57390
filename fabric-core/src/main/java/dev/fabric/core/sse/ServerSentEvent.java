package dev.fabric.core.sse;

/**
 * One dispatched server-sent event.
 *
 * @param id the last event id at dispatch (the registry's revision), or null when the stream set none
 * @param type the event type ({@code message} when the stream named none)
 * @param data the data lines joined with {@code \n}
 */
public record ServerSentEvent(String id, String type, String data) {}
