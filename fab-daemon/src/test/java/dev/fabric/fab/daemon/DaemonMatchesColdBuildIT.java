package dev.fabric.fab.daemon;

import dev.fabric.fab.cli.FabCli;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemons' picture of a tree always equals a cold look. Two copies of a generated project get the
 * same random sequence of file operations; after each, the daemons build one copy and fab's engine,
 * with nothing in memory, builds the other: both must run the same commands, end with the same
 * status and leave the same outputs. The operations are those that miss an in-place write: rename
 * over, delete and recreate, directory rename and removal, symlink retarget, a copy that keeps the
 * modification time, a burst that overflows the watch queue, and a change while a build runs.
 * <p>
 * A third copy is built by {@code make} from the same rules ({@link #MAKEFILE}): while every operation so
 * far is one where make's rule (a prerequisite newer than its target) and fab's (a changed content, a
 * new or vanished source) decide alike (an edit, a rename over, a recreate, a new directory, an edit
 * of a link's target, a burst ending in an edit), make must rerun exactly the commands the daemons ran.
 * The others (a copy keeping the modification time, a deleted or moved source, a link pointed at an
 * older file, an edit racing a build) are where the two rules differ by design, and end the comparison.
 */
class DaemonMatchesColdBuildIT {
    private static final String FABFILE = """
            [ build/%.o ] : [ src/%.c ] { cat $< > $@ }
            $objs = [ src/%.c -> build/%.o ]
            [ build/app ] : [ $objs ] { cat $^ > $@ }
            [ build/app ] : [ inc/common.h ]
            [ build/conf ] : [ inc/common.h ] { sleep 0.3; cat inc/common.h > $@ }
            [ @all ] : [ build/app build/conf ]
            """;
    /** FABFILE's rules for make; each recipe names its target first, as fab's progress line does. */
    private static final String MAKEFILE = """
            OBJS := $(patsubst src/%.c,build/%.o,$(shell find src -name '*.c' | sort))
            all: build/app build/conf
            build/%.o: src/%.c
            \t@echo "MADE $@"; mkdir -p $(dir $@); cat $< > $@
            build/app: $(OBJS) inc/common.h
            \t@echo "MADE $@"; cat $(OBJS) > $@
            build/conf: inc/common.h
            \t@echo "MADE $@"; cat inc/common.h > $@
            .PHONY: all
            """;
    private static final Pattern PROGRESS = Pattern.compile("\\[stage \\d+/\\d+] \\[\\d+/\\d+] (\\S+)");
    private static final Pattern MADE = Pattern.compile("MADE (\\S+)");
    /** The operations where make's modification times and fab's contents decide alike. */
    private static final Set<Kind> MAKE_AGREES = Set.of(Kind.EDIT, Kind.RENAME_OVER, Kind.RECREATE, Kind.NEW_DIR,
            Kind.EDIT_LINK_TARGET, Kind.BURST);

    enum Kind { EDIT, RENAME_OVER, DELETE, RECREATE, NEW_DIR, RENAME_DIR, REMOVE_DIR, RETARGET_LINK, EDIT_LINK_TARGET,
        COPY_KEEPING_MTIME, BURST, EDIT_DURING_BUILD }

    record Op(Kind kind, int pick) {
    }

    record Result(int status, Set<String> ran, Map<String, String> outputs) {
    }

    @Property(tries = 5, shrinking = ShrinkingMode.OFF)
    void daemonBuildRunsWhatAColdBuildRunsAndLeavesTheSameOutputs(@ForAll("operations") List<Op> ops) throws Exception {
        Path dir = Files.createTempDirectory("fab-daemon-vs-cold");
        Path warm = dir.resolve("warm");
        Path cold = dir.resolve("cold");
        Path make = dir.resolve("make");
        generate(warm);
        generate(cold);
        generate(make);
        write(make, "Makefile", MAKEFILE);
        try (Daemons daemons = new Daemons(dir)) {
            Result first = daemonBuild(daemons, warm, dir);
            assertSame(first, coldBuild(cold), "first build");
            assertThat(makeBuild(make)).as("make's first build").isEqualTo(first.ran());
            Result noop = daemonBuild(daemons, warm, dir);
            assertSame(noop, coldBuild(cold), "no-op build");
            assertThat(makeBuild(make)).as("make's no-op build").isEqualTo(noop.ran());
            boolean makeAgrees = true;
            List<Op> done = new ArrayList<>();
            for (Op op : ops) {
                done.add(op);
                makeAgrees &= MAKE_AGREES.contains(op.kind()) && !rewritesTheSameText(op, make);
                if (makeAgrees) {
                    apply(op, make);
                }
                boolean concurrent = op.kind() == Kind.EDIT_DURING_BUILD;
                if (concurrent) {
                    Process build = daemons.fab(warm).redirectOutput(dir.resolve("concurrent.out").toFile())
                            .redirectErrorStream(true).start();
                    Thread.sleep(100 + op.pick() % 900);
                    apply(new Op(Kind.EDIT, op.pick()), warm);
                    assertThat(build.waitFor(120, TimeUnit.SECONDS)).isTrue();
                    apply(new Op(Kind.EDIT, op.pick()), cold);
                } else {
                    apply(op, warm);
                    apply(op, cold);
                }
                Result daemon = daemonBuild(daemons, warm, dir);
                Result fresh = coldBuild(cold);
                if (concurrent) {
                    // The build that overlapped the edit may have run some commands already: compare what is left.
                    assertThat(daemon.outputs()).as("outputs after %s", done).isEqualTo(fresh.outputs());
                    assertThat(daemon.status()).as("status after %s", done).isEqualTo(fresh.status());
                } else {
                    assertSame(daemon, fresh, "after " + done);
                }
                if (makeAgrees) {
                    assertThat(makeBuild(make)).as("what make reruns after %s", done).isEqualTo(daemon.ran());
                }
            }
        } finally {
            delete(dir);
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        return Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(0, 1000)).as(Op::new)
                .list().ofMinSize(3).ofMaxSize(5);
    }

    private static void assertSame(Result daemon, Result cold, String when) {
        assertThat(daemon.status()).as("status %s", when).isEqualTo(cold.status());
        assertThat(daemon.ran()).as("commands run %s", when).isEqualTo(cold.ran());
        assertThat(daemon.outputs()).as("outputs %s", when).isEqualTo(cold.outputs());
    }

    private static void generate(Path root) throws IOException {
        write(root, "fabfile", FABFILE);
        write(root, "inc/common.h", "#define COMMON 1\n");
        write(root, "alt/one.txt", "one\n");
        write(root, "alt/two.txt", "two!\n");
        for (int i = 0; i < 4; i++) {
            write(root, "src/f" + i + ".c", "int f" + i + ";\n");
            write(root, "src/sub/g" + i + ".c", "int g" + i + ";\n");
        }
        Files.createSymbolicLink(root.resolve("src/link.c"), Path.of("../alt/one.txt"));
    }

    /** Applies one operation; the file it touches is chosen from the sorted tree, so both copies get the same. */
    private static void apply(Op op, Path root) throws Exception {
        List<String> files = files(root);
        String file = files.isEmpty() ? "src/f0.c" : files.get(op.pick() % files.size());
        String text = "/* " + op.kind() + " " + op.pick() + " */\n";
        switch (op.kind()) {
            case EDIT, EDIT_DURING_BUILD -> sh(root, "printf '%s' '" + text + "' >> " + file);
            case RENAME_OVER -> sh(root, "cat " + file + " > .tmp && printf '%s' '" + text + "' >> .tmp && mv .tmp " + file);
            case DELETE -> sh(root, "rm -f " + file);
            case RECREATE -> sh(root, "rm -f " + file + " && printf '%s' '" + text + "' > " + file);
            case NEW_DIR -> sh(root, "mkdir -p src/new" + op.pick() + " && printf '%s' '" + text + "' > src/new" + op.pick() + "/n.c");
            case RENAME_DIR -> sh(root, "if [ -d src/sub ]; then mv src/sub src/moved; elif [ -d src/moved ]; then mv src/moved src/sub; fi");
            case REMOVE_DIR -> sh(root, "rm -rf src/sub");
            case RETARGET_LINK -> sh(root, "rm -f src/link.c && ln -s ../alt/" + (op.pick() % 2 == 0 ? "one" : "two") + ".txt src/link.c");
            case EDIT_LINK_TARGET -> sh(root, "printf '%s' '" + text + "' >> alt/one.txt");
            case COPY_KEEPING_MTIME -> {
                // Same size and modification time as before: only the inode or change time tells.
                sh(root, "if [ -f " + file + " ]; then tr 'a-y' 'b-z' < " + file + " > .tmp && touch -r " + file + " .tmp && cp -p .tmp "
                        + file + " && rm .tmp; fi");
            }
            // More events on one directory than the JDK's watch key holds (512): the watcher sees OVERFLOW.
            case BURST -> sh(root, "mkdir -p scratch && cd scratch && i=0; while [ $i -lt 3000 ]; do : > f$i; i=$((i+1)); done; "
                    + "cd .. && printf '%s' '" + text + "' >> " + file + " && rm -rf scratch");
        }
    }

    private static List<String> files(Path root) throws IOException {
        Path src = root.resolve("src");
        List<String> out = new ArrayList<>(List.of("inc/common.h"));
        if (Files.isDirectory(src)) {
            try (Stream<Path> s = Files.walk(src)) {
                s.filter(p -> Files.isRegularFile(p) && !Files.isSymbolicLink(p)).map(p -> root.relativize(p).toString()).sorted().forEach(out::add);
            }
        }
        return out;
    }

    private Result daemonBuild(Daemons daemons, Path root, Path dir) throws Exception {
        Process p = daemons.fab(root).redirectOutput(dir.resolve("daemon.out").toFile()).redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return result(p.exitValue(), Files.readString(dir.resolve("daemon.out")), root);
    }

    /**
     * A recreate or a new directory that writes exactly what the file held (the same operation drawn
     * twice): a newer modification time for make, no change for fab.
     */
    private static boolean rewritesTheSameText(Op op, Path root) throws IOException {
        String text = "/* " + op.kind() + " " + op.pick() + " */\n";
        Path file = switch (op.kind()) {
            case RECREATE -> {
                List<String> files = files(root);
                yield root.resolve(files.isEmpty() ? "src/f0.c" : files.get(op.pick() % files.size()));
            }
            case NEW_DIR -> root.resolve("src/new" + op.pick() + "/n.c");
            default -> null;
        };
        return file != null && Files.isRegularFile(file) && Files.readString(file).equals(text);
    }

    /** The targets whose recipes make ran. */
    private static Set<String> makeBuild(Path root) throws Exception {
        Process p = new ProcessBuilder("make", "-s").directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("make: " + out).isZero();
        Set<String> made = new TreeSet<>();
        Matcher m = MADE.matcher(out);
        while (m.find()) {
            made.add(m.group(1));
        }
        awaitALaterTimestamp(root);
        return made;
    }

    /**
     * Waits until a file written now gets a later modification time than every file under {@code root}.
     * The kernel stamps files from a clock that ticks every few milliseconds, so an edit made just after
     * make wrote a target can carry the target's own time, and make (which rebuilds only what is older
     * than a prerequisite) would then skip a rebuild that fab, which compares contents, rightly does.
     */
    private static void awaitALaterTimestamp(Path root) throws Exception {
        FileTime newest;
        try (Stream<Path> s = Files.walk(root)) {
            newest = s.filter(p -> !Files.isSymbolicLink(p)).map(DaemonMatchesColdBuildIT::modified)
                    .max(Comparator.naturalOrder()).orElseThrow();
        }
        Path probe = root.resolve(".clock");
        for (int i = 0; i < 1000; i++) {
            Files.writeString(probe, "");
            if (Files.getLastModifiedTime(probe).compareTo(newest) > 0) {
                Files.delete(probe);
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the file system's clock did not pass " + newest + " within a second");
    }

    private static FileTime modified(Path path) {
        try {
            return Files.getLastModifiedTime(path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Result coldBuild(Path root) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        int status = FabCli.run(new String[0], root, print, print);
        return result(status, out.toString(StandardCharsets.UTF_8), root);
    }

    private static Result result(int status, String output, Path root) throws IOException {
        Set<String> ran = new TreeSet<>();
        Matcher m = PROGRESS.matcher(output);
        while (m.find()) {
            ran.add(m.group(1));
        }
        Map<String, String> outputs = new TreeMap<>();
        Path build = root.resolve("build");
        if (Files.isDirectory(build)) {
            try (Stream<Path> s = Files.walk(build)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    outputs.put(root.relativize(p).toString(), Files.readString(p));
                }
            }
        }
        return new Result(status, ran, outputs);
    }

    private static void write(Path root, String name, String text) throws IOException {
        Files.createDirectories(root.resolve(name).getParent());
        Files.writeString(root.resolve(name), text);
    }

    private static void sh(Path root, String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(script + ": " + out).isZero();
    }

    /** Best effort: a daemon that is still ending may write into its directory meanwhile. */
    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // Left in the temporary directory.
                }
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // Left in the temporary directory.
        }
    }
}
