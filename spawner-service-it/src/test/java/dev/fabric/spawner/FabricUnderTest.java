package dev.fabric.spawner;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.registry.RegistryApplication;
import dev.fabric.registry.heartbeat.HeartbeatStreams;
import dev.fabric.testsupport.AotSpawner;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real fabric for the spawner's tests: the registry in this JVM (H2 in a temporary directory)
 * and the spawner as a child process from the runnable jar, spawning its members as processes.
 */
public final class FabricUnderTest implements AutoCloseable {

    /** The runnable jar spawner-service built; these tests run in spawner-service-it/, beside it. */
    public static final Path SPAWNER_JAR = Path.of("..", "spawner-service", "target", "spawner-service-exec.jar").toAbsolutePath().normalize();

    public final Path dir;
    public final Path keyDir;
    public final FabricKeys keys;
    public final RegistryClient registry;
    public final String registryUrl;
    private final ConfigurableApplicationContext registryContext;
    private final List<String> spawnerProperties;
    private int spawnerPort;
    private Process spawner;

    public FabricUnderTest(Path dir, String... spawnerProperties) throws IOException {
        this(dir, Duration.ofSeconds(1), spawnerProperties);
    }

    /**
     * A fabric whose registry expects heartbeats every {@code heartbeatInterval} (suspect after 3,
     * dead after 5 missed): 1 s for the tests, so deaths are seen quickly; a benchmark that registers
     * hundreds of members before they heartbeat takes the members' own 2 s.
     */
    public FabricUnderTest(Path dir, Duration heartbeatInterval, String... spawnerProperties) throws IOException {
        if (!Files.exists(SPAWNER_JAR)) {
            throw new IllegalStateException(SPAWNER_JAR + " is missing: run the integration tests through 'mvn verify'");
        }
        this.dir = dir;
        this.keyDir = dir.resolve("keys");
        this.keys = FabricKeys.generate();
        keys.writeTo(keyDir);
        registryContext = new SpringApplicationBuilder(RegistryApplication.class).run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--fabric.registry.data-dir=" + dir.resolve("registry"),
                "--fabric.security.keys-path=" + keyDir,
                "--fabric.registry.heartbeat.interval=" + heartbeatInterval.toMillis() + "ms",
                // The registry's own open paths (its application.yaml is shadowed by the spawner's on this classpath): a
                // rendezvous join is verified by the rendezvous controller, against the key of its side.
                "--fabric.security.signature.open-paths=/actuator/health,/actuator/health/**,/actuator/prometheus,/v3/api-docs,"
                        + "/v3/api-docs/**,/rendezvous/v1/**",
                "--server.tomcat.max-keep-alive-requests=-1");
        registryUrl = "http://127.0.0.1:" + registryContext.getEnvironment().getProperty("local.server.port");
        registry = new RegistryClient(URI.create(registryUrl), keys, Duration.ofSeconds(10));
        this.spawnerProperties = List.of(spawnerProperties);
        try (ServerSocket socket = new ServerSocket(0)) {
            spawnerPort = socket.getLocalPort();
        }
    }

    /** The registry's record of open heartbeat streams. */
    public HeartbeatStreams heartbeatStreams() {
        return registryContext.getBean(HeartbeatStreams.class);
    }

    /** How many heartbeats the registry recorded over heartbeat streams. */
    public double streamedHeartbeats() {
        return registryContext.getBean(MeterRegistry.class).get("fabric.registry.heartbeats").tag("path", "stream").counter().count();
    }

    public String spawnerUrl() {
        return "http://127.0.0.1:" + spawnerPort;
    }

    /** A client of the spawner's API, every request signed with the fabric key. */
    public RestClient spawnerClient() {
        return signedClient(spawnerUrl());
    }

    /**
     * Spawns through the spawner ({@code POST /api/v1/spawns}) and returns the new member's id. Fails
     * with the answer's status and body unless the spawn was accepted: the clients here hand every
     * status back, so a refused spawn or a failed launch shows its problem, not a missing id.
     */
    public String spawn(Map<String, ?> request) {
        ResponseEntity<JsonNode> answer = spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(request).retrieve().toEntity(JsonNode.class);
        String id = answer.getBody() == null ? "" : answer.getBody().path("id").asString("");
        if (answer.getStatusCode().value() != 202 || id.isBlank()) {
            throw new AssertionError("spawn " + request + " was answered " + answer.getStatusCode().value() + ": " + answer.getBody());
        }
        return id;
    }

    public RestClient signedClient(String baseUrl) {
        return FabricRestClients.signed(keys, Duration.ofSeconds(5), null).baseUrl(baseUrl)
                .defaultStatusHandler(status -> true, (request, response) -> { })
                .build();
    }

    public Path spawnerLog() {
        return dir.resolve("spawner.log");
    }

    public Path memberLog(String id) {
        return dir.resolve("spawner-data").resolve("members").resolve(id).resolve("member.log");
    }

    /** Starts (or starts again) the spawner process and waits until it is ready and registered. */
    public void startSpawner() throws Exception {
        // From the extracted jar and AOT caches, as ./fabric up starts it: a member's JVM starts on half the CPU.
        AotSpawner start = AotSpawner.of(SPAWNER_JAR, AotSpawner.TEST_SPAWNER_JVM);
        List<String> command = start.command(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(List.of(
                "--server.port=" + spawnerPort,
                "--fabric.spawner.data-dir=" + dir.resolve("spawner-data"),
                "--fabric.security.keys-path=" + keyDir,
                "--fabric.spawner.registry-url=" + registryUrl));
        // Supervision rounds every 500 ms, so deaths are acted on quickly, unless the test sets its own (a benchmark: the product's 2 s).
        if (spawnerProperties.stream().noneMatch(p -> p.startsWith("--fabric.spawner.supervise-interval="))) {
            command.add("--fabric.spawner.supervise-interval=500ms");
        }
        // A member JVM that starts beside another module's tests can take more than the default 60s to redeem its
        // password; a test about something else would then read "not redeemed". A test may set its own.
        for (String patient : List.of("--fabric.spawner.otp-ttl=180s", "--fabric.spawner.bootstrap-timeout=180s")) {
            String name = patient.substring(0, patient.indexOf('=') + 1);
            if (spawnerProperties.stream().noneMatch(p -> p.startsWith(name))) {
                command.add(patient);
            }
        }
        command.addAll(start.properties(spawnerProperties));
        command.addAll(spawnerProperties);
        spawner = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spawnerLog().toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        // A benchmark on a machine shared with other builds may allow longer (-Dfabric.test.spawner-ready-seconds=300).
        int readySeconds = Integer.getInteger("fabric.test.spawner-ready-seconds", 90);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(readySeconds);
        while (System.nanoTime() < deadline) {
            if (!spawner.isAlive()) {
                throw new IllegalStateException("the spawner exited with " + spawner.exitValue() + "; log:\n" + log(spawnerLog()));
            }
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(spawnerUrl() + "/actuator/health/readiness"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the spawner did not become ready in " + readySeconds + " s; log:\n" + log(spawnerLog()));
    }

    /** kill -9 of the spawner: its members keep running. */
    public void killSpawner() throws InterruptedException {
        spawner.destroyForcibly();
        spawner.waitFor(10, TimeUnit.SECONDS);
    }

    public long spawnerPid() {
        return spawner.pid();
    }

    /**
     * Waits until the member is in {@code state} at an incarnation of at least {@code incarnation};
     * fails at once, with the member's log, when it ends in another final state.
     */
    public ServiceInstance awaitState(String id, InstanceState state, long incarnation) throws InterruptedException {
        return awaitState(id, state, incarnation, Duration.ofSeconds(90));
    }

    /** {@link #awaitState(String, InstanceState, long)} with a longer patience (a benchmark's crowd of JVMs). */
    public ServiceInstance awaitState(String id, InstanceState state, long incarnation, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        ServiceInstance now = null;
        while (System.nanoTime() < deadline) {
            now = registry.get(id);
            if (now.incarnation() >= incarnation && now.state() == state) {
                return now;
            }
            boolean finalState = now.state() == InstanceState.LOST || now.state() == InstanceState.STOPPED
                    || (now.state() == InstanceState.FAILED && state != InstanceState.LOST);
            if (now.incarnation() >= incarnation && finalState) {
                break;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("member " + id + " is " + now + ", not " + state + " at incarnation >= " + incarnation
                + "\nhistory: " + registry.history(id) + "\nmember log:\n" + log(memberLog(id)) + "\nspawner log:\n" + log(spawnerLog()));
    }

    /** The environment of a live process, as root or its owner may read it (/proc/PID/environ). */
    /**
     * Sends {@code POST target} with a spawn request twice: unsigned, then signed with its body changed
     * after signing (a tampered caller). Both must be refused {@code 401}, with the reasons
     * {@code unsigned} and {@code digest-mismatch}.
     */
    public void assertUnsignedAndTamperedSpawnsAreRefused(URI target) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = "{\"type\":\"queue\"}".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> unsigned = http.send(HttpRequest.newBuilder(target).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        org.assertj.core.api.Assertions.assertThat(unsigned.statusCode()).isEqualTo(401);
        org.assertj.core.api.Assertions.assertThat(unsigned.body()).contains("\"reason\":\"unsigned\"");

        Map<String, String> signature = new RequestSigner(keys, Clock.systemUTC()).sign("POST", target, Map.of(), body);
        HttpRequest.Builder tampered = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"queue\",\"connectivity\":\"DIRECT\"}"));
        signature.forEach(tampered::header);
        HttpResponse<String> answer = http.send(tampered.build(), HttpResponse.BodyHandlers.ofString());
        org.assertj.core.api.Assertions.assertThat(answer.statusCode()).isEqualTo(401);
        org.assertj.core.api.Assertions.assertThat(answer.body()).contains("\"reason\":\"digest-mismatch\"");
    }

    public static Map<String, String> environmentOf(long pid) throws IOException {
        String raw = Files.readString(Path.of("/proc", Long.toString(pid), "environ"), StandardCharsets.UTF_8);
        java.util.HashMap<String, String> env = new java.util.HashMap<>();
        for (String entry : raw.split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }

    private static Path workingDirectory(ProcessHandle process) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "cwd"));
        } catch (IOException | UnsupportedOperationException e) {
            return Path.of("/nonexistent");
        }
    }

    public static String log(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "(no " + file + ")";
        } catch (IOException e) {
            return "(unreadable " + file + ": " + e + ")";
        }
    }

    @Override
    public void close() throws Exception {
        if (spawner != null && spawner.isAlive()) {
            spawner.destroy();
            spawner.waitFor(20, TimeUnit.SECONDS);
        }
        // Members outlive their spawner on purpose: end those of this test.
        Path members = dir.resolve("spawner-data").resolve("members");
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dfabric.member.id="))
                .filter(p -> workingDirectory(p).startsWith(members))
                .forEach(ProcessHandle::destroyForcibly);
        registryContext.close();
    }
}
