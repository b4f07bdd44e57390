package dev.fabric.fab.posix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Users and groups from {@code /etc/passwd} and {@code /etc/group}: what the workspace container
 * has (no NSS service), and enough to find {@code fabsys} and a developer's supplementary groups.
 */
public final class Accounts {
    /** One account: names and numeric ids. */
    public record User(String name, int uid, int gid) {
    }

    private final Path passwd;
    private final Path group;

    public Accounts(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    public static Accounts system() {
        return new Accounts(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    public Optional<User> user(String name) {
        return users().stream().filter(u -> u.name().equals(name)).findFirst();
    }

    public Optional<User> user(int uid) {
        return users().stream().filter(u -> u.uid() == uid).findFirst();
    }

    /** The gid of a group by name. */
    public Optional<Integer> group(String name) {
        for (String[] f : fields(group)) {
            if (f.length >= 3 && f[0].equals(name)) {
                return Optional.of(Integer.parseInt(f[2]));
            }
        }
        return Optional.empty();
    }

    /** The user's primary group and every group that lists the user as a member. */
    public List<Integer> groupsOf(User user) {
        List<Integer> out = new ArrayList<>(List.of(user.gid()));
        for (String[] f : fields(group)) {
            if (f.length >= 4 && List.of(f[3].split(",")).contains(user.name())) {
                int gid = Integer.parseInt(f[2]);
                if (!out.contains(gid)) {
                    out.add(gid);
                }
            }
        }
        return out;
    }

    private List<User> users() {
        List<User> out = new ArrayList<>();
        for (String[] f : fields(passwd)) {
            if (f.length >= 4) {
                try {
                    out.add(new User(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3])));
                } catch (NumberFormatException malformed) {
                    // A line the C library would skip as well.
                }
            }
        }
        return out;
    }

    private static List<String[]> fields(Path file) {
        try {
            return Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).map(l -> l.split(":", -1)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
