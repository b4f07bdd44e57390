package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A spawner started as {@code ./fabric up} and the image start it: from the jar that
 * docker/base/aot-cache.sh extracts for the AOT cache, whose libraries are files beside it, with
 * {@code fabric.spawner.ssh.distribution} naming the runnable jar. A member placed on a host is staged
 * that jar and runs; so is one placed by a member the spawner started itself, which runs the
 * extracted jar too and inherits the distribution.
 */
class ExtractedJarSshSpawnIT {

    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("docker/base/aot-cache.sh");

    @TempDir
    static Path dir;

    static Sshd sshd;
    static FabricUnderTest fabric;
    static String staged;

    @BeforeAll
    static void start() throws Exception {
        Sshd.assumeAvailable();
        Path extracted = extract();
        sshd = new Sshd(dir.resolve("sshd"));
        List<String> properties = new ArrayList<>(sshd.hostProperties("loop"));
        properties.add("--fabric.spawner.ssh.distribution=" + FabricUnderTest.SPAWNER_JAR);
        fabric = new FabricUnderTest(dir.resolve("fabric"), properties.toArray(String[]::new));
        fabric.spawnerJar(extracted);
        fabric.startSpawner();
        staged = "spawner-service-" + Staging.sha256(FabricUnderTest.SPAWNER_JAR).substring(0, 16) + ".jar";
    }

    @AfterAll
    static void stop() throws Exception {
        if (fabric != null) {
            fabric.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    /** The jar as {@code ./fabric up} extracts it ({@code fabric_aot_app}); only the extraction, no training run. */
    static Path extract() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", ". \"$SCRIPT\" && fabric_aot_app spawner \"$JAR\" \"$ROOT\" "
                + "&& echo \"$FABRIC_AOT_JAR\"").redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("SCRIPT", SCRIPT.toString());
        builder.environment().put("JAR", FabricUnderTest.SPAWNER_JAR.toString());
        builder.environment().put("ROOT", dir.resolve("aot").toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        Path jar = Path.of(output.lines().reduce((first, last) -> last).orElseThrow());
        assertThat(jar.resolveSibling("lib")).as("the extracted jar's libraries, beside it").isDirectory();
        // Staged alone, it could not start: staging refuses it.
        assertThatThrownBy(() -> Staging.selfContained(jar)).hasMessageContaining("Class-Path")
                .hasMessageContaining("fabric.spawner.ssh.distribution");
        return jar;
    }

    static ResponseEntity<JsonNode> spawnAt(String node, String host) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "queue");
        if (host != null) {
            body.put("host", host);
        }
        return fabric.signedClient(node).post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().toEntity(JsonNode.class);
    }

    static ServiceInstance awaitRunning(String id) throws InterruptedException {
        try {
            return fabric.awaitState(id, InstanceState.RUNNING, 1);
        } catch (AssertionError e) {
            Path log = sshd.remoteDirectory().resolve("members").resolve(id).resolve("member.log");
            throw new AssertionError(e.getMessage() + "\nremote member log:\n" + FabricUnderTest.log(log), e);
        }
    }

    @Test
    void aMemberPlacedOnAHostIsStagedTheRunnableJarAndRuns() throws Exception {
        ResponseEntity<JsonNode> accepted = spawnAt(fabric.spawnerUrl(), "loop");
        assertThat(accepted.getStatusCode().value()).as(String.valueOf(accepted.getBody())).isEqualTo(202);

        ServiceInstance running = awaitRunning(accepted.getBody().path("id").asString());

        assertThat(running.metadata()).containsEntry("launcher", "ssh").containsEntry("host", "loop");
        assertThat(sshd.remoteDirectory().resolve("dist").resolve(staged)).exists();
    }

    @Test
    void aMemberStartedFromTheExtractedJarPlacesItsOwnMemberOnAHost() throws Exception {
        String a = spawnAt(fabric.spawnerUrl(), null).getBody().path("id").asString();
        ServiceInstance runningA = fabric.awaitState(a, InstanceState.RUNNING, 1);
        assertThat(runningA.metadata()).containsEntry("launcher", "process");

        ResponseEntity<JsonNode> accepted = spawnAt(runningA.endpoints().get("management"), "loop");
        assertThat(accepted.getStatusCode().value()).as(String.valueOf(accepted.getBody())).isEqualTo(202);
        ServiceInstance runningB = awaitRunning(accepted.getBody().path("id").asString());

        assertThat(runningB.parentId()).isEqualTo(a);
        assertThat(runningB.metadata()).containsEntry("host", "loop");
        assertThat(sshd.remoteDirectory().resolve("dist").resolve(staged)).exists();
    }
}
