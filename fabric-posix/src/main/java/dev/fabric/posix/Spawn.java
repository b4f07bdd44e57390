package dev.fabric.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Starts a program with {@code posix_spawn(3)} (glibc: {@code clone(CLONE_VM|CLONE_VFORK)} and
 * {@code execve}, nothing of the JVM copied), for a caller that starts many short processes: the
 * JDK's {@code ProcessBuilder} goes through its {@code jspawnhelper} (two {@code exec}s a process)
 * and a session of one's own costs a third ({@code setsid(1)}).
 * <pre>{@code
 * Child child = Spawn.of(Path.of("/bin/echo"), List.of("echo", "hi"))
 *         .directory(sandbox).environment(Map.of("PATH", "/usr/bin:/bin"))
 *         .stdin(Path.of("/dev/null")).stdout(sandbox.resolve("out")).stderr(sandbox.resolve("err"))
 *         .newSession(true)
 *         .start();                               // PosixException when it cannot be started
 * int status = child.exitStatus().get();          // 0..255, or 128 + the signal that ended it
 * }</pre>
 * The child gets exactly the environment given (none when none is given), standard input from the
 * {@link #stdin} file, standard output and error truncated into theirs, no other descriptor of the
 * JVM (all from 3 on are closed, {@code posix_spawn_file_actions_addclosefrom_np}), an empty signal
 * mask and every signal at its default action. The program is the path given: no {@code PATH}
 * search (a caller resolves a bare name on the child's own {@code PATH} first); a relative one is
 * found from {@link #directory}. With {@link #newSession} it leads a session and process group of its own
 * ({@code POSIX_SPAWN_SETSID}), so a signal to the group reaches what it forks.
 * <p>
 * Needs glibc 2.34 or later ({@link #available}); elsewhere a caller keeps the JDK's way.
 */
@SuppressWarnings("restricted") // native access is the point of this class
public final class Spawn {

    // Linux, the same on x86-64 and arm64.
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;
    private static final int FILE_MODE = 0666; // less the umask, as the JDK's redirects
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    static final int ENOENT = 2;
    static final int ENOTDIR = 20;
    // Room for the C library's opaque types: posix_spawn_file_actions_t is 80 bytes and
    // posix_spawnattr_t 336 on glibc x86-64, sigset_t 128; the init functions write within their own size.
    private static final long OPAQUE = 1024;
    private static final long SIGSET = 128;

    private static final Downcall SPAWN = Downcall.of("posix_spawn", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
            ADDRESS, ADDRESS));
    private static final Downcall ACTIONS_INIT = Downcall.of("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall ACTIONS_DESTROY = Downcall.of("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT,
            ADDRESS));
    private static final Downcall ADD_OPEN = Downcall.of("posix_spawn_file_actions_addopen", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final Downcall ADD_CHDIR = Downcall.of("posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            ADDRESS));
    private static final Downcall ADD_CLOSEFROM = Downcall.of("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT));
    private static final Downcall ATTR_INIT = Downcall.of("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall ATTR_DESTROY = Downcall.of("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall ATTR_FLAGS = Downcall.of("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            JAVA_SHORT));
    private static final Downcall ATTR_SIGMASK = Downcall.of("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            ADDRESS));
    private static final Downcall ATTR_SIGDEFAULT = Downcall.of("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            ADDRESS));
    private static final Downcall SIGEMPTYSET = Downcall.of("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall SIGFILLSET = Downcall.of("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private static final List<Downcall> ALL = List.of(SPAWN, ACTIONS_INIT, ACTIONS_DESTROY, ADD_OPEN, ADD_CHDIR, ADD_CLOSEFROM,
            ATTR_INIT, ATTR_DESTROY, ATTR_FLAGS, ATTR_SIGMASK, ATTR_SIGDEFAULT, SIGEMPTYSET, SIGFILLSET);

    private final Path program;
    private final List<String> arguments;
    private Environment environment = Environment.empty();
    private Path directory;
    private Path stdin;
    private Path stdout;
    private Path stderr;
    private boolean newSession;

    private Spawn(Path program, List<String> arguments) {
        this.program = Objects.requireNonNull(program, "program");
        if (arguments.isEmpty()) {
            throw new IllegalArgumentException("no arguments: the first is the program's name (argv[0])");
        }
        this.arguments = List.copyOf(arguments);
    }

    /** Whether this C library has every call a spawn makes (glibc 2.34+; musl lacks the {@code _np} ones). */
    public static boolean available() {
        return ALL.stream().allMatch(Downcall::available);
    }

    /** A spawn of {@code program} with {@code arguments}, the first of them its name ({@code argv[0]}). */
    public static Spawn of(Path program, List<String> arguments) {
        return new Spawn(program, arguments);
    }

    /**
     * The child's whole environment (none by default: nothing of the JVM's is passed on unasked).
     *
     * @throws IllegalArgumentException for a name that is empty or holds {@code =} or NUL, or a value with NUL ({@link Environment#with})
     */
    public Spawn environment(Map<String, String> environment) {
        this.environment = Environment.of(environment);
        return this;
    }

    /** The child's whole environment, encoded already: for many spawns with much of it the same ({@link Environment#with}). */
    public Spawn environment(Environment environment) {
        this.environment = Objects.requireNonNull(environment, "environment");
        return this;
    }

    /** The directory the child starts in (the JVM's by default). */
    public Spawn directory(Path directory) {
        this.directory = directory;
        return this;
    }

    /** A file to read standard input from (the JVM's own by default). */
    public Spawn stdin(Path file) {
        this.stdin = file;
        return this;
    }

    /** A file standard output goes to, made or truncated (the JVM's own by default). */
    public Spawn stdout(Path file) {
        this.stdout = file;
        return this;
    }

    /** A file standard error goes to, made or truncated (the JVM's own by default). */
    public Spawn stderr(Path file) {
        this.stderr = file;
        return this;
    }

    /** Whether the child leads a session and process group of its own. */
    public Spawn newSession(boolean newSession) {
        this.newSession = newSession;
        return this;
    }

    /**
     * Starts the child; it has run its {@code execve} when this returns.
     *
     * @throws PosixException when it cannot be started: the call names the program and directory,
     *         the errno says why ({@code ENOENT} no such program, {@code EACCES} not executable,
     *         {@code ENOEXEC} not a program; {@code ENOENT}/{@code ENOTDIR} for the directory)
     */
    public Child start() {
        String what = "posix_spawn of " + program + (directory == null ? "" : " in " + directory);
        if (directory != null && !Files.isDirectory(directory)) {
            throw new PosixException("chdir to " + directory + " for " + program, Files.exists(directory) ? ENOTDIR : ENOENT);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(OPAQUE, 16);
            MemorySegment attributes = arena.allocate(OPAQUE, 16);
            check(what, ACTIONS_INIT.value(h -> (int) h.invokeExact(actions)));
            try {
                check(what, ATTR_INIT.value(h -> (int) h.invokeExact(attributes)));
                try {
                    // Absolute paths: the files are opened before the chdir, whatever the order of the actions.
                    open(arena, actions, what, 0, stdin, O_RDONLY);
                    open(arena, actions, what, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC);
                    open(arena, actions, what, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC);
                    check(what, ADD_CLOSEFROM.value(h -> (int) h.invokeExact(actions, 3)));
                    if (directory != null) {
                        MemorySegment path = arena.allocateFrom(directory.toAbsolutePath().toString());
                        check(what, ADD_CHDIR.value(h -> (int) h.invokeExact(actions, path)));
                    }
                    MemorySegment none = arena.allocate(SIGSET, 16);
                    MemorySegment all = arena.allocate(SIGSET, 16);
                    check(what, SIGEMPTYSET.value(h -> (int) h.invokeExact(none)));
                    check(what, SIGFILLSET.value(h -> (int) h.invokeExact(all)));
                    check(what, ATTR_SIGMASK.value(h -> (int) h.invokeExact(attributes, none)));
                    check(what, ATTR_SIGDEFAULT.value(h -> (int) h.invokeExact(attributes, all)));
                    short flags = (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? POSIX_SPAWN_SETSID : 0));
                    check(what, ATTR_FLAGS.value(h -> (int) h.invokeExact(attributes, flags)));

                    MemorySegment pid = arena.allocate(JAVA_INT);
                    MemorySegment path = arena.allocateFrom(program.toString());
                    MemorySegment argv = strings(arena, arguments.stream().map(argument -> argument.getBytes(StandardCharsets.UTF_8))
                            .toArray(byte[][]::new));
                    MemorySegment envp = strings(arena, environment.entries());
                    check(what, SPAWN.value(h -> (int) h.invokeExact(pid, path, actions, attributes, argv, envp)));
                    return new Child(pid.get(JAVA_INT, 0));
                } finally {
                    ATTR_DESTROY.value(h -> (int) h.invokeExact(attributes));
                }
            } finally {
                ACTIONS_DESTROY.value(h -> (int) h.invokeExact(actions));
            }
        }
    }

    private static void open(Arena arena, MemorySegment actions, String what, int fd, Path file, int flags) {
        if (file == null) {
            return;
        }
        MemorySegment path = arena.allocateFrom(file.toAbsolutePath().toString());
        check(what, ADD_OPEN.value(h -> (int) h.invokeExact(actions, fd, path, flags, FILE_MODE)));
    }

    /** The posix_spawn functions return the errno itself, 0 for success. */
    private static void check(String what, int rc) {
        if (rc != 0) {
            throw new PosixException(what, rc);
        }
    }

    /**
     * A NULL-terminated array of C strings, the strings in one block of memory (one allocation, not one
     * each: a task's environment is dozens of them), the array's pointers written as addresses into it.
     */
    private static MemorySegment strings(Arena arena, byte[][] encoded) {
        long total = 0;
        for (byte[] string : encoded) {
            total += string.length + 1;
        }
        // Zeroed: each string's terminating NUL is already there.
        MemorySegment block = arena.allocate(Math.max(1, total));
        MemorySegment array = arena.allocate(ADDRESS, encoded.length + 1L);
        long offset = 0;
        for (int i = 0; i < encoded.length; i++) {
            MemorySegment.copy(encoded[i], 0, block, JAVA_BYTE, offset, encoded[i].length);
            array.setAtIndex(JAVA_LONG, i, block.address() + offset); // an address is 64 bits on the platforms this runs on
            offset += encoded[i].length + 1;
        }
        array.setAtIndex(JAVA_LONG, encoded.length, 0L);
        return array;
    }
}
