package dev.fabric.core.problem;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/problems.md lists every reason a fabric server answers: a reason added to the code fails here
 * until a table of problems.md lists it with its status and meaning.
 *
 * <p>The reasons are read from the sources of the modules that answer problems, in the forms they
 * are made in: a status and then the reason ({@code new SpawnerException(HttpStatus.CONFLICT,
 * "task-final", ...)}, {@code answer(400, "invalid-request", ...)}, a choice of two reasons, a
 * constant), a reason and then its status (the signature's {@code Rejection}s), a {@code case} of a
 * status, a {@code String reason = "..."} (or a choice of two), a refusal helper ({@code invalid("invalid-pilot", ...)},
 * {@code badRequest("bad-peer", ...)}) and the reasons of {@link ProblemAnswer}s. A new form of making
 * a reason needs a pattern here; {@link #theScanFindsTheReasonsOfEveryForm()} keeps the forms known.
 */
class ProblemReasonsDocumentedTest {

    private static final Path ROOT = root(Path.of(System.getProperty("user.dir")));

    /** The modules whose servers answer problems. */
    private static final List<String> MODULES = List.of("fabric-core", "registry-service", "spawner-service");

    private static final String LITERAL = "\"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\"";
    private static final String LITERAL_OR_CONSTANT = "(?:" + LITERAL + "|(?:\\w+\\.)?([A-Z][A-Z0-9_]+)\\b)";
    private static final String STATUS = "(?:HttpStatus\\.[A-Z_]+|HttpStatus\\.valueOf\\([^)]*\\)|\\b[45]\\d\\d\\b|\\bstatus\\b)";

    private static final List<Pattern> FORMS = Stream.of(
            STATUS + "\\s*,\\s*(?:[^,\";]*?\\?\\s*" + LITERAL_OR_CONSTANT + "\\s*:\\s*)?" + LITERAL_OR_CONSTANT,
            LITERAL + "\\s*,\\s*[45]\\d\\d\\s*\\)",
            "case\\s+[45]\\d\\d\\s*->\\s*" + LITERAL,
            "\\bString reason\\s*=\\s*(?:[^;\"]*?\\?\\s*)?" + LITERAL + "\\s*(?::\\s*" + LITERAL + "\\s*)?;",
            "\\b(?:invalid|badRequest|refusal|refuse|problem)\\(\\s*" + LITERAL_OR_CONSTANT).map(Pattern::compile).toList();
    private static final Pattern PROBLEM_ANSWER_REASONS = Pattern.compile("@ProblemAnswer\\([^)]*?reasons\\s*=\\s*(\\{[^}]*}|\"[^\"]*\")");
    private static final Pattern CONSTANT = Pattern.compile("static final String ([A-Z][A-Z0-9_]*)\\s*=\\s*" + LITERAL + "\\s*;");
    private static final Pattern ANY_LITERAL = Pattern.compile(LITERAL);
    private static final Pattern COMMENT = Pattern.compile("^\\s*/\\*.*?\\*/|^\\s*//[^\\n]*", Pattern.DOTALL | Pattern.MULTILINE);

    @Test
    void everyReasonTheCodeAnswersIsListedInProblemsMd() throws IOException {
        Set<String> listed = listed(Files.readString(ROOT.resolve("docs/problems.md")));

        Map<String, String> missing = new TreeMap<>(reasonsInCode());
        missing.keySet().removeAll(listed);

        assertThat(missing).as("reasons the code answers (and where) that no table row of docs/problems.md lists: add each with its "
                + "status and when it is answered").isEmpty();
    }

    @Test
    void theScanFindsTheReasonsOfEveryForm() {
        assertThat(reasonsInCode()).containsKeys(
                "unknown-instance",           // a status, then the reason
                "registry-refused",           // a choice of two reasons after a status
                "task-running",               // the same, over a line break
                "otp-refused",                // a constant after a status
                "gone",                       // a constant of another class
                "unsigned",                   // a reason, then its status
                "not-found",                  // a case of a status
                "member-relay-failed",        // String reason = ...
                "invalid-pilot", "bad-peer",  // refusal helpers
                "invalid-task",               // a helper given a constant
                "pilot-manager-not-started"); // a problem answer of a controller
    }

    @Test
    void aReasonIsListedOnlyInATableRow() {
        Set<String> listed = listed("""
                Prose naming `in-prose` is not a listing.

                | status | reason | when |
                |---|---|---|
                | 409 | `lease-expired`, `lease-nacked` | ... `in-the-when` |
                """);

        assertThat(listed).contains("lease-expired", "lease-nacked").doesNotContain("in-prose");
    }

    /** Each reason in code, with one place that answers it. */
    static Map<String, String> reasonsInCode() {
        Map<String, String> found = new HashMap<>();
        Map<String, Set<String>> constants = new HashMap<>();
        Map<String, String> constantUses = new HashMap<>();
        for (String module : MODULES) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    String code = COMMENT.matcher(Files.readString(file)).replaceAll(" ");
                    String where = ROOT.relativize(file).toString();
                    Matcher constant = CONSTANT.matcher(code);
                    while (constant.find()) {
                        constants.computeIfAbsent(constant.group(1), c -> new TreeSet<>()).add(constant.group(2));
                    }
                    for (Pattern form : FORMS) {
                        Matcher match = form.matcher(code);
                        while (match.find()) {
                            for (int group = 1; group <= match.groupCount(); group++) {
                                String value = match.group(group);
                                if (value == null) {
                                    continue;
                                }
                                if (Character.isUpperCase(value.charAt(0))) {
                                    constantUses.putIfAbsent(value, where);
                                } else {
                                    found.putIfAbsent(value, where);
                                }
                            }
                        }
                    }
                    Matcher answers = PROBLEM_ANSWER_REASONS.matcher(code);
                    while (answers.find()) {
                        Matcher reason = ANY_LITERAL.matcher(answers.group(1));
                        while (reason.find()) {
                            found.putIfAbsent(reason.group(1), where);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        constantUses.forEach((name, where) -> constants.getOrDefault(name, Set.of()).forEach(value -> found.putIfAbsent(value, where)));
        return found;
    }

    /** The reasons in the table rows of a document: every {@code `code`} in a row's reason column. */
    static Set<String> listed(String markdown) {
        Set<String> listed = new TreeSet<>();
        for (String line : markdown.lines().toList()) {
            String[] cells = line.split("\\|");
            if (line.startsWith("|") && cells.length > 2) {
                Matcher code = Pattern.compile("`([^`]+)`").matcher(cells[2]);
                while (code.find()) {
                    listed.add(code.group(1));
                }
            }
        }
        return listed;
    }

    private static Path root(Path start) {
        for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("docs"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no repository root (a directory with mvnw and docs/) at or above " + start);
    }
}
