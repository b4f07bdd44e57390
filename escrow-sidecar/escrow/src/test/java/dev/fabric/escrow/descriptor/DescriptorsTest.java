package dev.fabric.escrow.descriptor;

import dev.fabric.escrow.testing.TcpPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXDatagramChannel;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** What the kernel says a descriptor is, and the dup/close plumbing. */
class DescriptorsTest {

    @TempDir
    Path dir;

    @Test
    void kindsOfDescriptors() throws Exception {
        try (TcpPair tcp = TcpPair.open(); Pipe.SourceChannel source = Pipe.open().source();
             FileInputStream file = new FileInputStream(Files.writeString(dir.resolve("f"), "x").toFile());
             AFUNIXDatagramChannel datagram = AFUNIXDatagramChannel.open()) {
            assertThat(Descriptors.kind(Descriptors.of(tcp.accepted))).isEqualTo(DescriptorKind.SOCKET);
            assertThat(Descriptors.kind(Descriptors.of(tcp.client))).isEqualTo(DescriptorKind.SOCKET);
            assertThat(Descriptors.kind(Descriptors.of(tcp.listener))).isEqualTo(DescriptorKind.SERVER_SOCKET);
            assertThat(Descriptors.kind(Descriptors.of(source))).isEqualTo(DescriptorKind.FILE);
            assertThat(Descriptors.kind(file.getFD())).isEqualTo(DescriptorKind.FILE);
            assertThat(Descriptors.kind(Descriptors.of(datagram))).isEqualTo(DescriptorKind.OTHER_SOCKET);
            assertThat(Descriptors.kind(null)).isEqualTo(DescriptorKind.NONE);
        }
    }

    @Test
    void factsSayWhatKindAndFamilyDoInOneGo() throws Exception {
        try (TcpPair tcp = TcpPair.open(); Pipe.SourceChannel source = Pipe.open().source();
             AFUNIXDatagramChannel datagram = AFUNIXDatagramChannel.open();
             java.nio.channels.SocketChannel unixClient = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            for (java.nio.channels.Channel channel : java.util.List.of(tcp.accepted, tcp.client, tcp.listener, source, datagram, unixClient)) {
                FileDescriptor fd = Descriptors.of(channel);
                Descriptors.Facts facts = Descriptors.facts(fd);
                assertThat(facts.kind()).as(channel.toString()).isEqualTo(Descriptors.kind(fd));
                if (facts.kind() != DescriptorKind.FILE) {
                    assertThat(facts.family()).as(channel.toString()).isEqualTo(Descriptors.family(fd));
                } else {
                    assertThat(facts.family()).isEmpty();
                }
            }
            // IPv4 or IPv6, as the JDK made the loopback socket
            assertThat(Descriptors.facts(Descriptors.of(tcp.accepted)).family()).isPresent().isNotEqualTo(
                    java.util.Optional.of(java.net.StandardProtocolFamily.UNIX));
            assertThat(Descriptors.facts(Descriptors.of(unixClient)).family()).contains(java.net.StandardProtocolFamily.UNIX);
            assertThat(Descriptors.facts(Descriptors.of(datagram)).kind()).isEqualTo(DescriptorKind.OTHER_SOCKET);
            assertThat(Descriptors.facts(null)).isEqualTo(new Descriptors.Facts(DescriptorKind.NONE, java.util.Optional.empty()));
        }
    }

    @Test
    void duplicateOutlivesTheOriginal() throws Exception {
        try (TcpPair tcp = TcpPair.open()) {
            FileDescriptor dup = Descriptors.duplicate(Descriptors.of(tcp.accepted));
            assertThat(Descriptors.number(dup)).isNotEqualTo(Descriptors.number(Descriptors.of(tcp.accepted)));
            tcp.accepted.close();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofMillis(200))).isFalse();
            Descriptors.close(dup);
            assertThat(dup.valid()).isFalse();
            assertThat(TcpPair.seesEof(tcp.client, Duration.ofSeconds(2))).isTrue();
            Descriptors.close(dup);
        }
    }

    @Test
    void numberOrMinusOneForNothing() {
        assertThat(Descriptors.numberOrMinusOne(null)).isEqualTo(-1);
        assertThat(Descriptors.numberOrMinusOne(new FileDescriptor())).isEqualTo(-1);
        assertThat(Descriptors.numberOrMinusOne(FileDescriptor.err)).isEqualTo(2);
    }
}
