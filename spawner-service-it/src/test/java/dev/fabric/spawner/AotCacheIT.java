package dev.fabric.spawner;

import dev.fabric.spawner.launch.MemberJvm;
import dev.fabric.spawner.launch.Resources;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JDK AOT cache that {@code ./fabric up} and the images make for members
 * (docker/base/aot-cache.sh): made by a training run of the real jar, a member started from it
 * really maps it (the JVM's own log says so, and Spring's classes come from it) and runs Spring's
 * AOT-processed member context, trained through its whole start (what it loads once ready and
 * listening comes from the cache too), and a cache that no longer fits (the jar replaced in place) or is
 * damaged is noticed, made again, and never stops a member from starting.
 */
class AotCacheIT {

    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("docker/base/aot-cache.sh");
    static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    static final String JAVA_HOME = System.getProperty("java.home");

    /** Shared by the tests: each makes the cache again only when the one before left it unusable. */
    @TempDir
    static Path dir;

    Path cache;
    Path app;

    @BeforeEach
    void makeTheCache() throws Exception {
        assertThat(FabricUnderTest.SPAWNER_JAR).as("run through mvn verify").exists();
        Result made = script("fabric_aot_app spawner \"$JAR\" \"$ROOT\" && echo \"APP=$FABRIC_AOT_JAR\" && "
                + memberCache() + " && echo MADE");
        assertThat(made.output()).as(made.output()).contains("MADE");
        app = Path.of(made.output().lines().filter(l -> l.startsWith("APP=")).findFirst().orElseThrow().substring(4));
        cache = app.getParent().getParent().resolve("member.aot");
        assertThat(cache).isNotEmptyFile();
    }

    @Test
    void aMemberStartedFromTheCacheMapsItAndLoadsSpringFromIt() throws Exception {
        Member member = startMember("-XX:AOTCache=" + cache, "-Xlog:aot", "-Xlog:class+load:file=" + dir.resolve("classes.txt"));

        assertThat(member.ready()).as(member.log()).isTrue();
        assertThat(member.log()).contains("Opened AOT cache " + cache);
        // Spring's AOT mode too (MemberJvm.SPRING_AOT), which the cache was trained with: its generated classes come from it.
        assertThat(member.log()).contains("Starting AOT-processed SpawnerApplication");
        assertThat(Files.readAllLines(dir.resolve("classes.txt")))
                .anyMatch(line -> line.contains("org.springframework.boot.SpringApplication source: shared objects file"))
                .anyMatch(line -> line.contains("dev.fabric.spawner.SpawnerApplication__BeanFactoryRegistrations source: shared objects file"))
                // The training ran through the member's whole start (MemberTraining), not to its context's refresh: the
                // first request the member serves (here the readiness probe this test polls) loads Tomcat's request.
                .anyMatch(line -> line.contains("org.apache.catalina.connector.Request source: shared objects file"));
    }

    @Test
    void aCacheForAJarReplacedInPlaceIsMadeAgainAndTheMemberStartsMeanwhile() throws Exception {
        // The same path, another time stamp: what the JVM sees when the jar is replaced under it.
        Files.setLastModifiedTime(app, FileTime.from(Instant.now().plusSeconds(60)));

        Member stale = startMember("-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off", "-Xlog:class+load:file=" + dir.resolve("stale.txt"));
        assertThat(stale.ready()).as("a member with a stale cache starts without it\n" + stale.log()).isTrue();
        assertThat(Files.readAllLines(dir.resolve("stale.txt")))
                .noneMatch(line -> line.contains("org.springframework") && line.contains("source: shared objects file"));

        Result again = script(memberCache() + " && echo MADE");
        assertThat(again.output()).contains("cannot be used by this JVM and jar (stale or damaged); making it again").contains("MADE");
        Member fresh = startMember("-XX:AOTCache=" + cache, "-Xlog:aot");
        assertThat(fresh.ready()).as(fresh.log()).isTrue();
        assertThat(fresh.log()).contains("Opened AOT cache " + cache);
    }

    @Test
    void aDamagedCacheIsNoticedAndMadeAgain() throws Exception {
        try (RandomAccessFile file = new RandomAccessFile(cache.toFile(), "rw")) {
            file.seek(file.length() / 2);
            file.write(new byte[4096]);
        }
        Result check = script("fabric_aot_usable \"$CACHE\" " + TRAINING_OPTIONS + " && echo USABLE || echo UNUSABLE");
        assertThat(check.output()).contains("UNUSABLE");

        Result again = script(memberCache() + " && echo MADE");
        assertThat(again.output()).contains("making it again").contains("MADE");
        assertThat(script("fabric_aot_usable \"$CACHE\" " + TRAINING_OPTIONS + " && echo USABLE").output()).contains("USABLE");
    }

    @Test
    void aCacheThatCannotBeMadeLeavesTheMemberOnItsPlainJar() throws Exception {
        Result failed = script("fabric_aot_cache \"$ROOT/none.aot\" \"$ROOT/none.log\" -- -jar /nonexistent.jar || echo FALLBACK");
        assertThat(failed.output()).contains("could not make the AOT cache").contains("starting without it").contains("FALLBACK");
        assertThat(dir.resolve("aot/none.aot")).doesNotExist();
    }

