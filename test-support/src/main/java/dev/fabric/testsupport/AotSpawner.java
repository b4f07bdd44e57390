package dev.fabric.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The spawner as the tests start it: the way {@code ./fabric up} does, from its runnable jar
 * extracted once per build and from JDK AOT caches made by training runs
 * ({@code docker/base/aot-cache.sh}), one for the spawner with the tests' spawner options and one for
 * its members with theirs. A member's JVM then starts with about half the CPU (docs/benchmarks.md,
 * "Start-up and memory"), which is most of what the integration suites spend.
 * <p>
 * The caches live beside the jar ({@code target/aot/}, where {@code ./fabric up} keeps its own) and
 * are made once per build for all modules' tests, under a file lock (the modules' tests run at
 * once). When they cannot be made the plain jar is started, as before, and a line says why;
 * {@code -Dfabric.test.aot=off} starts the plain jar always (a benchmark's baseline).
 *
 * @param jar the jar to start with {@code -jar}
 * @param spawnerJvm the spawner's own JVM options, which its cache was trained with
 * @param spawnerOptions the spawner's JVM options for its cache (none without one)
 * @param memberOptions the JVM options for members, for
 *        {@code fabric.spawner.process.jvm-options} (none without a cache)
 * @param distribution the self-contained jar the SSH launcher stages on other hosts
 */
public record AotSpawner(Path jar, List<String> spawnerJvm, List<String> spawnerOptions, List<String> memberOptions, Path distribution) {

    /** The spawner's JVM options in the integration tests: a small heap, C1 only (the tests' spawners live minutes). */
    public static final List<String> TEST_SPAWNER_JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");

    private static final Map<List<?>, AotSpawner> PREPARED = new ConcurrentHashMap<>();
    private static final List<String> QUIET = List.of("-Xlog:aot=off", "-Xlog:cds=off");

    /**
     * The spawner of {@code execJar} (spawner-service-exec.jar) started with {@code spawnerJvm}; its
     * members' cache is trained with the options the jar's MemberJvm gives a default member.
     */
    public static AotSpawner of(Path execJar, List<String> spawnerJvm) {
        return PREPARED.computeIfAbsent(List.of(execJar, spawnerJvm), k -> prepare(execJar, spawnerJvm));
    }

    /** The spawner's command line from {@code java} to the jar: its options, the cache's, then -jar. */
    public List<String> command(String java) {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(spawnerJvm);
        command.addAll(spawnerOptions);
        command.addAll(List.of("-jar", jar.toString()));
        return command;
    }

    /**
     * The spawner properties that go with this start (Spring's command-line form, after the jar):
     * the members' cache unless {@code given} (the test's own settings, {@code --name=value} or
     * {@code -Dname=value}) sets the members' JVM options itself, and the SSH distribution unless
     * it names one.
     */
    public List<String> properties(List<String> given) {
        List<String> properties = new ArrayList<>();
        if (!memberOptions.isEmpty() && !sets(given, "fabric.spawner.process.jvm-options")) {
            properties.add("--fabric.spawner.process.jvm-options=" + String.join(",", memberOptions));
        }
        if (!sets(given, "fabric.spawner.ssh.distribution")) {
            properties.add("--fabric.spawner.ssh.distribution=" + distribution);
        }
        return properties;
    }

    private static boolean sets(List<String> given, String name) {
        return given.stream().anyMatch(p -> p.startsWith("--" + name + "=") || p.startsWith("-D" + name + "="));
    }

    private static AotSpawner prepare(Path execJar, List<String> spawnerJvm) {
        AotSpawner plain = new AotSpawner(execJar, spawnerJvm, List.of(), List.of(), execJar);
        if ("off".equals(System.getProperty("fabric.test.aot")) || !Files.exists(execJar)) {
            return plain;
        }
        Path script = script(execJar);
        Path root = execJar.getParent().resolve("aot");
        if (script == null) {
            System.err.println("AotSpawner: no docker/base/aot-cache.sh above " + execJar + "; starting the plain jar");
            return plain;
        }
        // One build's modules prepare the same directory at once: the lock makes the second wait and
        // then find the caches made (fabric_aot_cache checks a cache before it trains).
        String commands = """
                set -u
                mkdir -p "$ROOT" && exec 9>"$ROOT/tests.lock" && flock 9 || exit 1
                . "$SCRIPT"
                fabric_aot_app spawner "$JAR" "$ROOT" >&2 || exit 1
                echo "jar=$FABRIC_AOT_JAR"
                if fabric_aot_cache "$FABRIC_AOT_DIR/tests-spawner.aot" "$ROOT/tests-spawner-training.log" FABRIC_KEYS_PATH= \\
                    FABRIC_SPAWNER_PORT=8472 FABRIC_REGISTRY_URL=http://127.0.0.1:9 -- $SPAWNER_JVM -jar "$FABRIC_AOT_JAR" >&2; then
                  echo "spawner=$FABRIC_AOT_DIR/tests-spawner.aot"
                fi
                member_jvm=$("$JAVA_HOME/bin/java" -cp "$FABRIC_AOT_JAR" dev.fabric.spawner.launch.MemberJvm) \\
                  && fabric_aot_member_cache "$FABRIC_AOT_DIR/tests-member.aot" "$ROOT/tests-member-training.log" $member_jvm >&2 \\
                  && echo "member=$FABRIC_AOT_DIR/tests-member.aot"
                exit 0
                """;
        try {
            ProcessBuilder builder = new ProcessBuilder("bash", "-c", commands).redirectError(ProcessBuilder.Redirect.INHERIT);
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(k -> k.startsWith("FABRIC_") || k.startsWith("SPRING_"));
            env.put("JAVA_HOME", System.getProperty("java.home"));
            env.put("SCRIPT", script.toString());
            env.put("JAR", execJar.toString());
            env.put("ROOT", root.toString());
            env.put("SPAWNER_JVM", String.join(" ", spawnerJvm));
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(15, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                System.err.println("AotSpawner: could not extract " + execJar + " for its AOT caches; starting the plain jar");
                return plain;
            }
            Path jar = null;
            List<String> spawner = List.of();
            List<String> member = List.of();
            for (String line : output.lines().toList()) {
                String value = line.substring(line.indexOf('=') + 1);
                if (line.startsWith("jar=")) {
                    jar = Path.of(value);
                } else if (line.startsWith("spawner=")) {
                    spawner = withCache(value);
                } else if (line.startsWith("member=")) {
                    member = withCache(value);
                }
            }
            return jar == null ? plain : new AotSpawner(jar, spawnerJvm, spawner, member, execJar);
        } catch (IOException e) {
            System.err.println("AotSpawner: " + e.getMessage() + "; starting the plain jar");
            return plain;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return plain;
        }
    }

    private static List<String> withCache(String cache) {
        List<String> options = new ArrayList<>(List.of("-XX:AOTCache=" + cache));
        options.addAll(QUIET);
        return List.copyOf(options);
    }

    /** docker/base/aot-cache.sh of the repository the jar was built in. */
    private static Path script(Path execJar) {
        for (Path dir = execJar.toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
            Path script = dir.resolve("docker/base/aot-cache.sh");
            if (Files.isRegularFile(script)) {
                return script;
            }
        }
        return null;
    }
}
