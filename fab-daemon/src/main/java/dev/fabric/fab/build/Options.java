package dev.fabric.fab.build;

import dev.fabric.fab.plan.CyclePolicy;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * fab's options as picocli reads them: {@link Request#parse} fills one, and fab's help is written from it.
 * The in-process fab, the client and fabd all read a command line through it.
 */
@CommandLine.Command(name = "fab", mixinStandardHelpOptions = true, version = "fab 0.1.0",
        description = "Builds the selected nodes of the project described by ./fabfile. See docs/fabfile.md.",
        footer = {"", "Selectors: PATH, /ABSOLUTE/PATH, @name, [ a b ], $! (every node). Default: @all, else every target.",
                "Node-sets: +t fabricate with dependencies (default), +x fabricate exactly, +n fabricate without crossing a nofile node,", "  +b invalidate, +d discover (list what discovery found), +q query, +i inspect;",
                "  -t, -x, ... switch one off. +C (default) / +F: relative selectors from the current directory / the fabfile's.",
                "Log categories: +NAME / -NAME with NAME one of ERROR WARN INFO BPINFO BPEXEC BPCMD SELECT INVOKE",
                "  ARGS NODE BPEVAL BPDUMP INVALID DSCINFO DSCEXEC DSCCMD DSCRES PARAMS VAR LISTS IPC.",
                "Exit: 0 ok, 1 BADARGS, 2 BADTMP, 3 BADIPC, 4 SYNTAX, 5 ILLBYTE, 6 UNSATISFIED, 7 CMDFAIL, 8 DSCPARSE,",
                "  9 NOINVOKE (an invocation, or the initial fabfile, not found), 10 BADPLAN, 11 CYCLE, 12 NOSELECT,",
                "  14 FABDFAIL, 15 FABPERMS, 16 NOTOWNER (another developer's project), 128 file-system error.",
                "The daemons and their directories: docs/fab.md."})
public final class Options {

    @Option(names = "-f", paramLabel = "PATH", description = "the initial fabfile (default ./fabfile)")
    Path fabfile = Path.of("fabfile");

    @Option(names = "-p", description = "make the plan and print it; run nothing")
    boolean planOnly;

    @Option(names = "-j", paramLabel = "N", description = "commands at once within a stage; -1 (default) the CPU count, 0 unlimited")
    int jobs = -1;

    @Option(names = "-k", paramLabel = "PATH", description = "write a POSIX shell buildscript performing the plan instead of running it")
    Path buildscript;

    @Option(names = "-K", paramLabel = "VAR", description = "leave VAR settable when the buildscript runs (repeatable)")
    List<String> keep = new ArrayList<>();

    @Option(names = "-I", paramLabel = "DIR", description = "where +[ path ] invocations are also looked up (repeatable)")
    List<Path> includeDirs = new ArrayList<>();

    @Option(names = "-v", paramLabel = "NAME=VALUE", description = "set a variable at the outermost scope: NAME=VALUE or NAME+=VALUE (repeatable)")
    List<String> variables = new ArrayList<>();

    @CommandLine.ArgGroup(exclusive = true)
    Cycles cycles = new Cycles();

    static final class Cycles {
        @Option(names = "--cycles-warn", description = "warn once per unique dependency cycle, break it and build (default)")
        boolean warn;
        @Option(names = "--cycles-fail", description = "exit 11 (CYCLE) on a dependency cycle")
        boolean fail;
        @Option(names = "--cycles-deal", description = "break dependency cycles silently and build")
        boolean deal;

        CyclePolicy policy() {
            return fail ? CyclePolicy.FAIL : deal ? CyclePolicy.DEAL : CyclePolicy.WARN;
        }
    }

    @Parameters(paramLabel = "ARG", description = "selectors, node-set switches (+t +x +n +b +d +q +i, -t ...), +C/+F, log categories")
    List<String> args = new ArrayList<>();

    @Option(names = "-B", description = "restart fabd (the project's daemon) before this command")
    boolean restart;

    @Option(names = "--shutdown", description = "stop this project's daemons now (the next fab starts fresh ones) and build nothing")
    boolean shutdown;

    @Option(names = "--list-daemons", description = "list the running daemons of every project under the IPC root: fabfile, pids, ages, resident memory")
    boolean listDaemons;

    @Option(names = "--ipc-dir", paramLabel = "DIR", description = "the per-project IPC directories (default $FAB_IPC_DIR, else /var/run/fab)")
    Path ipcDir;

    @Option(names = "--tmp-dir", paramLabel = "DIR", description = "the per-daemon directories (default $FAB_TMP_DIR, else /var/tmp/fab)")
    Path tmpDir;

    /** {@code -f}: the initial fabfile, relative to the current directory. */
    public Path fabfile() {
        return fabfile;
    }

    /** {@code -B}: restart fabd first. */
    public boolean restart() {
        return restart;
    }

    /** {@code --shutdown}: stop the project's daemons instead of building. */
    public boolean shutdown() {
        return shutdown;
    }

    /** {@code --list-daemons}: list the running daemons instead of building. */
    public boolean listDaemons() {
        return listDaemons;
    }

    /** {@code --ipc-dir}, or null. */
    public Path ipcDir() {
        return ipcDir;
    }

    /** {@code --tmp-dir}, or null. */
    public Path tmpDir() {
        return tmpDir;
    }
}
