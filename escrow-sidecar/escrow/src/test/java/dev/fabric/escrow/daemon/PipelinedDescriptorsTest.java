package dev.fabric.escrow.daemon;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.Slot;
import dev.fabric.escrow.descriptor.Descriptors;
import dev.fabric.escrow.testing.RawClient;
import dev.fabric.escrow.testing.TcpPair;
import dev.fabric.escrow.testing.TestDaemon;
import dev.fabric.escrow.wire.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * escrowd reads whatever has arrived in one {@code recvmsg}, several pipelined requests at once; each
 * descriptor must still go to the request it was sent with, not to one before it in the same read.
 * The requests are queued while another client holds the session, so the daemon finds them all
 * waiting: messages without a descriptor ahead of one with, and after it.
 */
class PipelinedDescriptorsTest {

    @TempDir
    Path dir;

    @Test
    void eachDescriptorStaysWithItsRequestWhenRequestsArriveTogether() throws Exception {
        try (Escrowd escrowd = TestDaemon.start(dir); TcpPair a = TcpPair.open(); TcpPair b = TcpPair.open()) {
            List<Message> replies = new ArrayList<>();
            try (Escrow holder = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
                try (RawClient raw = RawClient.connect(escrowd.path())) {
                    raw.send(new Message.Get(1, 0));
                    raw.send(new Message.Tag(1));
                    raw.send(new Message.Add(1, 1, 31, "a".getBytes(StandardCharsets.UTF_8)), Descriptors.of(a.accepted));
                    raw.send(new Message.Tag(1));
                    raw.send(new Message.Add(1, 2, 32, "b".getBytes(StandardCharsets.UTF_8)), Descriptors.of(b.accepted));
                    raw.send(new Message.Add(1, 3, -1, "c".getBytes(StandardCharsets.UTF_8)));
                    raw.send(new Message.Tag(1));
                    holder.close(); // the daemon turns to the queued session and finds all seven requests there
                    for (int i = 0; i < 7; i++) {
                        replies.add(raw.read().message());
                    }
                }
            }
            assertThat(replies).containsExactly(new Message.Rep(-2, "Non-existent index in a GET request."), new Message.Inf(0, 0),
                    Message.Rep.ok(), new Message.Inf(1, 1), Message.Rep.ok(), Message.Rep.ok(), new Message.Inf(3, 3));
            a.accepted.close();
            b.accepted.close();
            try (Escrow check = Escrow.open(escrowd.path(), 0, 8, Duration.ofSeconds(5))) {
                Slot slotA = check.get(1, 1);
                Slot slotB = check.get(1, 2);
                TcpPair.assertTalks(a.client, slotA.socketChannel(), "to a");
                TcpPair.assertTalks(b.client, slotB.socketChannel(), "to b");
                assertThat(check.get(1, 3).hasDescriptor()).isFalse();
                slotA.descriptor().close();
                slotB.descriptor().close();
            }
        }
    }
}
