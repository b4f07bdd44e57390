package dev.fabric.escrow.wire;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The message trace of the C escrow ({@code VERBOSE}): one line per message sent or
 * received, for example
 * <pre>
 * send: {GET   0   0} (-1)   0
 * recv: {REP  -2 "Non-existent index in a GET request."} (-1)   0
 * recv: {ADD   0   0   5    0} (6)   0
 * </pre>
 * that is the message, the descriptor number that travelled with it (-1 for none) and the
 * result of the send or receive (0 or a negated errno). The C code prints a TAG as
 * {@code {REP ...}}; we print {@code {TAG ...}}.
 */
public final class Trace {

    private final PrintStream out;

    private Trace(PrintStream out) {
        this.out = out;
    }

    /** A trace that prints to {@code out}, or prints nothing when {@code out} is null. */
    public static Trace to(PrintStream out) {
        return new Trace(out);
    }

    public static Trace off() {
        return new Trace(null);
    }

    public boolean enabled() {
        return out != null;
    }

    public void sent(Message message, int fd, int result) {
        line("send: " + format(message), fd, result);
    }

    public void received(Message message, int fd, int result) {
        line("recv: " + format(message), fd, result);
    }

    /** A received message that could not be decoded: {@code recv: {UNKNOWN 9} (-1) -71}. */
    public void receivedUnknown(int opcode, int fd, int result) {
        line("recv: {UNKNOWN " + opcode + "}", fd, result);
    }

    /** A received message that broke the protocol: {@code recv: {BAD ADD nob=99999} (-1) -22}. */
    public void receivedMalformed(String what, int fd, int result) {
        line("recv: {BAD " + what + "}", fd, result);
    }

    /** Free text, such as {@code Listening on "usock"}. */
    public void note(String text) {
        if (out != null) {
            out.println(text);
        }
    }

    private void line(String message, int fd, int result) {
        if (out != null) {
            out.println(message + String.format(Locale.ROOT, " (%d) %3d", fd, result));
        }
    }

    /** The C {@code mprint} format of one message. */
    public static String format(Message message) {
        return switch (message) {
            case Message.Add a -> String.format(Locale.ROOT, "{ADD %3d %3d %3d %4d}", a.tag(), a.idx(), a.ufd(), a.nob());
            case Message.Del(int tag, int idx) -> String.format(Locale.ROOT, "{DEL %3d %3d}", tag, idx);
            case Message.Rep(int rc, String text) -> String.format(Locale.ROOT, "{REP %3d \"%s\"}", rc, text);
            case Message.Tag(int tag) -> String.format(Locale.ROOT, "{TAG %3d}", tag);
            case Message.Inf(int nr, int total) -> String.format(Locale.ROOT, "{INF %4d %5d}", nr, total);
            case Message.Get(int tag, int idx) -> String.format(Locale.ROOT, "{GET %3d %3d}", tag, idx);
            case Message.GetBatch(int tag, int from, int max) -> String.format(Locale.ROOT, "{GTB %3d %3d %3d}", tag, from, max);
            case Message.Batch b -> String.format(Locale.ROOT, "{BLK %3d %3d %3d %3d}", b.tag(), b.entries().size(), b.descriptors(), b.next());
            case Message.Hel(int nrTags, int flags, long key) -> String.format(Locale.ROOT, "{HEL %3d %3d %d}", nrTags, flags, key);
        };
    }
}
