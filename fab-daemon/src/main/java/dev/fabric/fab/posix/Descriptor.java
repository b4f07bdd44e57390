package dev.fabric.fab.posix;

import dev.fabric.posix.Downcall;
import dev.fabric.posix.PosixException;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An open file descriptor, and the calls that act through it or relative to it ({@code openat},
 * {@code mkdirat}, {@code fstatat}, {@code fchmod}, {@code fchown}, {@code unlinkat}), so that a
 * process with more rights than the owner of a directory never resolves a name in it twice and never
 * follows a link someone else placed there: every open is {@code O_NOFOLLOW}, every look
 * {@code AT_SYMLINK_NOFOLLOW}. This is how root and fabsys touch the directories developers can write
 * (docs/fab.md, "What a developer cannot do"). Paths given to {@link #open} are followed up to their
 * last component, which is not: callers name directories whose parents belong to root.
 */
public final class Descriptor implements AutoCloseable {
    /** What {@link #stat} says about a file. */
    public record Stat(int mode, int uid, int gid) {
        private static final int S_IFMT = 0170000;

        public boolean isDirectory() {
            return (mode & S_IFMT) == 0040000;
        }

        public boolean isRegularFile() {
            return (mode & S_IFMT) == 0100000;
        }

        public boolean isSymbolicLink() {
            return (mode & S_IFMT) == 0120000;
        }

        /** The permission bits with setuid, setgid and sticky. */
        public int permissions() {
            return mode & 07777;
        }
    }

    /** A file as {@link #read} found it: what it is, and its bytes when it is a regular file. */
    public record Contents(Stat stat, byte[] bytes) {
    }

    public static final int ELOOP = 40;
    public static final int ENOENT = 2;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;

    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final boolean ARM = switch (System.getProperty("os.arch")) {
        case "aarch64", "arm64" -> true;
        default -> false;
    };
    private static final int O_DIRECTORY = ARM ? 040000 : 0200000;
    private static final int O_NOFOLLOW = ARM ? 0100000 : 0400000;
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_REMOVEDIR = 0x200;
    /** struct stat of the two ABIs: st_mode, st_uid, st_gid offsets (x86-64; the generic layout of arm64 and riscv64). */
    private static final long ST_MODE = ARM ? 16 : 24;
    private static final long ST_UID = ARM ? 24 : 28;
    private static final long ST_GID = ARM ? 28 : 32;
    private static final long STAT_SIZE = 256;

    private static final Downcall OPENAT = Downcall.capturingErrno("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(3));
    private static final Downcall MKDIRAT = Downcall.capturingErrno("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final Downcall FSTATAT = Downcall.capturingErrno("fstatat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final Downcall FCHMOD = Downcall.capturingErrno("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall FCHOWN = Downcall.capturingErrno("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall FCHOWNAT = Downcall.capturingErrno("fchownat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final Downcall UNLINKAT = Downcall.capturingErrno("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final Downcall READ = Downcall.capturingErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final Downcall CLOSE = Downcall.capturingErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final int fd;
    private final String name;

    private Descriptor(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /** The directory {@code dir}, its last component not followed: a link there is ELOOP. */
    public static Descriptor openDirectory(Path dir) {
        return new Descriptor(openAt(AT_FDCWD, dir.toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, dir.toString()), dir.toString());
    }

    /** The file {@code file} for reading, its last component not followed (a link there is ELOOP); a FIFO does not block. */
    public static Descriptor openFile(Path file) {
        return new Descriptor(openAt(AT_FDCWD, file.toString(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0, file.toString()), file.toString());
    }

    /**
     * The file {@code file} as it is when opened, its last component not followed (a link is ELOOP,
     * missing is ENOENT): what it is, checked through the descriptor that is read, so the bytes are those
     * of the file whose owner the caller checks; null bytes when it is not a regular file.
     */
    public static Contents read(Path file) {
        try (Descriptor d = openFile(file)) {
            Stat st = d.stat();
            return new Contents(st, st.isRegularFile() ? d.readAll() : null);
        }
    }

    /** The subdirectory {@code entry}, not followed. */
    public Descriptor directory(String entry) {
        return new Descriptor(openAt(fd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, child(entry)), child(entry));
    }

    /**
     * The file {@code entry}, created with {@code mode} when missing, never through a link (ELOOP) and
     * never a FIFO's blocking open; opened for writing only when created, so an existing file is only
     * looked at.
     */
    public Descriptor file(String entry, int mode) {
        try {
            return new Descriptor(openAt(fd, entry, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode, child(entry)), child(entry));
        } catch (PosixException e) {
            if (e.errno() != EEXIST) {
                throw e;
            }
            return new Descriptor(openAt(fd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0, child(entry)), child(entry));
        }
    }

    /** Creates the subdirectory {@code entry} with {@code mode} (less the umask) unless something of that name exists. */
    public void makeDirectory(String entry, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(entry);
            MKDIRAT.call("mkdirat " + child(entry), (h, state) -> (int) h.invokeExact(state, fd, n, mode));
        } catch (PosixException e) {
            if (e.errno() != EEXIST) {
                throw e;
            }
        }
    }

    /** What this descriptor refers to (fstat). */
    public Stat stat() {
        return statAt("", 0x1000 /* AT_EMPTY_PATH */).orElseThrow();
    }

    /** What {@code entry} is, not followed, or empty when there is none. */
    public Optional<Stat> stat(String entry) {
        return statAt(entry, AT_SYMLINK_NOFOLLOW);
    }

    private Optional<Stat> statAt(String entry, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(entry);
            MemorySegment st = arena.allocate(STAT_SIZE, 8);
            FSTATAT.call("fstatat " + child(entry), (h, state) -> (int) h.invokeExact(state, fd, n, st, flags));
            return Optional.of(new Stat(st.get(JAVA_INT, ST_MODE), st.get(JAVA_INT, ST_UID), st.get(JAVA_INT, ST_GID)));
        } catch (PosixException e) {
            if (e.errno() == ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** fchmod(2): the mode of what is open, setgid and sticky included. */
    public void chmod(int mode) {
        FCHMOD.call("fchmod " + name, (h, state) -> (int) h.invokeExact(state, fd, mode));
    }

    /** fchown(2). */
    public void chown(int uid, int gid) {
        FCHOWN.call("fchown " + name, (h, state) -> (int) h.invokeExact(state, fd, uid, gid));
    }

    /** The owner of {@code entry} itself (a link stays a link); nothing when there is no such entry. */
    public void chown(String entry, int uid, int gid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(entry);
            FCHOWNAT.call("fchownat " + child(entry), (h, state) -> (int) h.invokeExact(state, fd, n, uid, gid, AT_SYMLINK_NOFOLLOW));
        } catch (PosixException e) {
            if (e.errno() != ENOENT) {
                throw e;
            }
        }
    }

    /** Removes the entry {@code entry} (a link itself, never its target); {@code directory} for an empty directory. */
    public void unlink(String entry, boolean directory) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocateFrom(entry);
            int flags = directory ? AT_REMOVEDIR : 0;
            UNLINKAT.call("unlinkat " + child(entry), (h, state) -> (int) h.invokeExact(state, fd, n, flags));
        }
    }

    /** Everything that is left to read. */
    public byte[] readAll() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1 << 16);
            while (true) {
                long n = READ.callRetryingInterrupted("read " + name, (h, state) -> (long) h.invokeExact(state, fd, buf, buf.byteSize()));
                if (n == 0) {
                    return out.toByteArray();
                }
                out.write(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), 0, (int) n);
            }
        }
    }

    @Override
    public void close() {
        CLOSE.call("close " + name, (h, state) -> (int) h.invokeExact(state, fd));
    }

    private String child(String entry) {
        return name + "/" + entry;
    }

    private static int openAt(int dir, String path, int flags, int mode, String display) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path);
            return OPENAT.call("open " + display, (h, state) -> (int) h.invokeExact(state, dir, p, flags, mode));
        }
    }
}
