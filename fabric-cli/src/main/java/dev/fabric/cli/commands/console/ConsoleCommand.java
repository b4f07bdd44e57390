package dev.fabric.cli.commands.console;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.registry.Registry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * {@code fabric console}: the fabric in a browser. A web server on loopback that holds the user's
 * fabric keys and signs, on the page's behalf, the requests it makes to the registry, the spawners
 * and the members; it prints a URL with a one-time login token and serves until Ctrl-C.
 */
@Command(name = "console",
        description = {"Serve the fabric console: the fabric as a live tree in a browser, with each member's history,",
                "sessions, charts and actions (spawn, stop, restart, sessions). A local web server that keeps",
                "the fabric keys and signs every request itself; the page never sees a key.",
                "Prints a URL with a one-time login token; Ctrl-C stops it."})
public final class ConsoleCommand extends FabricCommand {

    static final int DEFAULT_PORT = 8474;

    @Option(names = "--port", paramLabel = "N", defaultValue = "" + DEFAULT_PORT,
            description = "the port to serve on (default ${DEFAULT-VALUE}; 0: any free port)")
    int port;

    @Option(names = "--address", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "the address to bind (default ${DEFAULT-VALUE}: this machine only). Another address exposes the "
                    + "console, its token and its session cookie to that network over plain HTTP")
    String address;

    @Option(names = "--open", description = "open the login URL in this machine's browser")
    boolean open;

    public ConsoleCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() throws IOException {
        if (port < 0 || port > 65535) {
            throw new CliException(ExitCodes.USAGE, "--port takes 0 to 65535, was " + port);
        }
        InetAddress bind;
        try {
            bind = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new CliException(ExitCodes.USAGE, "--address " + address + " is not an address of this machine");
        }
        Output out = output();
        // Keys first: a console without them could sign nothing, so it says so now, not in the page.
        Registry registry = context.registry();
        ConsoleAuth auth = new ConsoleAuth();
        String token = auth.loginToken();
        try (FabricView view = new FabricView(registry, context.json(), context.clock());
             ConsoleServer server = server(bind, auth, view, registry)) {
            view.start();
            server.start();
            String host = bind.isLoopbackAddress() ? "127.0.0.1" : bind.getHostAddress().contains(":")
                    ? "[" + bind.getHostAddress() + "]" : bind.getHostAddress();
            String url = "http://" + host + ":" + server.port() + "/login?token=" + token;
            if (!bind.isLoopbackAddress()) {
                out.note("fabric console: WARNING: serving on " + bind.getHostAddress() + ", not loopback: anyone on that network who "
                        + "sees the URL or the session cookie (plain HTTP) can act with this fabric's keys");
            }
            out.note("fabric console: the fabric of the registry at " + registry.baseUrl() + ", signing with the keys in "
                    + context.keysDirectory().value());
            out.note("fabric console: open this URL (its token works once, and only for this run); Ctrl-C stops the console:");
            out.line(url);
            if (open) {
                Browser.open(url, out);
            }
            // Serve until Ctrl-C (which interrupts this thread).
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException stop) {
                out.note("fabric console: stopped");
            }
        }
    }

    private ConsoleServer server(InetAddress bind, ConsoleAuth auth, FabricView view, Registry registry) throws IOException {
        try {
            return new ConsoleServer(new InetSocketAddress(bind, port), auth, view, new ConsoleActions(context, registry), context.json());
        } catch (BindException e) {
            throw new CliException(ExitCodes.USAGE, "cannot serve the console on " + bind.getHostAddress() + ":" + port + " ("
                    + e.getMessage() + ")", List.of("another process holds the port: choose another with --port N (0: any free port)"));
        }
    }
}
