package dev.fabric.escrow.sidecar;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import dev.fabric.escrow.echo.EchoClient;
import dev.fabric.testsupport.BaseImage;
import dev.fabric.testsupport.RequiresDocker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The proof that matters: a pod emulated with two containers. The sidecar container (the escrow
 * sidecar image) owns the network namespace and shares a volume at {@code /run/escrow} with the app
 * container (the echo-server image), which joins that namespace ({@code --network container:}),
 * as the containers of one Kubernetes pod do. A TCP client outside the pod keeps sending numbered
 * lines while the app container is killed (SIGKILL), replaced by a new container from the same
 * image, then stopped (SIGTERM) and replaced again: its connection never drops and every line comes
 * back once, in order.
 */
@RequiresDocker
class EscrowPodIT {

    /** The build context is the repository root, as in the Dockerfiles' headers. */
    private static final Path REPOSITORY = Path.of(System.getProperty("fabric.repository", "../..")).toAbsolutePath().normalize();
    private static final String SIDECAR_DOCKERFILE = "docker/escrow-sidecar.Dockerfile";
    private static final String ECHO_DOCKERFILE = "docker/escrow-echo.Dockerfile";
    /** Both images are made of the escrow distribution: the sidecar runs `bin/escrow sidecar`, the app `bin/escrow echo-server`. */
    private static final String DIST = "escrow-sidecar/escrow/target/escrow-dist";

    private static final int UID = 10001;
    private static final int HTTP_PORT = 8471;
    private static final int ECHO_PORT = 8087;
    private static final String SOCKET_DIR = "/run/escrow";

    private final DockerClient docker = DockerClientFactory.instance().client();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String volume = "escrow-pod-it-" + run;
    private final List<String> images = new ArrayList<>();
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void removeEverything() {
        // Ryuk is disabled on these machines: app containers first (they live in the sidecar's namespace).
        for (int i = containers.size() - 1; i >= 0; i--) {
            containers.get(i).stop();
        }
        try {
            docker.removeVolumeCmd(volume).exec();
        } catch (NotFoundException neverMade) {
            // The test failed before creating it.
        }
        for (String image : images) {
            try {
                docker.removeImageCmd(image).withForce(true).exec();
            } catch (NotFoundException neverBuilt) {
                // The build failed before tagging.
            }
        }
    }

