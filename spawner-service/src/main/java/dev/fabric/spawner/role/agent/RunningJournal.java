package dev.fabric.spawner.role.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's small journal of the tasks it holds leases for ({@value #FILE_NAME} in its data
 * directory), so that a restart under its id knows what its previous incarnation was running: one
 * JSON line per step of a task (leased, started as a process, its final event published, its lease
 * acknowledged). Lines are written, not forced: they outlive the agent's process (a kill -9), not
 * its host, which takes the agent's tasks and sandbox with it anyway. A torn last line (the agent
 * died while writing it) is ignored. The file is rewritten with only the open tasks once it has grown.
 * <p>
 * The steps of many tasks go in one write: the leases of one lease request together, the acks of one
 * ack together, and the {@code published} lines of one publish wait in memory until {@link #flush}
 * (the agent flushes once a publish's events are all acknowledged, and before it sends their acks).
 * A task's {@code started} line is written at once, and writes what waits before it.
 */
final class RunningJournal implements AutoCloseable {

    static final String FILE_NAME = "agent-journal.jsonl";
    private static final int COMPACT_AFTER_LINES = 20_000;

    /** One line. {@code step} is {@code leased}, {@code started}, {@code published}, {@code acked} or {@code released}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Line(String step, String task, String pilot, String lease, Integer attempt, Long pid, Instant started) {}

    /** A task's lease: what a {@code leased} line records. */
    record Lease(String task, String pilot, String lease, int attempt) {}

    /** A task whose lease was not yet acknowledged, as the journal tells it. */
    record Open(String task, String pilot, String lease, int attempt, Long pid, Instant started, boolean published) {}

    private final Path file;
    private final JsonMapper json;
    private final ObjectWriter lineWriter;
    /** Lines waiting for the next write. */
    private final StringBuilder unwritten = new StringBuilder();
    private final Map<String, Open> open = new LinkedHashMap<>();
    /** A stream, not a FileChannel: an interrupted thread would close a channel for every thread. */
    private OutputStream out;
    private int lines;

    private RunningJournal(Path file, JsonMapper json) {
        this.file = file;
        this.json = json;
        this.lineWriter = json.writerFor(Line.class);
    }

    /** Opens the journal in {@code directory}, reading what an earlier incarnation left there. */
    static RunningJournal open(Path directory, JsonMapper json) throws IOException {
        RunningJournal journal = new RunningJournal(directory.resolve(FILE_NAME), json);
        journal.replay();
        journal.rewrite();
        return journal;
    }

    Path file() {
        return file;
    }

    /** The tasks still open: what the previous incarnation was holding when it ended. */
    synchronized List<Open> open() {
        return List.copyOf(open.values());
    }

    synchronized void leased(String task, String pilot, String lease, int attempt) throws IOException {
        leased(List.of(new Lease(task, pilot, lease, attempt)));
    }

    /** The leases one lease request brought, in one write. */
    synchronized void leased(List<Lease> leases) throws IOException {
        for (Lease lease : leases) {
            add(new Line("leased", lease.task(), lease.pilot(), lease.lease(), lease.attempt(), null, null));
        }
        flush();
    }

    /**
     * The task's process started: its pid, and the time the agent took as it started it (a
     * restart kills a process of that pid only when it started within {@link ProcessTree#START_TOLERANCE} of it).
     */
    synchronized void started(String task, String lease, long pid, Instant started) throws IOException {
        add(new Line("started", task, null, lease, null, pid, started));
        flush();
    }

    /** The task's final event is published; the line waits for the next {@link #flush} or write. */
    synchronized void published(String task, String lease) {
        add(new Line("published", task, null, lease, null, null, null));
    }

    /** The lease was given back to the queue (nacked) or is left to expire: the task is no longer this agent's. */
    synchronized void released(String task, String lease) throws IOException {
        ended("released", List.of(Map.entry(task, lease)));
    }

    synchronized void acked(String task, String lease) throws IOException {
        acked(List.of(Map.entry(task, lease)));
    }

    /** The leases one ack request acknowledged (task id to lease id), in one write. */
    synchronized void acked(Collection<Map.Entry<String, String>> taskLeases) throws IOException {
        ended("acked", taskLeases);
    }

    /** Leases no longer held ({@code acked} or {@code released}), in one write; the file is compacted once it has grown. */
    private void ended(String step, Collection<Map.Entry<String, String>> taskLeases) throws IOException {
        for (Map.Entry<String, String> taskLease : taskLeases) {
            add(new Line(step, taskLease.getKey(), null, taskLease.getValue(), null, null, null));
        }
        flush();
        if (lines >= COMPACT_AFTER_LINES) {
            rewrite();
        }
    }

    /** Writes the lines that wait (the {@code published} ones), in one write. */
    synchronized void flush() throws IOException {
        if (unwritten.isEmpty() || out == null) {
            // Nothing waits, or the journal is closed (a publish that ended as the agent stopped).
            return;
        }
        byte[] bytes = unwritten.toString().getBytes(StandardCharsets.UTF_8);
        // Cleared first: a failed write is not tried again with the next line (the task goes on, only a restart would miss it).
        unwritten.setLength(0);
        out.write(bytes);
    }

    @Override
    public synchronized void close() throws IOException {
        if (out != null) {
            try {
                flush();
            } finally {
                out.close();
            }
            out = null;
        }
    }

    private void add(Line line) {
        apply(line);
        unwritten.append(lineWriter.writeValueAsString(line)).append('\n');
        lines++;
    }

    /** Keys open tasks by lease, not task id: a task delivered twice holds two leases. */
    private void apply(Line line) {
        switch (line.step()) {
            case "leased" -> open.put(line.lease(), new Open(line.task(), line.pilot(), line.lease(), line.attempt(), null, null, false));
            case "started" -> open.computeIfPresent(line.lease(), (lease, o) ->
                    new Open(o.task(), o.pilot(), o.lease(), o.attempt(), line.pid(), line.started(), o.published()));
            case "published" -> open.computeIfPresent(line.lease(), (lease, o) ->
                    new Open(o.task(), o.pilot(), o.lease(), o.attempt(), o.pid(), o.started(), true));
            case "acked", "released" -> open.remove(line.lease());
            default -> {
                // A step a newer agent wrote: nothing this one knows to do with it.
            }
        }
    }

    private void replay() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (text.isBlank()) {
                continue;
            }
            try {
                apply(json.readValue(text, Line.class));
            } catch (JacksonException | NullPointerException e) {
                // The torn last line of an agent killed while writing it.
            }
        }
    }

    /** Writes the open tasks to a new file and moves it over the journal, then appends to that. */
    private void rewrite() throws IOException {
        flush();
        close();
        Collection<Open> live = new ArrayList<>(open.values());
        Path next = file.resolveSibling(FILE_NAME + ".new");
        StringBuilder text = new StringBuilder();
        for (Open o : live) {
            text.append(lineWriter.writeValueAsString(new Line("leased", o.task(), o.pilot(), o.lease(), o.attempt(), null, null))).append('\n');
            if (o.pid() != null) {
                text.append(lineWriter.writeValueAsString(new Line("started", o.task(), null, o.lease(), null, o.pid(), o.started()))).append('\n');
            }
            if (o.published()) {
                text.append(lineWriter.writeValueAsString(new Line("published", o.task(), null, o.lease(), null, null, null))).append('\n');
            }
        }
        Files.deleteIfExists(next);
        Files.createFile(next, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(next, text, StandardCharsets.UTF_8);
        try (FileChannel sync = FileChannel.open(next, StandardOpenOption.WRITE)) {
            sync.force(true);
        }
        try {
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING);
        }
        out = new FileOutputStream(file.toFile(), true);
        lines = live.size();
    }
}
