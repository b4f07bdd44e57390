package dev.fabric.cli.context;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FabricHomeTest {

    @TempDir
    Path dir;

    @Test
    void homeIsFabricHomeDirElseDotFabricInTheUsersHome() {
        assertThat(FabricHome.of(Map.of("FABRIC_HOME_DIR", "/srv/fabric"), dir).directory()).isEqualTo(Path.of("/srv/fabric"));
        assertThat(FabricHome.of(Map.of(), dir).directory()).isEqualTo(dir.resolve(".fabric"));
    }

    @Test
    void registryIsTheOptionThenTheEnvironmentThenTheUpFileThenTheDefault() throws Exception {
        FabricHome home = new FabricHome(dir);
        Map<String, String> env = Map.of("FABRIC_REGISTRY", "http://env:1/");
        assertThat(home.registry("http://option:2", env)).isEqualTo(new FabricHome.Setting<>("http://option:2", "given by --registry"));
        assertThat(home.registry(null, env)).isEqualTo(new FabricHome.Setting<>("http://env:1", "given by $FABRIC_REGISTRY"));
        assertThat(home.registry(null, Map.of())).isEqualTo(new FabricHome.Setting<>("http://127.0.0.1:8470",
                "the default (no --registry, no $FABRIC_REGISTRY, no " + dir.resolve("registry.url") + ")"));

        Files.writeString(dir.resolve("registry.url"), "http://127.0.0.1:9999\n");
        assertThat(home.registry(null, Map.of()).value()).isEqualTo("http://127.0.0.1:9999");
        assertThat(home.registry(null, Map.of()).source()).isEqualTo("read from " + dir.resolve("registry.url"));
        assertThat(home.registry(null, env).value()).isEqualTo("http://env:1");
    }

    @Test
    void keysAreTheOptionThenTheEnvironmentThenTheHomesKeys() {
        FabricHome home = new FabricHome(dir);
        assertThat(home.keys(Path.of("/opt"), Map.of("FABRIC_KEYS", "/env")).value()).isEqualTo(Path.of("/opt"));
        assertThat(home.keys(null, Map.of("FABRIC_KEYS", "/env")).value()).isEqualTo(Path.of("/env"));
        assertThat(home.keys(null, Map.of()).value()).isEqualTo(dir.resolve("keys"));
    }
}
