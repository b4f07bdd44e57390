package dev.fabric.spawner.bench;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.TaskManager;
import dev.fabric.core.pilot.PilotWire;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.task.TaskDescription;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * No-op tasks ({@code /bin/true}) through the fabric, a pilot of 2 agents of 1 core each, against
 * {@code xargs -P 2 /bin/true} in the same run (the physical limit of starting processes here), and
 * against {@code xargs -P 2 setsid /bin/true} (each process in a session of its own, as the agent
 * starts tasks: where the kernel schedules by session, a loaded machine gives each its own share):
 * throughput of a bulk of tasks, and submit-to-done latency of one task at a time (low load), p50
 * and p99, as the application sees it (submit, then the finals feed) and as the pilot manager
 * recorded it. On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=TaskBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfailsafe.failIfNoSpecifiedTests=false</pre>
 *
 * Prints its figures; docs/benchmarks.md records them. No assertion on time: machines are noisy.
 */
class TaskBenchmark {

    static final int TASKS = Integer.getInteger("tasks.count", 2000);
    static final int ROUNDS = Integer.getInteger("tasks.rounds", 3);
    static final int LATENCY_SAMPLES = Integer.getInteger("tasks.latency", 200);
    /** Tasks run before the first round, unmeasured. */
    static final int WARMUP = 200;
    /** JVM options for every member, e.g. {@code -XX:StartFlightRecording=filename=/tmp/jfr/} (no commas: the spawner splits on them). */
    static final String MEMBER_JVM_OPTIONS = System.getProperty("tasks.member-jvm-options", "");
    /** The pilot manager's {@code agent-prefetch}: leased tasks each agent holds per core (the fabric's default is 2). */
    static final String AGENT_PREFETCH = System.getProperty("tasks.agent-prefetch", "2");
    /** The pilot manager's {@code agent-prefetch-horizon}, when set: how much work of short tasks an agent holds per core (the fabric's default is 250ms). */
    static final String AGENT_PREFETCH_HORIZON = System.getProperty("tasks.agent-prefetch-horizon", "");
    /**
     * Tasks run one at a time, unmeasured, before the latency is measured: the one-task paths warmed up
     * whatever the bulk rounds took (a bulk in large requests runs those paths far fewer times).
     */
    static final int LATENCY_WARMUP = Integer.getInteger("tasks.latency-warmup", 1000);

    /**
     * Where the fabric's data directories (and so the agents' sandboxes) are made, when set: a file
     * system of one's choice (the default is the JVM's temporary directory). Each task makes a
     * directory and two files there, and what that costs depends on the file system and its state
     * (docs/benchmarks.md, run 20); removed at the end like any temporary directory.
     */
    static final String DATA_ROOT = System.getProperty("tasks.dir", "");

    @TempDir(factory = DataRoot.class)
    Path dir;

