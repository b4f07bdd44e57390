package dev.fabric.spawner;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.testsupport.BaseImage;
import dev.fabric.testsupport.RequiresDocker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import tools.jackson.databind.JsonNode;

import com.github.dockerjava.api.exception.NotFoundException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image that {@code docker/spawner-service.Dockerfile} builds, started as a container with a fabric
 * key directory bind-mounted read-only at {@code /etc/fabric/keys} as the Dockerfile documents (owned by
 * uid 10001, the private key 0600): it becomes ready with no registry reachable, runs as the non-root
 * user 10001, keeps its id in {@code /var/lib/fabric}, refuses unsigned requests and requests signed with
 * another key, and accepts requests signed with the mounted key (they get as far as the registry call,
 * which it answers with the documented {@code 503 not-ready}: it cannot take its members back yet).
 */
@RequiresDocker
class SpawnerImageIT {

    /** The build context is the repository root, as in the Dockerfile's instructions; tests run in spawner-service-it/. */
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final String DOCKERFILE = "docker/spawner-service.Dockerfile";
    private static final String JAR = "spawner-service/target/spawner-service-exec.jar";

    /** The user the Dockerfile runs the spawner as (and the chart's runAsUser). */
    private static final int FABRIC_UID = 10001;
    private static final int PORT = 8472;
    private static final String KEYS = "/etc/fabric/keys";

    @Test
    // withDockerfilePath is deprecated in favour of withDockerfile(Path), which also parses the FROM line and
    // pre-pulls what it finds there: "${BASE_IMAGE}", which no registry has. The path inside the context is right here.
    @SuppressWarnings("deprecation")
    void imageAcceptsOnlyRequestsSignedWithTheMountedKeyAsNonRoot(@TempDir Path temp) throws Exception {
        assertThat(REPOSITORY.resolve(JAR)).as("the runnable jar; run this test through 'mvn verify'").exists();
        FabricKeys keys = FabricKeys.generate();
        Path keyDir = ownedKeyDirectory(temp.resolve("keys"), keys);

        // Unique, so parallel runs on one engine do not share (or delete) each other's image.
        String imageName = "fabric/spawner-service:it-" + UUID.randomUUID().toString().substring(0, 8);
        // Only the files the Dockerfile needs, at their paths under the repository root: a small context.
        ImageFromDockerfile image = new ImageFromDockerfile(imageName, false)
                .withFileFromPath(DOCKERFILE, REPOSITORY.resolve(DOCKERFILE))
                .withFileFromPath(JAR, REPOSITORY.resolve(JAR))
                .withFileFromPath("docker/base/aot-cache.sh", REPOSITORY.resolve("docker/base/aot-cache.sh"))
                .withDockerfilePath(DOCKERFILE)
                .withBuildArg("BASE_IMAGE", BaseImage.name());

        // Ryuk is disabled on these machines: try-with-resources removes the container, finally the image.
        try (GenericContainer<?> spawner = new GenericContainer<>(image)
                .withExposedPorts(PORT)
                // As documented: docker run -v "$PWD/keys:/etc/fabric/keys:ro" (FABRIC_KEYS_PATH points there).
                .withFileSystemBind(keyDir.toString(), KEYS, BindMode.READ_ONLY)
                // The container's own loopback, where nothing listens: no registry is reachable. A name such as
                // the documented "registry" would wait on a DNS server these machines cannot reach.
                .withEnv("FABRIC_REGISTRY_URL", "http://127.0.0.1:8470")
                // The test reaches the container through a mapped port on the Docker host, an authority it cannot discover.
                .withEnv("FABRIC_SECURITY_SIGNATURE_AUTHORITIES",
                        "localhost:*,127.0.0.1:*," + DockerClientFactory.instance().dockerHostIpAddress() + ":*")
                .waitingFor(Wait.forHttp("/actuator/health/readiness").forPort(PORT).forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(3)))) {
            spawner.start();

            // PID 1 is the JVM (the exec-form ENTRYPOINT); its real and effective uids are the fabric user's.
            assertThat(exec(spawner, "cat", "/proc/1/cmdline")).as("the container's first process").contains("spawner-service.jar");
            assertThat(statusLine(exec(spawner, "cat", "/proc/1/status"), "Uid:"))
                    .as("real, effective, saved and file-system uid of the spawner's JVM")
                    .isEqualTo(List.of("10001", "10001", "10001", "10001"));
            assertThat(exec(spawner, "stat", "-c", "%a %u", KEYS + "/" + FabricKeys.PRIVATE_KEY_FILE))
                    .as("mode and owner of the mounted private key").isEqualTo("600 " + FABRIC_UID);
            assertThat(exec(spawner, "cat", "/var/lib/fabric/spawner.id"))
                    .as("the spawner's id, kept in FABRIC_DATA_DIR").matches("spawner-[0-9a-f]{8}");
            assertThat(spawner.getLogs()).as("the spawner's log").contains("fabric keys from " + KEYS + " (key id " + keys.keyId() + ")");

            String url = "http://" + spawner.getHost() + ":" + spawner.getMappedPort(PORT);

            HttpResponse<String> unsigned = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url + "/api/v1/members")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(unsigned.statusCode()).as(() -> "an unsigned request: " + unsigned.body()).isEqualTo(401);
            assertThat(unsigned.body()).contains("\"reason\":\"unsigned\"");

