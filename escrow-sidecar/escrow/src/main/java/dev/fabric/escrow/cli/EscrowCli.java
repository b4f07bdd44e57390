package dev.fabric.escrow.cli;

import dev.fabric.escrow.client.Escrow;
import dev.fabric.escrow.client.EscrowException;
import dev.fabric.escrow.client.TagInfo;
import dev.fabric.escrow.daemon.EscrowdMain;
import dev.fabric.escrow.descriptor.DescriptorKind;
import dev.fabric.escrow.echo.EchoClient;
import dev.fabric.escrow.echo.EchoServer;
import dev.fabric.escrow.sidecar.EscrowSidecar;
import dev.fabric.escrow.stats.EscrowStats;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code escrow}: the descriptor escrow's command line. {@code ./fabric escrow ...} runs it from
 * the distribution's {@code bin/escrow}.
 */
@Command(name = "escrow", mixinStandardHelpOptions = true, version = "escrow 0.1.0",
        description = "The descriptor escrow: a daemon that keeps a service's sockets open across its restarts.",
        subcommands = {EscrowCli.SidecarCommand.class, EscrowCli.EchoServerCommand.class, EscrowCli.EchoClientCommand.class, EscrowCli.LsCommand.class,
                EscrowCli.TagCommand.class, EscrowCli.DelCommand.class, CommandLine.HelpCommand.class})
public final class EscrowCli implements Runnable {

