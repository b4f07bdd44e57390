package dev.fabric.spawner.launch;

import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.core.registry.ServiceInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Starts members as local child processes of the same jar (the embedded default). Each member
 * has a directory {@code <members>/<id>/} with its {@code member.log} (every incarnation's output,
 * appended) and {@code data/} (its role's state, kept across restarts).
 *
 * <p>Children outlive the spawner (their output goes to a file, not a pipe), so a spawner that
 * crashes and comes back finds them by pid and adopts them.
 */
public final class ProcessLauncher implements Launcher {

    private static final Logger log = LoggerFactory.getLogger(ProcessLauncher.class);
    /** On the command line (not secret), so an adopted pid can be checked to be this member and not a reused pid. */
    static final String ID_PROPERTY = "-Dfabric.member.id=";

    private final Path membersDir;
    private final String java;
    private final String jar;
    private final List<String> jvmOptions;

    public ProcessLauncher(Path membersDir, String java, String jar, List<String> jvmOptions) {
        this.membersDir = membersDir;
        this.java = java;
        this.jar = jar;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public boolean startsOnThisNode(String host) {
        return true;
    }

    /** The member's directory: its log and data. */
    public Path memberDir(String serviceId) {
        return membersDir.resolve(serviceId);
    }

    @Override
    public LaunchedMember launch(LaunchSpec spec) {
        return launch(spec, memberDir(spec.serviceId()));
    }

    /**
     * In the directory the previous incarnation ran in, when it is still there: a member adopted
     * from another node (a member that spawned it and is gone) keeps its data where its parent put it.
     */
    @Override
    public LaunchedMember relaunch(LaunchSpec spec, ServiceInstance previous) {
        Path previousDir = recordedDir(previous);
        boolean usable = previousDir != null && Files.isDirectory(previousDir.resolve("data"));
        return launch(spec, usable ? previousDir : memberDir(spec.serviceId()));
    }

    /**
     * The member directory the registry records for {@code instance} (its {@code log}'s directory),
     * only when it is an absolute path to a directory named for that member; else null.
     */
    private static Path recordedDir(ServiceInstance instance) {
        String logFile = instance.metadata() == null ? null : instance.metadata().get("log");
        Path dir = logFile == null ? null : Path.of(logFile).getParent();
        return dir != null && dir.isAbsolute() && dir.getFileName().toString().equals(instance.id()) ? dir : null;
    }

    /**
     * From the member's {@code member.log} in its directory (the one a member adopted from another
     * node runs in, under the same rules as {@link #relaunch}: never a path the registry names that
     * is not a member directory of that id).
     */
    @Override
    public Optional<MemberLog> logTail(ServiceInstance instance, int maxBytes) {
        Path recordedDir = recordedDir(instance);
        Path file = (recordedDir != null ? recordedDir : memberDir(instance.id())).resolve("member.log");
        try (SeekableByteChannel channel = Files.newByteChannel(file)) {
            long size = channel.size();
            long from = Math.max(0, size - maxBytes);
            ByteBuffer end = ByteBuffer.allocate((int) (size - from));
            channel.position(from);
            while (end.hasRemaining() && channel.read(end) > 0) {
                // until the end as it was when asked
            }
            return Optional.of(MemberLog.tail(instance.id(), file.toString(), size, Arrays.copyOf(end.array(), end.position()), maxBytes));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new LaunchException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private LaunchedMember launch(LaunchSpec spec, Path dir) {
        Path data = dir.resolve("data");
        Path logFile = dir.resolve("member.log");
        int port;
        try {
            Files.createDirectories(dir.getParent());
            createPrivateDirectory(dir);
            createPrivateDirectory(data);
            Files.writeString(logFile, "=== " + Instant.now() + " incarnation " + spec.incarnation() + " of " + spec.serviceId()
                            + " (role " + spec.role() + ")" + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            port = freePort();
        } catch (IOException e) {
            throw new LaunchException("cannot prepare the directory " + dir + " of member " + spec.serviceId() + ": " + e.getMessage(), e);
        }
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add(ID_PROPERTY + spec.serviceId());
        command.add("-Dfabric.member.incarnation=" + spec.incarnation());
        command.addAll(MemberJvm.options(spec.resources()));
        // A process member is reached on loopback only: it is advertised as 127.0.0.1 and listens there alone.
        command.add("-Dserver.address=127.0.0.1");
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> env = builder.environment();
        // The spawner's own settings must not leak into the member (its keys path, its port).
        env.keySet().removeIf(name -> name.startsWith("FABRIC_") || name.startsWith("SPRING_") || name.startsWith("SERVER_"));
        env.putAll(spec.environment());
        env.put(MemberEnvironment.MANAGEMENT_PORT, Integer.toString(port));
        env.put(MemberEnvironment.DATA_DIR, data.toString());
        env.put("SPRING_PROFILES_ACTIVE", MemberEnvironment.MEMBER_PROFILE);
        // The environment of a process is readable only by its own user (and root): /proc/<pid>/environ is 0400.
        env.put(MemberEnvironment.OTP, spec.otp().reveal());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new LaunchException("cannot start " + java + " for member " + spec.serviceId() + ": " + e.getMessage(), e);
        }
        log.info("member {} incarnation {}: started pid {} on port {}, output in {}", spec.serviceId(), spec.incarnation(),
                process.pid(), port, logFile);
        CompletableFuture<LaunchOutcome> outcome = process.onExit().thenApply(p -> outcomeOf(p.exitValue()));
        return new ProcessMember(spec.serviceId(), spec.incarnation(), process.toHandle(), port, logFile, outcome);
    }

    @Override
    public Optional<LaunchedMember> adopt(ServiceInstance instance) {
        String pid = instance.metadata() == null ? null : instance.metadata().get("pid");
        if (pid == null || !pid.matches("[0-9]{1,10}")) {
            return Optional.empty();
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive);
        if (handle.isEmpty()) {
            return Optional.empty();
        }
        // A pid can be reused after the member died: adopt only a process that runs this member.
        String commandLine = handle.get().info().commandLine().orElseGet(() -> procCommandLine(handle.get().pid()));
        if (!commandLine.contains(ID_PROPERTY + instance.id() + " ")) {
            log.warn("member {}: pid {} runs something else now; not adopting it", instance.id(), pid);
            return Optional.empty();
        }
        int port = portOf(instance).orElse(-1);
        CompletableFuture<LaunchOutcome> outcome = handle.get().onExit().thenApply(p -> new LaunchOutcome.Vanished());
        log.info("member {} incarnation {}: adopted pid {}", instance.id(), instance.incarnation(), pid);
        String logFile = instance.metadata().get("log");
        return Optional.of(new ProcessMember(instance.id(), instance.incarnation(), handle.get(), port,
                logFile != null ? Path.of(logFile) : memberDir(instance.id()).resolve("member.log"), outcome));
    }

    /**
     * The command line Linux shows for {@code pid}, arguments separated by spaces, when the JDK gives
     * none: a process of this member must not be taken for something else (and started a second time)
     * for want of it. Empty where there is no {@code /proc}.
     */
    private static String procCommandLine(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    private static Optional<Integer> portOf(ServiceInstance instance) {
        String url = instance.endpoints() == null ? null : instance.endpoints().get("management");
        if (url == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(URI.create(url).getPort()).filter(p -> p > 0);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The JVM reports a child killed by signal N as exit status 128 + N. */
    static LaunchOutcome outcomeOf(int status) {
        if (status > 128 && status <= 128 + 64) {
            return new LaunchOutcome.Killed(status - 128, null);
        }
        return new LaunchOutcome.Exited(status);
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private record ProcessMember(String serviceId, long incarnation, ProcessHandle handle, int port, Path logFile,
                                 CompletableFuture<LaunchOutcome> outcome) implements LaunchedMember {

        @Override
        public Map<String, String> metadata() {
            Map<String, String> metadata = new java.util.LinkedHashMap<>();
            metadata.put("launcher", "process");
            metadata.put("pid", Long.toString(handle.pid()));
            metadata.put("log", logFile.toString());
            return metadata;
        }

        @Override
        public Optional<URI> managementUrl() {
            return port > 0 ? Optional.of(URI.create("http://127.0.0.1:" + port)) : Optional.empty();
        }

        @Override
        public void stop(Duration grace) {
            if (!handle.isAlive()) {
                return;
            }
            handle.destroy();
            try {
                handle.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                log.warn("member {} (pid {}) did not stop within {}; killing it", serviceId, handle.pid(), grace);
                handle.destroyForcibly();
                handle.onExit().join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                handle.destroyForcibly();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new UncheckedIOException(new IOException("waiting for member " + serviceId + " to stop", e.getCause()));
            }
        }
    }
}
