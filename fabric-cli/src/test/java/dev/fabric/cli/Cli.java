package dev.fabric.cli;

import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/** Runs {@code fabric} commands in-process with a given environment, capturing what they print. */
public final class Cli {

    /** What a command did: its exit code and everything it printed. */
    public record Result(int exitCode, String out, String err) {}

    private final Map<String, String> env;
    private final Path userHome;
    private final Clock clock;
    private final Duration requestTimeout;

    public Cli(Map<String, String> env, Path userHome, Clock clock) {
        this(env, userHome, clock, CommandContext.REQUEST_TIMEOUT);
    }

    private Cli(Map<String, String> env, Path userHome, Clock clock, Duration requestTimeout) {
        this.env = env;
        this.userHome = userHome;
        this.clock = clock;
        this.requestTimeout = requestTimeout;
    }

    /** The same CLI with plain requests cut after {@code timeout}: a test shows a longer wait without sitting through 30 s. */
    public Cli withRequestTimeout(Duration timeout) {
        return new Cli(env, userHome, clock, timeout);
    }

    /** An environment with nothing but {@code FABRIC_HOME_DIR}, so the user's own ~/.fabric is never read. */
    public static Cli withHome(Path fabricHome) {
        return new Cli(Map.of(FabricHome.HOME_ENV, fabricHome.toString()), fabricHome.resolve("user-home"), Clock.systemUTC());
    }

    public Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exitCode = start(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** A command line writing to the given writers, for commands that run on a thread of the test's own (watch). */
    public CommandLine start(PrintWriter out, PrintWriter err) {
        CommandLine commandLine = FabricCli.commandLine(new FabricCli(env, userHome, clock, requestTimeout));
        commandLine.setOut(out);
        commandLine.setErr(err);
        return commandLine;
    }
}
