package dev.fabric.spawner.launch;

import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The process launcher's log tail: the end of the member's own log, never a file the registry names elsewhere. */
class ProcessLauncherLogTest {

    @TempDir
    Path members;

    @Test
    void theEndOfTheMembersLogAndHowMuchThereIs() throws Exception {
        ProcessLauncher launcher = new ProcessLauncher(members, "java", "member.jar", List.of());
        Path log = Files.createDirectories(members.resolve("queue-1")).resolve("member.log");
        Files.writeString(log, "=== incarnation 1 of queue-1\n" + "x".repeat(100) + "\nlast line ü\n");

        MemberLog whole = launcher.logTail(instance("queue-1", Map.of()), 1 << 20).orElseThrow();
        assertThat(whole.truncated()).isFalse();
        assertThat(whole.size()).isEqualTo(Files.size(log));
        assertThat(whole.text()).startsWith("=== incarnation 1 of queue-1").endsWith("last line ü\n");
        assertThat(whole.file()).isEqualTo(log.toString());

        MemberLog end = launcher.logTail(instance("queue-1", Map.of()), 13).orElseThrow();
        assertThat(end.truncated()).isTrue();
        assertThat(end.size()).isEqualTo(Files.size(log));
        assertThat(end.text().getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(13 + 2);
        assertThat(end.text()).endsWith("line ü\n");
    }

    @Test
    void aLogFileTheRegistryNamesOutsideAMemberDirectoryIsNotRead() throws Exception {
        ProcessLauncher launcher = new ProcessLauncher(members, "java", "member.jar", List.of());
        Path secret = Files.writeString(Files.createDirectories(members.resolve("elsewhere")).resolve("member.log"), "secret\n");
        Files.writeString(Files.createDirectories(members.resolve("queue-2")).resolve("member.log"), "its own\n");

        MemberLog log = launcher.logTail(instance("queue-2", Map.of("log", secret.toString())), 4096).orElseThrow();
        assertThat(log.text()).isEqualTo("its own\n");
        assertThat(launcher.logTail(instance("queue-2", Map.of("log", "relative/queue-2/member.log")), 4096).orElseThrow().text())
                .isEqualTo("its own\n");
    }

    @Test
    void aMemberWithoutALogHasNone() {
        ProcessLauncher launcher = new ProcessLauncher(members, "java", "member.jar", List.of());
        assertThat(launcher.logTail(instance("queue-3", Map.of()), 4096)).isEmpty();
    }

    private static ServiceInstance instance(String id, Map<String, String> metadata) {
        return new ServiceInstance(id, "queue", null, InstanceState.RUNNING, null, 1, "spawner-1", Connectivity.DIRECT,
                Map.of(), metadata, null, null, null);
    }
}
