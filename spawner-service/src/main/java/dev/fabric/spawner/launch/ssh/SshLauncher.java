package dev.fabric.spawner.launch.ssh;

import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import dev.fabric.spawner.launch.MemberLog;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.sftp.client.SftpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Starts members on configured hosts over SSH (Apache MINA SSHD's client): stages the member
 * distribution and checks the host's Java ({@link Staging}), then runs the member's JVM with
 * {@link RemoteCommands#start}, the one-time password on the channel's standard input. The member
 * writes its output to {@code <directory>/members/<id>/member.log} on its host ({@link #logTail}
 * reads it back over SFTP) and outlives the SSH session, so a restarted spawner adopts it by the pid
 * its registration records.
 */
public final class SshLauncher implements Launcher, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SshLauncher.class);

    /**
     * Where a member finds the SSH launcher's settings it inherits: Spring Boot's JSON property source,
     * the one environment variable whose keys keep host names as written ({@code compute-1}).
     */
    static final String INHERITED = "SPRING_APPLICATION_JSON";
    /**
     * Where a member started on this node finds the distribution its spawner stages
     * ({@code fabric.spawner.ssh.distribution}); apart from {@value #INHERITED}, so that a member
     * started on a host can be given the rest without it.
     */
    static final String INHERITED_DISTRIBUTION = "FABRIC_SPAWNER_SSH_DISTRIBUTION";

    private final SshLauncherProperties settings;
    private final Map<String, RemoteHost> hosts;
    /** The Java runtime staged on hosts with stage-java and no Java 25. */
    private final Path javaRuntime;
    private final Supplier<Path> distribution;
    private Staging staging;
    private final Duration connectTimeout;
    private final Duration livenessInterval;
    private final SecureRandom random = new SecureRandom();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * @param settings the hosts and timeouts
     * @param distribution the member distribution to stage (the jar this spawner runs from, or the configured
     *                     one), found and checksummed at the first launch on a host
     */
    public SshLauncher(SshLauncherProperties settings, Supplier<Path> distribution) {
        Map<String, RemoteHost> byName = new LinkedHashMap<>();
        settings.hosts().forEach((name, host) -> byName.put(name,
                new RemoteHost(name, host, settings.connectTimeout(), settings.commandTimeout())));
        this.hosts = Map.copyOf(byName);
        this.settings = settings;
        this.javaRuntime = Path.of(settings.javaRuntime().isBlank() ? System.getProperty("java.home") : settings.javaRuntime());
        this.distribution = distribution;
        this.connectTimeout = settings.connectTimeout();
        this.livenessInterval = settings.livenessInterval();
    }

    @Override
    public String name() {
        return "ssh";
    }

    @Override
    public Set<String> hosts() {
        return hosts.keySet();
    }

    /**
     * The hosts and timeouts, as {@code fabric.spawner.ssh.*} properties in {@value #INHERITED}: a
     * member started by this node places members on the same hosts, reached by the same names from
     * its own host. The identity and known-hosts files are passed by path, never by content: they
     * must be on the member's host too (docs/spawner.md, "Members place on SSH hosts"). A configured
     * distribution goes in {@value #INHERITED_DISTRIBUTION}, for the members started on this node:
     * they run the jar this node runs, which may be an extracted one that cannot be staged
     * ({@link Staging#selfContained}). A member started on a host never gets it
     * ({@link RemoteCommands#start}): it runs the staged jar, and stages that one in turn.
     */
    @Override
    public Map<String, String> inheritedEnvironment() {
        if (hosts.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> properties = new LinkedHashMap<>();
        String prefix = "fabric.spawner.ssh.";
        properties.put(prefix + "connect-timeout", settings.connectTimeout().toString());
        properties.put(prefix + "command-timeout", settings.commandTimeout().toString());
        properties.put(prefix + "liveness-interval", settings.livenessInterval().toString());
        settings.hosts().forEach((name, host) -> {
            String key = prefix + "hosts." + name + ".";
            properties.put(key + "address", host.address());
            properties.put(key + "port", host.port());
            properties.put(key + "user", host.user());
            properties.put(key + "identity", host.identity().toString());
            properties.put(key + "known-hosts", host.knownHosts().toString());
            properties.put(key + "host-key-policy", host.hostKeyPolicy().name());
            properties.put(key + "java", host.java());
            properties.put(key + "directory", host.directory());
            properties.put(key + "member-address", host.memberAddress());
            properties.put(key + "listen-address", host.listenAddress());
            properties.put(key + "member-ports", host.memberPorts());
            properties.put(key + "jvm-options", host.jvmOptions());
            properties.put(key + "stage-java", host.stageJava());
        });
        if (settings.distribution().isBlank()) {
            return Map.of(INHERITED, JSON.writeValueAsString(properties));
        }
        return Map.of(INHERITED, JSON.writeValueAsString(properties),
                INHERITED_DISTRIBUTION, Path.of(settings.distribution()).toAbsolutePath().toString());
    }

    @Override
    public LaunchedMember launch(LaunchSpec spec) {
        RemoteHost host = host(spec.host());
        Staging staging = staging();
        ClientSession session = host.connect();
        try {
            String java = staging.stage(host, session);
            int[] range = host.settings.portRange();
            int firstTried = range[0] + random.nextInt(range[1] - range[0] + 1);
            ChannelExec channel = session.createExecChannel(RemoteCommands.start(spec, host.settings, host.name, java, staging.jarName(),
                    firstTried));
            channel.setRedirectErrorStream(true);
            channel.open().verify(connectTimeout);
            // The password goes on standard input: the start command reads it into the member's environment.
            OutputStream stdin = channel.getInvertedIn();
            stdin.write((spec.otp().reveal() + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            stdin.close();
            BufferedReader out = new BufferedReader(new InputStreamReader(channel.getInvertedOut(), StandardCharsets.UTF_8));
            String first = out.readLine();
            if (first == null || !first.startsWith(RemoteCommands.STARTED + " ")) {
                StringBuilder rest = new StringBuilder(first == null ? "" : first);
                for (String line; (line = out.readLine()) != null && rest.length() < 2000; ) {
                    rest.append(' ').append(line);
                }
                channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), connectTimeout);
                throw new LaunchException("host " + host.name + ": the member's start command failed (exit status "
                        + channel.getExitStatus() + "): " + rest.toString().trim());
            }
            String[] started = first.split(" ", 4);
            long pid = Long.parseLong(started[1]);
            int port = Integer.parseInt(started[2]);
            String logFile = started[3] + "/members/" + spec.serviceId() + "/member.log";
            URI managementUrl = URI.create("http://" + host.settings.reachableAddress() + ":" + port);
            log.info("member {} incarnation {}: started pid {} on host {} ({}), port {}, output in {}", spec.serviceId(),
                    spec.incarnation(), pid, host.name, host.target(), port, logFile);
            return new SshMember(spec.serviceId(), spec.incarnation(), host, pid, logFile, managementUrl, livenessInterval)
                    .watch(session, channel);
        } catch (IOException | RuntimeException e) {
            RemoteHost.closeQuietly(session);
            if (e instanceof LaunchException launch) {
                throw launch;
            }
            throw new LaunchException("host " + host.name + ": starting member " + spec.serviceId() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Finds the member on the host its registration names, by pid, unless the host answers that the
     * pid no longer runs this member. A host that cannot be reached now, or a check that gives no
     * answer ({@link Liveness#UNKNOWN}), is not taken as the member's death: it is adopted and watched,
     * and the registry's heartbeats decide whether it is dead.
     */
    @Override
    public Optional<LaunchedMember> adopt(ServiceInstance instance) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        String pid = metadata.get("pid");
        RemoteHost host = hosts.get(metadata.get("host"));
        if (host == null || pid == null || !pid.matches("[0-9]{1,10}")) {
            log.warn("member {}: recorded on host {} which is not configured here (or without a pid); not adopting it",
                    instance.id(), metadata.get("host"));
            return Optional.empty();
        }
        URI managementUrl = Optional.ofNullable(instance.endpoints()).map(e -> e.get("management")).map(URI::create).orElse(null);
        SshMember member = new SshMember(instance.id(), instance.incarnation(), host, Long.parseLong(pid), metadata.get("log"),
                managementUrl, livenessInterval);
        Liveness.Answer answer = Liveness.probe(host, Long.parseLong(pid), instance.id());
        switch (answer.liveness()) {
            case GONE -> {
                log.info("member {} incarnation {}: pid {} on host {} no longer runs it", instance.id(), instance.incarnation(), pid,
                        host.name);
                return Optional.empty();
            }
            case UNKNOWN -> log.warn("member {}: cannot check pid {} on host {} ({}); adopting it, the registry's heartbeats decide",
                    instance.id(), pid, host.name, answer.why());
            case RUNS -> { }
        }
        log.info("member {} incarnation {}: adopted pid {} on host {}", instance.id(), instance.incarnation(), pid, host.name);
        return Optional.of(member.poll());
    }

    /**
     * Stops the process {@code instance} records on its host, if it still runs there, and confirms it
     * gone, in one command ({@link RemoteCommands#stopAndConfirm}): {@code kill -TERM}, up to
     * {@code grace}, then {@code kill -KILL}. A host that does not answer confirms nothing.
     */
    @Override
    public Optional<String> ensureGone(ServiceInstance instance, Duration grace) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        String pid = metadata.get("pid");
        RemoteHost host = hosts.get(metadata.get("host"));
        if (host == null || pid == null || !pid.matches("[0-9]{1,10}")) {
            // Nothing this launcher started there: a launch on a host that is not configured fails and says so.
            return Optional.empty();
        }
        // Both waits well within the command's timeout, so the answer comes back.
        long third = Math.max(1, settings.commandTimeout().toSeconds() / 3);
        long term = Math.clamp(grace.toSeconds(), 1, third);
        long kill = Math.min(10, third);
        String unconfirmed = "pid " + pid + " of member " + instance.id() + " on host " + host.name;
        try {
            RemoteHost.Result result = host.run(RemoteCommands.stopAndConfirm(Long.parseLong(pid), instance.id(), term, kill));
            return switch (Liveness.of(result)) {
                case GONE -> Optional.empty();
                case RUNS -> Optional.of(unconfirmed + " still runs after kill -KILL");
                case UNKNOWN -> Optional.of(unconfirmed + ": the host gave no answer whether it still runs (exit status "
                        + result.exitStatus() + ", output '" + result.output().strip() + "')");
            };
        } catch (LaunchException e) {
            return Optional.of(unconfirmed + " may still run: " + e.getMessage());
        }
    }

    /** Whether an SSH session to the member's host can be opened now (an unreachable host only; a refusal is the launch's to report). */
    @Override
    public Optional<String> unreachable(ServiceInstance instance) {
        RemoteHost host = instance.metadata() == null ? null : hosts.get(instance.metadata().get("host"));
        if (host == null) {
            return Optional.empty();
        }
        try {
            RemoteHost.closeQuietly(host.connect());
            return Optional.empty();
        } catch (LaunchException e) {
            return e.unreachable() ? Optional.of(e.getMessage()) : Optional.empty();
        }
    }

    /**
     * The last {@code maxBytes} of a member's log on its host, read over SFTP; only the
     * {@code members/<id>/member.log} the registry records for it.
     *
     * @throws LaunchException when the member is on no configured host, records a log file outside
     *         its member directory, or its log cannot be read
     */
    @Override
    public Optional<MemberLog> logTail(ServiceInstance instance, int maxBytes) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        RemoteHost host = host(metadata.get("host"));
        String file = metadata.get("log");
        if (file == null) {
            return Optional.empty();
        }
        // Only a member's own log in a members directory: never another file the registry names.
        if (!file.startsWith("/") || !file.endsWith("/members/" + instance.id() + "/member.log") || file.contains("/../")) {
            throw new LaunchException("member " + instance.id() + " records a log file outside its member directory: " + file);
        }
        try (ClientSession session = host.connect(); SftpClient sftp = host.sftp(session);
             SftpClient.CloseableHandle handle = sftp.open(file, SftpClient.OpenMode.Read)) {
            long size = sftp.stat(handle).getSize();
            long offset = Math.max(0, size - maxBytes);
            byte[] buffer = new byte[(int) (size - offset)];
            int filled = 0;
            while (filled < buffer.length) {
                int n = sftp.read(handle, offset + filled, buffer, filled, buffer.length - filled);
                if (n <= 0) {
                    break;
                }
                filled += n;
            }
            return Optional.of(MemberLog.tail(instance.id(), file, size, Arrays.copyOf(buffer, filled), maxBytes));
        } catch (IOException e) {
            throw new LaunchException("cannot read " + file + " on host " + host.name + ": " + e.getMessage(), e);
        }
    }

    private synchronized Staging staging() {
        if (staging == null) {
            try {
                staging = new Staging(distribution.get(), memoized(() -> JavaRuntime.pack(javaRuntime)));
            } catch (IllegalStateException e) {
                throw new LaunchException("no member distribution to stage: " + e.getMessage(), e);
            }
        }
        return staging;
    }

    /** Packs the runtime once, on the first host that needs it. */
    private static Supplier<JavaRuntime> memoized(Supplier<JavaRuntime> pack) {
        return new Supplier<>() {
            private JavaRuntime packed;

            @Override
            public synchronized JavaRuntime get() {
                if (packed == null) {
                    packed = pack.get();
                }
                return packed;
            }
        };
    }

    private RemoteHost host(String name) {
        RemoteHost host = name == null ? null : hosts.get(name);
        if (host == null) {
            throw new LaunchException("no host '" + name + "' is configured (fabric.spawner.ssh.hosts); known hosts: " + hosts.keySet());
        }
        return host;
    }

    @Override
    public void close() {
        hosts.values().forEach(RemoteHost::close);
    }
}
