package dev.fabric.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The network lab of issues 14 and 15: twelve hosts on separate subnets (three of them NAT routers
 * with a host behind each), each a network namespace with its own firewall and OpenSSH server, built by the script {@code docker/lab/netlab.sh} (which a user can run
 * by hand; {@code docs/lab.md} describes the topology, the routing and the modes).
 *
 * <pre>
 *   public 10.14.1.10 ── desktop 10.14.1.20 ── gateway 10.14.1.1 | 10.14.2.1
 *                                                  │ (site network)
 *                                              head 10.14.2.10 | 10.14.3.1
 *                                                  │ (cluster network)
 *                                   compute-1 10.14.3.11, compute-2 10.14.3.12
 *
 *   public network ── nat-1 10.14.1.31 | 10.14.4.1 ── home-1 10.14.4.10
 *                                                   └─ nat-3 10.14.4.3 | 10.14.6.1 ── home-3 10.14.6.10
 *   public network ── nat-2 10.14.1.32 | 10.14.5.1 ── home-2 10.14.5.10
 * </pre>
 *
 * <p>Desktop and gateway share the public network with the registry's host; head is reachable only
 * from gateway, and reaches the public network through it; the compute nodes see only the cluster
 * network. Every host's mode (the seed's connectivity modes) is {@link Mode#OPEN} until
 * {@link #setMode} changes it. The home hosts reach the public network through their NAT routers
 * (masqueraded; home-3 twice), which are {@link NatVariant#EASY} until {@link #setNat} changes them.
 *
 * <p>Tests get a lab through {@link RequiresNetworkLab}, which starts one per test class and removes
 * it after the class, also when a test fails. {@link #close()} removes every namespace, link, rule,
 * process and file of the lab; so does the next {@link #start} of the same prefix after a crash.
 */
public final class NetworkLab implements AutoCloseable {

    /** Environment variable naming the lab script, where the repository's is not the one to use. */
    public static final String SCRIPT_ENV = "FABRIC_LAB_SCRIPT";

    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{1,15}");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);

    /** A host of the lab. */
    public enum Host {
        /** The registry's host, on the public network. */
        PUBLIC("public"),
        /** The user's machine, on the public network. */
        DESKTOP("desktop"),
        /** On the public network and the site network: the only way to head. */
        GATEWAY("gateway"),
        /** The cluster's head node: on the site network and the cluster network. */
        HEAD("head"),
        /** A compute node: on the cluster network only. */
        COMPUTE_1("compute-1"),
        /** A compute node: on the cluster network only. */
        COMPUTE_2("compute-2"),
        /** A NAT router between the public network (10.14.1.31) and home network 1 (10.14.4.1). */
        NAT_1("nat-1"),
        /** Behind {@link #NAT_1} (10.14.4.10): the public network sees it as 10.14.1.31. */
        HOME_1("home-1"),
        /** A NAT router between the public network (10.14.1.32) and home network 2 (10.14.5.1). */
        NAT_2("nat-2"),
        /** Behind {@link #NAT_2} (10.14.5.10): the public network sees it as 10.14.1.32. */
        HOME_2("home-2"),
        /** A NAT router on home network 1 (10.14.4.3), in front of home network 3 (10.14.6.1). */
        NAT_3("nat-3"),
        /** Behind {@link #NAT_3} and then {@link #NAT_1} (10.14.6.10): two NATs in a row. */
        HOME_3("home-3");

        private final String labName;

        Host(String labName) {
            this.labName = labName;
        }

        /** The host's name in the lab: in the script's arguments, in {@code /etc/hosts} inside the lab, in known_hosts. */
        public String labName() {
            return labName;
        }
    }

    /** The seed's connectivity modes, as a host's firewall realises them on the service port range. */
    public enum Mode {
        /** Mode 1: no firewall. */
        OPEN(1),
        /** Mode 2, firewall <em>to</em> the service: new inbound connections to the service ports are dropped, not reset. */
        FIREWALL_TO_SERVICE(2),
        /** Mode 3, firewall <em>from</em> the service: new outbound connections are dropped, except to the allowed destinations. */
        FIREWALL_FROM_SERVICE(3),
        /** Both 2 and 3. */
        FIREWALL_BOTH(4);

        private final int number;

        Mode(int number) {
            this.number = number;
        }

        /** The mode's number in the seed (and the script's argument). */
        public int number() {
            return number;
        }
    }

    /** How a NAT router ({@link Host#NAT_1}, {@link Host#NAT_2}, {@link Host#NAT_3}) maps and filters. */
    public enum NatVariant {
        /** Endpoint-independent mapping (the inside port kept for every destination), unsolicited SYNs dropped: splicing works. */
        EASY,
        /** As {@link #EASY}, but an unsolicited SYN is answered with a reset. */
        RESETTING,
        /** A new random public port for every connection ({@code MASQUERADE --random-fully}): splicing cannot work. */
        SYMMETRIC;

        /** The variant's name in the script's arguments. */
        public String labName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What a TCP connection attempt met. */
    public enum Reach {
        /** The connection was accepted. */
        OPEN,
        /** The peer answered with a reset: nothing listens there, and no firewall hides it. */
        REFUSED,
        /** No answer at all: a firewall dropped the SYN (or the answer). */
        TIMEOUT,
        /** No route from the caller to the address. */
        UNREACHABLE
    }

    /** What a command run in a host printed and how it ended. */
    public record ExecResult(int exitCode, String stdout, String stderr) {

        /** Whether the command exited with status 0. */
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * How to log in to any host of the lab: {@code user@address:port} with the private key, checking
     * host keys against the known-hosts file (which names every host by lab name and by each address).
     * Every login's {@code HOME} is {@code home}, the lab's own (empty) directory, not the account's.
     */
    public record Ssh(String user, int port, Path privateKey, Path publicKey, Path knownHosts, Path authorizedKeys, Path home) {
    }

    private final Path script;
    private final String prefix;
    private final Path directory;
    private final Map<String, String> addresses = new ConcurrentHashMap<>();
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private boolean closed;

    private NetworkLab(Path script, String prefix, Path directory) {
        this.script = script;
        this.prefix = prefix;
        this.directory = directory;
    }

    /**
     * Builds the lab under {@code prefix} (namespaces {@code PREFIX-HOST}, files in
     * {@code /run/fabric-lab/PREFIX}), removing first whatever a crashed run of the same prefix left.
     * Needs root, {@code ip}, {@code iptables} and {@code sshd}; {@link RequiresNetworkLab} checks them.
     */
    public static NetworkLab start(String prefix) {
        NetworkLab lab = new NetworkLab(script(), checkPrefix(prefix), Path.of("/run/fabric-lab", prefix));
        lab.run("up");
        return lab;
    }

    /**
     * Removes everything of the lab {@code prefix}: namespaces, links, rules, processes, sshd, files.
     * Safe to call when nothing of it exists.
     */
    public static void down(String prefix) {
        new NetworkLab(script(), checkPrefix(prefix), Path.of("/run/fabric-lab", prefix)).run("down");
    }

    /**
     * A prefix of its own for a test class in this checkout, the same on every run, so a rerun removes a
     * crashed run's lab. The checkout's directory is part of it: the same class run from two clones
     * (or worktrees) on one machine must not take down each other's lab.
     */
    public static String prefixFor(Class<?> testClass) {
        return prefixFor(testClass, checkout());
    }

    static String prefixFor(Class<?> testClass, Path checkout) {
        return "fl" + String.format(Locale.ROOT, "%08x", (testClass.getName() + "@" + checkout.toAbsolutePath().normalize()).hashCode());
    }

    private static Path checkout() {
        Path workingDirectory = Path.of(System.getProperty("user.dir"));
        try {
            return ApiDocuments.repositoryRoot(workingDirectory);
        } catch (IllegalStateException outsideTheRepository) {
            return workingDirectory;
        }
    }

    /** The lab script: {@value #SCRIPT_ENV}, else {@code docker/lab/netlab.sh} of the repository holding the working directory. */
    public static Path script() {
        String configured = System.getenv(SCRIPT_ENV);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return ApiDocuments.repositoryRoot(Path.of(System.getProperty("user.dir"))).resolve("docker/lab/netlab.sh");
    }

    /** The prefix of every namespace of this lab. */
    public String prefix() {
        return prefix;
    }

    /** Where the lab keeps its files: the SSH keys, known_hosts, each sshd's config and log, the modes. */
    public Path directory() {
        return directory;
    }

    /** The network namespace that is {@code host}, for {@code ip netns exec}. */
    public String namespace(Host host) {
        return prefix + "-" + host.labName();
    }

    /** The host's own address: on its first network (gateway 10.14.1.1, head 10.14.2.10). */
    public String address(Host host) {
        return address(host, host);
    }

    /**
     * The address at which {@code from} reaches {@code host}: on a network they share, else the
     * host's own address (through a router, where the lab routes; head reaches public this way).
     */
    public String address(Host host, Host from) {
        return addresses.computeIfAbsent(host.labName() + "<" + from.labName(),
                key -> run("address", host.labName(), from.labName()).strip());
    }

    /** How to log in to the hosts over SSH, as root, with the key the lab generated. */
    public Ssh ssh() {
        Path dir = directory.resolve("ssh");
        return new Ssh("root", 22, dir.resolve("id_ed25519"), dir.resolve("id_ed25519.pub"),
                dir.resolve("known_hosts"), dir.resolve("authorized_keys"), directory.resolve("home"));
    }

    /** Runs a command inside {@code host} and waits for it (at most two minutes). */
    public ExecResult exec(Host host, String... command) {
        return execute(processBuilder(host, List.of(command)), COMMAND_TIMEOUT);
    }

    /**
     * Runs a builder made by {@link #processBuilder} (with an environment of its own, say) and waits for
     * it (at most two minutes).
     */
    public ExecResult exec(ProcessBuilder builder) {
        return exec(builder, COMMAND_TIMEOUT);
    }

    /** As {@link #exec(ProcessBuilder)}, waiting at most {@code timeout} (a benchmark's long run). */
    public ExecResult exec(ProcessBuilder builder, Duration timeout) {
        return execute(builder, timeout);
    }

    /**
     * A process builder whose command runs inside {@code host} ({@code ip netns exec}); set its
     * environment and redirects, then start it. Prefer {@link #startProcess}, which the lab stops on
     * {@link #close()}; every process inside the lab's namespaces ends with the lab anyway.
     */
    public ProcessBuilder processBuilder(Host host, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(host)));
        full.addAll(command);
        return new ProcessBuilder(full);
    }

    /** Starts {@code command} inside {@code host}, its output and errors appended to {@code log}. */
    public Process startProcess(Host host, List<String> command, Path log) {
        return startProcess(processBuilder(host, command), log);
    }

    /** Starts a builder made by {@link #processBuilder}, its output and errors appended to {@code log}. */
    public Process startProcess(ProcessBuilder builder, Path log) {
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            Process process = builder.start();
            processes.add(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + builder.command() + " in the lab " + prefix, e);
        }
    }

    /** The command that runs the test's own JDK's {@code java} with {@code arguments}, for {@link #startProcess}. */
    public static List<String> javaCommand(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(arguments));
        return command;
    }

    /**
     * Sets a host's mode. {@link Mode#FIREWALL_FROM_SERVICE} lets connections out to the registry's
     * host ({@link Host#PUBLIC}) only; {@link #setMode(Host, Mode, List, String)} names others.
     */
    public void setMode(Host host, Mode mode) {
        run("mode", host.labName(), String.valueOf(mode.number()));
    }

    /**
     * Sets a host's mode with the destinations a host in mode 3 or 4 may still connect to ({@code
     * "head"}, {@code "public:8470"}, {@code "10.14.1.10"}) and the service port range the modes act on
     * ({@code "1024:65535"} by default; SSH on 22 stays open).
     */
    public void setMode(Host host, Mode mode, List<String> allowed, String servicePorts) {
        List<String> arguments = new ArrayList<>(List.of("mode", host.labName(), String.valueOf(mode.number()),
                "--ports", servicePorts));
        for (String destination : allowed) {
            arguments.add("--allow");
            arguments.add(destination);
        }
        run(arguments.toArray(String[]::new));
    }

    /** Sets a NAT router's variant, without added latency. New connections follow it. */
    public void setNat(Host router, NatVariant variant) {
        setNat(router, variant, Duration.ZERO);
    }

    /** The NAT routers of the lab. */
    public static final List<Host> NAT_ROUTERS = List.of(Host.NAT_1, Host.NAT_2, Host.NAT_3);

    /** Every NAT router {@link NatVariant#EASY} again, without latency: as the lab comes up. */
    public void resetNats() {
        for (Host router : NAT_ROUTERS) {
            setNat(router, NatVariant.EASY);
        }
    }

    /** Sets a NAT router's variant and a delay ({@code tc netem}) on every packet it sends out of its public side. */
    public void setNat(Host router, NatVariant variant, Duration latency) {
        setNat(router, variant, latency, 0);
    }

    /**
     * Sets a NAT router's variant, a delay on every packet it sends out of its public side, and the
     * rate of its home network's access link both ways ({@code tc tbf}), {@code rateMbit} Mbit/s;
     * 0 leaves the link unlimited.
     */
    public void setNat(Host router, NatVariant variant, Duration latency, int rateMbit) {
        if (rateMbit < 0) {
            throw new IllegalArgumentException("a link rate is 0 (unlimited) or more Mbit/s, not " + rateMbit);
        }
        run("nat", router.labName(), variant.labName(), "--latency", String.valueOf(latency.toMillis()), "--rate",
                String.valueOf(rateMbit));
    }

    /**
     * The command that runs {@link LabTcp} (observe, ask, splice) with {@code arguments} inside a host,
     * for {@link #exec} and {@link #startProcess}.
     */
    public static List<String> labTcpCommand(String... arguments) {
        List<String> command = new ArrayList<>(javaCommand("-cp", testSupportClassPath().toString(), LabTcp.class.getName()));
        command.addAll(Arrays.asList(arguments));
        return command;
    }

    private static Path testSupportClassPath() {
        try {
            return Path.of(LabTcp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("where test-support's classes are: " + e.getMessage(), e);
        }
    }

    /** Cuts the link between two neighbours: each drops every frame from the other, as a pulled cable would. */
    public void cut(Host a, Host b) {
        run("cut", a.labName(), b.labName());
    }

    /** Undoes {@link #cut}. */
    public void restore(Host a, Host b) {
        run("restore", a.labName(), b.labName());
    }

    /** Tries a TCP connection from {@code from} to {@code to} (at the address {@code from} reaches it on). */
    public Reach probe(Host from, Host to, int port) {
        return probe(from, to.labName(), port);
    }

    /** Tries a TCP connection from {@code from} to a host name or address; no answer within 3 s is {@link Reach#TIMEOUT}. */
    public Reach probe(Host from, String target, int port) {
        String answer = run("probe", from.labName(), target, String.valueOf(port), "--timeout", "3").strip();
        return Reach.valueOf(answer.toUpperCase(Locale.ROOT));
    }

    /**
     * Waits until something accepts connections on {@code port} of {@code host}, asked from the host
     * itself (its own firewall does not drop its own connections).
     *
     * @throws IllegalStateException when nothing listens after {@code patience}
     */
    public void awaitListening(Host host, int port, Duration patience) {
        Instant deadline = Instant.now().plus(patience);
        while (probe(host, address(host), port) != Reach.OPEN) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("nothing listens on " + host.labName() + " " + address(host) + ":" + port
                        + " after " + patience);
            }
            sleep(Duration.ofMillis(200));
        }
    }

    /** Stops the processes started here, then removes the whole lab. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        run("down");
    }

    /** Runs the lab script with this lab's prefix and directory; a failure throws with what it said. */
    String run(String... arguments) {
        List<String> command = new ArrayList<>(List.of("bash", script.toString(), "--prefix", prefix,
                "--dir", directory.toString()));
        command.addAll(Arrays.asList(arguments));
        ExecResult result = execute(new ProcessBuilder(command), COMMAND_TIMEOUT);
        if (!result.ok()) {
            throw new IllegalStateException("netlab.sh " + String.join(" ", arguments) + " failed (exit " + result.exitCode()
                    + "): " + result.stderr().strip());
        }
        return result.stdout();
    }

    private static ExecResult execute(ProcessBuilder builder, Duration timeout) {
        try {
            Process process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            // A thread of its own: on the common pool (one thread on two cores) a long-running command's
            // reader would hold up every other command's.
            CompletableFuture<String> errors = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    errors.complete(readAll(process.getErrorStream()));
                } catch (RuntimeException e) {
                    errors.completeExceptionally(e);
                }
            });
            String output = readAll(process.getInputStream());
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(builder.command() + " did not end within " + timeout);
            }
            return new ExecResult(process.exitValue(), output, errors.join());
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + builder.command(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + builder.command(), e);
        }
    }

    private static String readAll(InputStream stream) {
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String checkPrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("a lab prefix is 2 to 16 lower-case letters and digits, starting with a letter, not '"
                    + prefix + "'");
        }
        return prefix;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static boolean scriptExists(Path script) {
        return Files.isRegularFile(script);
    }
}
