package dev.fabric.fab.build;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.VariableOverride;
import dev.fabric.fab.plan.CyclePolicy;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A fab command line, validated: the options, the node-sets switched on, the selectors, and the log
 * categories. The client parses it to validate before bothering a daemon; fabd parses the same
 * argv again from the {@code args} file, so both agree on its meaning by construction.
 */
public record Request(List<String> argv, Options options, Set<Character> on, boolean fromFabfileDir, List<String> selectors,
                      List<VariableOverride> overrides, Log log) {

    /** What parsing decided: run the request, or exit now with {@code status} (help, version, bad arguments). */
    public sealed interface Parsed {
    }

    public record Run(Request request) implements Parsed {
    }

    public record ExitNow(int status) implements Parsed {
    }

    /** Parses {@code argv}; usage, version and errors are printed to {@code out}/{@code err}. */
    public static Parsed parse(String[] argv, PrintStream out, PrintStream err) {
        Log log = new Log(out, err);
        // Log categories first: picocli would read -INFO as -I NFO.
        List<String> rest = new ArrayList<>();
        try {
            for (String a : argv) {
                if (!log.apply(a)) {
                    rest.add(a);
                }
            }
        } catch (FabException e) {
            err.println("fab: " + e.getMessage());
            return new ExitNow(e.status().code());
        }
        Options cli = new Options();
        CommandLine cl = new CommandLine(cli);
        cl.setUnmatchedOptionsArePositionalParams(true);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        try {
            cl.parseArgs(rest.toArray(String[]::new));
            if (cl.isUsageHelpRequested()) {
                cl.usage(out);
                return new ExitNow(0);
            }
            if (cl.isVersionHelpRequested()) {
                cl.printVersionHelp(out);
                return new ExitNow(0);
            }
        } catch (CommandLine.ParameterException e) {
            err.println("fab: " + e.getMessage() + " (fab --help lists the options)");
            return new ExitNow(ExitStatus.BADARGS.code());
        }
        try {
            return new Run(of(List.of(argv), cli, log));
        } catch (FabException e) {
            err.println("fab: " + e.getMessage());
            return new ExitNow(e.status().code());
        }
    }

    private static Request of(List<String> argv, Options cli, Log log) {
        Set<Character> on = new HashSet<>(Set.of('t'));
        Set<Character> explicit = new HashSet<>();
        boolean fromFabfileDir = false;
        List<String> selectors = new ArrayList<>();
        for (String a : cli.args) {
            if (a.length() == 2 && (a.charAt(0) == '+' || a.charAt(0) == '-') && "txnbqidCF".indexOf(a.charAt(1)) >= 0) {
                char c = a.charAt(1);
                if (c == 'C' || c == 'F') {
                    fromFabfileDir = c == 'F' && a.charAt(0) == '+';
                    continue;
                }
                explicit.add(c);
                if (a.charAt(0) == '+') {
                    on.add(c);
                } else {
                    on.remove(c);
                }
                continue;
            }
            if (a.startsWith("-") && !a.equals("-")) {
                throw new FabException(ExitStatus.BADARGS, "unknown option " + a + " (fab --help lists the options)");
            }
            selectors.add(a);
        }
        if (!explicit.contains('t') && (on.contains('x') || on.contains('n') || on.contains('b') || on.contains('q') || on.contains('i') || on.contains('d'))) {
            on.remove('t');
        }
        if (cli.jobs < -1) {
            throw new FabException(ExitStatus.BADARGS, "-j " + cli.jobs + ": expected a count, -1 (CPU count) or 0 (unlimited)");
        }
        List<VariableOverride> overrides = cli.variables.stream().map(VariableOverride::parse).toList();
        return new Request(argv, cli, Set.copyOf(on), fromFabfileDir, List.copyOf(selectors), overrides, log);
    }

    /** {@code -k PATH}, or null. */
    public Path buildscript() {
        return options.buildscript;
    }

    /** Commands at once within a stage: {@code -j}, with -1 the CPU count and 0 no limit. */
    public int jobs() {
        return options.jobs == -1 ? Runtime.getRuntime().availableProcessors() : options.jobs;
    }

    public CyclePolicy cycles() {
        return options.cycles.policy();
    }

    /** The ARGS log line. */
    public String describe() {
        return "args: fabfile=" + options.fabfile + " jobs=" + options.jobs + " node-sets=" + new TreeSet<>(on)
                + " selectors=" + selectors + " variables=" + overrides + (fromFabfileDir ? " +F" : " +C");
    }

    /** What the model depends on besides the files: a cached model is reused only for the same key. */
    public String loadKey(Path cwd) {
        return cwd.resolve(options.fabfile).normalize() + "\0" + options.includeDirs.stream().map(cwd::resolve).toList()
                + "\0" + options.variables + "\0" + options.keep;
    }
}
