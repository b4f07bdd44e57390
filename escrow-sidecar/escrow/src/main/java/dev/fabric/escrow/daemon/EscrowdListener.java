package dev.fabric.escrow.daemon;

/**
 * Told when the escrow's contents change, for whoever embeds the engine (the sidecar app's
 * metrics register a per-tag gauge the first time a tag is used). Called on the session thread
 * after the change, outside the engine's locks; keep it short, it delays the reply. An exception
 * it throws is logged and ignored.
 */
@FunctionalInterface
public interface EscrowdListener {

    /** Nobody listens: the default. */
    EscrowdListener NONE = tag -> {
    };

    /** An ADD or a DEL changed the slots of {@code tag}. */
    void tagChanged(int tag);
}
