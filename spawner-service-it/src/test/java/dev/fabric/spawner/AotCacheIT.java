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
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
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
                .anyMatch(line -> line.contains("org.apache.catalina.connector.Request source: shared objects file"))
                // Bouncy Castle (the fabric key's Ed25519) too: the classes of a signed jar are never in a cache, so
                // fabric-bcprov ships them without bcprov's signature, and no signed copy may come back on the class path.
                .anyMatch(line -> line.contains("org.bouncycastle.math.ec.rfc8032.Ed25519 source: shared objects file"))
                .noneMatch(line -> line.contains("org.bouncycastle") && !line.contains("source: shared objects file"));
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
        // Its last check passed and is remembered; the damage keeps the cache's size and time stamp: its ctime tells.
        assertThat(countedCheck(TRAINING_OPTIONS).usable()).isTrue();
        assertThat(countedCheck(TRAINING_OPTIONS)).as("remembered").isEqualTo(new Check(true, 0));
        FileTime modified = Files.getLastModifiedTime(cache);
        try (RandomAccessFile file = new RandomAccessFile(cache.toFile(), "rw")) {
            file.seek(file.length() / 2);
            file.write(new byte[4096]);
        }
        Files.setLastModifiedTime(cache, modified);
        assertThat(countedCheck(TRAINING_OPTIONS)).as("the JVM checks it again").isEqualTo(new Check(false, 1));
        assertThat(checked()).as("a failed check forgets the one before").doesNotExist();
        Result check = script("fabric_aot_usable \"$CACHE\" " + TRAINING_OPTIONS + " && echo USABLE || echo UNUSABLE");
        assertThat(check.output()).contains("UNUSABLE");

        Result again = script(memberCache() + " && echo MADE");
        assertThat(again.output()).contains("making it again").contains("MADE");
        assertThat(script("fabric_aot_usable \"$CACHE\" " + TRAINING_OPTIONS + " && echo USABLE").output()).contains("USABLE");
    }

    @Test
    void aCheckThatPassedIsRememberedUntilWhatItLookedAtChanges() throws Exception {
        // The counting java is another JVM to the stamp than the one that made the cache: the first check is the JVM's.
        assertThat(countedCheck(TRAINING_OPTIONS)).isEqualTo(new Check(true, 1));
        assertThat(Files.getPosixFilePermissions(checked()))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(countedCheck(TRAINING_OPTIONS)).as("nothing changed: no JVM").isEqualTo(new Check(true, 0));

        Files.setLastModifiedTime(cache, FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(countedCheck(TRAINING_OPTIONS)).as("the cache touched").isEqualTo(new Check(true, 1));
        assertThat(countedCheck(TRAINING_OPTIONS)).isEqualTo(new Check(true, 0));

        Path copy = dir.resolve("copy.aot");
        Files.copy(cache, copy, StandardCopyOption.COPY_ATTRIBUTES);
        Files.move(copy, cache, StandardCopyOption.REPLACE_EXISTING);
        assertThat(countedCheck(TRAINING_OPTIONS)).as("the cache replaced").isEqualTo(new Check(true, 1));

        assertThat(countedCheck(TRAINING_OPTIONS + " -Xss1m")).as("other options").isEqualTo(new Check(true, 1));
        assertThat(countedCheck(TRAINING_OPTIONS)).as("the options before").isEqualTo(new Check(true, 1));

        Files.writeString(checked(), "not a check\n");
        assertThat(countedCheck(TRAINING_OPTIONS)).as("a stamp that does not match").isEqualTo(new Check(true, 1));
        assertThat(countedCheck(TRAINING_OPTIONS)).isEqualTo(new Check(true, 0));

        // Another jar at the same path (its time stamp: the JVM refuses the cache), then the jar as it was.
        FileTime built = Files.getLastModifiedTime(app);
        Files.setLastModifiedTime(app, FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(countedCheck(TRAINING_OPTIONS)).as("another jar").isEqualTo(new Check(false, 1));
        assertThat(checked()).doesNotExist();
        Files.setLastModifiedTime(app, built);
        assertThat(countedCheck(TRAINING_OPTIONS)).isEqualTo(new Check(true, 1));
        assertThat(countedCheck(TRAINING_OPTIONS)).isEqualTo(new Check(true, 0));
    }

    @Test
    void aCheckOfACacheThatIsNotARegularFileIsNeverRemembered() throws Exception {
        Path link = dir.resolve("link.aot");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, cache);
        assertThat(countedCheck(link, TRAINING_OPTIONS)).isEqualTo(new Check(true, 1));
        assertThat(countedCheck(link, TRAINING_OPTIONS)).isEqualTo(new Check(true, 1));
        assertThat(Path.of(link + ".checked")).doesNotExist();
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

    private Path checked() {
        return Path.of(cache + ".checked");
    }

    private record Check(boolean usable, long javaStarts) {}

    private Check countedCheck(String options) throws Exception {
        return countedCheck(cache, options);
    }

    /** fabric_aot_usable with a JAVA_HOME whose bin/java counts its starts before it runs this JVM's java. */
    private Check countedCheck(Path file, String options) throws Exception {
        Path counting = dir.resolve("counting-jdk");
        Path starts = dir.resolve("java-starts");
        if (!Files.exists(counting)) {
            Files.createDirectories(counting.resolve("bin"));
            Files.createSymbolicLink(counting.resolve("lib"), Path.of(JAVA_HOME, "lib"));
            Files.createSymbolicLink(counting.resolve("release"), Path.of(JAVA_HOME, "release"));
            Path java = counting.resolve("bin/java");
            Files.writeString(java, "#!/bin/sh\necho started >>'" + starts + "'\nexec '" + JAVA + "' \"$@\"\n");
            java.toFile().setExecutable(true);
        }
        Files.deleteIfExists(starts);
        Result check = script("JAVA_HOME=\"$COUNTING\" fabric_aot_usable '" + file + "' " + options + " && echo USABLE || echo UNUSABLE",
                Map.of("COUNTING", counting.toString()));
        assertThat(check.output()).as(check.output()).containsAnyOf("USABLE", "UNUSABLE");
        return new Check(check.output().lines().anyMatch("USABLE"::equals),
                Files.exists(starts) ? Files.readAllLines(starts).size() : 0);
    }

    private Result script(String commands) throws Exception {
        return script(commands, Map.of());
    }

    private Result script(String commands, Map<String, String> more) throws Exception {
        Path root = dir.resolve("aot");
        String prelude = ". \"$SCRIPT\" && fabric_aot_app spawner \"$JAR\" \"$ROOT\" >/dev/null && CACHE=\"$FABRIC_AOT_DIR/member.aot\" && ";
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", prelude + commands).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("FABRIC_") || k.startsWith("SPRING_"));
        env.put("JAVA_HOME", JAVA_HOME);
        env.put("SCRIPT", SCRIPT.toString());
        env.put("JAR", FabricUnderTest.SPAWNER_JAR.toString());
        env.put("ROOT", root.toString());
        env.putAll(more);
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
