package dev.fabric.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class BaseImageTest {

    @Test
    void defaultsToTheLocallyBuiltImage() {
        assertThat(BaseImage.name(Map.of())).isEqualTo("fabric/base:local");
        assertThat(BaseImage.name(Map.of("FABRIC_BASE_IMAGE", " "))).isEqualTo("fabric/base:local");
    }

    @Test
    void environmentNamesAnotherImage() {
        assertThat(BaseImage.name(Map.of("FABRIC_BASE_IMAGE", "eclipse-temurin:25-jre")))
                .isEqualTo("eclipse-temurin:25-jre");
    }
}
