package dev.fabric.escrow.descriptor;

import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketPair;

import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The daemon's replies: sendmsg with SCM_RIGHTS, read back with the Receiver over a real socket pair. */
class SenderTest {

    @Test
    void aMessageAndItsDescriptorArriveInOneRead() throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
        try (TcpPair tcp = TcpPair.open(); AFUNIXSocketChannel a = pair.getSocket1(); AFUNIXSocketChannel b = pair.getSocket2()) {
            Sender sender = new Sender(Descriptors.number(Descriptors.of(a)), 64);
            Receiver receiver = new Receiver(Descriptors.number(Descriptors.of(b)), 64);
            byte[] message = "32 bytes, one sendmsg, one fd...".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            sender.send(message, message.length, Descriptors.of(tcp.accepted));

            byte[] in = new byte[64];
            int n = receiver.read(in, 0, in.length);
            assertThat(Arrays.copyOf(in, n)).isEqualTo(message);
            assertThat(receiver.descriptors()).hasSize(1);
            // The received copy is a working descriptor of the same connection: what it writes, the TCP peer reads.
            FileDescriptor copy = receiver.descriptors()[0];
            SocketChannel revived = JdkChannels.socketChannel(copy, java.net.StandardProtocolFamily.INET);
            revived.write(ByteBuffer.wrap(new byte[] {7}));
            ByteBuffer got = ByteBuffer.allocate(1);
            tcp.client.read(got);
            assertThat(got.get(0)).isEqualTo((byte) 7);
            revived.close();
        }
    }

    @Test
    void aMessageLongerThanTheBufferGoesInPiecesWithTheDescriptorsFirst() throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
        try (TcpPair one = TcpPair.open(); TcpPair two = TcpPair.open(); AFUNIXSocketChannel a = pair.getSocket1();
             AFUNIXSocketChannel b = pair.getSocket2()) {
            Sender sender = new Sender(Descriptors.number(Descriptors.of(a)), 16);
            byte[] message = new byte[100];
            for (int i = 0; i < message.length; i++) {
                message[i] = (byte) i;
            }
            sender.send(message, 90, Descriptors.of(one.accepted), Descriptors.of(two.accepted));

            Receiver receiver = new Receiver(Descriptors.number(Descriptors.of(b)), 128);
            byte[] in = new byte[128];
            int total = 0;
            int descriptors = 0;
            while (total < 90) {
                int n = receiver.read(in, total, in.length - total);
                assertThat(n).isPositive();
                if (total == 0) {
                    descriptors = receiver.descriptors().length;
                    Arrays.stream(receiver.descriptors()).forEach(Descriptors::close);
                } else {
                    assertThat(receiver.descriptors()).as("descriptors travel with the first piece only").isEmpty();
                }
                total += n;
            }
            assertThat(total).isEqualTo(90);
            assertThat(Arrays.copyOf(in, 90)).isEqualTo(Arrays.copyOf(message, 90));
            assertThat(descriptors).isEqualTo(2);
        }
    }

    @Test
    void aPeerThatLeftIsAnIOExceptionNotASignal() throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
        try (AFUNIXSocketChannel a = pair.getSocket1()) {
            pair.getSocket2().close();
            Sender sender = new Sender(Descriptors.number(Descriptors.of(a)), 64);
            assertThatThrownBy(() -> sender.send(new byte[8], 8))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("sendmsg");
        }
    }

    @Test
    void moreDescriptorsThanTheKernelCarriesAreRefusedBeforeSending() throws Exception {
        AFUNIXSocketPair<AFUNIXSocketChannel> pair = AFUNIXSocketPair.open();
        try (TcpPair tcp = TcpPair.open(); AFUNIXSocketChannel a = pair.getSocket1(); AFUNIXSocketChannel b = pair.getSocket2()) {
            Sender sender = new Sender(Descriptors.number(Descriptors.of(a)), 64);
            FileDescriptor[] many = new FileDescriptor[Receiver.MAX_DESCRIPTORS + 1];
            Arrays.fill(many, Descriptors.of(tcp.accepted));
            assertThatThrownBy(() -> sender.send(new byte[8], 8, many)).isInstanceOf(IllegalArgumentException.class);
            b.configureBlocking(false);
            assertThat(b.read(ByteBuffer.allocate(8))).as("nothing was sent").isZero();
        }
    }
}
