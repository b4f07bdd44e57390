package dev.fabric.escrow.testing;

import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.wire.Frame;
import dev.fabric.escrow.wire.Limits;
import dev.fabric.escrow.wire.Message;
import dev.fabric.escrow.wire.MessageDecoder;
import dev.fabric.escrow.wire.MessageEncoder;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A client that writes raw bytes to a daemon (well-formed or not) and decodes what comes back. */
public final class RawClient implements AutoCloseable {

    private final AFUNIXSocket socket;
    private final MessageDecoder decoder = new MessageDecoder();
    private final MessageEncoder encoder = new MessageEncoder();
    private final byte[] buffer = new byte[Limits.MAX_MESSAGE];

    private RawClient(AFUNIXSocket socket) throws IOException {
        this.socket = socket;
        socket.setAncillaryReceiveBufferSize(512);
        socket.setSoTimeout(10_000);
    }

    public static RawClient connect(Path path) throws IOException {
        return new RawClient(AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(path)));
    }

    public AFUNIXSocket socket() {
        return socket;
    }

    /** One write (one sendmsg) of the bytes, with the descriptors as SCM_RIGHTS. */
    public void send(byte[] bytes, FileDescriptor... fds) throws IOException {
        if (fds.length > 0) {
            socket.setOutboundFileDescriptors(fds);
        }
        socket.getOutputStream().write(bytes);
    }

    public void send(Message message, FileDescriptor... fds) throws IOException {
        send(encoder.encode(message), fds);
    }

    public Message request(Message message, FileDescriptor... fds) throws IOException {
        send(message, fds);
        Frame frame = read();
        Descriptors.close(frame.descriptor());
        return frame.message();
    }

    /** The next message from the daemon; its descriptor (a duplicate) belongs to the caller. */
    public Frame read() throws IOException {
        while (true) {
            int n = socket.getInputStream().read(buffer, 0, decoder.bytesWanted());
            FileDescriptor[] received = socket.getReceivedFileDescriptors();
            FileDescriptor[] kept = new FileDescriptor[received.length];
            for (int i = 0; i < received.length; i++) {
                kept[i] = Descriptors.duplicate(received[i]);
                Descriptors.close(received[i]);
            }
            if (n < 0) {
                throw new EOFException("the daemon closed the session");
            }
            Optional<Frame> frame = decoder.decode(ByteBuffer.wrap(buffer, 0, n), kept);
            if (frame.isPresent()) {
                return frame.get();
            }
        }
    }

    /** Every message until the daemon closes the session. */
    public List<Message> readUntilClosed() throws IOException {
        List<Message> out = new ArrayList<>();
        while (true) {
            try {
                Frame frame = read();
                Descriptors.close(frame.descriptor());
                out.add(frame.message());
            } catch (EOFException e) {
                return out;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the daemon neither answered nor closed the session; got " + out, e);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("reset")) {
                    return out;
                }
                throw e;
            }
        }
    }

    /** True when the daemon closes the session within {@code timeout} without sending anything. */
    public boolean closedWithoutReply(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    public void shutdownOutput() throws IOException {
        // Not socket.shutdownOutput(): on JDK 25 java.net.Socket checks its own private state and
        // calls a junixsocket socket "not connected".
        socket.getChannel().shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
