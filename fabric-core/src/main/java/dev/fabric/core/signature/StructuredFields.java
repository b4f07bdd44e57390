package dev.fabric.core.signature;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of RFC 8941 (Structured Field Values for HTTP) that {@code Signature-Input},
 * {@code Signature} and {@code Content-Digest} are made of: dictionaries whose members are items or
 * inner lists, each with parameters.
 *
 * <p>Parsing follows the RFC's algorithms (section 4.2) and is strict: anything that is not a valid
 * structured field raises {@link StructuredFieldException}, never another exception. Serializing
 * (section 4.1) yields the canonical text that RFC 9421 puts into a signature base.
 */
public final class StructuredFields {

    private StructuredFields() {}

    /** A bare value: {@link Long}, {@link BigDecimal}, {@link String}, {@link Token}, {@code byte[]} or {@link Boolean}. */
    public record Item(Object value, Map<String, Object> parameters) implements Member {
        public Item {
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }

        public static Item of(Object value) {
            return new Item(value, Map.of());
        }
    }

    /** An inner list: {@code ("a" "b");p=1}. */
    public record InnerList(List<Item> items, Map<String, Object> parameters) implements Member {
        public InnerList {
            items = List.copyOf(items);
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }
    }

    /** A dictionary member. */
    public sealed interface Member permits Item, InnerList {
        Map<String, Object> parameters();
    }

    /** A token, kept apart from strings because both serialize differently. */
    public record Token(String value) {
        @Override
        public String toString() {
            return value;
        }
    }

    /** Raised for any input that is not a valid structured field. */
    public static final class StructuredFieldException extends IllegalArgumentException {
        StructuredFieldException(String message, String input, int position) {
            super(message + " at offset " + position);
        }
    }

    /** Parses a dictionary field value; member order is kept. */
    public static Map<String, Member> parseDictionary(String input) {
        Parser parser = new Parser(input);
        Map<String, Member> dictionary = parser.dictionary();
        return Collections.unmodifiableMap(dictionary);
    }

