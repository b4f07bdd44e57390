package dev.fabric.fab.plan;

import dev.fabric.fab.graph.Formula;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What fab remembers between runs, in {@code <root>/.fab/state}: for each formula, the hash of its
 * command text and of each source's content when it last succeeded; for each file hashed, its stamp
 * (size, modification time, inode and change time) and content hash, so an unchanged stamp skips
 * re-reading the file (a touched file is re-read, found unchanged, and rebuilds nothing). The inode
 * catches a file replaced by rename (an editor's atomic save, {@code git checkout}, {@code mv}), the
 * change time a copy that kept the size and modification time ({@code cp -p}). Text, one record per
 * line, tab-separated: {@code file name size mtime hash ino ctime},
 * {@code formula key hash (source hash)*} and {@code discovery source hash dependency* = (name hash)*}
 * (a source's hash {@code ~} when it changed while the command ran: {@link #CHANGED_WHILE_RUNNING});
 * a state file written before inodes were kept (five
 * fields a file) still loads, and its files are re-read once.
 */
public final class State {
    static final String FILE = ".fab/state";

    /** A formula's last successful run. */
    public record Built(String formulaHash, Map<String, String> sources) {
    }

    /**
     * A source's last discovery: the hash of the discovery command, the dependencies it printed, and the
     * content hash of the source and of each dependency then ({@link #ABSENT} for a file not there yet).
     */
    public record Discovered(String commandHash, List<String> dependencies, Map<String, String> hashes) {
        public Discovered {
            dependencies = List.copyOf(dependencies);
            hashes = Map.copyOf(hashes);
        }
    }

    /** The hash recorded for a file that did not exist (a generated header not made yet). */
    public static final String ABSENT = "-";

    /**
     * The hash recorded for a source changed while the command that read it ran: equal to no file's, so
     * the command runs again. The content it read is unknown.
     */
    public static final String CHANGED_WHILE_RUNNING = "~";

    /** What {@link #hash} says of a directory. */
    private static final String DIRECTORY = "dir";

    private record Stamp(long size, long mtime, long ino, long ctime, String hash) {
        /** Stamps of a state file that kept no inode or change time: never equal to a file's, so it is read again. */
        static final long UNKNOWN = -1;

        boolean matches(Stamp other) {
            return size == other.size && mtime == other.mtime && ino == other.ino && ctime == other.ctime;
        }
    }

    private final Path root;
    private final Map<String, Built> built = new HashMap<>();
    private final Map<String, Discovered> discovered = new HashMap<>();
    private final Map<String, Stamp> stamps = new HashMap<>();
    private final Map<String, String> formulaHashes = new HashMap<>();
    /** While a watcher vouches for every change, a stamp checked against the disk since is taken as is, without a stat. */
    private boolean trusted;
    /** Nodes whose stamp was checked against the disk and that no change was reported for since; sorted, so a directory's nodes are one range. */
    private final Marks fresh = new Marks();
    /**
     * Nodes seen to exist (targets, mostly: the planner asks whether each is there, never for its
     * content) and that no change was reported for since; taken as there without a stat while trusted.
     */
    private final Marks present = new Marks();
    /**
     * Directories (relative, "" for the root) known to contain no symbolic link on their path: a file is
     * reported by the watcher under its own name only when neither it nor a directory above it is a link.
     */
    private final NavigableMap<String, Boolean> realDirs = new TreeMap<>();
    /** Names reported changed since the last plan took them ({@link #takeChanged}). */
    private final Set<String> changed = new HashSet<>();
    /** Names looked at on the disk that the watcher never reports under their own name: every plan reads them again. */
    private final Set<String> unvouched = new HashSet<>();
    /** Moves when a plan's verdicts may no longer stand though nothing was reported: trust withdrawn, a success forgotten. */
    private long epoch;
    private final PlanMemo memo = new PlanMemo();

    /**
     * Names marked, looked up by hash (a no-op asks for every node of the graph) and sorted too, so that
     * a directory's names go at once.
     */
    private static final class Marks {
        private final Set<String> names = new HashSet<>();
        private final NavigableSet<String> sorted = new TreeSet<>();

        boolean contains(String name) {
            return names.contains(name);
        }

        void add(String name) {
            if (names.add(name)) {
                sorted.add(name);
            }
        }

        void remove(String name) {
            if (names.remove(name)) {
                sorted.remove(name);
            }
        }

        void removeWithEverythingUnder(String name) {
            remove(name);
            NavigableSet<String> under = sorted.subSet(name + "/", true, name + "0", false);
            names.removeAll(under);
            under.clear();
        }

        void clear() {
            names.clear();
            sorted.clear();
        }
    }

    private State(Path root) {
        this.root = root;
    }

    public static State load(Path root) {
        State state = new State(root);
        Path file = root.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return state;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t", -1);
                if ((f.length == 5 || f.length == 7) && f[0].equals("file")) {
                    long ino = f.length == 7 ? Long.parseLong(f[5]) : Stamp.UNKNOWN;
                    long ctime = f.length == 7 ? Long.parseLong(f[6]) : Stamp.UNKNOWN;
                    state.stamps.put(f[1], new Stamp(Long.parseLong(f[2]), Long.parseLong(f[3]), ino, ctime, f[4]));
                } else if (f.length >= 3 && f[0].equals("formula")) {
                    Map<String, String> sources = new TreeMap<>();
                    for (int i = 3; i + 1 < f.length; i += 2) {
                        sources.put(f[i], f[i + 1]);
                    }
                    state.built.put(f[1], new Built(f[2], sorted(sources)));
                } else if (f.length >= 4 && f[0].equals("discovery")) {
                    // discovery source command-hash dep... then "=" and name hash pairs
                    int eq = java.util.Arrays.asList(f).indexOf("=");
                    List<String> deps = List.of(f).subList(3, eq);
                    Map<String, String> hashes = new TreeMap<>();
                    for (int i = eq + 1; i + 1 < f.length; i += 2) {
                        hashes.put(f[i], f[i + 1]);
                    }
                    state.discovered.put(f[1], new Discovered(f[2], deps, hashes));
                }
            }
        } catch (IOException | RuntimeException e) {
            // A damaged state file costs a full rebuild, never a wrong build.
            state.built.clear();
            state.stamps.clear();
            state.discovered.clear();
        }
        return state;
    }

    public synchronized Built built(Formula formula) {
        return built.get(formula.key());
    }

    /**
     * Records a formula's successful run with what its command could have read: the content of each
     * source, or {@link #CHANGED_WHILE_RUNNING} for one changed at or after {@code started} (its change
     * time, in the file system's clock: see {@link #clock}). The command may have read such a source
     * before or after that change, so its next plan runs the command again; a hash taken now would
     * vouch for content the command never saw (a header saved after the compiler read it, with no hash
     * of it from before: a first build, a new source, a header a depfile names for the first time).
     */
    public void recordSuccess(Formula formula, List<String> fileSources, long started) {
        Map<String, String> hashes = new TreeMap<>();
        for (String s : fileSources) {
            String h = hash(s);
            if (h != null) {
                // Looked at after the hash: a change the hash read was made before this look, which sees its change time.
                hashes.put(s, !h.equals(DIRECTORY) && changedSince(s, started) ? CHANGED_WHILE_RUNNING : h);
            }
        }
        String fh = formulaHash(formula);
        synchronized (this) {
            built.put(formula.key(), new Built(fh, sorted(hashes)));
        }
    }

    /** A sorted map as a hash map that keeps the order: the planner looks a formula's sources up one by one, the state file lists them sorted. */
    private static Map<String, String> sorted(Map<String, String> bySortedKey) {
        Map<String, String> out = LinkedHashMap.newLinkedHashMap(bySortedKey.size());
        new TreeMap<>(bySortedKey).forEach(out::put);
        return out;
    }

    public synchronized Discovered discovered(String source) {
        return discovered.get(source);
    }

    /**
     * Records a source's discovery with the content of the source and of every dependency, or
     * {@link #CHANGED_WHILE_RUNNING} for one changed at or after the discovery command {@code started}
     * (as {@link #recordSuccess}): the discovery runs again next time.
     */
    public void recordDiscovery(String source, String command, List<String> dependencies, long started) {
        Map<String, String> hashes = new TreeMap<>();
        hashes.put(source, recorded(source, started));
        for (String d : dependencies) {
            hashes.put(d, recorded(d, started));
        }
        String ch = sha256(command.getBytes(StandardCharsets.UTF_8));
        synchronized (this) {
            discovered.put(source, new Discovered(ch, dependencies, hashes));
        }
    }

    private String recorded(String node, long started) {
        String h = hash(node);
        if (h == null) {
            return ABSENT;
        }
        return !h.equals(DIRECTORY) && changedSince(node, started) ? CHANGED_WHILE_RUNNING : h;
    }

    /**
     * Whether a file's change time is at or after {@code started}: it changed while a command that
     * started then ran (or it is gone now). Always a stat, trusted or not: the watcher's report of that
     * change is read only by the next command.
     */
    private boolean changedSince(String node, long started) {
        try {
            return nanos(Files.readAttributes(root.resolve(node), "unix:ctime").get("ctime")) >= started;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The file system's clock now, as the change time of {@code file} written twice: once, then again
     * until its change time moves. The kernel stamps files from a clock of its own, coarser than and
     * behind the wall clock; a file changed before this call, in the same tick as the first write, has a
     * change time before the one returned, and a file changed after it one at or after it. The wait is
     * at most a tick (with the multigrain timestamps of Linux 6.13, none: a change time looked at makes
     * the next one finer; about 0.1 ms in all on ext4).
     */
    public static long clock(Path file) {
        long first = written(file);
        long now = written(file);
        while (now <= first) {
            LockSupport.parkNanos(100_000);
            now = written(file);
        }
        return now;
    }

    private static long written(Path file) {
        try {
            Files.createDirectories(file.getParent());
            // Written, not only opened: a write always moves the change time. Not truncated: ext4 flushes a file
            // truncated and written again when it is closed (auto_da_alloc), which costs milliseconds.
            Files.write(file, new byte[] {'\n'}, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return clockOf(file);
    }

    /** The file system's clock when {@code file} was last written (or renamed into place): its change time. */
    public static long clockOf(Path file) {
        try {
            return nanos(Files.readAttributes(file, "unix:ctime", LinkOption.NOFOLLOW_LINKS).get("ctime"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the change time of " + file, e);
        }
    }

    /** Whether a discovery must run again: never ran, its command changed, or the source or a dependency changed. */
    public boolean discoveryStale(String source, String command) {
        Discovered d = discovered(source);
        if (d == null || !d.commandHash().equals(sha256(command.getBytes(StandardCharsets.UTF_8)))) {
            return true;
        }
        for (Map.Entry<String, String> e : d.hashes().entrySet()) {
            String now = hash(e.getKey());
            if (!e.getValue().equals(now == null ? ABSENT : now)) {
                return true;
            }
        }
        return false;
    }

    public synchronized void forget(Formula formula) {
        built.remove(formula.key());
        epoch++;
    }

    /** The hash of a formula's command and directory, as {@link Built#formulaHash} records it. */
    public static String formulaHashOf(Formula formula) {
        return sha256(formulaText(formula).getBytes(StandardCharsets.UTF_8));
    }

    /** {@link #formulaHashOf}, remembered: a plan compares every formula's, and the commands seldom change. */
    public String formulaHash(Formula formula) {
        String text = formulaText(formula);
        synchronized (this) {
            String known = formulaHashes.get(text);
            if (known != null) {
                return known;
            }
        }
        String h = sha256(text.getBytes(StandardCharsets.UTF_8));
        synchronized (this) {
            if (formulaHashes.size() > 2 * built.size() + 1024) {
                // Commands of models interpreted since: forgotten now and then, so the cache stays the size of the graph.
                formulaHashes.clear();
            }
            formulaHashes.put(text, h);
        }
        return h;
    }

    private static String formulaText(Formula formula) {
        return formula.dir().toString() + "\n" + formula.command();
    }

    /**
     * Trust the stamps (fabd, while faba's watcher reports every change): files not marked
     * {@link #dirty} are not even stat-ed. Off: every file is stat-ed and re-read when its stamp moved.
     */
    public synchronized void trust(boolean on) {
        trusted = on;
        if (!on) {
            epoch++;
            fresh.clear();
            present.clear();
            realDirs.clear();
        }
    }

    /**
     * A path the watcher saw change: its next {@link #hash} looks at the disk, and so does the next
     * hash of every node under it (a directory renamed, removed or moved in reports only its own name).
     */
    public synchronized void dirty(String node) {
        changed.add(node);
        fresh.removeWithEverythingUnder(node);
        present.removeWithEverythingUnder(node);
        realDirs.remove(node);
        realDirs.subMap(node + "/", node + "0").clear();
    }

    /**
     * Whether a file node exists (following a link, as {@link Files#exists}). While trusted, a node
     * checked since its last reported change is taken as there without a stat: a no-op build of a
     * large tree asks this of every target and every source, and the watcher reports every removal.
     */
    public boolean exists(String node) {
        synchronized (this) {
            if (trusted && (present.contains(node) || fresh.contains(node) && stamps.containsKey(node))) {
                return true;
            }
        }
        Path p = root.resolve(node);
        if (!Files.exists(p)) {
            synchronized (this) {
                present.remove(node);
            }
            return false;
        }
        boolean reported = reportedUnderItsName(p, node);
        synchronized (this) {
            if (reported) {
                present.add(node);
            } else {
                unvouched.add(node);
            }
        }
        return true;
    }

    /** Content hash of a file node, or null when the file does not exist. */
    public String hash(String node) {
        synchronized (this) {
            Stamp known = stamps.get(node);
            if (trusted && known != null && fresh.contains(node)) {
                return known.hash();
            }
        }
        Path p = root.resolve(node);
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(p, "unix:isDirectory,size,lastModifiedTime,ino,ctime");
        } catch (NoSuchFileException e) {
            synchronized (this) {
                stamps.remove(node);
                fresh.remove(node);
                present.remove(node);
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if ((Boolean) attrs.get("isDirectory")) {
            return DIRECTORY;
        }
        Stamp seen = new Stamp((Long) attrs.get("size"), nanos(attrs.get("lastModifiedTime")), (Long) attrs.get("ino"),
                nanos(attrs.get("ctime")), null);
        boolean reported = reportedUnderItsName(p, node);
        synchronized (this) {
            if (!reported) {
                unvouched.add(node);
            }
            Stamp s = stamps.get(node);
            if (s != null && s.matches(seen)) {
                if (reported) {
                    fresh.add(node);
                }
                return s.hash();
            }
        }
        String h;
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            h = HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        synchronized (this) {
            stamps.put(node, new Stamp(seen.size(), seen.mtime(), seen.ino(), seen.ctime(), h));
            if (reported) {
                fresh.add(node);
            }
        }
        return h;
    }

    /** Whether the watcher vouches for every change now ({@link #trust}). */
    synchronized boolean trusted() {
        return trusted;
    }

    synchronized long epoch() {
        return epoch;
    }

    /** The names reported changed since the last call: each plan takes them once. */
    synchronized Set<String> takeChanged() {
        Set<String> out = new HashSet<>(changed);
        changed.clear();
        return out;
    }

    /** Names never taken on trust: links, files under {@code .git} or a linked directory, files outside the project. */
    synchronized Set<String> unvouched() {
        return new HashSet<>(unvouched);
    }

    /** The last full plan's memo (fabd's incremental planning); a state read afresh has an empty one. */
    PlanMemo memo() {
        return memo;
    }

    /** The state file's content: what {@link #save} writes and {@link #load} reads. */
    public synchronized List<String> lines() {
        List<String> lines = new ArrayList<>();
        new TreeMap<>(stamps).forEach((k, s) -> lines.add("file\t" + k + "\t" + s.size() + "\t" + s.mtime() + "\t" + s.hash()
                + "\t" + s.ino() + "\t" + s.ctime()));
        new TreeMap<>(built).forEach((k, b) -> {
            StringBuilder sb = new StringBuilder("formula\t").append(k).append('\t').append(b.formulaHash());
            b.sources().forEach((s, h) -> sb.append('\t').append(s).append('\t').append(h));
            lines.add(sb.toString());
        });
        new TreeMap<>(discovered).forEach((k, d) -> {
            StringBuilder sb = new StringBuilder("discovery\t").append(k).append('\t').append(d.commandHash());
            d.dependencies().forEach(dep -> sb.append('\t').append(dep));
            sb.append("\t=");
            new TreeMap<>(d.hashes()).forEach((name, h) -> sb.append('\t').append(name).append('\t').append(h));
            lines.add(sb.toString());
        });
        return lines;
    }

    /** Where the state of a project lives. */
    public static Path file(Path root) {
        return root.resolve(FILE);
    }

    public synchronized void save() {
        Path file = root.resolve(FILE);
        List<String> lines = lines();
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("state.tmp");
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /**
     * Whether the watcher reports a change to this file under the node's own name: not for a symbolic
     * link (an edit of its target names the target), a file under a linked directory, a file in a
     * {@code .git} or {@code .fab} directory (not watched), or a file outside the root. Those are never taken on trust: each build stats them.
     */
    private boolean reportedUnderItsName(Path p, String node) {
        if (Path.of(node).isAbsolute() || Files.isSymbolicLink(p)) {
            return false;
        }
        for (Path part : Path.of(node)) {
            // The watcher skips these directories wherever they are (TreeWatcher): nothing in them is ever reported.
            if (part.toString().equals(".git") || part.toString().equals(".fab")) {
                return false;
            }
        }
        Path parent = Path.of(node).getParent();
        String dir = parent == null ? "" : parent.toString();
        synchronized (this) {
            Boolean known = realDirs.get(dir);
            if (known != null) {
                return known;
            }
        }
        boolean real;
        try {
            Path d = p.getParent();
            real = d.toRealPath().equals(d);
        } catch (IOException e) {
            real = false;
        }
        synchronized (this) {
            realDirs.put(dir, real);
        }
        return real;
    }

    private static long nanos(Object fileTime) {
        return ((FileTime) fileTime).to(TimeUnit.NANOSECONDS);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
