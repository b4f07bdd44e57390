package dev.fabric.fab.build;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.io.PrintStream;
import java.util.EnumSet;
import java.util.Set;

/** Log categories switched with {@code +NAME} and {@code -NAME}; ERROR, WARN and INFO are on by default. */
public final class Log {

    public enum Category {
        /** Errors (always printed unless switched off). */
        ERROR,
        /** Warnings, such as dependency cycles. */
        WARN,
        /** Progress lines. */
        INFO,
        /** The plan's size before it runs. */
        BPINFO,
        /** Each command's exit status and duration. */
        BPEXEC,
        /** Each command's full text as it starts. */
        BPCMD,
        /** The nodes the selectors chose. */
        SELECT,
        /** Every fabfile read. */
        INVOKE,
        /** The command line as fab understood it. */
        ARGS,
        /** How many nodes of each kind the graph has. */
        NODE,
        /** Every formula evaluated while planning: up to date, or why not. */
        BPEVAL,
        /** The whole plan before it runs, as -p prints it. */
        BPDUMP,
        /** Each formula forgotten by +b. */
        INVALID,
        /** How many sources discovery looks at again, of how many. */
        DSCINFO,
        /** Each discovery command's exit status. */
        DSCEXEC,
        /** Each discovery command's full text as it starts. */
        DSCCMD,
        /** The dependencies each discovery and each depfile reported. */
        DSCRES,
        /** The variables passed to each invoked fabfile. */
        PARAMS,
        /** Every variable assignment, with the value it leaves. */
        VAR,
        /** Every {@code %} pattern expanded, with the files it matched. */
        LISTS,
        /** Every signal and IPC file exchanged between fab, fabw, fabd and faba. */
        IPC
    }

    private final Set<Category> on = EnumSet.of(Category.ERROR, Category.WARN, Category.INFO);
    private final PrintStream out;
    private final PrintStream err;

    /** ERROR and WARN go to {@code err}, every other category to {@code out}. */
    public Log(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** True when {@code arg} is a {@code +NAME}/{@code -NAME} switch; applies it. */
    public boolean apply(String arg) {
        if (arg.length() < 3 || (arg.charAt(0) != '+' && arg.charAt(0) != '-')) {
            return false;
        }
        String name = arg.substring(1);
        if (!name.chars().allMatch(c -> Character.isUpperCase(c))) {
            return false;
        }
        Category c;
        try {
            c = Category.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new FabException(ExitStatus.BADARGS, "unknown log category " + arg + "; known: " + EnumSet.allOf(Category.class));
        }
        if (arg.charAt(0) == '+') {
            on.add(c);
        } else {
            on.remove(c);
        }
        return true;
    }

    public boolean enabled(Category c) {
        return on.contains(c);
    }

    public void log(Category c, String message) {
        if (on.contains(c)) {
            PrintStream to = c == Category.ERROR || c == Category.WARN ? err : out;
            synchronized (to) {
                to.println(message);
            }
        }
    }
}
