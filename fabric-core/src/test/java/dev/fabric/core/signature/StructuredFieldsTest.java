package dev.fabric.core.signature;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StructuredFieldsTest {

    @Test
    void parsesASignatureInputDictionary() {
        Map<String, StructuredFields.Member> dictionary = StructuredFields.parseDictionary(
                "sig1=(\"@method\" \"@path\");created=1618884473;keyid=\"k\", sig2=(\"@authority\");alg=\"ed25519\"");
        assertThat(dictionary).containsOnlyKeys("sig1", "sig2");
        StructuredFields.InnerList sig1 = (StructuredFields.InnerList) dictionary.get("sig1");
        assertThat(sig1.items()).extracting(StructuredFields.Item::value).containsExactly("@method", "@path");
        assertThat(sig1.parameters()).containsEntry("created", 1618884473L).containsEntry("keyid", "k");
        assertThat(StructuredFields.serialize(sig1)).isEqualTo("(\"@method\" \"@path\");created=1618884473;keyid=\"k\"");
    }

    @Test
    void parsesByteSequencesTokensBooleansAndDecimals() {
        Map<String, StructuredFields.Member> dictionary = StructuredFields.parseDictionary("a=:AQID:, b=tok/en, c, d=?0, e=-1.5");
        assertThat((byte[]) ((StructuredFields.Item) dictionary.get("a")).value()).containsExactly(1, 2, 3);
        assertThat(((StructuredFields.Item) dictionary.get("b")).value()).isEqualTo(new StructuredFields.Token("tok/en"));
        assertThat(((StructuredFields.Item) dictionary.get("c")).value()).isEqualTo(Boolean.TRUE);
        assertThat(((StructuredFields.Item) dictionary.get("d")).value()).isEqualTo(Boolean.FALSE);
        assertThat(((StructuredFields.Item) dictionary.get("e")).value()).isEqualTo(new java.math.BigDecimal("-1.5"));
    }

    @Test
    void escapesRoundTrip() {
        StructuredFields.Item item = (StructuredFields.Item) StructuredFields.parseDictionary("k=\"a\\\"b\\\\c\"").get("k");
        assertThat(item.value()).isEqualTo("a\"b\\c");
        assertThat(StructuredFields.serialize(item)).isEqualTo("\"a\\\"b\\\\c\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sig=(\"a\"", "Sig=1", "sig=:abc", "sig=\"unterminated", "a=1,", "a=1 b=2", "a=?2", "a=1234567890123456",
            "a=\"\u00e9\"", "a=:!!:", "a=\"x\\n\"", "a=1.2345", "a=(\"x\"\"y\")"})
    void rejectsWhatIsNotAStructuredDictionary(String input) {
        assertThatThrownBy(() -> StructuredFields.parseDictionary(input)).isInstanceOf(StructuredFields.StructuredFieldException.class);
    }
}
