package dev.fabric.cli.common;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** How the CLI writes times, ages and maps: short, sortable and the same everywhere. */
public final class Formats {

    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    private Formats() {}

    /** {@code 2026-01-02T03:04:05Z}, or {@code -}. */
    public static String time(Instant instant) {
        return instant == null ? "-" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** {@code 2026-01-02T03:04:05.678Z}, or {@code -}. */
    public static String timeMillis(Instant instant) {
        return instant == null ? "-" : MILLIS.format(instant);
    }

    /** How long ago, in the two largest units: {@code 5s ago}, {@code 4m12s ago}, {@code 3h7m ago}, {@code 2d5h ago}. */
    public static String age(Instant then, Instant now) {
        if (then == null) {
            return "-";
        }
        Duration age = Duration.between(then, now);
        if (age.isNegative()) {
            age = Duration.ZERO;
        }
        long seconds = age.toSeconds();
        String text;
        if (seconds < 60) {
            text = seconds + "s";
        } else if (seconds < 3600) {
            text = seconds / 60 + "m" + (seconds % 60 == 0 ? "" : seconds % 60 + "s");
        } else if (seconds < 86_400) {
            text = seconds / 3600 + "h" + (seconds % 3600 / 60 == 0 ? "" : seconds % 3600 / 60 + "m");
        } else {
            text = seconds / 86_400 + "d" + (seconds % 86_400 / 3600 == 0 ? "" : seconds % 86_400 / 3600 + "h");
        }
        return text + " ago";
    }

    /** {@code a=1,b=2}, sorted by key, or {@code -}. */
    public static String map(Map<String, String> map) {
        if (map == null || map.isEmpty()) {
            return "-";
        }
        return new TreeMap<>(map).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }

    /** A body as one table cell: line breaks, tabs and other control characters escaped ({@code -o json} shows it as it is). */
    public static String oneLine(String body) {
        if (body == null) {
            return null;
        }
        StringBuilder line = new StringBuilder(body.length());
        body.codePoints().forEach(c -> {
            switch (c) {
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        line.append(String.format("\\u%04x", c));
                    } else {
                        line.appendCodePoint(c);
                    }
                }
            }
        });
        return line.toString();
    }
}
