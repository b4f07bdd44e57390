package dev.fabric.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * A {@code fabric console} run by the real command on a thread of the test's own, as a user runs it:
 * the URL it printed, and Ctrl-C (an interrupt) to stop it.
 */
final class RunningConsole implements AutoCloseable {

    private static final Pattern URL = Pattern.compile("(http://[^/\\s]+)/login\\?token=(\\S+)");

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final AtomicInteger exitCode = new AtomicInteger(-1);
    private final Thread thread;
    private final String base;
    private final String token;

    /** Starts {@code fabric console --port 0 ARGS...} and waits until it prints its URL. */
    RunningConsole(Cli cli, String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "console";
        all[1] = "--port";
        all[2] = "0";
        System.arraycopy(args, 0, all, 3, args.length);
        thread = Thread.ofPlatform().name("fabric-console").start(() ->
                exitCode.set(cli.start(new PrintWriter(out, true), new PrintWriter(err, true)).execute(all)));
        await().atMost(Duration.ofSeconds(30)).until(() -> URL.matcher(out.toString()).find() || !thread.isAlive());
        Matcher url = URL.matcher(out.toString());
        if (!url.find()) {
            throw new IllegalStateException("fabric console printed no URL; it ended with " + exitCode.get() + ": " + err);
        }
        base = url.group(1);
        token = url.group(2);
    }

    /** {@code http://127.0.0.1:PORT} */
    String base() {
        return base;
    }

    String token() {
        return token;
    }

    String loginUrl() {
        return base + "/login?token=" + token;
    }

    URI uri(String path) {
        return URI.create(base + path);
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }

    /** Ctrl-C: the command stops its server and returns. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    int exitCode() {
        return exitCode.get();
    }
}
