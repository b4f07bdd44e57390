package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import dev.fabric.fab.posix.Descriptor;
import dev.fabric.posix.Errno;
import dev.fabric.posix.PosixException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the dependencies a formula discovered, written in make syntax as {@code gcc -MMD -MP -MF}
 * writes them ({@code target: dep dep \} with continuation lines, and {@code dep:} lines). A
 * depfile that is missing or cannot be read exits 8 (DSCPARSE).
 * <p>
 * fabd reads depfiles with fabsys's rights, which reach other developers' files too, and its errors
 * go to the developer who ran fab. So a depfile is read only when it is a regular file (never through
 * a link at its name) of the uid whose formula wrote it, and an error names the line, never quotes it.
 */
public final class Depfile {
    private Depfile() {
    }

    /** The discovered dependencies as node names: relative to {@code root}, paths in the file relative to {@code dir}. */
    public static List<String> read(Path root, Path dir, String depfile) {
        return read(root, dir, depfile, -1);
    }

    /** As {@link #read(Path, Path, String)}, the depfile required to belong to {@code owner} (any when negative). */
    public static List<String> read(Path root, Path dir, String depfile, int owner) {
        Path file = root.resolve(depfile);
        Descriptor.Contents contents;
        try {
            contents = Descriptor.read(file);
        } catch (PosixException e) {
            throw new FabException(ExitStatus.DSCPARSE, "depfile " + depfile + " was not written by its formula or cannot be read ("
                    + (e.errno() == Descriptor.ELOOP ? "it is a symbolic link" : Errno.describe(e.errno())) + ")");
        }
        if (contents.bytes() == null || (owner >= 0 && contents.stat().uid() != owner)) {
            throw new FabException(ExitStatus.DSCPARSE, "depfile " + depfile + " is not a regular file written by its formula ("
                    + (contents.bytes() == null ? "not a regular file" : "it belongs to uid " + contents.stat().uid() + ", not " + owner)
                    + "): not read");
        }
        return parseOutput(depfile, new String(contents.bytes(), StandardCharsets.UTF_8), root, dir);
    }

    /** Dependencies printed in make syntax (a discovery's output) as node names: paths relative to {@code dir}. */
    public static List<String> parseOutput(String name, String text, Path root, Path dir) {
        return parse(name, text).stream().map(d -> {
            Path p = dir.resolve(d).normalize();
            return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
        }).toList();
    }

    static List<String> parse(String name, String text) {
        Set<String> deps = new LinkedHashSet<>();
        String joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
        int lineNo = 0;
        for (String line : joined.split("\n")) {
            lineNo++;
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            int colon = ruleColon(line);
            if (colon < 0) {
                // The line itself is not quoted: fabd may have been led to read a file its developer may not.
                throw new FabException(ExitStatus.DSCPARSE, "depfile %s:%d: expected `target: dependencies` (a line of %d characters without "
                        .formatted(name, lineNo, line.strip().length()) + "a rule's colon)");
            }
            deps.addAll(words(line.substring(colon + 1)));
        }
        return new ArrayList<>(deps);
    }

    /** The colon that separates targets from dependencies: followed by a blank or the end of the line. */
    private static int ruleColon(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == ':' && (i + 1 == line.length() || Character.isWhitespace(line.charAt(i + 1)))) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && s.charAt(i + 1) == ' ') {
                w.append(' ');
                i++;
            } else if (Character.isWhitespace(c)) {
                if (!w.isEmpty()) {
                    out.add(w.toString());
                    w.setLength(0);
                }
            } else {
                w.append(c);
            }
        }
        if (!w.isEmpty()) {
            out.add(w.toString());
        }
        return out;
    }
}
