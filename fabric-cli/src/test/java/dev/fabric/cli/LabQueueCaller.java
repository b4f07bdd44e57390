package dev.fabric.cli;

import dev.fabric.testsupport.NetworkLab;
import dev.fabric.testsupport.NetworkLab.Host;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A {@link LabQueueClient} running inside a lab host, asked one command at a time. */
final class LabQueueCaller implements AutoCloseable {

    /** One answer: the command's result, and the way the client's gateway went ({@code SPLICED}, {@code RELAYED}) and how. */
    record Answer(String result, String kind, String path) {}

    private final Process process;
    private final PrintWriter in;
    private final BufferedReader out;
    private final Path log;

    private LabQueueCaller(Process process, Path log) {
        this.process = process;
        this.in = new PrintWriter(process.outputWriter(StandardCharsets.UTF_8), true);
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.log = log;
    }

    /** Starts the client on {@code host} for queue {@code queue}, with the fabric's registry and keys, and waits until it is ready. */
    static LabQueueCaller start(NetworkLab lab, Host host, String queue, LabFabric fabric, Path dir) {
        Path log = dir.resolve("lab-queue-client-" + queue + ".log");
        ProcessBuilder builder = lab.processBuilder(host, NetworkLab.javaCommand("-Xmx128m", "-cp", System.getProperty("java.class.path"),
                LabQueueClient.class.getName(), fabric.registryUrl(), fabric.keys().toString(), queue));
        builder.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            LabQueueCaller caller = new LabQueueCaller(builder.start(), log);
            caller.line();
            return caller;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the lab's queue client on " + host, e);
        }
    }

    /** Sends a command and waits (at most 2 min) for its answer. */
    Answer ask(String command) {
        in.println(command);
        String line = line();
        if (!line.startsWith("ok ")) {
            throw new AssertionError("the lab's queue client answered '" + command + "' with: " + line + "\n" + log());
        }
        String[] parts = line.substring(3).split(" \\| ", 3);
        return new Answer(parts[0], parts[1], parts[2]);
    }

    /** The client's own log (its standard error). */
    String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** The next line that is an answer ({@code ready}, {@code ok}, {@code error}); anything else the client printed is skipped. */
    private String line() {
        CompletableFuture<String> next = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.equals("ready") || line.startsWith("ok ") || line.startsWith("error ")) {
                        return line;
                    }
                }
                return "error: the client ended";
            } catch (IOException e) {
                return "error: " + e;
            }
        });
        try {
            return next.get(2, TimeUnit.MINUTES);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("the lab's queue client did not answer within 2 min: " + e + "\n" + log());
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
