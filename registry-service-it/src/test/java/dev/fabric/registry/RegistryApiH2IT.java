package dev.fabric.registry;

import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Path;

/** The API on the embedded default: H2 in file mode. */
@SpringBootTest(classes = RegistryApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RegistryApiH2IT extends RegistryApiContract {

    @TempDir
    static Path data;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("fabric.registry.data-dir", data::toString);
        registry.add("fabric.security.keys-path", KEY_DIR::toString);
        for (String property : FAST_HEARTBEATS) {
            String[] pair = property.split("=", 2);
            registry.add(pair[0], () -> pair[1]);
        }
    }
}
