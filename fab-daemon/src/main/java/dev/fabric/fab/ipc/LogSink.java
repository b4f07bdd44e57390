package dev.fabric.fab.ipc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A daemon's side of a project's {@code logs}: appends tagged lines ({@link LogLine}). Opened in
 * append mode, so each line lands at the end even after the client truncated the file for its
 * command, and the lines of fabd and faba interleave whole.
 */
public final class LogSink {
    private final FileChannel channel;

    public LogSink(Path logs) {
        try {
            // Never through a link: faba opens it while still root.
            channel = FileChannel.open(logs, StandardOpenOption.WRITE, StandardOpenOption.APPEND, StandardOpenOption.CREATE, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + logs, e);
        }
    }

    public synchronized void line(char channelTag, String text) {
        String t = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        for (String l : t.split("\n", -1)) {
            write(new LogLine(channelTag, l).encode());
        }
    }

    private void write(String s) {
        try {
            channel.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // The client reads what it can; a daemon never stops for a log line it could not write.
        }
    }

    /** A stream whose every line becomes a tagged line (for the engine's {@code Log}, which prints whole lines). */
    public PrintStream stream(char channelTag) {
        return new PrintStream(new OutputStream() {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    flushLine();
                } else {
                    pending.write(b);
                }
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                for (int i = off; i < off + len; i++) {
                    write(b[i]);
                }
            }

            private void flushLine() {
                line(channelTag, pending.toString(StandardCharsets.UTF_8));
                pending.reset();
            }
        }, true, StandardCharsets.UTF_8);
    }
}