    /** Makes the benchmark's directory under {@link #DATA_ROOT} when it is set, else where JUnit makes one. */
    static final class DataRoot implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension) throws Exception {
            return DATA_ROOT.isBlank() ? TempDirFactory.Standard.INSTANCE.createTempDirectory(element, extension)
                    : Files.createTempDirectory(Files.createDirectories(Path.of(DATA_ROOT)), "task-benchmark-");
        }
    }

    /** The pilot manager's config: the horizon only when set, so the benchmark runs against a fabric that predates it. */
    private static Map<String, String> managerConfig() {
        return AGENT_PREFETCH_HORIZON.isBlank() ? Map.of("agent-prefetch", AGENT_PREFETCH)
                : Map.of("agent-prefetch", AGENT_PREFETCH, "agent-prefetch-horizon", AGENT_PREFETCH_HORIZON);
    }

    @Test
    void noOpTasksThroughTheFabricAgainstXargs() throws Exception {
        FileStore store = Files.getFileStore(dir);
        System.out.println("TASKS data directory " + dir + " on " + store.name() + " (" + store.type() + ")");
        // The product's supervision and heartbeat intervals (2 s), not the tests' quicker ones: the idle cost is the product's.
        List<String> properties = new ArrayList<>(List.of("--fabric.spawner.bootstrap-timeout=600s", "--fabric.spawner.otp-ttl=600s",
                "--fabric.spawner.supervise-interval=2s"));
        if (!MEMBER_JVM_OPTIONS.isBlank()) {
            // A profile of the members (a flight recording each, say), passed on by the spawner to every member it starts.
            properties.add("--fabric.spawner.process.jvm-options=" + MEMBER_JVM_OPTIONS);
        }
        try (FabricUnderTest fabric = new FabricUnderTest(dir, Duration.ofSeconds(2), properties.toArray(String[]::new))) {
            fabric.startSpawner();
            JsonNode spawned = fabric.spawnerClient().post().uri("/api/v1/spawns").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("type", "pilot-manager", "config", managerConfig())).retrieve().body(JsonNode.class);
            String manager = spawned.path("id").asString();
            fabric.awaitState(manager, InstanceState.RUNNING, 1, Duration.ofMinutes(5));
            // A member restarted on a machine shared with other builds may take minutes to come back.
            try (FabricClient client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name("task-benchmark")
                    .restartTimeout(Duration.ofMinutes(5)).build()) {
                TaskManager tasks = client.tasks(manager, "bench");
                PilotWire.Pilot pilot = tasks.submitPilot(new PilotWire.PilotDescription(2, 1, null, "2h", null));
                tasks.awaitActive(pilot.id(), Duration.ofMinutes(10));
                // A warm-up: the agents' and the manager's code paths compiled before anything is measured.
                tasks.waitAll(tasks.submit(pilot.id(), noOps(WARMUP)), Duration.ofMinutes(10));

                double[] xargs = new double[ROUNDS];
                double[] xargsSessions = new double[ROUNDS];
                double[] through = new double[ROUNDS];
                for (int round = 0; round < ROUNDS; round++) {
                    xargs[round] = xargs(TASKS, "/bin/true");
                    // Each task in a session of its own, as the agent runs it: where the kernel schedules by session
                    // (sched_autogroup), that gives each its own share of a loaded machine, which plain xargs's children lack.
                    xargsSessions[round] = xargs(TASKS, "setsid /bin/true");
                    Map<String, Duration> cpuBefore = cpuByRole();
                    long start = System.nanoTime();
                    TaskManager.Outcome outcome = tasks.waitAll(tasks.submit(pilot.id(), noOps(TASKS)), Duration.ofMinutes(30));
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.println("TASKS round " + round + " CPU per task: " + cpuPerTask(cpuBefore, cpuByRole(), TASKS));
                    if (!outcome.complete()) {
                        throw new AssertionError(outcome.pending().size() + " tasks did not end");
                    }
                    through[round] = TASKS / seconds;
                    System.out.printf("TASKS (agent-prefetch " + AGENT_PREFETCH + ", horizon "
                            + (AGENT_PREFETCH_HORIZON.isBlank() ? "default" : AGENT_PREFETCH_HORIZON) + ") round %d: xargs -P 2 %.0f tasks/s, fabric %.0f tasks/s (%.2fx);"
                            + " xargs -P 2 setsid %.0f tasks/s (%.2fx); load %s%n", round, xargs[round], through[round],
                            through[round] / xargs[round], xargsSessions[round], through[round] / xargsSessions[round], load());
                }

                long[] seen = new long[LATENCY_SAMPLES];
                long[] recorded = new long[LATENCY_SAMPLES];
                // Where the application's share goes (wall clock; the members are on this machine): the submit's
                // round trip, its start to the manager's acceptance, and the agent's final event to the wait's return.
                long[] submitted = new long[LATENCY_SAMPLES];
                long[] untilAccepted = new long[LATENCY_SAMPLES];
                long[] afterFinal = new long[LATENCY_SAMPLES];
                long[] process = new long[LATENCY_SAMPLES];
                // What the members cost with nothing to do (heartbeats, the agents' and the feed's long polls): the floor under the figures.
                for (int i = 0; i < LATENCY_WARMUP; i++) {
                    tasks.waitAny(List.of(tasks.submit(pilot.id(), noOps(1).getFirst())), Duration.ofMinutes(1)).orElseThrow();
                }
                Map<String, Duration> idleBefore = cpuByRole();
                Thread.sleep(5000);
                System.out.println("TASKS idle CPU per second: " + cpuPerTask(idleBefore, cpuByRole(), 5));
                Map<String, Duration> latencyCpuBefore = cpuByRole();
                for (int i = 0; i < LATENCY_SAMPLES; i++) {
                    Instant startedAt = Instant.now();
                    long start = System.nanoTime();
                    String id = tasks.submit(pilot.id(), noOps(1).getFirst());
                    submitted[i] = System.nanoTime() - start;
                    PilotWire.Task done = tasks.waitAny(List.of(id), Duration.ofMinutes(1)).orElseThrow();
                    seen[i] = System.nanoTime() - start;
                    Instant seenAt = Instant.now();
                    recorded[i] = Duration.between(done.submittedAt(), done.finishedAt()).toNanos();
                    untilAccepted[i] = Duration.between(startedAt, done.submittedAt()).toNanos();
                    afterFinal[i] = Duration.between(done.finishedAt(), seenAt).toNanos();
                    process[i] = done.duration() == null ? 0 : done.duration().toNanos();
                    Thread.sleep(20);
                }
                System.out.println("TASKS latency CPU per task: " + cpuPerTask(latencyCpuBefore, cpuByRole(), LATENCY_SAMPLES));
                System.out.printf("TASKS throughput median: xargs -P 2 %.0f tasks/s, fabric %.0f tasks/s, ratio %.2f;"
                        + " xargs -P 2 setsid %.0f tasks/s, ratio %.2f%n", median(xargs), median(through), median(through) / median(xargs),
                        median(xargsSessions), median(through) / median(xargsSessions));
                if (ROUNDS >= 4) {
                    // The members' code is compiled (C1) as it runs: the first rounds after their start pay for it.
                    double[] lateXargs = Arrays.copyOfRange(xargs, ROUNDS / 2, ROUNDS);
                    double[] lateThrough = Arrays.copyOfRange(through, ROUNDS / 2, ROUNDS);
                    System.out.printf("TASKS throughput median of the last %d rounds (after %d tasks): xargs -P 2 %.0f tasks/s, fabric %.0f tasks/s,"
                            + " ratio %.2f%n", lateThrough.length, WARMUP + ROUNDS / 2 * TASKS, median(lateXargs), median(lateThrough),
                            median(lateThrough) / median(lateXargs));
                }
                System.out.printf("TASKS latency submit-to-done at low load (%d tasks, one at a time, after " + LATENCY_WARMUP + " unmeasured): application p50 %.1f ms p99 %.1f ms;"
                        + " recorded by the manager p50 %.1f ms p99 %.1f ms; load %s%n", LATENCY_SAMPLES, percentile(seen, 50),
                        percentile(seen, 99), percentile(recorded, 50), percentile(recorded, 99), load());
                System.out.printf("TASKS latency parts p50: submit round trip %.1f ms, submit to accepted %.1f ms, the process as its agent"
                        + " timed it %.1f ms, agent's final event to the application %.1f ms%n", percentile(submitted, 50),
                        percentile(untilAccepted, 50), percentile(process, 50), percentile(afterFinal, 50));
                tasks.cancelPilot(pilot.id());
            }
        }
    }

    static List<TaskDescription> noOps(int count) {
        return IntStream.range(0, count).mapToObj(i -> new TaskDescription(null, null, List.of("/bin/true"), Map.of(), null, null, null))
                .toList();
    }

    /** Tasks per second of {@code xargs -P 2 -n 1 COMMAND} over {@code count} arguments. */
    static double xargs(int count, String command) throws Exception {
        long start = System.nanoTime();
        Process xargs = new ProcessBuilder("sh", "-c", "seq " + count + " | xargs -P 2 -n 1 " + command).inheritIO().start();
        if (xargs.waitFor() != 0) {
            throw new AssertionError("xargs exited " + xargs.exitValue());
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    /**
     * CPU time used so far by this JVM (the application) and by each kind of member JVM this test
     * started (its spawner's children, by the role in their ids, agents together): a measure of a
     * task's cost that the machine's load does not stretch, as it stretches wall-clock figures.
     */
    static Map<String, Duration> cpuByRole() {
        Map<String, Duration> cpu = new TreeMap<>();
        cpu.put("application", ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO));
        ProcessHandle.current().descendants().forEach(process -> {
            ProcessHandle.Info info = process.info();
            String id = info.arguments().stream().flatMap(Arrays::stream).filter(a -> a.startsWith("-Dfabric.member.id="))
                    .findFirst().map(a -> a.substring("-Dfabric.member.id=".length())).orElse(null);
            if (id != null) {
                String role = id.contains("-") ? id.substring(0, id.lastIndexOf('-')) : id;
                cpu.merge(role, info.totalCpuDuration().orElse(Duration.ZERO), Duration::plus);
            }
        });
        return cpu;
    }

    /** Milliseconds of CPU per task between two {@link #cpuByRole()} readings, by role, and their sum. */
    static String cpuPerTask(Map<String, Duration> before, Map<String, Duration> after, int tasks) {
        StringBuilder line = new StringBuilder();
        double total = 0;
        for (Map.Entry<String, Duration> entry : after.entrySet()) {
            double ms = (entry.getValue().toNanos() - before.getOrDefault(entry.getKey(), Duration.ZERO).toNanos()) / 1e6 / tasks;
            total += ms;
            line.append(String.format("%s %.2f ms, ", entry.getKey(), ms));
        }
        return line.append(String.format("all %.2f ms", total)).toString();
    }

    static String load() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).strip();
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static double percentile(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
    }
}
