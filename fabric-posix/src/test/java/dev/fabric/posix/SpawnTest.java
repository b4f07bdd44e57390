package dev.fabric.posix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real processes through posix_spawn: what they get, what they give back, and why one cannot start. */
class SpawnTest {

    private static final int SIGKILL = 9;

    @TempDir
    Path dir;

    private Spawn spawn(String... arguments) {
        return Spawn.of(Path.of(arguments[0]), List.of(arguments)).stdin(Path.of("/dev/null"))
                .stdout(dir.resolve("out")).stderr(dir.resolve("err"));
    }

    @Test
    void theChildGetsItsArgumentsEnvironmentDirectoryAndFilesAndGivesItsExitStatus() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Child child = spawn("/bin/sh", "-c", "echo \"$1|$GREETING|$(pwd)\"; env | wc -l; echo oops >&2; exit 3", "sh", "one arg")
                .environment(Map.of("GREETING", "hello world")).directory(work).start();

        assertThat(child.exitStatus().get(30, TimeUnit.SECONDS)).isEqualTo(3);
        // sh adds PWD, SHLVL and _ of its own; nothing of the JVM's environment comes through.
        assertThat(Files.readAllLines(dir.resolve("out")).getFirst()).isEqualTo("one arg|hello world|" + work.toRealPath());
        assertThat(Integer.parseInt(Files.readAllLines(dir.resolve("out")).get(1).strip())).isLessThan(6);
        assertThat(dir.resolve("err")).hasContent("oops");
        assertThat(child.signal(0)).as("a reaped child is not signalled").isFalse();
    }

    @Test
    void everyArgumentAndVariableArrivesWholeEmptyAndNonAsciiOnesToo() throws Exception {
        Map<String, String> environment = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            environment.put("V" + i, "value " + i);
        }
        environment.put("EMPTY", "");
        environment.put("SIZE", "größe ✓");
        Child child = spawn("/bin/sh", "-c", "printf '%s|%s|%s|%s|%s\\n' \"$1\" \"$2\" \"$3\" \"$V0\" \"$V49\"; env", "sh", "", "ä b", "last")
                .environment(environment).start();

        assertThat(child.exitStatus().get(30, TimeUnit.SECONDS)).isZero();
        List<String> out = Files.readAllLines(dir.resolve("out"));
        assertThat(out.getFirst()).isEqualTo("|ä b|last|value 0|value 49");
        assertThat(out).contains("EMPTY=", "SIZE=größe ✓", "V25=value 25");
    }

    @Test
    void anEncodedEnvironmentWithAChildsOwnVariablesArrivesWithTheOwnOnesWinning() throws Exception {
        Environment base = Environment.of(Map.of("SHARED", "from the base", "OVERRIDDEN", "base"));
        Child child = spawn("/bin/sh", "-c", "echo \"$SHARED|$OVERRIDDEN|$OWN\"; env | grep -c OVERRIDDEN=")
                .environment(base.with(Map.of("OVERRIDDEN", "own", "OWN", "t-1"))).start();

        assertThat(child.exitStatus().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readAllLines(dir.resolve("out"))).containsExactly("from the base|own|t-1", "1");
    }

    @Test
    void theChildHasNoDescriptorOfTheJvmAnEmptySignalMaskAndNoIgnoredSignal() throws Exception {
        // grep reads its own status, exec'd in the shell's place: it has the mask and dispositions the
        // shell was given. (Read from outside, the shell's mask is all blocked for the moment dash
        // waits for a child between blocking signals and sigsuspend: a race, not the spawn's doing.)
        Child child = spawn("/bin/sh", "-c", "ls /proc/$$/fd; exec grep -E '^Sig(Blk|Ign)' /proc/self/status").start();

        assertThat(child.exitStatus().get(30, TimeUnit.SECONDS)).isZero();
        List<String> lines = Files.readAllLines(dir.resolve("out"));
        assertThat(lines).startsWith("0", "1", "2").doesNotContain("3", "4", "5");
        assertThat(lines).contains("SigBlk:\t0000000000000000");
        // Signals 1 to 31 at their defaults; glibc itself ignores its two internal ones (32, 33) in a spawned child.
        String ignored = lines.stream().filter(line -> line.startsWith("SigIgn:")).findFirst().orElseThrow().substring(8);
        assertThat(Long.parseLong(ignored, 16) & 0x7fffffffL).as("SigIgn %s", ignored).isZero();
    }

    @Test
    void aNewSessionLeadsItsOwnGroupAndASignalToTheGroupEndsIt() throws Exception {
        Child child = spawn("/bin/sh", "-c", "sleep 300 & echo $! > sleeper; wait").directory(dir).newSession(true).start();
        while (!Files.exists(dir.resolve("sleeper")) || Files.size(dir.resolve("sleeper")) == 0) {
            Thread.sleep(10);
        }
        long sleeper = Long.parseLong(Files.readString(dir.resolve("sleeper")).strip());

        String[] stat = Files.readString(Path.of("/proc/" + child.pid() + "/stat")).replaceFirst(".*\\) ", "").split(" ");
        assertThat(Long.parseLong(stat[2])).as("process group").isEqualTo(child.pid());
        assertThat(Long.parseLong(stat[3])).as("session").isEqualTo(child.pid());
        assertThat(child.signalGroup(SIGKILL)).isTrue();

        assertThat(child.exitStatus().get(30, TimeUnit.SECONDS)).isEqualTo(128 + SIGKILL);
        // The sleeper was in the group; init reaps it once killed.
        ProcessHandle.of(sleeper).ifPresent(process -> process.onExit().join());
        assertThat(ProcessHandle.of(sleeper).filter(ProcessHandle::isAlive)).isEmpty();
    }

    @Test
    void theHandleIsTheChildsWhileItRunsAndNoneIsTakenOnceItIsReaped() throws Exception {
        Child running = spawn("/bin/sh", "-c", "exec sleep 300").start();
        ProcessHandle handle = running.handle().orElseThrow();
        assertThat(handle.pid()).isEqualTo(running.pid());
        assertThat(running.handle()).as("taken once").containsSame(handle);
        assertThat(running.signal(SIGKILL)).isTrue();
        assertThat(running.exitStatus().get(30, TimeUnit.SECONDS)).isEqualTo(128 + SIGKILL);
        assertThat(running.handle()).as("the one taken before").containsSame(handle);

        Child quick = spawn("/bin/true").start();
        assertThat(quick.exitStatus().get(30, TimeUnit.SECONDS)).isZero();
        // Its pid may be another process's by now: no handle is taken for it.
        assertThat(quick.handle()).isEmpty();
    }

    @Test
    void aProgramThatIsNotThereCannotBeStarted() {
        assertThatThrownBy(() -> spawn("/no/such/program").start())
                .isInstanceOf(PosixException.class)
                .hasMessage("posix_spawn of /no/such/program failed: ENOENT (No such file or directory)");
    }

    @Test
    void aFileThatIsNotExecutableCannotBeStarted() throws Exception {
        Path plain = Files.writeString(dir.resolve("plain"), "echo not a program\n");

        assertThatThrownBy(() -> spawn(plain.toString()).start())
                .isInstanceOf(PosixException.class)
                .hasMessage("posix_spawn of " + plain + " failed: EACCES (Permission denied)");
    }

    @Test
    void aWorkingDirectoryThatIsNotThereOrNotADirectoryIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "");

        assertThatThrownBy(() -> spawn("/bin/true").directory(dir.resolve("missing")).start())
                .isInstanceOf(PosixException.class)
                .hasMessage("chdir to " + dir.resolve("missing") + " for /bin/true failed: ENOENT (No such file or directory)");
        assertThatThrownBy(() -> spawn("/bin/true").directory(file).start())
                .isInstanceOf(PosixException.class)
                .hasMessage("chdir to " + file + " for /bin/true failed: ENOTDIR (Not a directory)");
    }

    @Test
    void aWaitStatusReadsAsAShellReportsIt() {
        assertThat(Child.exitStatus(3 << 8)).isEqualTo(3);
        assertThat(Child.exitStatus(SIGKILL)).isEqualTo(137);
        assertThat(Child.exitStatus(15 | 0x80)).as("core dumped").isEqualTo(143);
    }
}
