package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.testsupport.BaseImage;
import dev.fabric.testsupport.RequiresDocker;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

import com.github.dockerjava.api.exception.NotFoundException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image that {@code docker/registry-service.Dockerfile} builds, started as a container: it runs as
 * the non-root user 10001, loads a fabric key directory whose private key is mode 0600, keeps its H2
 * database in {@code /var/lib/fabric}, takes its heartbeat settings from the environment variables the
 * Helm chart sets, becomes ready, and serves signed requests while refusing unsigned ones.
 */
@RequiresDocker
class RegistryImageIT {

    /** The build context is the repository root, as in the Dockerfile's instructions; tests run in registry-service/. */
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final String DOCKERFILE = "docker/registry-service.Dockerfile";
    private static final String JAR = "registry-service/target/registry-service-exec.jar";

    /** The user the Dockerfile runs the registry as (and the chart's runAsUser). */
    private static final int FABRIC_UID = 10001;
    private static final int PORT = 8470;
    private static final String KEYS = "/etc/fabric/keys/";

    @Test
    // withDockerfilePath is deprecated in favour of withDockerfile(Path), which also parses the FROM line and
    // pre-pulls what it finds there: "${BASE_IMAGE}", which no registry has. The path inside the context is right here.
    @SuppressWarnings("deprecation")
    void imageServesSignedRequestsAsNonRootWithAnOwnerOnlyKey() throws Exception {
        assertThat(REPOSITORY.resolve(JAR)).as("the runnable jar; run this test through 'mvn verify'").exists();
        FabricKeys keys = FabricKeys.generate();
        // Unique, so parallel runs on one engine do not share (or delete) each other's image.
        String imageName = "fabric/registry-service:it-" + UUID.randomUUID().toString().substring(0, 8);
        // Only the two files the Dockerfile needs, at their paths under the repository root: a small context.
        ImageFromDockerfile image = new ImageFromDockerfile(imageName, false)
                .withFileFromPath(DOCKERFILE, REPOSITORY.resolve(DOCKERFILE))
                .withFileFromPath(JAR, REPOSITORY.resolve(JAR))
                .withDockerfilePath(DOCKERFILE)
                .withBuildArg("BASE_IMAGE", BaseImage.name());

        // Ryuk is disabled on these machines: try-with-resources removes the container, finally the image.
        try (GenericContainer<?> registry = new GenericContainer<>(image)
                .withExposedPorts(PORT)
                // The heartbeat settings as the Helm chart passes them: Spring's relaxed names in the environment.
                .withEnv("FABRIC_REGISTRY_HEARTBEAT_INTERVAL", "1s")
                // The test reaches the container through a mapped port on the Docker host, an authority it cannot discover.
                .withEnv("FABRIC_SECURITY_SIGNATURE_AUTHORITIES",
                        "localhost:*,127.0.0.1:*," + DockerClientFactory.instance().dockerHostIpAddress() + ":*")
                .withEnv("FABRIC_REGISTRY_HEARTBEAT_SUSPECTAFTER", "3")
                .withEnv("FABRIC_REGISTRY_HEARTBEAT_DEADAFTER", "4")
                // The registry refuses a private key others can read, so it must arrive 0600 and owned by
                // the registry's user: a tar entry carries both, and the engine keeps them when it unpacks.
                .withCopyToContainer(ownedFile(keys.privateKeyPem(), 0600, FABRIC_UID), KEYS + FabricKeys.PRIVATE_KEY_FILE)
                .withCopyToContainer(ownedFile(keys.publicKeyPem(), 0644, FABRIC_UID), KEYS + FabricKeys.PUBLIC_KEY_FILE)
                .waitingFor(Wait.forHttp("/actuator/health/readiness").forPort(PORT).forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(3)))) {
            registry.start();

            assertThat(exec(registry, "id", "-u")).as("uid of the container's processes").isEqualTo(String.valueOf(FABRIC_UID));
            assertThat(exec(registry, "stat", "-c", "%a %u", KEYS + FabricKeys.PRIVATE_KEY_FILE))
                    .as("mode and owner of the private key the registry loaded").isEqualTo("600 " + FABRIC_UID);

            String url = "http://" + registry.getHost() + ":" + registry.getMappedPort(PORT);
            RegistryClient client = new RegistryClient(url, keys);
            RegistryClient.Answer registered = client.post("/api/v1/instances",
                    Map.of("id", "image-it-1", "type", "echo", "endpoints", Map.of("management", "http://10.0.0.7:9000")));
            assertThat(registered.status()).as(() -> "registration: " + registered.body() + "\n" + registry.getLogs()).isEqualTo(201);

            RegistryClient.Answer read = client.get("/api/v1/instances/image-it-1");
            assertThat(read.status()).as(() -> "read back: " + read.body()).isEqualTo(200);
            assertThat(read.body().path("type").asString()).isEqualTo("echo");
            assertThat(read.body().path("state").asString()).isEqualTo("RUNNING");
            assertThat(read.body().path("endpoints").path("management").asString()).isEqualTo("http://10.0.0.7:9000");

            // DEAD after 4 missed 1 s heartbeats; the defaults (5 x 2 s) would take 10 s.
            long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            String state = read.body().path("state").asString();
            while (!state.equals("DEAD") && System.nanoTime() < deadline) {
                Thread.sleep(250);
                state = client.get("/api/v1/instances/image-it-1").body().path("state").asString();
            }
            assertThat(state).as("state 8 s after registering without heartbeats").isEqualTo("DEAD");

            HttpResponse<String> unsigned = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url + "/api/v1/instances")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(unsigned.statusCode()).as("an unsigned request").isEqualTo(401);

            assertThat(exec(registry, "ls", "/var/lib/fabric")).as("the H2 database in FABRIC_DATA_DIR").contains("registry.mv.db");
        } finally {
            removeImage(imageName);
        }
    }

    private static String exec(GenericContainer<?> container, String... command) throws IOException, InterruptedException {
        ExecResult result = container.execInContainer(command);
        assertThat(result.getExitCode()).as(() -> String.join(" ", command) + ": " + result.getStderr()).isZero();
        return result.getStdout().strip();
    }

    /** A file for {@code withCopyToContainer} with a mode and an owner (Transferable.of sets only the mode, owner root). */
    private static Transferable ownedFile(String content, int mode, int uid) {
        byte[] bytes = content.getBytes(StandardCharsets.US_ASCII);
        return new Transferable() {
            @Override
            public long getSize() {
                return bytes.length;
            }

            @Override
            public byte[] getBytes() {
                return bytes;
            }

            @Override
            public int getFileMode() {
                return mode;
            }

            @Override
            public String getDescription() {
                return "file of " + bytes.length + " bytes, mode " + Integer.toOctalString(mode) + ", owner " + uid;
            }

            @Override
            public void transferTo(TarArchiveOutputStream tar, String destination) {
                TarArchiveEntry entry = new TarArchiveEntry(destination);
                entry.setSize(bytes.length);
                entry.setMode(mode);
                entry.setIds(uid, uid);
                try {
                    tar.putArchiveEntry(entry);
                    tar.write(bytes);
                    tar.closeArchiveEntry();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + destination + " into the archive", e);
                }
            }
        };
    }

    private static void removeImage(String imageName) {
        try {
            DockerClientFactory.instance().client().removeImageCmd(imageName).withForce(true).exec();
        } catch (NotFoundException neverBuilt) {
            // The build failed before tagging: nothing to remove.
        }
    }
}