    @Test
    void clientStaysConnectedWithEveryByteEchoedWhileTheAppContainerIsKilledAndReplaced() throws Exception {
        assertThat(REPOSITORY.resolve(DIST).resolve("bin/escrow")).as("the escrow distribution; run this test through 'mvn verify'").exists();
        ImageFromDockerfile sidecarImage = image("fabric/escrow-sidecar", SIDECAR_DOCKERFILE, DIST);
        ImageFromDockerfile echoImage = image("fabric/escrow-echo", ECHO_DOCKERFILE, DIST);
        docker.createVolumeCmd().withName(volume).exec();

        // The pod: the sidecar holds the network namespace, so the pod's ports are published on it.
        GenericContainer<?> sidecar = started(new GenericContainer<>(sidecarImage)
                .withExposedPorts(HTTP_PORT, ECHO_PORT)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(new Bind(volume, new Volume(SOCKET_DIR))))
                .waitingFor(Wait.forHttp("/actuator/health/readiness").forPort(HTTP_PORT).forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(2))));
        assertThat(exec(sidecar, "id", "-u")).isEqualTo(String.valueOf(UID));
        // The lean daemon with escrowd's own JVM options (the file the memory benchmark measures), not an app of its own.
        assertThat(exec(sidecar, "cat", "/proc/1/cmdline").replace('\0', ' '))
                .contains("@/opt/escrow/conf/escrowd-jvm.options").contains("dev.fabric.escrow.sidecar.EscrowSidecar");
        assertThat(exec(sidecar, "stat", "-c", "%a %u", SOCKET_DIR + "/escrow.sock")).as("mode and owner of the escrow socket")
                .isEqualTo("600 " + UID);

        GenericContainer<?> app = started(app(echoImage, sidecar, "recovered 0 clients from the escrow"));
        assertThat(app.getLogs()).contains("(new listener)");

        SocketChannel connection = SocketChannel.open(new InetSocketAddress(sidecar.getHost(), sidecar.getMappedPort(ECHO_PORT)));
        try (EchoClient client = new EchoClient(connection, 16, Duration.ofMillis(2)).start()) {
            await().atMost(Duration.ofSeconds(60)).until(() -> client.echoed() > 300 || !client.errors().isEmpty());
            assertThat(client.errors()).isEmpty();

            // Round 1: kill -9, as a crash or an OOM kill would.
            docker.killContainerCmd(app.getContainerId()).exec();
            app = replace(app, client, echoImage, sidecar);
            assertThat(app.getLogs()).contains("(listener recovered from the escrow)").contains("client #0 recovered");

            // Round 2: a graceful stop (SIGTERM), as the kubelet restarting the container does.
            docker.stopContainerCmd(app.getContainerId()).withTimeout(10).exec();
            app = replace(app, client, echoImage, sidecar);

            assertThat(client.finish(Duration.ofSeconds(30))).as("every line sent was echoed").isTrue();
            assertThat(client.errors()).as("the connection never broke").isEmpty();
            assertThat(client.readerAlive()).as("the client's connection is still open").isTrue();
            assertThat(client.echoed()).isEqualTo(client.sent()).isGreaterThan(900);
            assertThat(connection.isConnected()).isTrue();

            // The sidecar saw three app sessions, holds the listener and our connection, and refused nobody.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                String metrics = get(sidecar, "/actuator/prometheus");
                assertThat(metric(metrics, "escrow_sessions_total", "")).isEqualTo(3);
                assertThat(metric(metrics, "escrow_descriptors", "")).isEqualTo(2);
                assertThat(metric(metrics, "escrow_tag_descriptors", "tag=\"1\"")).as("the client's socket").isEqualTo(1);
                assertThat(metric(metrics, "escrow_errors_total", "reason=\"peer_refused\"")).isZero();
            });
        }
        // The client leaves: the app's echo loop ends and takes the connection out of the escrow.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(metric(get(sidecar, "/actuator/prometheus"), "escrow_descriptors", "")).isEqualTo(1));
        assertThat(app.getLogs()).contains("client #0 disconnected");
    }

    /** Removes the stopped app container and starts its replacement in the same namespace, while the client keeps sending. */
    private GenericContainer<?> replace(GenericContainer<?> old, EchoClient client, ImageFromDockerfile echoImage,
                                        GenericContainer<?> sidecar) throws Exception {
        long echoedBefore = client.echoed();
        Thread.sleep(500); // the client keeps writing into the kernel's buffers of the escrowed socket
        assertThat(client.errors()).as("nothing broke while the app was down").isEmpty();
        String lastLogs = old.getLogs();
        old.stop();
        containers.remove(old);
        GenericContainer<?> replacement = started(app(echoImage, sidecar, "client #0 recovered"));
        await().atMost(Duration.ofSeconds(60)).until(() -> client.echoed() > echoedBefore + 300 || !client.errors().isEmpty());
        assertThat(client.errors()).as(() -> "after the restart; the previous app's log:\n" + lastLogs
                + "\nthe new one's:\n" + replacement.getLogs()).isEmpty();
        return replacement;
    }

    private GenericContainer<?> app(ImageFromDockerfile echoImage, GenericContainer<?> sidecar, String readyLine) {
        return new GenericContainer<>(echoImage)
                .withNetworkMode("container:" + sidecar.getContainerId())
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(new Bind(volume, new Volume(SOCKET_DIR))))
                .waitingFor(Wait.forLogMessage(".*" + Pattern.quote(readyLine) + ".*\\n", 1).withStartupTimeout(Duration.ofMinutes(1)));
    }

    private GenericContainer<?> started(GenericContainer<?> container) {
        containers.add(container);
        container.start();
        return container;
    }

    // withDockerfilePath is deprecated in favour of withDockerfile(Path), which also pre-pulls what the FROM line
    // names: "${BASE_IMAGE}", which no registry has (see RegistryImageIT). The path inside the context is right here.
    @SuppressWarnings("deprecation")
    private ImageFromDockerfile image(String repository, String dockerfile, String input) {
        String name = repository + ":it-" + run;
        images.add(name);
        // Only what the Dockerfile needs, at its path under the repository root: a small context.
        ImageFromDockerfile image = new ImageFromDockerfile(name, false)
                .withFileFromPath(dockerfile, REPOSITORY.resolve(dockerfile))
                .withDockerfilePath(dockerfile)
                .withBuildArg("BASE_IMAGE", BaseImage.name());
        Path source = REPOSITORY.resolve(input);
        if (Files.isDirectory(source)) {
            try (var files = Files.walk(source)) {
                files.filter(Files::isRegularFile).forEach(file -> image.withFileFromPath(
                        REPOSITORY.relativize(file).toString(), file));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + source, e);
            }
        } else {
            image.withFileFromPath(input, source);
        }
        return image;
    }

    private static String exec(GenericContainer<?> container, String... command) throws Exception {
        ExecResult result = container.execInContainer(command);
        assertThat(result.getExitCode()).as(() -> String.join(" ", command) + ": " + result.getStderr()).isZero();
        return result.getStdout().strip();
    }

    private String get(GenericContainer<?> sidecar, String path) throws Exception {
        URI uri = URI.create("http://" + sidecar.getHost() + ":" + sidecar.getMappedPort(HTTP_PORT) + path);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }

    private static double metric(String body, String name, String label) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)} (\\S+)$").matcher(body);
        while (m.find()) {
            if (m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no series " + name + " with " + label + " in:\n" + body);
    }
}
