package dev.fabric.cli.commands.watch;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.registry.Registry;
import dev.fabric.core.sse.ServerSentEvent;
import dev.fabric.core.sse.SseDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code fabric watch}: the registry's change stream, one line per change, resumed from the last
 * revision seen whenever the stream drops.
 */
@Command(name = "watch",
        description = {"Stream the registry's changes, one line per change.",
                "Reads GET /api/v1/watch (server-sent events) and prints",
                "  REVISION  TIME  KIND  INSTANCE  [FROM -> TO]  [session S]  [REASON]",
                "When the stream drops, it reconnects from the last revision seen: no change is",
                "missed or printed twice. Ctrl-C ends it."})
public final class WatchCommand extends FabricCommand {

    /** A connection that lasted this long was healthy: its drop starts a fresh count of failures. */
    static final Duration HEALTHY = Duration.ofSeconds(5);
    static final Duration FIRST_DELAY = Duration.ofMillis(500);
    static final Duration MAX_DELAY = Duration.ofSeconds(8);

    @Option(names = "--since", paramLabel = "REV",
            description = "print the changes after this revision (0: every change the registry keeps; default: from now on)")
    Long since;

    @Option(names = "--type", paramLabel = "T", description = "only changes of instances of this type")
    String type;

    @Option(names = "--retries", paramLabel = "N", defaultValue = "10",
            description = "reconnection attempts in a row before giving up (default ${DEFAULT-VALUE}; 0: never reconnect)")
    int retries;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "reconnect when the stream sends nothing, not even its keep-alive, for this long (default ${DEFAULT-VALUE}; 0: never)")
    int idleTimeoutSeconds;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table (one line per change) or json (one JSON object per change and line)")
    OutputFormat output;

    public WatchCommand(CommandContext context) {
        super(context);
    }

    @Override
    protected void execute() {
        if (retries < 0 || idleTimeoutSeconds < 0 || (since != null && since < 0)) {
            throw new CliException(ExitCodes.USAGE, "--since, --retries and --idle-timeout take numbers of 0 or more");
        }
        Registry registry = context.registry();
        // Without --since, start from the revision of a list: the registry's contract for missing nothing
        // from then on, including across a reconnection before the first change arrives.
        long start = since != null ? since : registry.revision();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("watch-idle")
                .factory());
        try {
            watch(registry, start, watchdog);
        } finally {
            watchdog.shutdownNow();
        }
    }

    /** Returns when stopped (Ctrl-C); a failure that is not retried, or too many in a row, is a {@link CliException}. */
    private void watch(Registry registry, long start, ScheduledExecutorService watchdog) {
        Output out = output();
        Stream stream = new Stream(start);
        int failures = 0;
        while (true) {
            Connection connection = new Connection();
            ScheduledFuture<?> idleCheck = idleTimeoutSeconds == 0 ? null
                    : watchdog.scheduleAtFixedRate(() -> connection.closeIfIdle(Duration.ofSeconds(idleTimeoutSeconds)), 1, 1, TimeUnit.SECONDS);
            String why;
            CliException failure = null;
            try {
                boolean reconnecting = failures > 0;
                registry.watch(stream.revision, () -> {
                    connection.opened();
                    if (reconnecting) {
                        out.note("fabric: watching " + registry.baseUrl() + " again from revision " + stream.revision);
                    }
                }, body -> read(body, connection, stream, out));
                why = "the registry at " + registry.baseUrl() + " ended the watch stream";
            } catch (CliException e) {
                if (stopped()) {
                    return;
                }
                if (e.exitCode() != ExitCodes.UNREACHABLE && e.exitCode() != ExitCodes.SERVER_ERROR) {
                    throw e;
                }
                failure = e;
                why = connection.idle ? "the watch stream from " + registry.baseUrl() + " sent nothing for " + idleTimeoutSeconds + " s"
                        : connection.openedAt != 0 && e.exitCode() == ExitCodes.UNREACHABLE ? "the watch stream from " + registry.baseUrl() + " dropped"
                        : e.getMessage();
            } finally {
                if (idleCheck != null) {
                    idleCheck.cancel(false);
                }
            }
            if (stopped()) {
                return;
            }
            if (connection.delivered || connection.lasted(HEALTHY)) {
                failures = 0;
            }
            failures++;
            if (failures > retries) {
                throw new CliException(failure == null ? ExitCodes.UNREACHABLE : failure.exitCode(),
                        why + "; gave up after " + retries + (retries == 1 ? " reconnection attempt" : " reconnection attempts")
                                + " (last revision seen: " + stream.revision + ")",
                        failure == null ? List.of() : failure.hints());
            }
            Duration delay = delay(failures, stream.decoderRetryMillis);
            out.note("fabric: " + why + "; reconnecting from revision " + stream.revision + " in " + seconds(delay)
                    + " (attempt " + failures + " of " + retries + ")");
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void read(InputStream body, Connection connection, Stream stream, Output out) throws IOException {
        connection.body = body;
        BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        SseDecoder decoder = new SseDecoder();
        String line;
        while (!stopped() && (line = reader.readLine()) != null) {
            connection.lastActivity = System.nanoTime();
            Optional<ServerSentEvent> event = decoder.line(line);
            if (decoder.retryMillis() > 0) {
                stream.decoderRetryMillis = decoder.retryMillis();
            }
            if (event.isEmpty()) {
                continue;
            }
            connection.delivered = true;
            long revision = revisionOf(event.get(), stream.revision);
            if (revision <= stream.revision && event.get().id() != null) {
                continue; // already printed before a reconnection
            }
            stream.revision = revision;
            print(event.get(), revision, out);
        }
    }

    private void print(ServerSentEvent event, long revision, Output out) {
        JsonMapper json = context.json();
        JsonNode data;
        Change change;
        try {
            data = json.readTree(event.data());
            change = Change.of(revision, event.type(), json.treeToValue(data, Change.Data.class));
        } catch (JacksonException e) {
            out.note("fabric: skipped change " + revision + " (" + event.type() + "): its data is not what this CLI reads: "
                    + e.getOriginalMessage());
            return;
        }
        if (type != null && (change.instance() == null || !type.equals(change.instance().type()))) {
            return;
        }
        if (output == OutputFormat.json) {
            ObjectNode line = json.createObjectNode().put("revision", revision).put("kind", event.type());
            if (data instanceof ObjectNode fields) {
                line.setAll(fields);
            }
            out.jsonLine(line);
        } else {
            out.line(change.line());
        }
    }

    private static long revisionOf(ServerSentEvent event, long previous) {
        try {
            return event.id() == null ? previous : Long.parseLong(event.id().strip());
        } catch (NumberFormatException e) {
            return previous;
        }
    }

    /** 0.5 s, 1 s, 2 s, 4 s, then 8 s: short enough for a registry restart, gentle for a long outage. */
    static Duration delay(int failures, long serverRetryMillis) {
        Duration first = serverRetryMillis > 0 ? Duration.ofMillis(serverRetryMillis) : FIRST_DELAY;
        Duration delay = first.multipliedBy(1L << Math.min(failures - 1, 10));
        return delay.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : delay;
    }

    private static String seconds(Duration delay) {
        return delay.toMillis() % 1000 == 0 ? delay.toSeconds() + " s" : String.format("%.1f s", delay.toMillis() / 1000.0);
    }

    /** The watching thread is interrupted by Ctrl-C (or by a caller that wants it to stop). */
    private static boolean stopped() {
        return Thread.currentThread().isInterrupted();
    }

    /** What survives reconnections: the last revision seen and the delay the server asked for. */
    private static final class Stream {
        volatile long revision;
        volatile long decoderRetryMillis;

        Stream(long revision) {
            this.revision = revision;
        }
    }

    /** One HTTP connection of the stream, watched for silence. */
    private static final class Connection {
        volatile long openedAt;
        volatile long lastActivity;
        volatile boolean delivered;
        volatile boolean idle;
        volatile InputStream body;

        void opened() {
            openedAt = System.nanoTime();
            lastActivity = openedAt;
        }

        boolean lasted(Duration duration) {
            return openedAt != 0 && System.nanoTime() - openedAt >= duration.toNanos();
        }

        /** Closing the body wakes the blocked reader with an IOException: the stream counts as dropped. */
        void closeIfIdle(Duration timeout) {
            InputStream current = body;
            if (current != null && !idle && System.nanoTime() - lastActivity > timeout.toNanos()) {
                idle = true;
                try {
                    current.close();
                } catch (IOException | RuntimeException e) {
                    // The reader fails either way.
                }
            }
        }
    }
}
