package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.util.Arrays;
import java.util.List;

/**
 * A variable set on the command line with {@code -v}: {@code NAME=VALUE} replaces every value the
 * outermost fabfile assigns, {@code NAME+=VALUE} is appended to it. VALUE is words separated by
 * blanks, optionally in brackets: {@code -v 'cflags=[ -O0 -g ]'}; a leading {@code $} on NAME is allowed.
 */
public record VariableOverride(String name, boolean append, List<String> value) {

    public static VariableOverride parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new FabException(ExitStatus.BADARGS, "-v " + text + ": expected NAME=VALUE or NAME+=VALUE");
        }
        boolean append = text.charAt(eq - 1) == '+';
        String name = text.substring(0, append ? eq - 1 : eq).strip();
        if (name.startsWith("$")) {
            name = name.substring(1);
        }
        if (!Parser.VARIABLE.matcher("$" + name).matches()) {
            throw new FabException(ExitStatus.BADARGS, "-v " + text + ": `" + name + "` is not a variable name (letters, digits, `_`)");
        }
        String value = text.substring(eq + 1).strip();
        if (value.startsWith("[") && value.endsWith("]")) {
            value = value.substring(1, value.length() - 1);
        }
        List<String> words = Arrays.stream(value.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
        return new VariableOverride(name, append, words);
    }
}
