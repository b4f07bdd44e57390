package dev.fabric.registry.heartbeat;

/**
 * Who runs the failure detector: exactly one registry replica at a time. {@link #holds()} is asked
 * before every detector pass; it acquires the lease when free and tells whether this replica has it,
 * and throws when the database cannot be asked (the pass then counts as one that could not look).
 */
public interface DetectorLease extends AutoCloseable {

    boolean holds();

    @Override
    void close();
}
