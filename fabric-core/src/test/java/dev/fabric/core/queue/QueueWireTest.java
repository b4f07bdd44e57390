package dev.fabric.core.queue;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The queue's JSON as {@code docs/queue.md} documents it and as {@link QueueWire} defines it for the
 * member and the CLI: the same fields, of the same types, and every example in the document reads
 * into its record and writes back unchanged. A field renamed or widened on one side fails here.
 */
class QueueWireTest {

    private static final Path DOC = Path.of("..", "docs", "queue.md");
    private static final Pattern FIELD_ROW = Pattern.compile("^\\| `(\\w+)` \\| [^|]+ \\| ([^|]+?) \\|$", Pattern.MULTILINE);
    private static final Pattern JSON_BLOCK = Pattern.compile("```\\n(?:[^`{]*\\n)?(\\{.*?})\\n```", Pattern.DOTALL);

    /** Strict: a field the record does not have, or a number in a text field, fails the read. */
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    @Test
    void everyFieldOfTheRecordsIsDocumentedWithItsType() throws IOException {
        Map<String, String> documented = documentedFields();
        Map<String, Type> defined = new LinkedHashMap<>();
        for (Class<?> record : records()) {
            for (RecordComponent component : record.getRecordComponents()) {
                Type earlier = defined.putIfAbsent(component.getName(), component.getGenericType());
                assertThat(earlier == null ? component.getGenericType() : earlier)
                        .as("%s.%s has the type of the field of that name elsewhere", record.getSimpleName(), component.getName())
                        .isEqualTo(component.getGenericType());
            }
        }
        assertThat(defined.keySet()).as("the fields of QueueWire's records and of the table in docs/queue.md")
                .containsExactlyInAnyOrderElementsOf(documented.keySet());
        defined.forEach((field, type) -> assertThat(documented.get(field)).as("the documented type of `%s` (%s in QueueWire)", field,
                type.getTypeName()).isEqualTo(documentedType(type)));
    }

    @Test
    void everyExampleReadsIntoItsRecordAndWritesBackTheSame() throws IOException {
        Map<String, Class<?>> byFirstField = Map.of(
                "body", QueueWire.Enqueue.class,
                "bodies", QueueWire.Enqueue.class,
                "id", QueueWire.Enqueued.class,
                "ids", QueueWire.EnqueuedAll.class,
                "messages", QueueWire.Leases.class,
                "leaseIds", QueueWire.Acks.class,
                "refused", QueueWire.AckedAll.class,
                "ready", QueueWire.Stats.class,
                "deadline", QueueWire.Extended.class);
        List<String> examples = examples();
        int read = 0;
        for (String example : examples) {
            JsonNode json = STRICT.readTree(example);
            Class<?> record = byFirstField.get(json.propertyNames().iterator().next());
            if (record == null) {
                continue; // a problem+json answer: not the queue's own record
            }
            Object value = STRICT.treeToValue(json, record);
            JsonNode written = STRICT.readTree(STRICT.writeValueAsString(value));
            assertThat(written).as("%s written back from %s", record.getSimpleName(), example).isEqualTo(json);
            read++;
        }
        assertThat(read).as("examples of the enqueue and its answer (one and in bulk), the lease answer, the bulk ack and its answer, "
                + "the extend answer and the stats, the lease request carrying acks and its answer").isEqualTo(11);
    }

    @Test
    void anAbsentListOfMessagesReadsAsNone() {
        assertThat(STRICT.readValue("{}", QueueWire.Leases.class).messages()).isEmpty();
    }

    private static List<Class<?>> records() {
        return Arrays.stream(QueueWire.class.getDeclaredClasses()).filter(Class::isRecord).toList();
    }

    /** The type column as the table writes it for a Java type; the leased messages' own fields are rows of their own. */
    private static String documentedType(Type type) {
        if (type instanceof ParameterizedType list && list.getRawType() == List.class) {
            Type element = list.getActualTypeArguments()[0];
            if (element == String.class) {
                return "array of strings";
            }
            if (element == QueueWire.LeasedMessage.class) {
                return "array of leased messages";
            }
            if (element == QueueWire.Refusal.class) {
                return "array of refusals";
            }
        }
        if (type == int.class) {
            return "32-bit integer";
        }
        if (type == long.class) {
            return "64-bit integer";
        }
        if (type == Instant.class) {
            return "string (an ISO-8601 instant)";
        }
        if (type == String.class) {
            return null; // checked below: "string", with or without what it holds
        }
        throw new AssertionError("a type the table has no word for: " + type);
    }

    private static Map<String, String> documentedFields() throws IOException {
        String fields = section(Files.readString(DOC), "### Fields");
        Map<String, String> documented = new LinkedHashMap<>();
        Matcher row = FIELD_ROW.matcher(fields);
        while (row.find()) {
            String type = row.group(2).strip();
            // Text fields say what they hold ("string (a UUID)"); the check is that they are strings.
            documented.put(row.group(1), type.startsWith("string") && !type.contains("instant") ? null : type);
        }
        assertThat(documented).as("the field table in docs/queue.md").isNotEmpty();
        return documented;
    }

    private static List<String> examples() throws IOException {
        String api = section(Files.readString(DOC), "## API");
        Matcher block = JSON_BLOCK.matcher(api);
        return Stream.iterate(block.find(), found -> found, found -> block.find()).map(found -> block.group(1)).toList();
    }

    private static String section(String document, String heading) {
        int start = document.indexOf("\n" + heading + "\n");
        assertThat(start).as("docs/queue.md has a section %s", heading).isNotNegative();
        String level = heading.substring(0, heading.indexOf(' ') + 1);
        int end = document.indexOf("\n" + level, start + heading.length() + 2);
        return end < 0 ? document.substring(start) : document.substring(start, end);
    }
}
