package dev.fabric.core.client;

import dev.fabric.core.pubsub.PubSubWire;

/**
 * Receives a {@link Subscription}'s messages, in offset order, one at a time, on the
 * subscription's own thread.
 */
@FunctionalInterface
public interface Subscriber {

    /**
     * One message. Its {@code at} is {@code null}: the stream carries offsets and bodies only (the
     * JSON fetch, {@link PubSub#fetch}, has the time). A subscriber that throws ends the subscription;
     * {@link Subscription#next()} is then this message's offset, to subscribe again from.
     */
    void onMessage(PubSubWire.Message message);

    /**
     * The subscription ended: {@code failure} says why ({@link OffsetGoneException},
     * {@link MemberLostException}, {@link MemberStoppedException}, {@link MemberRefusedException},
     * or what {@link #onMessage} threw), {@code null} when it was closed.
     */
    default void onEnd(RuntimeException failure) {
    }
}
