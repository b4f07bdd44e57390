package dev.fabric.fab.example;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example C project of examples/hello built by the real distribution (bin/fab, a fresh process
 * each time), by its -k buildscript and by make: same program, incremental builds exactly right.
 */
class ExampleProjectIT {
    private static final Pattern PROGRESS = Pattern.compile("^\\[stage \\d+/\\d+] \\[\\d+/\\d+] (\\S+)", Pattern.MULTILINE);
    private static final String EXPECTED_OUTPUT = "Hello, WORLD!\nhello 1.2.0\n";

    private static Path fab;
    private static Path example;
    /** The IPC and tmp roots of this class's daemons (one pair per project copy), stopped after all. */
    private static dev.fabric.fab.daemon.Daemons daemons;

    @TempDir
    Path work;

    record Run(int status, String out, String err) {
        /** The first target of every command that ran, in order. */
        List<String> commands() {
            Matcher m = PROGRESS.matcher(out);
            return m.results().map(r -> r.group(1)).toList();
        }
    }

    @org.junit.jupiter.api.AfterAll
    static void stopDaemons() throws Exception {
        daemons.close();
    }

    @BeforeAll
    static void locate() throws IOException {
        daemons = new dev.fabric.fab.daemon.Daemons(Files.createTempDirectory("fab-example-ipc"));
        fab = Path.of(System.getProperty("fab.dist", "target/fab-dist")).resolve("bin/fab");
        example = Path.of(System.getProperty("fab.examples", "examples")).resolve("hello");
        assertThat(fab).isExecutable();
    }

    @Test
    void fabBuildsTheExampleIncrementallyAndAsMakeDoes() throws Exception {
        Path project = copy(example, work.resolve("fab"));

        Run first = run(project, List.of(fab.toString()));
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.commands()).containsExactlyInAnyOrder("build/gen/version.h", "greet/build/greet.o", "build/main.o",
                "build/util/strutil.o", "build/gen/version.o", "greet/build/libgreet.a", "build/hello");
        assertThat(run(project, List.of("./build/hello")).out()).isEqualTo(EXPECTED_OUTPUT);

        Run noop = run(project, List.of(fab.toString()));
        assertThat(noop.status()).isZero();
        assertThat(noop.commands()).isEmpty();
        assertThat(noop.out()).contains("nothing to do");

        // One source changes: exactly its object and the link run again.
        append(project.resolve("src/util/strutil.c"), "\n/* changed */\n");
        Run changed = run(project, List.of(fab.toString()));
        assertThat(changed.status()).as(changed.err()).isZero();
        assertThat(changed.commands()).containsExactly("build/util/strutil.o", "build/hello");

        // A header changes: gcc's discovered dependencies rebuild exactly the objects including it.
        append(project.resolve("greet/greet.h"), "\n/* changed */\n");
        Run header = run(project, List.of(fab.toString()));
        assertThat(header.status()).as(header.err()).isZero();
        assertThat(header.commands()).containsExactlyInAnyOrder("build/main.o", "greet/build/greet.o", "greet/build/libgreet.a", "build/hello");

        // Touched, not changed: nothing runs.
        Files.setLastModifiedTime(project.resolve("src/main.c"), FileTime.from(Instant.now().plusSeconds(30)));
        Files.setLastModifiedTime(project.resolve("greet/greet.h"), FileTime.from(Instant.now().plusSeconds(30)));
        Run touched = run(project, List.of(fab.toString()));
        assertThat(touched.commands()).isEmpty();

        // A formula changes (in the invoked sub-directory's fabfile): its target and what depends on it rebuild.
        Path greetFabfile = project.resolve("greet/fabfile");
        Files.writeString(greetFabfile, Files.readString(greetFabfile).replace("ar rcs $@ $^", "ar rcsD $@ $^"));
        Run formula = run(project, List.of(fab.toString(), "-p"));
        assertThat(formula.out()).contains("greet/build/libgreet.a  (formula changed)");
        formula = run(project, List.of(fab.toString()));
        assertThat(formula.commands()).containsExactly("greet/build/libgreet.a", "build/hello");

