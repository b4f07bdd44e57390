package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** No input makes the parser throw anything but its syntax and illegal-byte errors. */
class ParserPropertiesTest {

    @Property(tries = 3000)
    void arbitraryBytesParseOrFailWithSyntaxOrIllegalByte(@ForAll byte[] bytes) {
        assertOnlyFabErrors(bytes);
    }

    @Property(tries = 3000)
    void fabfileShapedTextParsesOrFailsWithSyntaxOrIllegalByte(@ForAll("fabfileish") String text) {
        assertOnlyFabErrors(text.getBytes(StandardCharsets.UTF_8));
    }

    @Provide
    Arbitrary<String> fabfileish() {
        Arbitrary<String> pieces = Arbitraries.of("[", "]", "+[", "(", ")", ":", "=", "+=", "->", "{", "}", "$cc", "$",
                "@all", "@", "a.c", "%", "src/%.c", "#", "\n", " ", "\t", "\u00e9", "\u0001", "x=1", "$a.b");
        return pieces.list().ofMaxSize(40).map(l -> String.join(" ", l));
    }

    private static void assertOnlyFabErrors(byte[] bytes) {
        try {
            Parser.parse("fuzz", bytes);
        } catch (FabException e) {
            assertThat(e.status()).isIn(ExitStatus.SYNTAX, ExitStatus.ILLBYTE);
            assertThat(e.getMessage()).startsWith("fuzz:");
        }
    }
}
