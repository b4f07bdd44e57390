package dev.fabric.posix;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A child's environment, each variable encoded once as the C library takes it ({@code NAME=value},
 * UTF-8): for a caller that starts many processes with the same large environment and a few
 * variables of each child's own ({@link #with}), so a spawn copies bytes instead of building a map
 * and a string per variable each time.
 * <pre>{@code
 * Environment base = Environment.of(System.getenv());            // once
 * Spawn.of(program, arguments).environment(base.with(Map.of("TASK", id))).start();
 * }</pre>
 * Immutable; the order is the base's, then the added variables'.
 */
public final class Environment {

    private static final Environment EMPTY = new Environment(new String[0], new byte[0][]);

    private final String[] names;
    private final byte[][] entries;

    private Environment(String[] names, byte[][] entries) {
        this.names = names;
        this.entries = entries;
    }

    /** No variable at all. */
    public static Environment empty() {
        return EMPTY;
    }

    /** The variables of {@code variables}, in its order. */
    public static Environment of(Map<String, String> variables) {
        return EMPTY.with(variables);
    }

    /**
     * This environment with {@code variables} added, each replacing the one of the same name here.
     *
     * @throws IllegalArgumentException for a name that is empty or holds {@code =} or NUL, or a value with NUL
     */
    public Environment with(Map<String, String> variables) {
        if (variables.isEmpty()) {
            return this;
        }
        List<String> newNames = new ArrayList<>(names.length + variables.size());
        List<byte[]> newEntries = new ArrayList<>(names.length + variables.size());
        for (int i = 0; i < names.length; i++) {
            if (!variables.containsKey(names[i])) {
                newNames.add(names[i]);
                newEntries.add(entries[i]);
            }
        }
        variables.forEach((name, value) -> {
            Objects.requireNonNull(value, () -> "the value of " + name);
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0 || value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("not an environment variable: " + name + " (a name is not empty and has no '=' "
                        + "or NUL; a value has no NUL)");
            }
            newNames.add(name);
            newEntries.add((name + "=" + value).getBytes(StandardCharsets.UTF_8));
        });
        return new Environment(newNames.toArray(String[]::new), newEntries.toArray(byte[][]::new));
    }

    /** The value of {@code name}, or null when it is not set. */
    public String get(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                String entry = new String(entries[i], StandardCharsets.UTF_8);
                return entry.substring(name.length() + 1);
            }
        }
        return null;
    }

    /** How many variables there are. */
    public int size() {
        return names.length;
    }

    /** The encoded variables, {@code NAME=value} without their terminating NUL: for {@link Spawn}, which reads and never writes them. */
    byte[][] entries() {
        return entries;
    }
}
