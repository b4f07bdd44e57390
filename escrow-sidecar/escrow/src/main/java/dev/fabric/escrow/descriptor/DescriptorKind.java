package dev.fabric.escrow.descriptor;

/** What a held descriptor is; decides how the client revives it and what operators see in the stats. */
public enum DescriptorKind {
    /** A connected (or connectable) stream socket: revived as a {@code SocketChannel}. */
    SOCKET("socket"),
    /** A listening stream socket: revived as a {@code ServerSocketChannel}. */
    SERVER_SOCKET("server_socket"),
    /** A datagram or sequenced-packet socket: revived as a plain {@code FileDescriptor}. */
    OTHER_SOCKET("other_socket"),
    /** Anything that is not a socket (file, pipe, device): revived as a plain {@code FileDescriptor}. */
    FILE("file"),
    /** A payload-only slot. */
    NONE("none");

    private final String label;

    DescriptorKind(String label) {
        this.label = label;
    }

    /** The name used in the stats text and the CLI. */
    public String label() {
        return label;
    }

    public static DescriptorKind ofLabel(String label) {
        for (DescriptorKind kind : values()) {
            if (kind.label.equals(label)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown descriptor kind " + label);
    }
}
