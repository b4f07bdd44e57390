package dev.fabric.core.task;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.fabric.core.registry.Ids;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an application asks the fabric to run: a command with its arguments, environment, working
 * directory inside the task's sandbox and time limit. The pilot manager assigns the {@code id} (a
 * client may propose one, for idempotent bulk submissions); agents lease descriptions from the
 * pilot's queue as the JSON of this record.
 *
 * <p>An application writes one with {@link #of(String...)} and the {@code with...} copies:
 * <pre>{@code
 * TaskDescription task = TaskDescription.of("sh", "-c", "echo $GREETING")
 *         .withEnvironment(Map.of("GREETING", "hi"))
 *         .withWorkingDirectory("work/run1")
 *         .withTimeLimit(Duration.ofMinutes(5))
 *         .withName("greeting");
 * }</pre>
 *
 * <p>{@link #invalidity()} is the one check of a description: the pilot manager refuses what it
 * names with a {@code 400 invalid-task} problem, and an agent that leases such a description
 * publishes it FAILED with the same reason text, so both sides say the same thing.
 *
 * @param id               the task's id ({@link Ids#PATTERN}); also the name of its sandbox directory
 * @param pilot            the pilot the task runs on
 * @param command          the program and its arguments, run without a shell
 * @param environment      variables added to the agent's environment for this task; absent reads as none
 * @param workingDirectory where the command starts, relative to the task's sandbox; absent: the sandbox
 * @param timeLimit        how long the command may run, in Spring Boot's duration style ({@code 30s},
 *                         {@code 500ms}, {@code 5m}, a bare number of seconds, or ISO-8601 {@code PT30S});
 *                         absent: no limit
 * @param name             a label for people; not interpreted
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TaskDescription(String id, String pilot, List<String> command, Map<String, String> environment,
                              String workingDirectory, String timeLimit, String name) {

    /** The problem reason for a description {@link #invalidity()} refuses. */
    public static final String INVALID = "invalid-task";

    /** Spring Boot's simple duration style (as the queue's {@code visibility} reads it): a number and an optional unit. */
    private static final Pattern SIMPLE_DURATION = Pattern.compile("([+-]?\\d{1,18})(ns|us|ms|s|m|h|d)?");
    private static final Pattern ISO_DURATION = Pattern.compile("[+-]?[pP].*");

    public TaskDescription {
        command = command == null ? null : Collections.unmodifiableList(new ArrayList<>(command));
        environment = environment == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    }

    /**
     * A description of this command (the program and its arguments, run without a shell), with no
     * id (the pilot manager assigns one), no environment, working directory, time limit or name.
     */
    public static TaskDescription of(String... command) {
        return of(List.of(command));
    }

    /** {@link #of(String...)} for a command held in a list. */
    public static TaskDescription of(List<String> command) {
        Objects.requireNonNull(command, "a task's command must not be null; give the program and its arguments");
        return new TaskDescription(null, null, command, null, null, null, null);
    }

    /** A copy with these environment variables (replacing those it had), added to the agent's environment for this task. */
    public TaskDescription withEnvironment(Map<String, String> newEnvironment) {
        return new TaskDescription(id, pilot, command, newEnvironment, workingDirectory, timeLimit, name);
    }

    /** A copy starting its command in this directory, relative to the task's sandbox. */
    public TaskDescription withWorkingDirectory(String newWorkingDirectory) {
        return new TaskDescription(id, pilot, command, environment, newWorkingDirectory, timeLimit, name);
    }

    /** A copy with this time limit, in Spring Boot's duration style ({@code 30s}, {@code 5m}, {@code PT1H}); null for none. */
    public TaskDescription withTimeLimit(String newTimeLimit) {
        return new TaskDescription(id, pilot, command, environment, workingDirectory, newTimeLimit, name);
    }

    /** A copy with this time limit; null for none. */
    public TaskDescription withTimeLimit(Duration newTimeLimit) {
        return withTimeLimit(newTimeLimit == null ? null : newTimeLimit.toString());
    }

    /** A copy with this label for people. */
    public TaskDescription withName(String newName) {
        return new TaskDescription(id, pilot, command, environment, workingDirectory, timeLimit, newName);
    }

    /**
     * A copy proposing this id (or carrying the one the pilot manager assigned): submitting the same
     * proposed id again does not make a second task, so a retried submission is safe.
     */
    public TaskDescription withId(String newId) {
        return new TaskDescription(newId, pilot, command, environment, workingDirectory, timeLimit, name);
    }

    /** A description on this pilot, as the pilot manager fills it in. */
    public TaskDescription withPilot(String newPilot) {
        return new TaskDescription(id, newPilot, command, environment, workingDirectory, timeLimit, name);
    }

    /**
     * Why this description cannot run, said for the person who wrote it, or empty when it can: the
     * id is missing or malformed, the command is missing or empty (or has an empty program or a
     * missing argument), an environment name is empty or holds {@code =}, the working directory is
     * absolute or leaves the sandbox, or the time limit is not a positive duration.
     */
    public Optional<String> invalidity() {
        if (id == null || id.isBlank()) {
            return Optional.of("the task has no id");
        }
        if (!id.matches(Ids.PATTERN)) {
            return Optional.of("task id '" + id + "' " + Ids.MESSAGE);
        }
        return invalidity("task " + id);
    }

    /**
     * {@link #invalidity()} of everything but the id, naming the task as {@code subject} ({@code "the
     * task"}, {@code "task 3 of the submission"}): for a description whose id its writer never saw,
     * one the pilot manager made up for a submission it then refused.
     */
    public Optional<String> invalidity(String subject) {
        if (command == null) {
            return Optional.of(subject + " has no command; give the program and its arguments, e.g. [\"sh\", \"-c\", \"echo hi\"]");
        }
        if (command.isEmpty()) {
            return Optional.of(subject + " has an empty command; give at least the program to run");
        }
        if (command.getFirst() == null || command.getFirst().isBlank()) {
            return Optional.of(subject + " has an empty program name as the command's first element");
        }
        if (command.contains(null)) {
            return Optional.of(subject + " has a null argument in its command");
        }
        for (var variable : environment.entrySet()) {
            if (variable.getKey() == null || variable.getKey().isEmpty() || variable.getKey().contains("=")
                    || variable.getKey().indexOf('\0') >= 0) {
                return Optional.of(subject + " has an environment variable named '" + variable.getKey()
                        + "'; a name must be non-empty, without '=' or NUL");
            }
            if (variable.getValue() == null || variable.getValue().indexOf('\0') >= 0) {
                return Optional.of(subject + " gives environment variable " + variable.getKey() + " no value or one with NUL");
            }
        }
        Optional<String> directory = workingDirectoryInvalidity(subject);
        if (directory.isPresent()) {
            return directory;
        }
        if (timeLimit != null) {
            Optional<Duration> limit = parseDuration(timeLimit);
            if (limit.isEmpty()) {
                return Optional.of(subject + " has time limit '" + timeLimit + "', which is not a duration; write e.g. 30s, 500ms, 5m or PT1H");
            }
            if (limit.get().isZero() || limit.get().isNegative()) {
                return Optional.of(subject + " has time limit '" + timeLimit + "'; it must be positive (or absent for no limit)");
            }
        }
        return Optional.empty();
    }

    /** The time limit, when there is one; call on a description {@link #invalidity()} accepts. */
    public Optional<Duration> limit() {
        return timeLimit == null ? Optional.empty() : parseDuration(timeLimit);
    }

    /** The working directory relative to the sandbox: {@code ""} for the sandbox itself; call on a valid description. */
    public Path relativeWorkingDirectory() {
        return workingDirectory == null ? Path.of("") : Path.of(workingDirectory).normalize();
    }

    private Optional<String> workingDirectoryInvalidity(String subject) {
        if (workingDirectory == null) {
            return Optional.empty();
        }
        Path directory;
        try {
            directory = Path.of(workingDirectory);
        } catch (InvalidPathException e) {
            return Optional.of(subject + " has working directory '" + workingDirectory + "', which is not a path");
        }
        if (directory.isAbsolute() || workingDirectory.startsWith("/")) {
            return Optional.of(subject + " has working directory '" + workingDirectory
                    + "'; it must be relative to the task's sandbox, e.g. 'work/run1'");
        }
        for (Path part : directory) {
            if (part.toString().equals("..")) {
                return Optional.of(subject + " has working directory '" + workingDirectory
                        + "', which escapes the task's sandbox through '..'");
            }
        }
        return Optional.empty();
    }

    /** Spring Boot's {@code DurationStyle} read by hand, because plain-Java users of fabric-core have no Spring Boot. */
    static Optional<Duration> parseDuration(String text) {
        String value = text.strip();
        Matcher simple = SIMPLE_DURATION.matcher(value);
        try {
            if (simple.matches()) {
                long amount = Long.parseLong(simple.group(1));
                String unit = simple.group(2) == null ? "s" : simple.group(2);
                return Optional.of(switch (unit) {
                    case "ns" -> Duration.ofNanos(amount);
                    case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1000L));
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                });
            }
            if (ISO_DURATION.matcher(value).matches()) {
                return Optional.of(Duration.parse(value));
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