    @Test
    void aMemberTrainingThatFailsEarlyLeavesNoCacheAndSaysSo() throws Exception {
        // A member whose configuration cannot be bound fails in its context's refresh, never ready: the JVM still
        // writes a cache at its exit, a thin one the JVM can map, which must not be kept.
        Result failed = script("fabric_aot_member_cache \"$ROOT/early.aot\" \"$ROOT/early.log\" " + TRAINING_OPTIONS
                + " -Dfabric.member.spawner-timeout=never || echo FALLBACK");

        assertThat(failed.output()).as(failed.output())
                .contains("the AOT cache " + dir.resolve("aot/early.aot") + " was not kept: its training run did not complete")
                .contains(dir.resolve("aot/early.log").toString()).contains("FALLBACK");
        assertThat(dir.resolve("aot/early.aot")).doesNotExist();
        assertThat(dir.resolve("aot/early.log")).content().contains("fabric.member.spawner-timeout");
    }

    @Test
    void aServiceTrainingThatFailsInItsRefreshLeavesNoCacheAndSaysSo() throws Exception {
        Result failed = script(spawnerCache("service-early", "-Dfabric.spawner.otp-ttl=never") + " || echo FALLBACK");

        assertThat(failed.output()).as(failed.output())
                .contains("the AOT cache " + dir.resolve("aot/service-early.aot") + " was not kept: its training run did not complete")
                .contains(dir.resolve("aot/service-early.log").toString()).contains("FALLBACK");
        assertThat(dir.resolve("aot/service-early.aot")).doesNotExist();
    }

    @Test
    void aServiceTrainingThatReachesTheEndOfItsRefreshMakesAUsableCache() throws Exception {
        Result made = script(spawnerCache("service", "") + " && echo MADE");

        assertThat(made.output()).as(made.output()).contains("MADE").doesNotContain("did not complete");
        assertThat(script("fabric_aot_usable \"$ROOT/service.aot\" && echo USABLE").output()).contains("USABLE");
    }

    /** The spawner's own training run, as the image makes it, with OPTION (JVM options) added. */
    private static String spawnerCache(String name, String option) {
        return "fabric_aot_cache \"$ROOT/" + name + ".aot\" \"$ROOT/" + name + ".log\" FABRIC_KEYS_PATH= FABRIC_SPAWNER_PORT=8472 "
                + "FABRIC_REGISTRY_URL=http://127.0.0.1:9 -- " + option + " -jar \"$FABRIC_AOT_JAR\"";
    }

    /** The members' JVM options, with which ./fabric up trains their cache and checks it. */
    private static final String TRAINING_OPTIONS = String.join(" ", MemberJvm.TRAINING);

    /** The members' training run, as ./fabric up makes it. */
    private static String memberCache() {
        return "fabric_aot_member_cache \"$CACHE\" \"$ROOT/member-training.log\" " + TRAINING_OPTIONS;
    }

    private Result script(String commands) throws Exception {
        Path root = dir.resolve("aot");
        String prelude = ". \"$SCRIPT\" && fabric_aot_app spawner \"$JAR\" \"$ROOT\" >/dev/null && CACHE=\"$FABRIC_AOT_DIR/member.aot\" && ";
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", prelude + commands).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("FABRIC_") || k.startsWith("SPRING_"));
        env.put("JAVA_HOME", JAVA_HOME);
        env.put("SCRIPT", SCRIPT.toString());
        env.put("JAR", FabricUnderTest.SPAWNER_JAR.toString());
        env.put("ROOT", root.toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(10, TimeUnit.MINUTES)).isTrue();
        return new Result(process.exitValue(), output);
    }

    /** A member with its real environment whose spawner does not answer: its port serves before it dials. */
    private Member startMember(String... jvmOptions) throws Exception {
        int port = freePort();
        // A process-launched member's options (the cache is used only with the options it was trained with).
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(MemberJvm.options(new Resources("1", "256Mi")));
        command.add("-Dserver.address=127.0.0.1");
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", app.toString()));
        Path log = Files.createTempFile(dir, "member", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("FABRIC_") || k.startsWith("SPRING_"));
        env.putAll(Map.of("SPRING_PROFILES_ACTIVE", "member", "FABRIC_SERVICE_ID", "aot-test", "FABRIC_INCARNATION", "1",
                "FABRIC_ROLE", "queue", "FABRIC_SPAWNER_URL", "http://127.0.0.1:" + freePort(), "FABRIC_SPAWNER_ID", "none",
                "FABRIC_REGISTRY_URL", "http://127.0.0.1:" + freePort(), "FABRIC_OTP", "unused",
                "FABRIC_MANAGEMENT_PORT", Integer.toString(port), "FABRIC_DATA_DIR", dir.resolve("data").toString()));
        Process process = builder.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.discarding());
                    if (ready.statusCode() == 200) {
                        return new Member(true, Files.readString(log));
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
            return new Member(false, Files.readString(log));
        } finally {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private record Result(int status, String output) {}

    private record Member(boolean ready, String log) {}
}
