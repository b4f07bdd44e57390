package dev.fabric.fab.ipc;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encoder and decoder of {@link IpcRecord}s. Layout: four magic bytes naming the record, a version
 * byte (1), then big-endian fields; strings are a 4-byte length and UTF-8. A file that does not
 * decode exactly (wrong magic, version, truncated, trailing bytes, bad UTF-8) is BADIPC (3).
 */
public final class IpcCodec {
    static final byte VERSION = 1;
    private static final int MAX_STRING = 1 << 20;
    private static final int MAX_ARGS = 1 << 16;

    private IpcCodec() {
    }

    public static byte[] encode(IpcRecord record) {
        Writer w = new Writer();
        switch (record) {
            case IpcRecord.Args a -> {
                w.head("FABA").i64(a.invocation()).i32(a.argv().size());
                a.argv().forEach(w::string);
            }
            case IpcRecord.Environment e -> {
                w.head("FABV").i64(e.invocation()).i32(e.umask()).i32(e.variables().size());
                e.variables().forEach(w::string);
            }
            case IpcRecord.Exit e -> w.head("FABX").i64(e.invocation()).i32(e.status());
            case IpcRecord.Error e -> w.head("FABE").i64(e.invocation()).i32(e.code()).string(e.message());
            case IpcRecord.Stages s -> w.head("FABS").i64(s.invocation()).i32(s.total()).i32(s.released());
            case IpcRecord.Commands c -> w.head("FABC").i64(c.invocation()).i32(c.total());
            case IpcRecord.CommandExit c -> w.head("FABR").i32(c.status());
        }
        return w.bytes();
    }

    /** Decodes {@code bytes} as a record of {@code type}; {@code file} names the source in errors. */
    public static <T extends IpcRecord> T decode(Class<T> type, byte[] bytes, String file) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            IpcRecord r;
            if (type == IpcRecord.Args.class) {
                head(in, "FABA", file);
                long id = in.getLong();
                int n = in.getInt();
                if (n < 0 || n > MAX_ARGS) {
                    throw corrupt(file, "argument count " + n);
                }
                List<String> argv = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    argv.add(string(in, file));
                }
                r = new IpcRecord.Args(id, argv);
            } else if (type == IpcRecord.Environment.class) {
                head(in, "FABV", file);
                long id = in.getLong();
                int umask = in.getInt();
                int n = in.getInt();
                if (n < 0 || n > MAX_ARGS) {
                    throw corrupt(file, "variable count " + n);
                }
                List<String> variables = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    variables.add(string(in, file));
                }
                r = new IpcRecord.Environment(id, umask, variables);
            } else if (type == IpcRecord.Exit.class) {
                head(in, "FABX", file);
                r = new IpcRecord.Exit(in.getLong(), in.getInt());
            } else if (type == IpcRecord.Error.class) {
                head(in, "FABE", file);
                r = new IpcRecord.Error(in.getLong(), in.getInt(), string(in, file));
            } else if (type == IpcRecord.Stages.class) {
                head(in, "FABS", file);
                r = new IpcRecord.Stages(in.getLong(), in.getInt(), in.getInt());
            } else if (type == IpcRecord.Commands.class) {
                head(in, "FABC", file);
                r = new IpcRecord.Commands(in.getLong(), in.getInt());
            } else if (type == IpcRecord.CommandExit.class) {
                head(in, "FABR", file);
                r = new IpcRecord.CommandExit(in.getInt());
            } else {
                throw new IllegalArgumentException("not an IPC record: " + type);
            }
            if (in.hasRemaining()) {
                throw corrupt(file, in.remaining() + " unexpected trailing byte(s)");
            }
            return type.cast(r);
        } catch (BufferUnderflowException e) {
            throw corrupt(file, "truncated at byte " + bytes.length);
        }
    }

    private static void head(ByteBuffer in, String magic, String file) {
        byte[] m = new byte[4];
        in.get(m);
        if (!new String(m, StandardCharsets.ISO_8859_1).equals(magic)) {
            throw corrupt(file, "not a " + magic + " record");
        }
        byte version = in.get();
        if (version != VERSION) {
            throw corrupt(file, "version " + version + ", this fab reads version " + VERSION);
        }
    }

    private static String string(ByteBuffer in, String file) {
        int n = in.getInt();
        if (n < 0 || n > MAX_STRING) {
            throw corrupt(file, "string length " + n);
        }
        if (n > in.remaining()) {
            throw corrupt(file, "truncated: a string of " + n + " byte(s) with " + in.remaining() + " left");
        }
        byte[] b = new byte[n];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(file, "a string is not UTF-8");
        }
    }

    private static FabException corrupt(String file, String what) {
        return new FabException(ExitStatus.BADIPC, "corrupt IPC file " + file + " (" + what
                + "): another program wrote it, or a different fab version; run fab again, or fab -B to restart the daemons");
    }

    private static final class Writer {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        Writer head(String magic) {
            out.writeBytes(magic.getBytes(StandardCharsets.ISO_8859_1));
            out.write(VERSION);
            return this;
        }

        Writer i32(int v) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
            return this;
        }

        Writer i64(long v) {
            out.writeBytes(ByteBuffer.allocate(8).putLong(v).array());
            return this;
        }

        Writer string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i32(b.length);
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
