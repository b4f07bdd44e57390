package dev.fabric.core.signature;

import org.greenbytes.http.sfv.BooleanItem;
import org.greenbytes.http.sfv.ByteSequenceItem;
import org.greenbytes.http.sfv.DecimalItem;
import org.greenbytes.http.sfv.Dictionary;
import org.greenbytes.http.sfv.IntegerItem;
import org.greenbytes.http.sfv.ListElement;
import org.greenbytes.http.sfv.ParseException;
import org.greenbytes.http.sfv.Parameters;
import org.greenbytes.http.sfv.Parser;
import org.greenbytes.http.sfv.StringItem;
import org.greenbytes.http.sfv.TokenItem;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of RFC 8941 (Structured Field Values for HTTP) that {@code Signature-Input},
 * {@code Signature} and {@code Content-Digest} are made of: dictionaries whose members are items or
 * inner lists, each with parameters.
 *
 * <p>A thin adapter over {@code org.greenbytes.http:structured-fields}, the HTTP working group
 * editor's implementation, tested against the working group's structured-field test suite: it
 * parses (RFC 8941 section 4.2, strict) and serializes (section 4.1, the canonical text RFC 9421
 * puts into a signature base). This class keeps the fabric's own small value types, so the
 * library stays behind it: anything that is not a valid structured field raises
 * {@link StructuredFieldException}, never another exception.
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
        StructuredFieldException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Parses a dictionary field value; member order is kept. */
    public static Map<String, Member> parseDictionary(String input) {
        Dictionary dictionary;
        try {
            dictionary = Parser.parseDictionary(input);
        } catch (ParseException e) {
            throw new StructuredFieldException(e.getMessage() + " at offset " + e.getPosition(), e);
        }
        Map<String, Member> members = new LinkedHashMap<>();
        dictionary.get().forEach((key, member) -> members.put(key, member(member)));
        return Collections.unmodifiableMap(members);
    }

    /** Serializes an inner list with its parameters, e.g. {@code ("@method" "@path");created=1}. */
    public static String serialize(InnerList list) {
        List<org.greenbytes.http.sfv.Item<?>> items = new ArrayList<>();
        list.items().forEach(item -> items.add(library(item)));
        return org.greenbytes.http.sfv.InnerList.valueOf(items).withParams(library(list.parameters())).serialize();
    }

    /** Serializes an item with its parameters. */
    public static String serialize(Item item) {
        return library(item).serialize();
    }

    private static Member member(ListElement<?> element) {
        return switch (element) {
            case org.greenbytes.http.sfv.InnerList list -> {
                List<Item> items = new ArrayList<>();
                list.get().forEach(item -> items.add(new Item(value(item), parameters(item.getParams()))));
                yield new InnerList(items, parameters(list.getParams()));
            }
            case org.greenbytes.http.sfv.Item<?> item -> new Item(value(item), parameters(item.getParams()));
            default -> throw new IllegalStateException("an RFC 8941 dictionary member is an item or an inner list: " + element);
        };
    }

    private static Map<String, Object> parameters(Parameters parameters) {
        Map<String, Object> values = new LinkedHashMap<>();
        parameters.forEach((key, item) -> values.put(key, value(item)));
        return values;
    }

    private static Object value(org.greenbytes.http.sfv.Item<?> item) {
        return switch (item) {
            case ByteSequenceItem bytes -> {
                ByteBuffer buffer = bytes.get().duplicate();
                byte[] copy = new byte[buffer.remaining()];
                buffer.get(copy);
                yield copy;
            }
            case TokenItem token -> new Token(token.get());
            // The library keeps three decimal places (-1.500); the value as written is -1.5.
            case DecimalItem decimal -> {
                BigDecimal stripped = decimal.get().stripTrailingZeros();
                yield stripped.scale() < 0 ? stripped.setScale(0) : stripped;
            }
            default -> item.get();
        };
    }

    private static org.greenbytes.http.sfv.Item<?> library(Item item) {
        return bare(item.value()).withParams(library(item.parameters()));
    }

    private static Parameters library(Map<String, Object> parameters) {
        Map<String, Object> items = new LinkedHashMap<>();
        parameters.forEach((key, value) -> items.put(key, bare(value)));
        return Parameters.valueOf(items);
    }

    private static org.greenbytes.http.sfv.Item<?> bare(Object value) {
        try {
            return switch (value) {
                case Long l -> IntegerItem.valueOf(l);
                case Integer i -> IntegerItem.valueOf(i);
                case BigDecimal d -> DecimalItem.valueOf(d);
                case String s -> StringItem.valueOf(s);
                case Token t -> TokenItem.valueOf(t.value());
                case byte[] bytes -> ByteSequenceItem.valueOf(bytes);
                case Boolean b -> BooleanItem.valueOf(b);
                default -> throw new IllegalArgumentException("not a structured-field value: " + value.getClass().getName());
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serialize " + value.getClass().getSimpleName() + " as a structured field: "
                    + e.getMessage(), e);
        }
    }
}
