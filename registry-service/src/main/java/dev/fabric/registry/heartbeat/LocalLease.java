package dev.fabric.registry.heartbeat;

/** The embedded database belongs to one registry process, so that process always runs the detector. */
public final class LocalLease implements DetectorLease {
    @Override
    public boolean holds() {
        return true;
    }

    @Override
    public void close() {}
}
