package dev.fabric.spawner.role.pubsub;

import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.spawner.web.SpawnerException;
import org.springframework.http.HttpStatus;

import java.util.Map;

/**
 * A reader asked for messages older than the oldest its topic retains: {@code 410 gone}, with the
 * oldest offset in the problem ({@code oldest}) so the reader knows where it can carry on from.
 */
final class OffsetGoneException extends SpawnerException {

    private final long oldest;

    OffsetGoneException(String topic, long from, long oldest) {
        super(HttpStatus.GONE, PubSubWire.GONE_REASON, "topic " + topic + " no longer retains offset " + from + ": its oldest retained "
                + "message is at offset " + oldest + " (retention dropped the ones before); read from " + oldest
                + " on, and look at how far behind this reader fell", Map.of("oldest", oldest));
        this.oldest = oldest;
    }

    long oldest() {
        return oldest;
    }
}
