package dev.fabric.registry;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.testsupport.BaseImage;
import dev.fabric.testsupport.RequiresDocker;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.io.input.CloseShieldInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

import com.github.dockerjava.api.exception.NotFoundException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image that {@code docker/registry-service.Dockerfile} builds, started as a container: it runs as
 * the non-root user 10001, loads a fabric key directory whose private key is mode 0600, keeps its H2
 * database in {@code /var/lib/fabric}, takes its heartbeat settings from the environment variables the
 * Helm chart sets, becomes ready, and serves signed requests while refusing unsigned ones. It starts
 * from the JDK AOT cache its build made with a training run (Spring's and the registry's classes come
 * from the cache), and no layer of the image holds a private key: the training run's throwaway pair
 * is gone, and the cache holds classes, not keys.
 */
@RequiresDocker
class RegistryImageIT {

    /** The build context is the repository root, as in the Dockerfile's instructions; tests run in registry-service-it/. */
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final String DOCKERFILE = "docker/registry-service.Dockerfile";
    private static final String JAR = "registry-service/target/registry-service-exec.jar";
    private static final String AOT_SCRIPT = "docker/base/aot-cache.sh";
    /** Where the JVM, told through JAVA_TOOL_OPTIONS, writes which classes it loaded and from where. */
    private static final String CLASS_LOG = "/tmp/classes.txt";

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
                .withFileFromPath(AOT_SCRIPT, REPOSITORY.resolve(AOT_SCRIPT))
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
                // The image's own command line, with class loading logged: a class from the AOT cache says so.
                .withEnv("JAVA_TOOL_OPTIONS", "-Xlog:class+load:file=" + CLASS_LOG)
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

            assertThat(exec(registry, "cat", "/proc/1/cmdline")).as("the registry's command line")
                    .contains("-XX:AOTCache=/opt/fabric/aot/current/registry.aot");
            String classes = exec(registry, "cat", CLASS_LOG);
            assertThat(classes).as("Spring's and the registry's classes, mapped from the cache the image's training run made")
                    .contains("org.springframework.boot.SpringApplication source: shared objects file")
                    .contains("dev.fabric.registry.RegistryApplication source: shared objects file");

            ImageScan scan = ImageScan.of(imageName);
            assertThat(scan.files()).as("files seen in the image's layers").anyMatch(f -> f.endsWith("/registry.aot"));
            assertThat(scan.keyFiles()).as("fabric key files in the image's layers").isEmpty();
            assertThat(scan.filesWithPrivateKeys()).as("files of the image's layers holding an Ed25519 private key").isEmpty();
        } finally {
            removeImage(imageName);
        }
    }

    @Test
    void theScanFindsAPrivateKeyInPemAndInDer() throws IOException {
        FabricKeys keys = FabricKeys.generate();
        assertThat(ImageScan.holdsPrivateKey(new ByteArrayInputStream(("x\n" + keys.privateKeyPem()).getBytes(StandardCharsets.US_ASCII)))).isTrue();
        byte[] der = keys.privateKeyDer();
        byte[] padded = new byte[3 * 1024 * 1024];
        // Across the scan's buffer boundary: the pattern is still found.
        System.arraycopy(der, 0, padded, (1 << 20) - 5, der.length);
        assertThat(ImageScan.holdsPrivateKey(new ByteArrayInputStream(padded))).isTrue();
        assertThat(ImageScan.holdsPrivateKey(new ByteArrayInputStream(keys.publicKeyPem().getBytes(StandardCharsets.US_ASCII)))).isFalse();
    }

    /**
     * Every file of every layer of an image ({@code docker save}), looked through for fabric key files and
     * for an Ed25519 private key: PKCS#8 version 1 begins with the same 16 bytes for every such key, in DER
     * and (as the base64 of those bytes) in PEM.
     */
    record ImageScan(List<String> files, List<String> keyFiles, List<String> filesWithPrivateKeys) {

        private static final byte[] DER_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
        private static final byte[] PEM_PREFIX = Base64.getEncoder().encodeToString(DER_PREFIX).substring(0, 21)
                .getBytes(StandardCharsets.US_ASCII);

        static ImageScan of(String imageName) throws IOException {
            List<String> files = new ArrayList<>();
            List<String> keyFiles = new ArrayList<>();
            List<String> withKeys = new ArrayList<>();
            try (InputStream saved = DockerClientFactory.instance().client().saveImageCmd(imageName).exec();
                 TarArchiveInputStream image = new TarArchiveInputStream(saved)) {
                for (TarArchiveEntry blob = image.getNextEntry(); blob != null; blob = image.getNextEntry()) {
                    if (blob.isDirectory() || !(blob.getName().endsWith("layer.tar") || blob.getName().startsWith("blobs/"))) {
                        continue;
                    }
                    // A layer is a tar; the image's other blobs (its configuration, manifests) are JSON and fail to parse.
                    TarArchiveInputStream layer = new TarArchiveInputStream(CloseShieldInputStream.wrap(image));
                    try {
                        for (TarArchiveEntry file = layer.getNextEntry(); file != null; file = layer.getNextEntry()) {
                            String name = "/" + file.getName();
                            files.add(name);
                            if (name.endsWith("/" + FabricKeys.PRIVATE_KEY_FILE) || name.endsWith("/" + FabricKeys.PUBLIC_KEY_FILE)) {
                                keyFiles.add(name);
                            }
                            if (file.isFile() && holdsPrivateKey(layer)) {
                                withKeys.add(name);
                            }
                        }
                    } catch (IOException notALayer) {
                        // JSON
                    }
                }
            }
            return new ImageScan(files, keyFiles, withKeys);
        }

        /** Whether the stream holds an Ed25519 private key's PKCS#8 prefix, in DER or in base64. */
        static boolean holdsPrivateKey(InputStream in) throws IOException {
            int keep = Math.max(DER_PREFIX.length, PEM_PREFIX.length) - 1;
            byte[] buffer = new byte[(1 << 20) + keep];
            int kept = 0;
            boolean found = false;
            for (int read = in.read(buffer, kept, buffer.length - kept); read > 0; read = in.read(buffer, kept, buffer.length - kept)) {
                int length = kept + read;
                found = found || indexOf(buffer, length, DER_PREFIX) >= 0 || indexOf(buffer, length, PEM_PREFIX) >= 0;
                kept = Math.min(keep, length);
                System.arraycopy(buffer, length - kept, buffer, 0, kept);
            }
            return found;
        }

        private static int indexOf(byte[] data, int length, byte[] pattern) {
            outer:
            for (int i = 0; i + pattern.length <= length; i++) {
                for (int j = 0; j < pattern.length; j++) {
                    if (data[i + j] != pattern[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
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
