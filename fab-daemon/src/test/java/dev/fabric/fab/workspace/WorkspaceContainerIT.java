package dev.fabric.fab.workspace;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.fabric.fab.ipc.IpcCodec;
import dev.fabric.fab.ipc.IpcDirectory;
import dev.fabric.fab.ipc.IpcRecord;
import dev.fabric.testsupport.BaseImage;
import dev.fabric.testsupport.RequiresDocker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ExecConfig;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The workspace container of {@code docker/fab-workspace.Dockerfile}, built from the repository and
 * the fab distribution, run as a workspace pod runs it (root, with the runtime's default capabilities:
 * see {@link #workspace()} for why not privileged): its entrypoint starts
 * {@code fabw --system} as root, and a developer (a non-root user the test creates, as a site would)
 * builds with {@code fab}. Checked: the example project builds and every file of it belongs to the
 * developer; fabd runs as {@code fabsys}; fabd killed mid-build makes the waiting {@code fab} exit 14
 * (FABDFAIL) and the next {@code fab} starts a fresh fabd and succeeds. The first test checks the image
 * alone (toolchain, {@code fabsys}, the distribution's ownership, the entrypoint) without starting it.
 * With a second developer: neither can run commands as the other, steer root's chmod, or stop, restart
 * or take over the other's project (docs/fab.md, "What a developer cannot do").
 */
@RequiresDocker
class WorkspaceContainerIT {

    /** The build context is the repository root, as in the Dockerfile's header; tests run in fab-daemon/. */
    private static final Path REPOSITORY = Path.of(System.getProperty("fabric.repository", "..")).toAbsolutePath().normalize();
    private static final String DOCKERFILE = "docker/fab-workspace.Dockerfile";
    /** Where the Dockerfile's DIST_DIR expects the distribution inside the build context. */
    private static final String DIST_IN_CONTEXT = "fab-daemon/target/fab-dist";
    private static final Path DIST = Path.of(System.getProperty("fab.dist", "target/fab-dist")).toAbsolutePath();
    private static final Path EXAMPLE = Path.of(System.getProperty("fab.examples", "examples")).resolve("hello").toAbsolutePath();
    /** What the example's fabfile leaves behind and .gitignore lists: never part of the copy. */
    private static final Set<String> BUILD_OUTPUTS = Set.of("build", ".fab");

    /** The developer: any non-root user; this one is named after the example user of fab's original documentation. */
    private static final String DEVELOPER = "todd";
    private static final String HOME = "/home/" + DEVELOPER;
    private static final String HELLO = HOME + "/hello";
    /** A second developer, named after the other home in the example paths of fab's original documentation. */
    private static final String OTHER = "ec2-user";
    private static final String OTHER_HOME = "/home/" + OTHER;
    /** Where the other developer's commands would leave their mark: {@code id > /tmp/p}. */
    private static final String MARK = "/tmp/p";
    private static final String SLOW = HOME + "/slow";
    /** The slow project's command writes the first and waits for the second, so the test kills fabd mid-command. */
    private static final String STARTED = "/tmp/slow.started";
    private static final String RELEASE = "/tmp/slow.release";
    /** fabd's main class, as bin/fabd starts it. */
    private static final String FABD_MAIN = "dev.fabric.fab.daemon.Fabd";
    /** The default IPC root, where fabw --system listens. */
    private static final String IPC_ROOT = "/var/run/fab";
    /** The default tmp root, where each daemon's pid/<pid>/ lives. */
    private static final String TMP_ROOT = "/var/tmp/fab";

    /** A daemon that hangs must fail the test, not the build machine's patience. */
    private static final Duration FAB_LIMIT = Duration.ofMinutes(3);

    private static final String IMAGE_NAME = "fabric/fab-workspace:it-" + UUID.randomUUID().toString().substring(0, 8);
    private static final ImageFromDockerfile IMAGE = image();
    private static final List<GenericContainer<?>> CONTAINERS = new ArrayList<>();
    /** Where fab runs while the test watches it: a thread each (docker exec blocks until fab ends). */
    private static final ExecutorService EXECS = Executors.newVirtualThreadPerTaskExecutor();
    /** The workspace with its real entrypoint, started by the first test that needs it. */
    private static GenericContainer<?> workspace;

    @AfterAll
    static void removeEverything() {
        // Ryuk is disabled on these machines: the containers and the image go here.
        CONTAINERS.forEach(GenericContainer::stop);
        EXECS.shutdownNow();
        try {
            DockerClientFactory.instance().client().removeImageCmd(IMAGE_NAME).withForce(true).exec();
        } catch (NotFoundException neverBuilt) {
            // The build failed before tagging: nothing to remove.
        }
    }

    @Test
    void imageHasTheToolchainFabsysAndARootOwnedDistributionAndStartsFabwAsRoot() throws Exception {
        // The entrypoint replaced: this looks at the image's contents, whatever fabw does when started.
        GenericContainer<?> idle = started(new GenericContainer<>(IMAGE)
                .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("sleep", "infinity")));

        for (String tool : List.of("gcc", "cc", "make", "ar", "ps")) {
            assertThat(exec(idle, "sh", "-c", "command -v " + tool)).as(tool + " on PATH").isNotEmpty();
        }
        // gcc alone is not enough to build C: the libc headers are only a recommendation of it.
        exec(idle, "sh", "-c", "printf '#include <stdio.h>\\nint main(void){puts(\"ok\");return 0;}\\n' > /tmp/t.c"
                + " && gcc -o /tmp/t /tmp/t.c && /tmp/t");
        assertThat(exec(idle, "sh", "-c", "command -v fab")).as("developers run fab from PATH").isEqualTo("/opt/fab/bin/fab");

        // fabsys: a system account nobody logs in as, with a group of its own.
        String[] fabsys = exec(idle, "getent", "passwd", "fabsys").split(":");
        assertThat(Integer.parseInt(fabsys[2])).as("fabsys's uid: a system account").isBetween(1, 999);
        assertThat(fabsys[6]).as("fabsys's shell").isEqualTo("/usr/sbin/nologin");
        assertThat(exec(idle, "getent", "group", "fabsys")).as("fabsys's group").startsWith("fabsys:x:" + fabsys[3] + ":");

        // No developer baked in: the image adds fabsys and no other account to its base's.
        Set<String> baseUsers = users(started(new GenericContainer<>(BaseImage.imageName()).withCommand("sleep", "infinity")));
        Set<String> added = new TreeSet<>(users(idle));
        added.removeAll(baseUsers);
        assertThat(added).as("accounts the image adds").containsExactly("fabsys");

        // The tool that root's fabw and every developer's build run: nobody but root may change it.
        assertThat(exec(idle, "find", "/opt/fab", "!", "-user", "root", "-o", "-perm", "/022")).as("files of /opt/fab not owned by root "
                + "or writable by others").isEmpty();
        assertThat(exec(idle, "find", "/opt/fab/bin", "-type", "f", "!", "-perm", "-0555")).as("scripts everybody cannot run").isEmpty();

        var config = DockerClientFactory.instance().client().inspectImageCmd(IMAGE_NAME).exec().getConfig();
        assertThat(config.getEntrypoint()).as("tini reaps what builds orphan; fabw --system is its child, in the foreground")
                .containsExactly("/usr/bin/tini", "--", "/opt/fab/bin/fabw", "--system");
        assertThat(config.getUser()).as("the entrypoint's user: fabw --system starts as root").isIn("", "root", "0");
    }

    @Test
    void developerBuildsTheExampleAndOwnsEveryFileOfIt() throws Exception {
        GenericContainer<?> ws = workspace();

        ExecResult first = fab(ws, HELLO);
        assertThat(first.getExitCode()).as(() -> "fab in " + HELLO + "\n" + describe(first) + diagnostics(ws)).isZero();
        assertThat(asDeveloper(ws, HELLO, "./build/hello").getStdout()).isEqualTo("Hello, WORLD!\nhello 1.2.0\n");
        for (String built : List.of("build/hello", "build/main.o", "build/gen/version.h", "greet/build/libgreet.a")) {
            assertThat(exec(ws, "stat", "-c", "%U:%G", HELLO + "/" + built)).as(built).isEqualTo(DEVELOPER + ":" + DEVELOPER);
        }
        // Everything: objects, generated sources, depfiles, fab's .fab/state. Nothing of fabsys's or root's.
        assertThat(exec(ws, "find", HELLO, "(", "!", "-user", DEVELOPER, "-o", "!", "-group", DEVELOPER, ")", "-print"))
                .as("files in the project not owned by " + DEVELOPER + ":" + DEVELOPER).isEmpty();

        // The daemon kept the graph: a second fab runs nothing.
        ExecResult again = fab(ws, HELLO);
        assertThat(again.getExitCode()).as(() -> describe(again) + diagnostics(ws)).isZero();
        assertThat(again.getStdout()).contains("nothing to do");
    }

    @Test
    void fabdRunsAsFabsys() throws Exception {
        GenericContainer<?> ws = workspace();
        ExecResult build = fab(ws, HELLO);
        assertThat(build.getExitCode()).as(() -> describe(build) + diagnostics(ws)).isZero();

        // What a developer sees: the daemon that keeps the project's graph is not theirs, and not root's.
        List<String[]> fabd = processes(asDeveloper(ws, HOME, "ps", "-e", "-o", "pid=,user:32=,comm=,args=").getStdout(), 4)
                .stream().filter(WorkspaceContainerIT::isFabd).toList();
        assertThat(fabd).as(() -> "fabd in ps -e -o pid,user,comm,args" + diagnostics(ws)).isNotEmpty();
        assertThat(fabd).extracting(process -> process[1]).as("fabd's user").containsOnly("fabsys");
    }

    @Test
    void killingFabdMidBuildMakesFabExitFabdfailAndTheNextFabSucceeds() throws Exception {
        GenericContainer<?> ws = workspace();
        exec(ws, "rm", "-f", STARTED, RELEASE);
        asDeveloper(ws, HOME, "mkdir", "-p", SLOW);
        asDeveloper(ws, SLOW, "sh", "-c", "echo slow > input && cat > fabfile <<'EOF'\n"
                + "# Announces that it runs, then waits for the test to let it go: fabd dies while it waits.\n"
                + "[ build/output ] : [ input ] {\n"
                + "  touch " + STARTED + "; while test ! -e " + RELEASE + "; do sleep 0.1; done; cp $< $@\n"
                + "}\n"
                + "EOF");

        CompletableFuture<ExecResult> waiting = startFab(ws, SLOW);
        await("the build's command running").atMost(FAB_LIMIT).pollInterval(Duration.ofMillis(100))
                .until(() -> ws.execInContainer("test", "-e", STARTED).getExitCode() == 0 || waiting.isDone());
        assertThat(waiting).as(() -> "fab ended before its command ran: " + (waiting.isDone() ? describe(waiting.join()) : "")
                + diagnostics(ws)).isNotDone();

        // Every fabd: the slow project's, and the example's when another test left it running. The
        // example's is idle, so killing it too changes nothing here, and no fabd is told from another
        // by anything but its project's IPC directory, whose layout is not this test's subject.
        List<String> fabdPids = fabdPids(ws);
        assertThat(fabdPids).as(() -> "fabd while the build runs" + diagnostics(ws)).isNotEmpty();
        List<String> kill = new ArrayList<>(List.of("kill", "-KILL"));
        kill.addAll(fabdPids);
        exec(ws, kill.toArray(String[]::new));

        // fabw sees its child die and tells the waiting fab; it must not wait for the command to finish.
        ExecResult failed = finish(waiting, ws, SLOW);
        assertThat(failed.getExitCode()).as(() -> "fab's status after fabd was killed (14 is FABDFAIL)\n" + describe(failed)
                + diagnostics(ws)).isEqualTo(14);

        exec(ws, "touch", RELEASE);
        ExecResult next = fab(ws, SLOW);
        assertThat(next.getExitCode()).as(() -> "the next fab\n" + describe(next) + diagnostics(ws)).isZero();
        assertThat(exec(ws, "cat", SLOW + "/build/output")).isEqualTo("slow");
        assertThat(exec(ws, "stat", "-c", "%U", SLOW + "/build/output")).isEqualTo(DEVELOPER);
        assertThat(fabdPids(ws)).as("a fresh fabd for the slow project, none of the killed ones").hasSize(1)
                .doesNotContainAnyElementsOf(fabdPids);
    }

    // --- two developers: neither acts as the other, nor steers root (issue 12 items 1, 3, 5) ---

    /**
     * The attack of issue 12 item 1: the developer points their project's {@code bp} link at the other
     * developer's faba (whose pid {@code ps} shows), writes {@code args} for a target whose formula is
     * {@code id > /tmp/p}, stands in a live process of theirs as the waiting client, and rings their own faba,
     * which relays START to fabd. fabd learns its faba
     * from {@code fabd/faba}, which only faba writes while still root, not from the link: {@code /tmp/p}
     * is the developer's, never the other developer's.
     */
    @Test
    void aDeveloperWhoPointsBpAtAnotherDevelopersFabaRunsNothingAsThem() throws Exception {
        GenericContainer<?> ws = workspace();
        exec(ws, "rm", "-f", MARK);
        // Both projects where either developer may enter, so the other's faba could run the command if it were handed it.
        String victim = "/srv/victim";
        String attacker = "/srv/pwn";
        exec(ws, "sh", "-c", "mkdir -p " + victim + " " + attacker + " && chown " + OTHER + ": " + victim + " && chown " + DEVELOPER + ": "
                + attacker + " && chmod 0755 " + victim + " " + attacker);
        as(ws, OTHER, victim, "sh", "-c", "printf '[ out ] : [ ] { echo victim > out }\\n' > fabfile");
        assertSucceeds(ws, fabAs(ws, OTHER, victim));
        as(ws, DEVELOPER, attacker, "sh", "-c", "printf '[ ok ] : [ ] { echo ok > ok }\\n[ pwned ] : [ ] { id > " + MARK + " }\\n' > fabfile");
        assertSucceeds(ws, fabAs(ws, DEVELOPER, attacker, "ok"));

        String ipc = IPC_ROOT + "/" + IpcDirectory.hash(Path.of(attacker, "fabfile"));
        String victimFaba = exec(ws, "sh", "-c", "ps -o pid=,comm= -u " + OTHER + " | awk '$2 == \"faba\" { print $1; exit }'");
        assertThat(victimFaba).as("the other developer's faba, in ps" + diagnostics(ws)).matches("[0-9]+");
        ws.copyFileToContainer(Transferable.of(IpcCodec.encode(new IpcRecord.Args(0x5eed, List.of("pwned"))), 0644), "/tmp/pwned-args");
        // A client's environment for the same invocation, as fab writes it: faba runs no command of an invocation without one.
        ws.copyFileToContainer(Transferable.of(IpcCodec.encode(new IpcRecord.Environment(0x5eed, 0022,
                List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))), 0644), "/tmp/pwned-env");
        // A client that waits for the invocation, as fab would: faba abandons one whose client is gone, and runs nothing of it.
        ExecResult attack = as(ws, DEVELOPER, attacker, "sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $! > " + ipc + "/fab/pid; "
                + String.join(" && ",
                "own=$(readlink " + ipc + "/bp | sed 's#.*/pid/\\([0-9]*\\)/bp#\\1#')",
                "ln -sfn " + TMP_ROOT + "/pid/" + victimFaba + "/bp " + ipc + "/bp",
                "cp /tmp/pwned-env " + ipc + "/fab/env",
                "cp /tmp/pwned-args " + ipc + "/args",
                // The developer may ring their own faba: it relays START to fabd.
                "kill -USR1 $own", "echo \"rang faba $own\""));

        await("the pwned target's formula").atMost(FAB_LIMIT).pollInterval(Duration.ofMillis(250))
                .until(() -> ws.execInContainer("test", "-e", MARK).getExitCode() == 0);
        assertThat(exec(ws, "stat", "-c", "%U", MARK)).as(() -> "who ran `id > " + MARK + "`: " + readQuietly(ws, MARK) + "\n"
                + describe(attack) + diagnostics(ws)).isEqualTo(DEVELOPER);
        // The other developer's project is untouched: it still builds.
        assertSucceeds(ws, fabAs(ws, OTHER, victim));
        exec(ws, "rm", "-f", MARK);
    }

    /** {@code fab/lock} is the developer's: linked to a file of root's, the next ensure leaves that file's mode alone. */
    @Test
    void rootDoesNotChmodWhatADevelopersFabLockLinksTo() throws Exception {
        GenericContainer<?> ws = workspace();
        String canary = "/etc/fab-canary";
        exec(ws, "sh", "-c", "printf keep > " + canary + " && chmod 0644 " + canary);
        String project = HOME + "/locked";
        as(ws, DEVELOPER, HOME, "sh", "-c", "mkdir -p " + project + " && printf '[ a ] : [ ] { echo a > a }\\n' > " + project + "/fabfile");
        assertSucceeds(ws, fabAs(ws, DEVELOPER, project));
        String lock = IPC_ROOT + "/" + IpcDirectory.hash(Path.of(project, "fabfile")) + "/fab/lock";

        as(ws, DEVELOPER, project, "sh", "-c", "rm -f " + lock + " && ln -s " + canary + " " + lock);
        ExecResult linked = fabAs(ws, DEVELOPER, project);

        assertThat(exec(ws, "stat", "-c", "%a %U", canary)).as(() -> "the canary after fab with " + lock + " linked to it\n"
                + describe(linked) + diagnostics(ws)).isEqualTo("644 root");
        assertThat(exec(ws, "cat", canary)).isEqualTo("keep");
        // The developer removes their link, and the next fab works again.
        as(ws, DEVELOPER, project, "rm", lock);
        assertSucceeds(ws, fabAs(ws, DEVELOPER, project));
    }

    /**
     * The other developer's project, readable by all: the developer may not take it over, stop its faba
     * or restart its fabd by running fab on its fabfile (NOTOWNER, 16); its owner goes on building.
     */
    @Test
    void aDeveloperCannotTakeOverStopOrRestartAnotherDevelopersProject() throws Exception {
        GenericContainer<?> ws = workspace();
        String shared = "/srv/shared-project";
        exec(ws, "sh", "-c", "mkdir -p " + shared + " && chown " + OTHER + ": " + shared + " && chmod 0755 " + shared);
        as(ws, OTHER, shared, "sh", "-c", "printf '[ out ] : [ ] { echo shared > out }\\n' > fabfile");
        assertSucceeds(ws, fabAs(ws, OTHER, shared));
        String ipc = IPC_ROOT + "/" + IpcDirectory.hash(Path.of(shared, "fabfile"));
        String faba = exec(ws, "sh", "-c", "readlink " + ipc + "/bp | sed 's#.*/pid/\\([0-9]*\\)/bp#\\1#'");
        String fabd = exec(ws, "cat", ipc + "/fabd/pgid");

        for (String[] args : List.of(new String[0], new String[] {"-B"})) {
            ExecResult refused = fabAs(ws, DEVELOPER, shared, args);
            assertThat(refused.getExitCode()).as(() -> "fab " + String.join(" ", args) + " on another developer's project (16 is NOTOWNER)\n"
                    + describe(refused) + diagnostics(ws)).isEqualTo(16);
            assertThat(refused.getStderr()).contains("in use by another developer", "one developer per project");
        }

        assertThat(exec(ws, "ps", "-o", "user=", "-p", faba)).as("the owner's faba, still running").isEqualTo(OTHER);
        assertThat(exec(ws, "cat", ipc + "/fabd/pgid")).as("the owner's fabd, not restarted").isEqualTo(fabd);
        assertSucceeds(ws, fabAs(ws, OTHER, shared));
    }

    /**
     * A developer who started a project of another's fabfile first (nobody used it yet) holds it only
     * until the fabfile's owner runs fab: the owner takes it over, the other developer's faba stops, and
     * from then on the other developer is refused (16).
     */
    @Test
    void theFabfilesOwnerTakesTheirProjectBackFromAnotherDeveloper() throws Exception {
        GenericContainer<?> ws = workspace();
        String project = "/srv/taken-back";
        exec(ws, "sh", "-c", "mkdir -p " + project + " && chown " + OTHER + ": " + project + " && chmod 0755 " + project);
        as(ws, OTHER, project, "sh", "-c", "printf '[ @all ] : [ ] { true }\\n' > fabfile");
        String ipc = IPC_ROOT + "/" + IpcDirectory.hash(Path.of(project, "fabfile"));

        assertSucceeds(ws, fabAs(ws, DEVELOPER, project));
        String squatter = exec(ws, "cat", ipc + "/fabd/faba");
        assertThat(exec(ws, "ps", "-o", "user=", "-p", squatter)).isEqualTo(DEVELOPER);
        // The client's environment (it may hold secrets) is its developer's alone: fabsys, which runs fabd, cannot read it.
        assertThat(exec(ws, "stat", "-c", "%a %U", ipc + "/fab/env")).isEqualTo("600 " + DEVELOPER);
        assertThat(ws.execInContainer(ExecConfig.builder().user("fabsys").command(new String[] {"cat", ipc + "/fab/env"}).build())
                .getExitCode()).as("fabsys reading the developer's fab/env").isNotZero();

        assertSucceeds(ws, fabAs(ws, OTHER, project));
        assertThat(exec(ws, "stat", "-c", "%a %U", ipc + "/fab/env")).as("the owner's environment, not the previous developer's")
                .isEqualTo("600 " + OTHER);
        String owner = exec(ws, "cat", ipc + "/fabd/faba");
        assertThat(owner).isNotEqualTo(squatter);
        assertThat(exec(ws, "ps", "-o", "user=", "-p", owner)).as("the project's faba now").isEqualTo(OTHER);
        assertThat(ws.execInContainer("ps", "-p", squatter).getExitCode()).as("the other developer's faba, stopped").isNotZero();

        ExecResult refused = fabAs(ws, DEVELOPER, project);
        assertThat(refused.getExitCode()).as(() -> describe(refused) + diagnostics(ws)).isEqualTo(16);
    }

    // --- the workspace ---

    /**
     * The workspace container with its real entrypoint, once fabw --system listens;
     * with the developer and the example project in the developer's home, owned by the developer.
     */
    private static synchronized GenericContainer<?> workspace() throws Exception {
        if (workspace != null) {
            return workspace;
        }
        assertThat(DIST.resolve("bin/fab")).as("the fab distribution; run this test through 'mvn verify'").isExecutable();
        assertThat(DIST.resolve("bin/fabw")).as("fabw in the distribution: the workspace's entrypoint runs fabw --system").isExecutable();
        // Not --privileged: the build machines' engine cannot grant every capability (its own bounding set
        // lacks CAP_SYS_RESOURCE), so runc refuses to start any privileged container there. The runtime's
        // default set holds all the credential model uses (SETUID, SETGID, KILL, CHOWN, DAC_OVERRIDE) under
        // the default seccomp profile; the chart's privileged pod has a superset of both, so what passes
        // here passes there.
        GenericContainer<?> ws = started(new GenericContainer<>(IMAGE));
        // fab of a developer uses the credential model only when fabw --system answers on its socket in the
        // IPC root (/var/run/fab by default); before that it would run every daemon as the developer.
        await("fabw --system listening in " + IPC_ROOT).atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(ws.execInContainer("find", IPC_ROOT, "-maxdepth", "2", "-type", "s").getStdout())
                        .as(() -> "sockets in " + IPC_ROOT + diagnostics(ws)).isNotBlank());
        assertThat(processes(exec(ws, "ps", "-e", "-o", "pid=,user=,comm=,args="), 4))
                .as(() -> "fabw --system, as root, not PID 1 (that is tini)" + diagnostics(ws))
                .anyMatch(process -> !process[0].equals("1") && process[1].equals("root")
                        && (process[2].equals("fabw") || process[3].contains("Fabw") || process[3].contains("fabw"))
                        && process[3].contains("--system"));

        exec(ws, "useradd", "--create-home", "--user-group", "--shell", "/bin/bash", DEVELOPER);
        exec(ws, "useradd", "--create-home", "--user-group", "--shell", "/bin/bash", OTHER);
        copyExample(ws, HELLO);
        exec(ws, "chown", "-R", DEVELOPER + ":" + DEVELOPER, HELLO);
        workspace = ws;
        return ws;
    }

    /** The example's sources, without what a build in the repository may have left in it. */
    private static void copyExample(GenericContainer<?> ws, String target) throws IOException {
        try (Stream<Path> files = Files.walk(EXAMPLE)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path relative = EXAMPLE.relativize(file);
                boolean output = false;
                for (Path part : relative) {
                    output |= BUILD_OUTPUTS.contains(part.toString());
                }
                if (!output) {
                    int mode = Files.isExecutable(file) ? 0755 : 0644;
                    ws.copyFileToContainer(Transferable.of(Files.readAllBytes(file), mode), target + "/" + relative);
                }
            }
        }
    }

    /** {@code fab} as the developer in a project directory, bounded by {@link #FAB_LIMIT}. */
    private static ExecResult fab(GenericContainer<?> ws, String project) throws Exception {
        return finish(startFab(ws, project), ws, project);
    }

    /** {@code fab} as the developer in a project directory, running while the test goes on. */
    private static CompletableFuture<ExecResult> startFab(GenericContainer<?> ws, String project) {
        return CompletableFuture.supplyAsync(() -> unchecked(() -> ws.execInContainer(
                ExecConfig.builder().user(DEVELOPER).workDir(project).command(new String[] {"fab"}).build())), EXECS);
    }

    /** What a started {@code fab} ended with, waiting at most {@link #FAB_LIMIT}. */
    private static ExecResult finish(CompletableFuture<ExecResult> run, GenericContainer<?> ws, String project) throws Exception {
        try {
            return run.get(FAB_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException hung) {
            throw new AssertionError("fab in " + project + " did not end within " + FAB_LIMIT + diagnostics(ws), hung);
        } catch (ExecutionException e) {
            throw new AssertionError("fab in " + project + " could not run", e.getCause());
        }
    }

    /** {@code fab ARGS} as {@code user} in a project directory, bounded by {@link #FAB_LIMIT}. */
    private static ExecResult fabAs(GenericContainer<?> ws, String user, String project, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("fab"));
        command.addAll(List.of(args));
        return finish(CompletableFuture.supplyAsync(() -> unchecked(() -> ws.execInContainer(
                ExecConfig.builder().user(user).workDir(project).command(command.toArray(String[]::new)).build())), EXECS), ws, project);
    }

    /** A command as {@code user}, which must succeed. */
    private static ExecResult as(GenericContainer<?> ws, String user, String directory, String... command) throws Exception {
        ExecResult result = ws.execInContainer(ExecConfig.builder().user(user).workDir(directory).command(command).build());
        assertThat(result.getExitCode()).as(() -> user + ": " + String.join(" ", command) + "\n" + describe(result)).isZero();
        return result;
    }

    private static void assertSucceeds(GenericContainer<?> ws, ExecResult fab) {
        assertThat(fab.getExitCode()).as(() -> describe(fab) + diagnostics(ws)).isZero();
    }

    private static String readQuietly(GenericContainer<?> ws, String file) {
        try {
            return ws.execInContainer("cat", file).getStdout().strip();
        } catch (Exception e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static ExecResult asDeveloper(GenericContainer<?> ws, String directory, String... command) throws Exception {
        ExecResult result = ws.execInContainer(ExecConfig.builder().user(DEVELOPER).workDir(directory).command(command).build());
        assertThat(result.getExitCode()).as(() -> DEVELOPER + ": " + String.join(" ", command) + "\n" + describe(result)).isZero();
        return result;
    }

    /** A command as root; its stdout, stripped. */
    private static String exec(GenericContainer<?> container, String... command) throws Exception {
        ExecResult result = container.execInContainer(command);
        assertThat(result.getExitCode()).as(() -> String.join(" ", command) + "\n" + describe(result)).isZero();
        return result.getStdout().strip();
    }

    private static List<String> fabdPids(GenericContainer<?> ws) throws Exception {
        return processes(exec(ws, "ps", "-e", "-o", "pid=,user=,comm=,args="), 4).stream()
                .filter(WorkspaceContainerIT::isFabd).map(process -> process[0]).toList();
    }

    /**
     * Whether a row of {@code ps -o pid,user,comm,args} is a fabd: named so, or a JVM running fabd's main
     * class (the kernel names a JVM "java" unless the process renames itself). Not its fabw, whose
     * arguments say "--child fabd" but whose main class is Fabw.
     */
    private static boolean isFabd(String[] process) {
        return process.length == 4 && (process[2].equals("fabd") || List.of(process[3].split(" ")).contains(FABD_MAIN));
    }

    private static Set<String> users(GenericContainer<?> container) throws Exception {
        Set<String> names = new TreeSet<>();
        exec(container, "cut", "-d:", "-f1", "/etc/passwd").lines().forEach(names::add);
        return names;
    }

    /** The lines of {@code ps -o ...=} (no header) split into {@code columns} fields; the last keeps its blanks (args). */
    private static List<String[]> processes(String ps, int columns) {
        return ps.strip().lines().map(line -> line.strip().split("\\s+", columns)).toList();
    }

    /** What a failing assertion should show: the processes and the entrypoint's output. */
    private static String diagnostics(GenericContainer<?> ws) {
        try {
            return "\n--- processes:\n" + ws.execInContainer("ps", "-e", "-o", "pid,ppid,user,ruser,group,comm,args").getStdout()
                    + "--- container output (fabw --system):\n" + ws.getLogs();
        } catch (Exception e) {
            return "\n(no diagnostics: " + e + ")";
        }
    }

    private static String describe(ExecResult result) {
        return "exit " + result.getExitCode() + "\n--- stdout:\n" + result.getStdout() + "--- stderr:\n" + result.getStderr();
    }

    private static GenericContainer<?> started(GenericContainer<?> container) {
        CONTAINERS.add(container);
        container.start();
        return container;
    }

    // withDockerfilePath is deprecated in favour of withDockerfile(Path), which also pre-pulls what the FROM line
    // names: "${BASE_IMAGE}", which no registry has (see RegistryImageIT). The path inside the context is right here.
    @SuppressWarnings("deprecation")
    private static ImageFromDockerfile image() {
        // Only what the Dockerfile needs, at its paths under the repository root: a small context.
        ImageFromDockerfile image = new ImageFromDockerfile(IMAGE_NAME, false)
                .withFileFromPath(DOCKERFILE, REPOSITORY.resolve(DOCKERFILE))
                .withDockerfilePath(DOCKERFILE)
                .withBuildArg("BASE_IMAGE", BaseImage.name());
        if (Files.isDirectory(DIST)) {
            try (Stream<Path> files = Files.walk(DIST)) {
                files.filter(Files::isRegularFile).forEach(file ->
                        image.withFileFromPath(DIST_IN_CONTEXT + "/" + DIST.relativize(file), file));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + DIST, e);
            }
        }
        return image;
    }

    private interface Action<T> {
        T run() throws Exception;
    }

    private static <T> T unchecked(Action<T> action) {
        try {
            return action.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