        // A variable set on the command line changes the formulas that use it.
        Run override = run(project, List.of(fab.toString(), "-p", "-v", "cflags=[ -O1 -Wall ]"));
        assertThat(override.out()).contains("build/main.o  (formula changed)", "gcc -O1 -Wall -Isrc/util");

        Run test = run(project, List.of(fab.toString(), "@test"));
        assertThat(test.status()).as(test.err()).isZero();
        assertThat(test.out()).contains("test_strutil: ok");
        assertThat(run(project, List.of("./build/hello")).out()).isEqualTo(EXPECTED_OUTPUT);

        // make on a clean copy builds the same program.
        Path made = copy(example, work.resolve("make"));
        append(made.resolve("src/util/strutil.c"), "\n/* changed */\n");
        Run make = run(made, List.of("make", "-j2"));
        assertThat(make.status()).as(make.err()).isZero();
        assertThat(run(made, List.of("./build/hello")).out()).isEqualTo(EXPECTED_OUTPUT);
        assertThat(Files.readAllBytes(made.resolve("build/hello"))).isEqualTo(Files.readAllBytes(project.resolve("build/hello")));
    }

    @Test
    void buildscriptInACleanCopyBuildsTheSameBinaryAsFab() throws Exception {
        Path planned = copy(example, work.resolve("planned"));
        Path clean = copy(example, work.resolve("clean"));
        Path built = copy(example, work.resolve("built"));
        Path script = work.resolve("build.sh");

        Run k = run(planned, List.of(fab.toString(), "-k", script.toString(), "-K", "cc"));
        assertThat(k.status()).as(k.err()).isZero();
        assertThat(planned.resolve("build")).doesNotExist();

        Run sh = run(clean, List.of("/bin/sh", script.toString()));
        assertThat(sh.status()).as(sh.err()).isZero();
        assertThat(run(clean, List.of("./build/hello")).out()).isEqualTo(EXPECTED_OUTPUT);

        assertThat(run(built, List.of(fab.toString())).status()).isZero();
        assertThat(Files.readAllBytes(clean.resolve("build/hello"))).isEqualTo(Files.readAllBytes(built.resolve("build/hello")));

        // -K cc: the script's compiler is settable from the environment.
        Path other = copy(example, work.resolve("other"));
        Run broken = runWithEnv(other, List.of("/bin/sh", script.toString()), "cc", "false");
        assertThat(broken.status()).isEqualTo(7);
    }

    @Test
    void failingCommandExitsSevenThroughTheDistribution() throws Exception {
        Path project = copy(example, work.resolve("failing"));
        append(project.resolve("src/main.c"), "\nthis is not C\n");
        Run r = run(project, List.of(fab.toString()));
        assertThat(r.status()).isEqualTo(7);
        assertThat(r.err()).contains("command failed with exit status 1", "-c src/main.c -o build/main.o", "stderr:");
        assertThat(project.resolve("build/main.o")).doesNotExist();
    }

    private static Run run(Path dir, List<String> command) throws IOException, InterruptedException {
        return runWithEnv(dir, command, null, null);
    }

    private static Run runWithEnv(Path dir, List<String> command, String key, String value) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        if (key != null) {
            pb.environment().put(key, value);
        }
        pb.environment().put("FAB_IPC_DIR", daemons.ipcRoot.toString());
        pb.environment().put("FAB_TMP_DIR", daemons.tmpRoot.toString());
        if (System.getenv("JAVA_HOME") == null) {
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        }
        Path out = Files.createTempFile("fab-out", ".txt");
        Path err = Files.createTempFile("fab-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        Run run = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return run;
    }

    private static void append(Path file, String text) throws IOException {
        Files.writeString(file, Files.readString(file) + text);
    }

    private static Path copy(Path from, Path to) {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path rel = from.relativize(p);
                if (rel.getNameCount() > 0 && (rel.getName(0).toString().equals("build") || rel.toString().contains(".fab")
                        || rel.startsWith("greet/build"))) {
                    continue;
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return to;
    }
}
