package dev.fabric.spawner.role.pilot;

import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.ServiceInstance;

import java.util.List;
import java.util.Map;

/**
 * What the pilot manager does to the fabric around it: spawn and stop members through management
 * ports, ask the registry, put tasks in a queue, publish and follow topics. {@link MemberPilotFabric}
 * does it with signed calls through {@code FabricClient}.
 */
interface PilotFabric extends AutoCloseable {

    /** Spawns a member of {@code type} where {@code where} says; answers its id (it bootstraps in the background). */
    String spawn(PilotWire.Where where, String type, String name, Map<String, String> config);

    /** The member as the registry shows it now. */
    ServiceInstance member(String id);

    /** Stops a member through the node that supervises it; a member already gone is no error. */
    void stop(String id);

    /**
     * Puts messages in a queue member's queue, in this order, with one request (all durable when this
     * returns, or none); answers the ids the queue gave them, in the same order.
     */
    List<String> enqueue(String queue, List<String> bodies);

    /**
     * The most bytes of one request body to a member ({@code fabric.security.signature.max-body-size}):
     * its spawner hands every member its own, this one's included, so this member's is theirs.
     */
    long maxBodyBytes();

    /**
     * Withdraws a message from a queue member's queue if no consumer holds it: true when it is gone for
     * good (no consumer will get it), false when a consumer holds it or is done with it (its lease decides).
     */
    boolean withdraw(String queue, String message);

    /** Publishes messages on a pubsub member's topic (durable when this returns). */
    void publish(String pubsub, String topic, List<String> bodies);

    /**
     * Follows a topic from offset {@code from}, handing {@code sink} what is there in pages (all the
     * messages a read found, in order: their effects may be journaled together), until it fails
     * (the caller follows again from the next offset) or the thread is interrupted.
     */
    void follow(String pubsub, String topic, long from, PageSink sink) throws InterruptedException;

    /** Releases what it holds (its client's connections and threads) when the manager closes; nothing by default. */
    @Override
    default void close() {
    }

    /** One message of a topic. */
    record Message(long offset, String body) {}

    /** A page of a topic's messages, one or more, in order. */
    @FunctionalInterface
    interface PageSink {
        void accept(List<Message> page) throws InterruptedException;
    }
}
