package dev.fabric.posix;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** An environment encoded once and added to for each child. */
class EnvironmentTest {

    private static List<String> entries(Environment environment) {
        return Arrays.stream(environment.entries()).map(entry -> new String(entry, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void addedVariablesReplaceThoseOfTheSameNameAndComeAfterTheRestInOrder() {
        Map<String, String> base = new LinkedHashMap<>();
        base.put("PATH", "/usr/bin:/bin");
        base.put("HOME", "/root");
        base.put("LANG", "C.UTF-8");
        Environment encoded = Environment.of(base);
        Map<String, String> own = new LinkedHashMap<>();
        own.put("HOME", "/sandbox");
        own.put("TASK", "t-1");

        Environment child = encoded.with(own);

        assertThat(entries(child)).containsExactly("PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/sandbox", "TASK=t-1");
        assertThat(child.get("HOME")).isEqualTo("/sandbox");
        assertThat(child.get("PATH")).isEqualTo("/usr/bin:/bin");
        assertThat(child.get("NONE")).isNull();
        assertThat(child.size()).isEqualTo(4);
        assertThat(entries(encoded)).as("the base is unchanged").containsExactly("PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8");
        assertThat(encoded.with(Map.of())).isSameAs(encoded);
    }

    @Test
    void valuesWithEqualsSignsEmptyAndNonAsciiOnesAreKeptWhole() {
        Environment environment = Environment.of(Map.of("OPTS", "a=b=c")).with(Map.of("EMPTY", "")).with(Map.of("SIZE", "größe ✓"));

        assertThat(environment.get("OPTS")).isEqualTo("a=b=c");
        assertThat(environment.get("EMPTY")).isEmpty();
        assertThat(environment.get("SIZE")).isEqualTo("größe ✓");
        assertThat(entries(environment)).contains("SIZE=größe ✓");
    }

    @Test
    void aNameThatIsEmptyOrHoldsAnEqualsSignOrNulAndAValueWithNulAreRefused() {
        for (String name : List.of("", "A=B", "A\0B")) {
            assertThatThrownBy(() -> Environment.of(Map.of(name, "x"))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not an environment variable");
        }
        assertThatThrownBy(() -> Environment.empty().with(Map.of("A", "x\0y"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a value has no NUL");
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("A", null);
        assertThatThrownBy(() -> Environment.of(nullValue)).isInstanceOf(NullPointerException.class).hasMessageContaining("the value of A");
    }
}
