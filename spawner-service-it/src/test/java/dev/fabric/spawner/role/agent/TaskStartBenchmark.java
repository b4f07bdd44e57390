package dev.fabric.spawner.role.agent;

import dev.fabric.core.task.TaskDescription;
import dev.fabric.core.task.TaskState;
import dev.fabric.posix.Spawn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cost of starting a task's process, one at a time (as one slot does), each way in the same run,
 * the ways taking turns round by round so a load that moves touches all alike: {@code /bin/true}
 * through the JDK's {@code ProcessBuilder}, through it with {@code setsid(1)} (the agent's way
 * before), through posix_spawn ({@link Spawn}, the agent's way now), and a whole task through
 * {@link TaskRunner} with each launcher (sandbox, environment, output files, their reading); with
 * {@code xargs -P 1} as the floor of starting processes from C. posix_spawn runs both in a new
 * session and in the JVM's: where the kernel groups the scheduling of processes by session
 * ({@code /proc/sys/kernel/sched_autogroup_enabled}), a process in a session of its own gets a share
 * of its own on a loaded machine, which the figure in the JVM's session leaves out. On demand, not part of the suite:
 *
 * <pre>./mvnw -pl spawner-service-it -am verify -Dit.test=TaskStartBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfailsafe.failIfNoSpecifiedTests=false -Dstart.count=200 -Dstart.rounds=5</pre>
 *
 * Prints its figures; docs/benchmarks.md records them. No assertion on time: machines are noisy.
 */
class TaskStartBenchmark {

    static final int COUNT = Integer.getInteger("start.count", 200);
    static final int ROUNDS = Integer.getInteger("start.rounds", 5);

    @TempDir
    Path dir;

    interface Start {
        void run(int i) throws Exception;
    }

    @Test
    void startCostPerProcess() throws Exception {
        TaskRunner jdk = new TaskRunner(dir.resolve("jdk"), 65536, TaskRunner.Launcher.JDK);
        TaskRunner spawn = new TaskRunner(dir.resolve("spawn"), 65536, TaskRunner.Launcher.POSIX_SPAWN);
        Map<String, Start> ways = new LinkedHashMap<>();
        ways.put("xargs -P 1 /bin/true (C, per process)", i -> {
            if (i % COUNT == 0) {
                Process p = new ProcessBuilder("sh", "-c", "seq " + COUNT + " | xargs -P 1 -n 1 /bin/true").inheritIO().start();
                p.waitFor();
            }
        });
        ways.put("ProcessBuilder /bin/true", i -> new ProcessBuilder("/bin/true").start().waitFor());
        ways.put("ProcessBuilder setsid /bin/true", i -> new ProcessBuilder(TaskRunner.SETSID.toString(), "/bin/true").start().waitFor());
        ways.put("posix_spawn /bin/true (new session)", i -> Spawn.of(Path.of("/bin/true"), List.of("/bin/true")).newSession(true)
                .stdin(Path.of("/dev/null")).start().exitStatus().get());
        ways.put("posix_spawn /bin/true (same session)", i -> Spawn.of(Path.of("/bin/true"), List.of("/bin/true"))
                .stdin(Path.of("/dev/null")).start().exitStatus().get());
        ways.put("TaskRunner, JDK launcher (setsid)", i -> check(jdk.start(task("j" + i)).await().state()));
        ways.put("TaskRunner, posix_spawn launcher", i -> check(spawn.start(task("s" + i)).await().state()));

        for (Start way : ways.values()) {
            for (int i = 0; i < 50; i++) {
                way.run(i + 100_000);
            }
        }
        Map<String, List<Double>> perProcess = new LinkedHashMap<>();
        ways.keySet().forEach(name -> perProcess.put(name, new ArrayList<>()));
        for (int round = 0; round < ROUNDS; round++) {
            for (Map.Entry<String, Start> way : ways.entrySet()) {
                long start = System.nanoTime();
                for (int i = 0; i < COUNT; i++) {
                    way.getValue().run(round * COUNT + i);
                }
                double ms = (System.nanoTime() - start) / 1e6 / COUNT;
                perProcess.get(way.getKey()).add(ms);
                System.out.printf("START round %d %-40s %.2f ms a process, load %s%n", round, way.getKey(), ms, load());
            }
        }
        for (Map.Entry<String, List<Double>> way : perProcess.entrySet()) {
            double[] values = way.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("START median %-40s %.2f ms a process (rounds %s)%n", way.getKey(), values[values.length / 2],
                    Arrays.toString(way.getValue().stream().map(v -> String.format("%.2f", v)).toArray()));
        }
        System.out.printf("START load %s%n", load());
    }

    private static TaskDescription task(String id) {
        return new TaskDescription("t-" + id, "pilot-1", List.of("/bin/true"), Map.of(), null, null, null);
    }

    private static void check(TaskState state) {
        if (state != TaskState.DONE) {
            throw new AssertionError("a no-op task ended " + state);
        }
    }

    private static String load() {
        return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
}
