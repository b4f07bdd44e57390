package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.MemberJvm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The commands the SSH launcher runs on a host, as POSIX shell text. Each runs under {@code sh -c}
 * whatever the account's login shell. Nothing secret is ever part of a command: the one-time
 * password reaches the member on the channel's standard input ({@link #start}).
 */
final class RemoteCommands {

    /** On the member's command line (not secret), so a pid can be checked to be this member and not a reused pid. */
    static final String ID_PROPERTY = "-Dfabric.member.id=";
    /** The first line the start command prints on the channel: {@code started <pid> <port> <absolute fabric directory>}. */
    static final String STARTED = "started";

    private RemoteCommands() {}

    /** {@code text} as one single-quoted shell word. */
    static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** A script run as {@code sh -c <script>}, so the account's login shell only has to start {@code sh}. */
    static String sh(String script) {
        return "sh -c " + quote(script);
    }

    /** The directory of a member on the host, relative to the fabric directory. */
    static String memberDir(String directory, String serviceId) {
        return directory + "/members/" + serviceId;
    }

    /**
     * Starts one incarnation: creates the member's directory (0700), appends a header to its
     * {@code member.log}, chooses its management port ({@link #freePort}), reads the one-time password
     * as the first line of standard input into the shell's environment (so it is on no command line
     * and in no file), writes {@code member.pid}, prints {@link #STARTED}, and {@code exec}s the JVM
     * with its output appended to the log. The JVM replaces the shell, so the channel's exit status or
     * signal is the member's.
     *
     * @param firstTried the port of {@code member-ports} tried first (the launcher draws it at random)
     */
    static String start(LaunchSpec spec, SshLauncherProperties.Host host, String hostName, String java, String jarName, int firstTried) {
        String dir = memberDir(host.directory(), spec.serviceId());
        int[] range = host.portRange();
        Map<String, String> environment = new LinkedHashMap<>(spec.environment());
        // A path on the spawner's node: the member runs the staged jar, self-contained, and stages that one.
        environment.remove(SshLauncher.INHERITED_DISTRIBUTION);
        environment.put("FABRIC_ADVERTISED_HOST", host.reachableAddress());
        environment.put("SPRING_PROFILES_ACTIVE", MemberEnvironment.MEMBER_PROFILE);
        List<String> command = new ArrayList<>();
        command.add(quote(java));
        command.add(quote(ID_PROPERTY + spec.serviceId()));
        command.add(quote("-Dfabric.member.incarnation=" + spec.incarnation()));
        // The process launcher's options (MemberJvm); a host's jvm-options come after them and win.
        MemberJvm.options(spec.resources()).forEach(option -> command.add(quote(option)));
        command.add(quote("-Dserver.address=" + host.bindAddress()));
        host.jvmOptions().forEach(option -> command.add(quote(option)));
        command.add("-jar");
        command.add("\"$base\"/dist/" + quote(jarName));
        StringBuilder script = new StringBuilder();
        script.append("set -e\n");
        script.append("umask 077\n");
        script.append("mkdir -p ").append(quote(dir + "/data")).append('\n');
        script.append("base=$(cd ").append(quote(host.directory())).append(" && pwd)\n");
        script.append("cd \"$base\"/members/").append(quote(spec.serviceId())).append('\n');
        script.append("printf '=== %s incarnation %s of %s (role %s) on host %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" ")
                .append(spec.incarnation()).append(' ').append(quote(spec.serviceId())).append(' ').append(quote(spec.role()))
                .append(' ').append(quote(hostName)).append(" >> member.log\n");
        script.append(freePort(range[0], range[1], firstTried));
        script.append("export ").append(MemberEnvironment.MANAGEMENT_PORT).append("=$port\n");
        // The password arrives on standard input: read into the shell's environment, never an argument.
        script.append("IFS= read -r ").append(MemberEnvironment.OTP).append('\n');
        script.append("export ").append(MemberEnvironment.OTP).append('\n');
        environment.forEach((name, value) -> script.append("export ").append(name).append('=').append(quote(value)).append('\n'));
        script.append("export ").append(MemberEnvironment.DATA_DIR).append("=\"$base\"/members/").append(quote(spec.serviceId()))
                .append("/data\n");
        script.append("echo $$ > member.pid\n");
        script.append("echo ").append(STARTED).append(" $$ $port \"$base\"\n");
        script.append("exec ").append(String.join(" ", command)).append(" < /dev/null >> member.log 2>&1\n");
        return sh(script.toString());
    }

    /**
     * Sets {@code port} to the first port of {@code first-last}, from {@code firstTried} on (wrapping
     * around), that no socket on the host listens on, as Linux's {@code /proc/net/tcp} and
     * {@code tcp6} show them (a host without them: the port tried first). A member whose port is
     * taken exits with status 1 at its start: a stale incarnation of itself that still runs (it exits
     * on its first heartbeat the registry refuses) or another member on the host must not make a
     * launch fail. Exits 1 with a message when every port of the range is taken.
     */
    static String freePort(int first, int last, int firstTried) {
        int size = last - first + 1;
        int offset = Math.floorMod(firstTried - first, size);
        return "port=\n"
                + "i=0\n"
                + "while [ $i -lt " + size + " ]; do\n"
                + "  p=$((" + first + " + (" + offset + " + i) % " + size + "))\n"
                + "  if ! grep -qi \":$(printf %04X $p) [0-9A-F]*:[0-9A-F]* 0A \" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then port=$p; break; fi\n"
                + "  i=$((i + 1))\n"
                + "done\n"
                + "if [ -z \"$port\" ]; then echo \"every port of member-ports " + first + "-" + last
                + " is taken on this host\"; exit 1; fi\n";
    }

    /** What {@link #probe} and {@link #stopAndConfirm} print when the pid runs the member. */
    static final String RUNS = "member-runs";
    /** What they print when it does not (it ended, or the pid runs something else now). */
    static final String GONE = "member-gone";

    /**
     * Prints {@link #RUNS} when {@code pid} is alive and runs this member (its command line carries the
     * member's id, so a pid reused by something else, or a zombie, is not taken for it), {@link #GONE}
     * when it does not. Anything else (no output, an exit status other than 0: a session that broke off,
     * a shell that failed) answers nothing: the member may well run ({@link Liveness#UNKNOWN}).
     */
    static String probe(long pid, String serviceId) {
        return sh(runs(pid, serviceId) + answer());
    }

    /**
     * Makes sure {@code pid} no longer runs this member: {@code kill -TERM}, up to {@code termSeconds}
     * for it to end, then {@code kill -KILL} and up to {@code killSeconds}; prints {@link #RUNS} or
     * {@link #GONE} as {@link #probe} does, once, at the end. One command, so a slow host costs one
     * round trip.
     */
    static String stopAndConfirm(long pid, String serviceId, long termSeconds, long killSeconds) {
        return sh(runs(pid, serviceId)
                + "if runs; then kill -TERM " + pid + " 2>/dev/null; i=0; while runs && [ $i -lt " + termSeconds
                + " ]; do sleep 1; i=$((i + 1)); done; fi\n"
                + "if runs; then kill -KILL " + pid + " 2>/dev/null; i=0; while runs && [ $i -lt " + killSeconds
                + " ]; do sleep 1; i=$((i + 1)); done; fi\n"
                + answer());
    }

    /**
     * A shell function {@code runs}: whether {@code pid} is alive and runs this member. The member's
     * {@link #ID_PROPERTY} is put together in the shell and matched by {@code case}, so that no command
     * line of the check (its shell's, a {@code grep}'s) carries it: whoever looks for the processes of a
     * member by it finds the member's JVM, never a check of it that happens to be running.
     */
    private static String runs(long pid, String serviceId) {
        return "runs() { kill -0 " + pid + " 2>/dev/null || return 1; m=" + quote(ID_PROPERTY.substring(0, ID_PROPERTY.indexOf(".id=")))
                + "; id=" + quote(".id=" + serviceId + " ") + "; case \"$({ tr '\\000' ' ' < /proc/" + pid
                + "/cmdline; } 2>/dev/null)\" in *\"$m$id\"*) return 0 ;; esac; return 1; }\n";
    }

    private static String answer() {
        return "if runs; then echo " + RUNS + "; else echo " + GONE + "; fi\n";
    }

    /** Sends {@code signal} (TERM, KILL) to the member, only if {@code pid} still runs it; exit 0 either way. */
    static String signal(long pid, String serviceId, String signal) {
        return sh(runs(pid, serviceId) + "if runs; then kill -" + signal + " " + pid + "; fi; exit 0\n");
    }

    /** Prints the SHA-256 of {@code file} (exit 1 and nothing when the file is absent). */
    static String sha256(String file) {
        return sh("sum=$(sha256sum " + quote(file) + " 2>/dev/null) && echo \"${sum%% *}\"");
    }

    /** Creates the directory the distribution is staged in. */
    static String makeDirectory(String dir) {
        return sh("mkdir -p " + quote(dir));
    }

    /** Moves a checked copy into place (a rename: a member never starts from a half-written file). */
    static String rename(String from, String to) {
        return sh("mv -f " + quote(from) + " " + quote(to));
    }

    /**
     * Unpacks a checked runtime tar into {@code home}: into a temporary directory first, renamed into
     * place, so a half-unpacked runtime is never found there; the tar is removed.
     */
    static String unpack(String tar, String home) {
        return sh("set -e; rm -rf " + quote(home + ".tmp") + "; mkdir -p " + quote(home + ".tmp") + "; tar -xf " + quote(tar)
                + " -C " + quote(home + ".tmp") + "; rm -rf " + quote(home) + "; mv " + quote(home + ".tmp") + " " + quote(home)
                + "; rm -f " + quote(tar));
    }

    /** Removes a copy that failed its check. */
    static String remove(String file) {
        return sh("rm -f " + quote(file));
    }

    /** {@code java -version}, its output (on standard error) merged into standard output. */
    static String javaVersion(String java) {
        return sh(quote(java) + " -version 2>&1");
    }

    /**
     * The feature release of a {@code java -version} output ({@code openjdk version "25.0.1"} is 25;
     * {@code "1.8.0_402"} is 8), or -1 when it shows none.
     */
    static int javaFeature(String versionOutput) {
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("version \"(1\\.)?([0-9]+)").matcher(versionOutput);
        return matcher.find() ? Integer.parseInt(matcher.group(2)) : -1;
    }

    /** OpenSSH names a signal without its {@code SIG} prefix; the number as Linux has it. */
    static int signalNumber(String name) {
        return switch (name.startsWith("SIG") ? name.substring(3) : name) {
            case "HUP" -> 1;
            case "INT" -> 2;
            case "QUIT" -> 3;
            case "ILL" -> 4;
            case "ABRT" -> 6;
            case "FPE" -> 8;
            case "KILL" -> 9;
            case "USR1" -> 10;
            case "SEGV" -> 11;
            case "USR2" -> 12;
            case "PIPE" -> 13;
            case "ALRM" -> 14;
            case "TERM" -> 15;
            default -> -1;
        };
    }
}
