package dev.fabric.escrow.stats;

import dev.fabric.escrow.descriptor.DescriptorKind;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StatsFormatTest {

    private final EscrowStats stats = new EscrowStats("/run/escrow/my usock", 42, 32, EscrowStats.State.DRAINING, true, 7, 1,
            Map.of("wrong_request", 2L, "peer_refused", 1L),
            List.of(new EscrowStats.TagStats(0, 1, 4, Map.of(DescriptorKind.SERVER_SOCKET, 1)),
                    new EscrowStats.TagStats(5, 2, 10, Map.of(DescriptorKind.SOCKET, 1, DescriptorKind.NONE, 1))),
            List.of(new EscrowStats.SlotInfo(0, 0, DescriptorKind.SERVER_SOCKET, 4, 7),
                    new EscrowStats.SlotInfo(5, 1, DescriptorKind.SOCKET, 5, 9),
                    new EscrowStats.SlotInfo(5, 1048575, DescriptorKind.NONE, 5, -1)));

    @Test
    void rendersOneFactPerLine() {
        assertThat(StatsFormat.render(stats)).isEqualTo("""
                escrowd-stats 1
                path /run/escrow/my usock
                pid 42
                nr_tags 32
                state draining
                session active
                sessions 7
                refused_peers 1
                error peer_refused 1
                error wrong_request 2
                tag 0 slots=1 bytes=4 socket=0 server_socket=1 other_socket=0 file=0 none=0
                tag 5 slots=2 bytes=10 socket=1 server_socket=0 other_socket=0 file=0 none=1
                slot 0 0 kind=server_socket nob=4 ufd=7
                slot 5 1 kind=socket nob=5 ufd=9
                slot 5 1048575 kind=none nob=5 ufd=-1
                end
                """);
    }

    @Test
    void parsesWhatItRenders() {
        EscrowStats parsed = StatsFormat.parse(StatsFormat.render(stats));
        assertThat(parsed.path()).isEqualTo(stats.path());
        assertThat(parsed.tags()).isEqualTo(stats.tags());
        assertThat(parsed.slots()).isEqualTo(stats.slots());
        assertThat(parsed.errors()).isEqualTo(stats.errors());
        assertThat(parsed).usingRecursiveComparison().isEqualTo(stats);
        assertThat(parsed.summary()).isEqualTo("3 slots in 2 tags (1 socket, 1 server_socket, 1 payload-only), 14 payload bytes");
    }

    @Test
    void refusesTextThatIsNotStatsOrIsCutShort() {
        assertThatThrownBy(() -> StatsFormat.parse("HTTP/1.1 200 OK\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StatsFormat.parse("escrowd-stats 1\npid 1\n")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ended early");
    }
}
