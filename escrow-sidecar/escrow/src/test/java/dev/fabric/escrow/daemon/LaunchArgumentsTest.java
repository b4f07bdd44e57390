package dev.fabric.escrow.daemon;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The command line the launcher writes and the detached daemon reads back, without picocli. */
class LaunchArgumentsTest {

    @Test
    void whatTheLauncherWritesTheDaemonReadsBack() {
        LaunchArguments every = new LaunchArguments(Path.of("/run/escrow/e.sock"), 7, true, true, List.of(10001, 10002), List.of(20),
                Duration.ofSeconds(9), 500, 4096, Duration.ZERO, Path.of("/run/escrow/e.sock.log"));

        assertThat(every.toArgs()).containsExactly("-v", "-f", "-t", "7", "--allow-uid=10001", "--allow-uid=10002", "--allow-gid=20",
                "--shutdown-grace=9", "--max-slots=500", "--max-payload-bytes=4096", "--idle-timeout=0",
                "--log-file=/run/escrow/e.sock.log", "/run/escrow/e.sock");
        assertThat(LaunchArguments.parse(every.toArgs())).isEqualTo(every);
    }

    @Test
    void creatGivesThePathTagsVerboseAndForceAndEscrowdsDefaults() {
        LaunchArguments creat = LaunchArguments.of(Path.of("/tmp/e.sock"), 3, false, true);

        assertThat(LaunchArguments.parse(creat.toArgs())).isEqualTo(creat);
        EscrowdConfig config = creat.config();
        EscrowdConfig defaults = EscrowdConfig.of(Path.of("/tmp/e.sock"));
        assertThat(config.nrTags()).isEqualTo(3);
        assertThat(config.force()).isTrue();
        assertThat(config.trace()).isNull();
        assertThat(config.peers()).isEqualTo(PeerPolicy.ownUid());
        assertThat(config.shutdownGrace()).isEqualTo(defaults.shutdownGrace());
        assertThat(config.maxSlots()).isEqualTo(defaults.maxSlots());
        assertThat(config.maxPayloadBytes()).isEqualTo(defaults.maxPayloadBytes());
        assertThat(config.idleTimeout()).isEqualTo(defaults.idleTimeout());
    }

    @Test
    void theLauncherStartsThePicocliFreeEntryPointWithThoseArguments() {
        LaunchArguments creat = LaunchArguments.of(Path.of("/tmp/e.sock"), 3, false, false);
        List<String> command = EscrowdLauncher.command(creat, null);

        int main = command.indexOf(EscrowdProcess.class.getName());
        assertThat(main).as(String.join(" ", command)).isPositive();
        assertThat(command.subList(main + 1, command.size())).isEqualTo(creat.toArgs());
    }

    @Test
    void anythingElseIsRefusedSayingWhat() {
        assertThatThrownBy(() -> LaunchArguments.parse(List.of("--detached", "/tmp/e.sock"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown argument --detached");
        assertThatThrownBy(() -> LaunchArguments.parse(List.of("--max-slots=many", "/tmp/e.sock")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--max-slots=many");
        assertThatThrownBy(() -> LaunchArguments.parse(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
