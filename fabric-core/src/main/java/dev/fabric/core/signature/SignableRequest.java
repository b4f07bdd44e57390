package dev.fabric.core.signature;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of an HTTP request that a signature can cover: method, target URI and header fields.
 * Header names are kept in lower case; a field that arrived on several lines keeps every line.
 */
public record SignableRequest(String method, URI target, Map<String, List<String>> headers) {

    public SignableRequest {
        Map<String, List<String>> normalized = new LinkedHashMap<>();
        headers.forEach((name, values) -> normalized
                .computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>())
                .addAll(values));
        normalized.replaceAll((name, values) -> List.copyOf(values));
        headers = Collections.unmodifiableMap(normalized);
    }

    /**
     * The field's value as RFC 9421 section 2.1 canonicalises it: every line trimmed of leading and
     * trailing whitespace, lines joined with {@code ", "}. Empty when the field is absent.
     */
    public Optional<String> field(String name) {
        List<String> lines = headers.get(name.toLowerCase(Locale.ROOT));
        if (lines == null || lines.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder value = new StringBuilder();
        for (String line : lines) {
            if (!value.isEmpty()) {
                value.append(", ");
            }
            value.append(line.strip());
        }
        return Optional.of(value.toString());
    }

    /** The total size in bytes of a field's lines, to bound what the verifier is willing to parse. */
    int fieldLength(String name) {
        List<String> lines = headers.get(name);
        if (lines == null) {
            return 0;
        }
        int length = 0;
        for (String line : lines) {
            length += line.length();
        }
        return length;
    }
}