    static final int EXIT_FAILED = 1;

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.showDateTime", System.getProperty("org.slf4j.simpleLogger.showDateTime", "true"));
        System.exit(commandLine().execute(args));
    }

    /** The command line with every subcommand, {@code daemon} being {@link EscrowdMain}. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new EscrowCli());
        // Named here, not by EscrowdMain's own @Command (escrowd, its name as a program), so that
        // `escrow daemon --help` shows the command a user types.
        CommandLine daemon = new CommandLine(new EscrowdMain());
        daemon.getCommandSpec().name("daemon");
        cli.addSubcommand("daemon", daemon);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("escrow " + cmd.getCommandName() + ": " + e.getMessage());
            return EXIT_FAILED;
        });
        return cli;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static Duration waitFor(int seconds) {
        return seconds <= 0 ? null : Duration.ofSeconds(seconds);
    }

    /**
     * Listed here for {@code escrow --help}; {@code bin/escrow sidecar} starts {@link EscrowSidecar} directly, without picocli.
     * picocli lists a command by its description's first line alone: keep each first line a whole sentence.
     */
    @Command(name = "sidecar", mixinStandardHelpOptions = true,
            description = {"The escrow sidecar of a pod: escrowd with probes and Prometheus metrics on an HTTP port.",
                    "No arguments: its settings come from the environment (FABRIC_ESCROW_*; SERVER_PORT, default 8471; docs/escrow.md)."})
    static final class SidecarCommand implements Callable<Integer> {
        @Override
        public Integer call() throws InterruptedException {
            EscrowSidecar.main(new String[0]);
            return 0;
        }
    }

    @Command(name = "echo-server", mixinStandardHelpOptions = true,
            description = {"The C escrow's echo server: echoes TCP clients, keeping their sockets in the escrow at PATH.",
                    "It starts an escrowd there if nobody listens. Kill it with -9 and start it again: its clients stay connected."})
    static final class EchoServerCommand implements Callable<Integer> {
        @Option(names = "--port", description = "TCP port to listen on (default: ${DEFAULT-VALUE}).")
        int port = EchoServer.DEFAULT_PORT;

        @Option(names = "-v", description = "Print the escrow message trace on stderr.")
        boolean verbose;

        @Option(names = "--no-create", description = {"Never start an escrowd: fail when nobody listens on PATH.",
                "For an escrowd that something else owns, such as the escrow sidecar of a pod."})
        boolean noCreate;

        @Parameters(paramLabel = "PATH", description = "The escrow socket.")
        Path path;

        @Override
        public Integer call() throws IOException {
            int flags = (noCreate ? 0 : Escrow.CREAT | Escrow.FORCE) | (verbose ? Escrow.VERBOSE : 0);
            try (Escrow escrow = Escrow.open(path, flags, EchoServer.NR_TAGS)) {
                new EchoServer(escrow, port, System.out).run();
            }
            return 0;
        }
    }

    @Command(name = "echo-client", mixinStandardHelpOptions = true,
            description = "The C escrow's echo client: sends numbered lines, checks every echo in order, reports errors.")
    static final class EchoClientCommand implements Callable<Integer> {
        @Option(names = "--host", description = "Server host (default: ${DEFAULT-VALUE}).")
        String host = "127.0.0.1";

        @Option(names = "--port", description = "Server port (default: ${DEFAULT-VALUE}).")
        int port = EchoServer.DEFAULT_PORT;

        @Option(names = "--count", description = "Stop after this many lines (default: run until interrupted).")
        long count;

        @Option(names = "--window", description = "Lines in flight at most (default: ${DEFAULT-VALUE}).")
        int window = 16;

        @Option(names = "--pause-ms", description = "Pause between lines in milliseconds (default: ${DEFAULT-VALUE}).")
        int pauseMillis;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            try (EchoClient client = new EchoClient(SocketChannel.open(new InetSocketAddress(host, port)), window,
                    Duration.ofMillis(pauseMillis), count).start()) {
                out.println("echo-client: connected to " + host + ":" + port);
                long reported = 0;
                while (client.errors().isEmpty() && client.readerAlive() && (count == 0 || client.echoed() < count)) {
                    Thread.sleep(200);
                    if (System.nanoTime() - reported > 1_000_000_000L) {
                        out.println("echo-client: " + client.echoed() + " lines echoed in order");
                        reported = System.nanoTime();
                    }
                }
                if (count > 0 && client.errors().isEmpty()) {
                    client.finish(Duration.ofSeconds(10));
                }
                List<String> errors = client.errors();
                errors.forEach(e -> System.err.println("echo-client: " + e));
                out.println("echo-client: " + client.echoed() + " lines echoed, " + errors.size() + " errors");
                return errors.isEmpty() ? 0 : EXIT_FAILED;
            }
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "What the escrowd at PATH holds, per tag (from PATH.stats; does not take the session).")
    static final class LsCommand implements Callable<Integer> {
        @Option(names = "-l", description = "Also list every slot.")
        boolean slots;

        @Parameters(paramLabel = "PATH", description = "The escrow socket.")
        Path path;

        @Override
        public Integer call() throws IOException {
            EscrowStats stats = Escrow.stats(path, slots);
            PrintStream out = System.out;
            out.printf("escrowd %s (pid %d): %s, %s, %d tags, %d sessions served, %d peers refused%n", stats.path(), stats.pid(),
                    stats.state().name().toLowerCase(Locale.ROOT), stats.sessionActive() ? "session active" : "idle",
                    stats.nrTags(), stats.sessions(), stats.refusedPeers());
            out.println("holding " + stats.summary());
            if (!stats.tags().isEmpty()) {
                out.printf("%5s %7s %10s %7s %13s %12s %5s %5s%n", "TAG", "SLOTS", "BYTES", "SOCKET", "SERVER_SOCKET", "OTHER_SOCKET", "FILE", "NONE");
                for (EscrowStats.TagStats tag : stats.tags()) {
                    out.printf("%5d %7d %10d %7d %13d %12d %5d %5d%n", tag.tag(), tag.slots(), tag.bytes(),
                            tag.count(DescriptorKind.SOCKET), tag.count(DescriptorKind.SERVER_SOCKET),
                            tag.count(DescriptorKind.OTHER_SOCKET), tag.count(DescriptorKind.FILE), tag.count(DescriptorKind.NONE));
                }
            }
            if (slots && !stats.slots().isEmpty()) {
                out.printf("%5s %8s %-13s %6s %5s%n", "TAG", "IDX", "KIND", "NOB", "UFD");
                for (EscrowStats.SlotInfo slot : stats.slots()) {
                    out.printf("%5d %8d %-13s %6d %5d%n", slot.tag(), slot.idx(), slot.kind().label(), slot.nob(), slot.ufd());
                }
            }
            stats.errors().forEach((reason, n) -> out.println("errors " + reason + ": " + n));
            return 0;
        }
    }

    @Command(name = "tag", mixinStandardHelpOptions = true, description = "How many slots tag N holds, and their payload bytes (a TAG request).")
    static final class TagCommand implements Callable<Integer> {
        @Option(names = "--wait", paramLabel = "SECONDS", description = "Give up when the daemon is busy with another session this long (default: ${DEFAULT-VALUE}; 0: wait forever).")
        int waitSeconds = 10;

        @Parameters(index = "0", paramLabel = "PATH", description = "The escrow socket.")
        Path path;

        @Parameters(index = "1", paramLabel = "N", description = "The tag.")
        int tag;

        @Override
        public Integer call() throws IOException {
            try (Escrow escrow = Escrow.open(path, 0, 0, waitFor(waitSeconds))) {
                TagInfo info = escrow.tag(tag);
                System.out.println("tag " + tag + ": " + info.slots() + " slots, " + info.totalBytes() + " payload bytes");
                return 0;
            } catch (EscrowException e) {
                System.err.println("escrow tag: " + e.getMessage());
                return EXIT_FAILED;
            }
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Remove slot (T, I); the daemon closes its descriptor (a DEL request).")
    static final class DelCommand implements Callable<Integer> {
        @Option(names = "--wait", paramLabel = "SECONDS", description = "Give up when the daemon is busy with another session this long (default: ${DEFAULT-VALUE}; 0: wait forever).")
        int waitSeconds = 10;

        @Parameters(index = "0", paramLabel = "PATH", description = "The escrow socket.")
        Path path;

        @Parameters(index = "1", paramLabel = "T", description = "The tag.")
        int tag;

        @Parameters(index = "2", paramLabel = "I", description = "The index.")
        int idx;

        @Override
        public Integer call() throws IOException {
            try (Escrow escrow = Escrow.open(path, 0, 0, waitFor(waitSeconds))) {
                escrow.del(tag, idx);
                System.out.println("deleted slot " + tag + "/" + idx);
                return 0;
            } catch (EscrowException e) {
                System.err.println("escrow del: " + e.getMessage());
                return EXIT_FAILED;
            }
        }
    }
}