            // Signed with the mounted key: the signature filter lets it through to the controller, which cannot
            // reach the registry to take its members back. A 503 with that reason can only come from behind the
            // signature check.
            ResponseEntity<JsonNode> signed = signedClient(url, keys).get().uri("/api/v1/members").retrieve().toEntity(JsonNode.class);
            assertThat(signed.getStatusCode().value()).as(() -> "a request signed with the mounted key: " + signed.getBody()
                    + "\n" + spawner.getLogs()).isEqualTo(503);
            assertThat(signed.getHeaders().getContentType()).matches(type -> type.isCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON));
            assertThat(signed.getBody().path("reason").asString()).isEqualTo("not-ready");
            assertThat(signed.getBody().path("detail").asString()).contains("cannot reach the registry");

            FabricKeys other = FabricKeys.generate();
            ResponseEntity<JsonNode> foreign = signedClient(url, other).get().uri("/api/v1/members").retrieve().toEntity(JsonNode.class);
            assertThat(foreign.getStatusCode().value()).as(() -> "a request signed with another key: " + foreign.getBody()).isEqualTo(401);
            assertThat(foreign.getBody().path("reason").asString()).isEqualTo("unknown-key");

            // Another key claiming the mounted key's id: the key id alone lets nothing in, the signature is checked.
            URI target = URI.create(url + "/api/v1/members");
            Map<String, String> headers = new RequestSigner(other, Clock.systemUTC()).sign("GET", target, Map.of(), new byte[0]);
            HttpRequest.Builder forged = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10));
            headers.forEach((name, value) -> forged.header(name,
                    name.equals("Signature-Input") ? value.replace(other.keyId(), keys.keyId()) : value));
            HttpResponse<String> impostor = HttpClient.newHttpClient().send(forged.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(impostor.statusCode()).as(() -> "another key's signature under the mounted key's id: " + impostor.body())
                    .isEqualTo(401);
            assertThat(impostor.body()).contains("\"reason\":\"bad-signature\"");
        } finally {
            removeImage(imageName);
        }
    }

    /**
     * A fabric key directory as an operator mounts it: the directory 0700 and both files owned by the
     * spawner's user, the private key 0600 (the spawner refuses one others can read). Changing the owner
     * needs root, which the container rig's machines are.
     */
    private static Path ownedKeyDirectory(Path directory, FabricKeys keys) throws IOException {
        keys.writeTo(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        try (var files = Files.list(directory)) {
            for (Path path : files.toList()) {
                chown(path);
            }
        }
        chown(directory);
        return directory;
    }

    private static void chown(Path path) throws IOException {
        try {
            Files.setAttribute(path, "unix:uid", FABRIC_UID);
            Files.setAttribute(path, "unix:gid", FABRIC_UID);
        } catch (IOException e) {
            throw new IOException("cannot give " + path + " to uid " + FABRIC_UID + " (run the container tests as root, "
                    + "as the container rig does): " + e.getMessage(), e);
        }
    }

    private static RestClient signedClient(String url, FabricKeys keys) {
        return FabricRestClients.signed(keys, Duration.ofSeconds(5), null).baseUrl(url)
                .defaultStatusHandler(status -> true, (request, response) -> { })
                .build();
    }

    /** The whitespace-separated values of one line of a {@code /proc/PID/status} file. */
    private static List<String> statusLine(String status, String key) {
        return status.lines().filter(line -> line.startsWith(key))
                .map(line -> List.of(line.substring(key.length()).strip().split("\\s+")))
                .findFirst().orElseThrow(() -> new AssertionError("no " + key + " line in:\n" + status));
    }

    private static String exec(GenericContainer<?> container, String... command) throws IOException, InterruptedException {
        ExecResult result = container.execInContainer(command);
        assertThat(result.getExitCode()).as(() -> String.join(" ", command) + ": " + result.getStderr()).isZero();
        return result.getStdout().strip();
    }

    private static void removeImage(String imageName) {
        try {
            DockerClientFactory.instance().client().removeImageCmd(imageName).withForce(true).exec();
        } catch (NotFoundException neverBuilt) {
            // The build failed before tagging: nothing to remove.
        }
    }
}
