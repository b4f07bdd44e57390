package dev.fabric.fab.exec;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the dependencies a formula discovered, written in make syntax as {@code gcc -MMD -MP -MF}
 * writes them ({@code target: dep dep \} with continuation lines, and {@code dep:} lines). A
 * depfile that is missing or cannot be read exits 8 (DSCPARSE).
 */
public final class Depfile {
    private Depfile() {
    }

    /** The discovered dependencies as node names: relative to {@code root}, paths in the file relative to {@code dir}. */
    public static List<String> read(Path root, Path dir, String depfile) {
        Path file = root.resolve(depfile);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new FabException(ExitStatus.DSCPARSE, "depfile " + depfile + " was not written by its formula or cannot be read: " + e.getMessage());
        }
        return parse(depfile, text).stream().map(d -> {
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
                throw new FabException(ExitStatus.DSCPARSE, "depfile %s:%d: expected `target: dependencies`, found `%s`"
                        .formatted(name, lineNo, line.strip()));
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
