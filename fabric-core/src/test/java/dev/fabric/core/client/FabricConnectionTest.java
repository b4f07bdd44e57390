package dev.fabric.core.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FabricConnectionTest {

    @TempDir
    Path dir;

    private final FabricConnection connection = new FabricConnection(URI.create("http://127.0.0.1:8470"),
            Path.of("/home/me/.fabric/keys"), List.of("s-1", "s-2"));

    @Test
    void whatIsSavedLoadsBackTheSame() {
        Path file = dir.resolve("app").resolve("fabric-connection.json");
        connection.save(file);
        assertThat(FabricConnection.load(file)).isEqualTo(connection);
    }

    @Test
    void theFileIsOwnerOnlyFromItsFirstWriteAndAfterAReplace() throws Exception {
        Path file = dir.resolve("fabric-connection.json");
        connection.save(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        connection.withSession("s-3").save(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(FabricConnection.load(file).sessions()).containsExactly("s-1", "s-2", "s-3");
        assertThat(dir).isDirectoryNotContaining("glob:**.tmp");
    }

    @Test
    void theFileIsPlainJsonWithStringsAndNoKeyMaterial() throws Exception {
        Path file = dir.resolve("fabric-connection.json");
        connection.save(file);
        assertThat(Files.readString(file)).contains("\"registryUrl\" : \"http://127.0.0.1:8470\"",
                "\"keyDirectory\" : \"/home/me/.fabric/keys\"", "\"s-1\"").doesNotContain("PRIVATE KEY");
    }

    @Test
    void aFileOthersCanReadOrWriteIsRefusedWithTheFix() throws Exception {
        Path file = dir.resolve("fabric-connection.json");
        connection.save(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-r--"));
        assertThatThrownBy(() -> FabricConnection.load(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("open to others").hasMessageContaining("chmod 600 " + file);
    }

    @Test
    void aMissingFileSaysWhereItLookedAndHowToMakeOne() {
        Path file = dir.resolve("nowhere.json");
        assertThatThrownBy(() -> FabricConnection.load(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no fabric connection file at " + file).hasMessageContaining("FabricConnection.save");
    }

    @Test
    void aFileThatIsNotAConnectionIsRefusedWithItsName() throws Exception {
        Path notJson = dir.resolve("garbage.json");
        Files.writeString(notJson, "registry=http://x");
        Files.setPosixFilePermissions(notJson, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> FabricConnection.load(notJson))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(notJson.toString()).hasMessageContaining("not readable");

        Path incomplete = dir.resolve("incomplete.json");
        Files.writeString(incomplete, "{\"registryUrl\": \"http://127.0.0.1:8470\"}");
        Files.setPosixFilePermissions(incomplete, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> FabricConnection.load(incomplete)).hasMessageContaining("lacks keyDirectory");
    }

    @Test
    void sessionsStayInOrderWithoutDuplicatesAndMustBeIds() {
        FabricConnection more = connection.withSession("s-0").withSession("s-1");
        assertThat(more.sessions()).containsExactly("s-1", "s-2", "s-0");
        assertThat(more.withoutSession("s-2").sessions()).containsExactly("s-1", "s-0");
        assertThatThrownBy(() -> connection.withSession("has space"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'has space'");
    }
}
