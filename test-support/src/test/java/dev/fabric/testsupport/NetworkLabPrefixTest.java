package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class NetworkLabPrefixTest {

    @Test
    void aClassKeepsItsPrefixFromRunToRun() {
        assertThat(NetworkLab.prefixFor(OneLabTest.class, Path.of("/work/a")))
                .isEqualTo(NetworkLab.prefixFor(OneLabTest.class, Path.of("/work/a")))
                .matches("fl[0-9a-f]{8}");
    }

    @Test
    void theSameClassInTwoCheckoutsGetsTwoLabs() {
        assertThat(NetworkLab.prefixFor(OneLabTest.class, Path.of("/work/a")))
                .isNotEqualTo(NetworkLab.prefixFor(OneLabTest.class, Path.of("/work/b")));
    }

    @Test
    void twoClassesGetTwoLabs() {
        assertThat(NetworkLab.prefixFor(OneLabTest.class, Path.of("/work/a")))
                .isNotEqualTo(NetworkLab.prefixFor(AnotherLabTest.class, Path.of("/work/a")));
    }

    /** Two test classes, as the lab sees them: only their names and the checkout matter. */
    private static final class OneLabTest { }

    private static final class AnotherLabTest { }

    @Test
    void aPrefixThatCouldMatchOtherNamespacesIsRefused() {
        assertThatThrownBy(() -> NetworkLab.down("fl-*")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 to 16 lower-case letters and digits");
    }
}
