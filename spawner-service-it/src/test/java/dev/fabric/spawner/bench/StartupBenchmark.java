package dev.fabric.spawner.bench;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.core.spring.FabricRestClients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 21's figures for the fabric {@code ./fabric up} starts, with its settings of before the
 * change (the baseline: the plain jars, no AOT cache, the old JVM options) and with today's (AOT
 * caches, the JVM options in {@code ./fabric}), in the same run: a member's bare start-up (its
 * real command line, copied from a spawned member, started with a spawner that does not answer:
 * JVM start to management port ready), spawn to RUNNING, kill -9 to RUNNING again under its id
 * (split into detection, start and handshake from the registry's history), N concurrent spawns
 * with the default bootstrap timeout (tuned: also with every member launched at once, as before the
 * spawner's starting slots), and the resident memory of an idle member, the spawner and
 * the registry, idle and under the concurrent spawns. On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=StartupBenchmark -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * ({@code -Dstartup.rounds=N}, {@code -Dstartup.concurrent=N}). One member at a time the spawner is given a
 * 600 s bootstrap timeout (a crowded machine may start the old settings' member slower than the
 * default 60 s); the concurrent spawns run against a second {@code up} with the defaults. Prints its figures; docs/benchmarks.md
 * records them. No assertion on time: machines are noisy.
 */
class StartupBenchmark {

    static final int ROUNDS = Integer.getInteger("startup.rounds", 5);
    static final int CONCURRENT = Integer.getInteger("startup.concurrent", 20);
    /** {@code false}: today's settings alone, for comparing two builds (their own baselines are the same). */
    static final boolean WITH_BASELINE = Boolean.parseBoolean(System.getProperty("startup.baseline", "true"));
    static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).getParent().resolve("fabric");

    /** The settings of before issue 21, as `./fabric up` and the process launcher gave them. */
    static final Map<String, String> BASELINE = Map.of(
            "FABRIC_AOT", "off",
            "FABRIC_REGISTRY_JVM", "-Xmx512m",
            "FABRIC_SPAWNER_JVM", "-Xmx256m -XX:TieredStopAtLevel=1",
            // The launcher now adds MemberJvm's options; these restore the old effective values (the
            // initial heap was the ceiling with a third of it young, stacks 1 MiB, the JVM's default
            // heap free ratios, 12-byte object headers, no native trim; one CPU already meant Serial)
            // and the member's auto-configurations (none excluded), evaluated at start-up (Spring's AOT mode off:
            // its generated member context has the exclusions built in).
            "FABRIC_MEMBER_JVM", "-Xms192m -Xmn64m -Xss1m -XX:MinHeapFreeRatio=40 -XX:MaxHeapFreeRatio=70 -XX:-UseCompactObjectHeaders"
                    + " -XX:TrimNativeHeapInterval=0 -Dspring.autoconfigure.exclude= -Dspring.aot.enabled=false",
            // Every member launched at once, as before the spawner had starting slots.
            "FABRIC_SPAWNER_PROCESS_MAXSTARTING", "1000");

    /** Today's settings but every member launched at once: what the starting slots alone change. */
    static final Map<String, String> ALL_AT_ONCE = Map.of("FABRIC_SPAWNER_PROCESS_MAXSTARTING", "1000");

    @TempDir
    Path dir;

    @Test
    void startUpSpawnRestartAndMemoryAgainstTheOldSettings() throws Exception {
        List<String> report = new ArrayList<>();
        for (String variant : WITH_BASELINE ? List.of("baseline", "tuned") : List.of("tuned")) {
            report.addAll(measure(variant, variant.equals("baseline") ? BASELINE : Map.of()));
        }
        System.out.println("STARTUP ===== figures (baseline first) =====");
        report.forEach(line -> System.out.println("STARTUP " + line));
    }

    private List<String> measure(String variant, Map<String, String> settings) throws Exception {
        List<String> out = new ArrayList<>();
        // One member at a time: a crowded machine may take the old settings' member past the default
        // bootstrap timeout (60 s), so the spawner gets 600 s; the concurrent spawns run with the default.
        Map<String, String> patient = new java.util.HashMap<>(settings);
        patient.put("FABRIC_SPAWNER_BOOTSTRAPTIMEOUT", "600s");
        patient.put("FABRIC_SPAWNER_OTPTTL", "600s");
        sequential(variant, patient, out);
        if (CONCURRENT > 0) {
            concurrentRun(variant, settings, out);
            if (variant.equals("tuned")) {
                concurrentRun("tuned-all-at-once", ALL_AT_ONCE, out);
            }
        }
        return out;
    }

    private void concurrentRun(String variant, Map<String, String> settings, List<String> out) throws Exception {
        Fabric fabric = up(variant, dir.resolve(variant + "-concurrent"), settings, out);
        try {
            out.add(concurrent(variant, fabric.registry(), fabric.spawner(), fabric.registryPid(), fabric.spawnerPid()));
        } finally {
            run(fabric.home(), Map.of(), Duration.ofMinutes(2), "down");
        }
    }

    private record Fabric(Path home, RegistryClient registry, RestClient spawner, long registryPid, long spawnerPid) {}

    private static Fabric up(String variant, Path home, Map<String, String> settings, List<String> out) throws Exception {
        int port = freePort();
        int spawnerPort = freePort();
        long upStart = System.nanoTime();
        try {
            run(home, settings, Duration.ofMinutes(10), "up", "--port", Integer.toString(port), "--spawner-port", Integer.toString(spawnerPort));
        } catch (AssertionError e) {
            run(home, Map.of(), Duration.ofMinutes(2), "down");
            throw e;
        }
        // Whether this up made the AOT caches (training runs) or found them made: a figure of minutes or of seconds.
        boolean trained = Files.readString(home.resolve("up.out"), StandardCharsets.UTF_8).contains("making the AOT caches");
        out.add(String.format("%s ./fabric up %.1f s%s", variant, seconds(System.nanoTime() - upStart), trained ? " (made the AOT caches)" : ""));
        FabricKeys keys = FabricKeys.load(home.resolve("keys"));
        RegistryClient registry = new RegistryClient(URI.create("http://127.0.0.1:" + port), keys, Duration.ofSeconds(30));
        RestClient spawner = FabricRestClients.signed(keys, Duration.ofSeconds(5), null).baseUrl("http://127.0.0.1:" + spawnerPort)
                .defaultStatusHandler(status -> true, (request, response) -> { }).build();
        long registryPid = Long.parseLong(Files.readString(home.resolve("run/registry.pid")).trim());
        long spawnerPid = Long.parseLong(Files.readString(home.resolve("run/spawner.pid")).trim());
        return new Fabric(home, registry, spawner, registryPid, spawnerPid);
    }

    private void sequential(String variant, Map<String, String> settings, List<String> out) throws Exception {
        Path home = dir.resolve(variant);
        Fabric fabric = up(variant, home, settings, out);
        RegistryClient registry = fabric.registry();
        RestClient spawner = fabric.spawner();
        long registryPid = fabric.registryPid();
        long spawnerPid = fabric.spawnerPid();
        try {
            Thread.sleep(5000);
            out.add(String.format("%s idle RSS: registry %d MiB, spawner %d MiB", variant, rssMiB(registryPid), rssMiB(spawnerPid)));

            // One member, untimed: its command line is the bare start-up's; its RSS idle is the member's.
            String first = null;
            ServiceInstance running = null;
            for (int attempt = 1; running == null; attempt++) {
                first = spawn(spawner);
                try {
                    running = await(registry, first, 1, Duration.ofMinutes(5));
                } catch (AssertionError failed) {
                    out.add(variant + " first member failed (attempt " + attempt + "): " + failed.getMessage().lines().findFirst().orElse(""));
                    delete(spawner, first);
                    if (attempt == 3) {
                        throw failed;
                    }
                }
            }
            long firstPid = Long.parseLong(running.metadata().get("pid"));
            List<String> memberCommand = ProcessHandle.of(firstPid).orElseThrow().info().arguments().map(List::of).orElseThrow();
            String java = ProcessHandle.of(firstPid).orElseThrow().info().command().orElseThrow();
            Thread.sleep(5000);
            out.add(String.format("%s idle member RSS %d MiB; member command: %s", variant, rssMiB(firstPid), String.join(" ", memberCommand)));
            delete(spawner, first);

            List<Long> bare = new ArrayList<>();
            List<Long> spawn = new ArrayList<>();
            List<Long> handshake = new ArrayList<>();
            List<Long> restart = new ArrayList<>();
            List<Long> detection = new ArrayList<>();
            List<Long> restartStart = new ArrayList<>();
            List<Long> restartHandshake = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                bare.add(bareStartUp(java, memberCommand, registry.baseUrl().toString(), home.resolve("bare-" + round)));
                String id = null;
                try {
                    long start = System.nanoTime();
                    id = spawn(spawner);
                    ServiceInstance member = await(registry, id, 1, Duration.ofMinutes(5));
                    spawn.add(System.nanoTime() - start);
                    handshake.add(between(registry.history(id), 1, "one-time password redeemed", InstanceState.RUNNING));

                    long pid = Long.parseLong(member.metadata().get("pid"));
                    Instant killed = Instant.now();
                    long killStart = System.nanoTime();
                    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                    await(registry, id, member.incarnation() + 1, Duration.ofMinutes(5));
                    restart.add(System.nanoTime() - killStart);
                    List<StateTransition> history = registry.history(id);
                    long next = member.incarnation() + 1;
                    Instant firstAfter = history.stream().filter(t -> t.at().isAfter(killed) || t.incarnation() == next)
                            .map(StateTransition::at).min(Instant::compareTo).orElseThrow();
                    Instant redeemed = history.stream().filter(t -> t.incarnation() == next && t.reason().startsWith("one-time password redeemed"))
                            .map(StateTransition::at).findFirst().orElseThrow();
                    Instant runningAgain = history.stream().filter(t -> t.incarnation() == next && t.to() == InstanceState.RUNNING)
                            .map(StateTransition::at).findFirst().orElseThrow();
                    detection.add(Math.max(0, Duration.between(killed, firstAfter).toNanos()));
                    restartStart.add(Duration.between(firstAfter, redeemed).toNanos());
                    restartHandshake.add(Duration.between(redeemed, runningAgain).toNanos());
                } catch (AssertionError failed) {
                    // A crowded machine can fail a bootstrap (a timeout): counted and reported, not hidden.
                    failures.add(failed.getMessage().lines().findFirst().orElse(""));
                } finally {
                    if (id != null) {
                        delete(spawner, id);
                    }
                }
            }
            out.add(String.format("%s bare start-up median %.0f ms %s", variant, median(bare), millis(bare)));
            out.add(String.format("%s spawn-to-RUNNING median %.0f ms %s; handshake median %.0f ms", variant, median(spawn), millis(spawn),
                    median(handshake)));
            out.add(String.format("%s kill -9 to RUNNING again median %.0f ms %s = detection %.0f + start %.0f + handshake %.0f ms (medians)",
                    variant, median(restart), millis(restart), median(detection), median(restartStart), median(restartHandshake)));
            out.add(String.format("%s rounds that failed: %d of %d %s", variant, failures.size(), ROUNDS, failures));
        } finally {
            run(home, Map.of(), Duration.ofMinutes(2), "down");
        }
    }

    /** N spawns at once with the default bootstrap timeout: until each is RUNNING or has failed. */
    private String concurrent(String variant, RegistryClient registry, RestClient spawner, long registryPid, long spawnerPid)
            throws Exception {
        long start = System.nanoTime();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            ids.add(spawn(spawner));
        }
        Map<String, Long> done = new LinkedHashMap<>();
        Map<String, InstanceState> ended = new LinkedHashMap<>();
        long registryPeak = 0;
        long spawnerPeak = 0;
        long memberPeak = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (done.size() < CONCURRENT && System.nanoTime() < deadline) {
            for (String id : ids) {
                if (done.containsKey(id)) {
                    continue;
                }
                ServiceInstance now = registry.get(id);
                if (now.state() == InstanceState.RUNNING || now.state() == InstanceState.FAILED || now.state() == InstanceState.LOST) {
                    done.put(id, System.nanoTime() - start);
                    ended.put(id, now.state());
                    if (now.state() == InstanceState.RUNNING) {
                        memberPeak = Math.max(memberPeak, rssMiB(Long.parseLong(now.metadata().get("pid"))));
                    }
                }
            }
            registryPeak = Math.max(registryPeak, rssMiB(registryPid));
            spawnerPeak = Math.max(spawnerPeak, rssMiB(spawnerPid));
            Thread.sleep(200);
        }
        long all = System.nanoTime() - start;
        long runningCount = ended.values().stream().filter(s -> s == InstanceState.RUNNING).count();
        // A few seconds of 20 members heartbeating: the services' memory under that load.
        for (int i = 0; i < 10; i++) {
            registryPeak = Math.max(registryPeak, rssMiB(registryPid));
            spawnerPeak = Math.max(spawnerPeak, rssMiB(spawnerPid));
            Thread.sleep(500);
        }
        for (String id : ids) {
            delete(spawner, id);
        }
        return String.format("%s %d concurrent spawns: %d RUNNING, %d failed, all ended after %.1f s (median member %.1f s); "
                        + "peak RSS registry %d MiB, spawner %d MiB, a member %d MiB", variant, CONCURRENT, runningCount,
                CONCURRENT - runningCount, seconds(all), median(done.values().stream().mapToLong(Long::longValue).toArray()) / 1e3,
                registryPeak, spawnerPeak, memberPeak);
    }

    private static ServiceInstance await(RegistryClient registry, String id, long incarnation, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        ServiceInstance now = null;
        while (System.nanoTime() < deadline) {
            now = registry.get(id);
            if (now.incarnation() >= incarnation && now.state() == InstanceState.RUNNING) {
                return now;
            }
            if (now.incarnation() >= incarnation && (now.state() == InstanceState.FAILED || now.state() == InstanceState.STOPPED)) {
                break;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("member " + id + " is " + now + ", not RUNNING at incarnation " + incarnation + "; history "
                + registry.history(id));
    }

    private static long between(List<StateTransition> history, long incarnation, String fromReason, InstanceState to) {
        Instant from = history.stream().filter(t -> t.incarnation() == incarnation && t.reason().startsWith(fromReason))
                .map(StateTransition::at).findFirst().orElseThrow();
        Instant reached = history.stream().filter(t -> t.incarnation() == incarnation && t.to() == to)
                .map(StateTransition::at).findFirst().orElseThrow();
        return Duration.between(from, reached).toNanos();
    }

    private static String spawn(RestClient spawner) {
        JsonNode answer = spawner.post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("type", "queue")).retrieve().body(JsonNode.class);
        String id = answer.path("id").asString();
        if (id.isEmpty()) {
            throw new AssertionError("the spawner refused the spawn: " + answer);
        }
        return id;
    }

    private static void delete(RestClient spawner, String id) {
        spawner.delete().uri("/api/v1/members/{id}", id).retrieve().toBodilessEntity();
    }

    /**
     * A spawned member's command line, started as a member whose spawner does not answer: a member's
     * port is ready before it dials its spawner, so this is the start-up alone.
     */
    private static long bareStartUp(String java, List<String> memberCommand, String registryUrl, Path data) throws Exception {
        int port = freePort();
        int silentSpawner = freePort();
        List<String> command = new ArrayList<>();
        command.add(java);
        for (String argument : memberCommand) {
            command.add(argument.startsWith("-Dfabric.member.id=") ? "-Dfabric.member.id=bare" : argument);
        }
        Files.createDirectories(data);
        ProcessBuilder builder = new ProcessBuilder(command).directory(data.toFile())
                .redirectErrorStream(true).redirectOutput(data.resolve("member.log").toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("FABRIC_") || k.startsWith("SPRING_"));
        env.put("SPRING_PROFILES_ACTIVE", "member");
        env.put("FABRIC_SERVICE_ID", "bare");
        env.put("FABRIC_INCARNATION", "1");
        env.put("FABRIC_ROLE", "queue");
        env.put("FABRIC_SPAWNER_URL", "http://127.0.0.1:" + silentSpawner);
        env.put("FABRIC_SPAWNER_ID", "none");
        env.put("FABRIC_REGISTRY_URL", registryUrl);
        env.put("FABRIC_OTP", "unused");
        env.put("FABRIC_MANAGEMENT_PORT", Integer.toString(port));
        env.put("FABRIC_DATA_DIR", data.toString());
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = start + TimeUnit.MINUTES.toNanos(5);
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.discarding());
                    if (ready.statusCode() == 200) {
                        return System.nanoTime() - start;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(20);
            }
            throw new AssertionError("the bare member did not become ready; its log:\n" + Files.readString(data.resolve("member.log")));
        } finally {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static void run(Path home, Map<String, String> settings, Duration patience, String... arguments) throws Exception {
        Files.createDirectories(home);
        ProcessBuilder builder = new ProcessBuilder();
        builder.command().add(LAUNCHER.toString());
        builder.command().addAll(List.of(arguments));
        builder.environment().keySet().removeIf(k -> k.startsWith("FABRIC_"));
        builder.environment().put("FABRIC_HOME_DIR", home.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        // A crowded machine starts the old settings' registry in more than up's 90 s.
        builder.environment().put("FABRIC_START_TIMEOUT", "600");
        builder.environment().putAll(settings);
        Path output = home.resolve(arguments[0] + ".out");
        Process process = builder.redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new AssertionError("./fabric " + String.join(" ", arguments) + " failed:\n" + Files.readString(output, StandardCharsets.UTF_8));
        }
    }

    private static long rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException gone) {
            // the process ended
        }
        return 0;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double median(List<Long> values) {
        return median(values.stream().mapToLong(Long::longValue).toArray());
    }

    private static String millis(List<Long> values) {
        return millis(values.stream().mapToLong(Long::longValue).toArray());
    }

    private static double median(long[] values) {
        if (values.length == 0) {
            return 0;
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e6;
    }

    private static String millis(long[] values) {
        return Arrays.toString(Arrays.stream(values).map(v -> v / 1_000_000).toArray());
    }
}
