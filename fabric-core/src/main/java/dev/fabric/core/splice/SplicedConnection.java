package dev.fabric.core.splice;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * A TCP connection opened by a splice: the two sides' SYNs crossed, no relay between them.
 *
 * @param local this side's own address and port (inside its NAT)
 * @param remote the other side's public address and port, as the registry observed it
 * @param observed this side's public address and port, as the registry observed it
 * @param attempts how many dials it took, this side
 * @param elapsed from the first request to the registry to the open connection
 * @param dialing from the start the registry gave to the open connection: the time to connect
 */
public record SplicedConnection(Socket socket, InetSocketAddress local, InetSocketAddress remote, String observed,
                                int attempts, Duration elapsed, Duration dialing) implements Closeable {

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