    /** Serializes an inner list with its parameters, e.g. {@code ("@method" "@path");created=1}. */
    public static String serialize(InnerList list) {
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < list.items().size(); i++) {
            if (i > 0) {
                out.append(' ');
            }
            serializeItem(list.items().get(i), out);
        }
        out.append(')');
        serializeParameters(list.parameters(), out);
        return out.toString();
    }

    /** Serializes an item with its parameters. */
    public static String serialize(Item item) {
        StringBuilder out = new StringBuilder();
        serializeItem(item, out);
        return out.toString();
    }

    private static void serializeItem(Item item, StringBuilder out) {
        serializeBareItem(item.value(), out);
        serializeParameters(item.parameters(), out);
    }

    private static void serializeParameters(Map<String, Object> parameters, StringBuilder out) {
        parameters.forEach((key, value) -> {
            out.append(';').append(key);
            if (!Boolean.TRUE.equals(value)) {
                out.append('=');
                serializeBareItem(value, out);
            }
        });
    }

    private static void serializeBareItem(Object value, StringBuilder out) {
        switch (value) {
            case Long l -> out.append(l);
            case Integer i -> out.append(i);
            case BigDecimal d -> out.append(d.toPlainString());
            case String s -> {
                out.append('"');
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c < 0x20 || c > 0x7e) {
                        throw new IllegalArgumentException("a structured-field string holds printable ASCII only");
                    }
                    if (c == '"' || c == '\\') {
                        out.append('\\');
                    }
                    out.append(c);
                }
                out.append('"');
            }
            case Token t -> out.append(t.value());
            case byte[] bytes -> out.append(':').append(Base64.getEncoder().encodeToString(bytes)).append(':');
            case Boolean b -> out.append(b ? "?1" : "?0");
            default -> throw new IllegalArgumentException("not a structured-field value: " + value.getClass().getName());
        }
    }

    /** RFC 8941 section 4.2, one instance per input. */
    private static final class Parser {
        private static final int MAX_INTEGER_DIGITS = 15;
        private final String input;
        private int pos;

        Parser(String input) {
            for (int i = 0; i < input.length(); i++) {
                char c = input.charAt(i);
                if (c > 0x7f) {
                    throw new StructuredFieldException("non-ASCII character", input, i);
                }
            }
            this.input = input;
        }

        Map<String, Member> dictionary() {
            skipSpaces();
            Map<String, Member> members = new LinkedHashMap<>();
            while (!atEnd()) {
                String key = key();
                Member member;
                if (!atEnd() && peek() == '=') {
                    pos++;
                    member = itemOrInnerList();
                } else {
                    member = new Item(Boolean.TRUE, parameters());
                }
                members.put(key, member);
                skipOws();
                if (atEnd()) {
                    return members;
                }
                expect(',');
                skipOws();
                if (atEnd()) {
                    throw error("trailing comma");
                }
            }
            return members;
        }

        private Member itemOrInnerList() {
            if (!atEnd() && peek() == '(') {
                return innerList();
            }
            return item();
        }

        private InnerList innerList() {
            expect('(');
            List<Item> items = new ArrayList<>();
            while (!atEnd()) {
                skipSpaces();
                if (atEnd()) {
                    break;
                }
                if (peek() == ')') {
                    pos++;
                    return new InnerList(items, parameters());
                }
                items.add(item());
                if (!atEnd() && peek() != ' ' && peek() != ')') {
                    throw error("expected a space or ')' in an inner list");
                }
            }
            throw error("unterminated inner list");
        }

        private Item item() {
            Object value = bareItem();
            return new Item(value, parameters());
        }

        private Map<String, Object> parameters() {
            Map<String, Object> parameters = new LinkedHashMap<>();
            while (!atEnd() && peek() == ';') {
                pos++;
                skipSpaces();
                String key = key();
                Object value = Boolean.TRUE;
                if (!atEnd() && peek() == '=') {
                    pos++;
                    value = bareItem();
                }
                parameters.put(key, value);
            }
            return parameters;
        }

        private String key() {
            if (atEnd()) {
                throw error("expected a key");
            }
            char first = peek();
            if (!(isLcAlpha(first) || first == '*')) {
                throw error("a key starts with a lowercase letter or '*'");
            }
            int start = pos;
            while (!atEnd()) {
                char c = peek();
                if (isLcAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
                    pos++;
                } else {
                    break;
                }
            }
            return input.substring(start, pos);
        }

        private Object bareItem() {
            if (atEnd()) {
                throw error("expected a value");
            }
            char c = peek();
            if (c == '-' || isDigit(c)) {
                return number();
            }
            if (c == '"') {
                return string();
            }
            if (c == '*' || isAlpha(c)) {
                return token();
            }
            if (c == ':') {
                return byteSequence();
            }
            if (c == '?') {
                return bool();
            }
            throw error("unexpected character '" + c + "'");
        }

        private Object number() {
            int start = pos;
            boolean negative = false;
            if (peek() == '-') {
                negative = true;
                pos++;
            }
            if (atEnd() || !isDigit(peek())) {
                throw error("expected a digit");
            }
            boolean decimal = false;
            int digitsBeforePoint = 0;
            int digitsAfterPoint = 0;
            while (!atEnd()) {
                char c = peek();
                if (isDigit(c)) {
                    if (decimal) {
                        digitsAfterPoint++;
                    } else {
                        digitsBeforePoint++;
                    }
                    pos++;
                } else if (c == '.' && !decimal) {
                    if (digitsBeforePoint > 12) {
                        throw error("too many digits before the decimal point");
                    }
                    decimal = true;
                    pos++;
                } else {
                    break;
                }
                if (!decimal && digitsBeforePoint > MAX_INTEGER_DIGITS) {
                    throw error("integer longer than 15 digits");
                }
                if (decimal && digitsAfterPoint > 3) {
                    throw error("more than three fractional digits");
                }
            }
            String text = input.substring(start, pos);
            if (decimal) {
                if (digitsAfterPoint == 0) {
                    throw error("a decimal ends with a digit");
                }
                return new BigDecimal(text);
            }
            long value = Long.parseLong(negative ? text.substring(1) : text);
            return negative ? -value : value;
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (!atEnd()) {
                char c = input.charAt(pos++);
                if (c == '\\') {
                    if (atEnd()) {
                        throw error("dangling escape");
                    }
                    char next = input.charAt(pos++);
                    if (next != '"' && next != '\\') {
                        throw error("only \\\" and \\\\ may be escaped");
                    }
                    out.append(next);
                } else if (c == '"') {
                    return out.toString();
                } else if (c < 0x20 || c > 0x7e) {
                    throw error("control character in a string");
                } else {
                    out.append(c);
                }
            }
            throw error("unterminated string");
        }

        private Token token() {
            int start = pos;
            pos++;
            while (!atEnd()) {
                char c = peek();
                if (isTchar(c) || c == ':' || c == '/') {
                    pos++;
                } else {
                    break;
                }
            }
            return new Token(input.substring(start, pos));
        }

        private byte[] byteSequence() {
            expect(':');
            int end = input.indexOf(':', pos);
            if (end < 0) {
                throw error("unterminated byte sequence");
            }
            String encoded = input.substring(pos, end);
            for (int i = 0; i < encoded.length(); i++) {
                char c = encoded.charAt(i);
                if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=')) {
                    throw error("invalid base64 character in a byte sequence");
                }
            }
            try {
                byte[] decoded = Base64.getDecoder().decode(encoded.getBytes(StandardCharsets.US_ASCII));
                pos = end + 1;
                return decoded;
            } catch (IllegalArgumentException e) {
                throw error("invalid base64 in a byte sequence");
            }
        }

        private Boolean bool() {
            expect('?');
            if (atEnd()) {
                throw error("expected 0 or 1 after '?'");
            }
            char c = input.charAt(pos++);
            if (c == '1') {
                return Boolean.TRUE;
            }
            if (c == '0') {
                return Boolean.FALSE;
            }
            throw error("expected 0 or 1 after '?'");
        }

        private void expect(char c) {
            if (atEnd() || peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private boolean atEnd() {
            return pos >= input.length();
        }

        private char peek() {
            return input.charAt(pos);
        }

        private void skipSpaces() {
            while (!atEnd() && peek() == ' ') {
                pos++;
            }
        }

        private void skipOws() {
            while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
                pos++;
            }
        }

        private StructuredFieldException error(String message) {
            return new StructuredFieldException(message, input, pos);
        }

        private static boolean isLcAlpha(char c) {
            return c >= 'a' && c <= 'z';
        }

        private static boolean isAlpha(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isTchar(char c) {
            return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }
}
