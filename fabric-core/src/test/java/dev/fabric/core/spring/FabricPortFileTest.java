package dev.fabric.core.spring;

import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A service started with {@code fabric.port-file} names the port it listens on there, as {@code ./fabric up} checks. */
@SpringBootTest(classes = FabricPortFileTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class FabricPortFileTest {

    static final Path PORT_FILE = portFile();

    @SpringBootApplication
    static class App {
        @Bean
        FabricKeys fabricKeys() {
            return FabricKeys.generate();
        }
    }

    @DynamicPropertySource
    static void portFile(DynamicPropertyRegistry registry) {
        registry.add("fabric.port-file", PORT_FILE::toString);
    }

    @LocalServerPort
    int port;

    @Test
    void thePortFileNamesThePortTheServiceListensOn() throws IOException {
        assertThat(Files.readString(PORT_FILE).strip()).isEqualTo(Integer.toString(port));
    }

    private static Path portFile() {
        try {
            Path dir = Files.createTempDirectory("fabric-port-file");
            dir.toFile().deleteOnExit();
            return dir.resolve("service.port");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
