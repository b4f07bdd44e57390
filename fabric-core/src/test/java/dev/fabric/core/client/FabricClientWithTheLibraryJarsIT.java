package dev.fabric.core.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that depends on {@code dev.fabric:fabric-core} alone, as fabric-core/README.md ("Use")
 * says, and nothing else: Maven resolves its class path as for any application (fabric-core's optional
 * dependencies, the Spring Boot auto-configuration's, left out), and a {@link FabricClient} made on that
 * class path builds, makes a call (refused: no registry listens) and closes. Before spring-web and
 * Jackson 3 came with fabric-core, the application failed with {@code NoClassDefFoundError:
 * org/springframework/http/client/ClientHttpRequestFactory}.
 *
 * <p>The fabric artifacts of this build (the parent pom, fabric-bcprov, fabric-core as just packaged) go
 * into a local repository of the test's own, whose tail is the build's local repository for the rest:
 * the test needs no {@code install} and never reads a stale fabric-core.
 */
class FabricClientWithTheLibraryJarsIT {

    static final String APPLICATION_POM = """
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <groupId>example</groupId>
              <artifactId>application</artifactId>
              <version>1</version>
              <dependencies>
                <dependency>
                  <groupId>dev.fabric</groupId>
                  <artifactId>fabric-core</artifactId>
                  <version>VERSION</version>
                </dependency>
              </dependencies>
            </project>
            """;

    static final String APPLICATION = """
            import dev.fabric.core.client.FabricClient;
            import dev.fabric.core.keys.FabricKeys;
            import java.net.URI;

            public class Application {
                public static void main(String[] args) throws Exception {
                    try (FabricClient fabric = FabricClient.builder(URI.create("http://127.0.0.1:9"), FabricKeys.generate())
                            .name("application").build()) {
                        try {
                            fabric.call("queue-00000000", (client, url) -> client.get().uri("/").retrieve().body(String.class));
                        } catch (RuntimeException e) {
                            System.out.println("call refused: " + e.getClass().getName());
                        }
                    }
                    System.out.println("closed");
                }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void aFabricClientRunsOnFabricCoresOwnDependencies() throws Exception {
        Path repository = Path.of(System.getProperty("fabric.repository")).toAbsolutePath().normalize();
        String version = System.getProperty("fabric.version");
        Path local = dir.resolve("repository");
        put(local, "fabric-parent", version, repository.resolve("pom.xml"), null);
        put(local, "fabric-bcprov", version, repository.resolve("fabric-bcprov/pom.xml"),
                repository.resolve("fabric-bcprov/target/fabric-bcprov-" + version + ".jar"));
        put(local, "fabric-core", version, repository.resolve("fabric-core/pom.xml"),
                repository.resolve("fabric-core/target/fabric-core-" + version + ".jar"));

        Path application = Files.createDirectories(dir.resolve("application"));
        Files.writeString(application.resolve("pom.xml"), APPLICATION_POM.replace("VERSION", version));
        Path classPath = application.resolve("classpath.txt");
        run(application, List.of(repository.resolve("mvnw").toString(), "-o", "-B", "-q",
                "-Dmaven.repo.local=" + local, "-Dmaven.repo.local.tail=" + System.getProperty("fabric.localRepository"),
                "org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath", "-Dmdep.outputFile=" + classPath));
        String jars = Files.readString(classPath).strip();
        assertThat(jars).as("fabric-core's optional dependencies stay out").doesNotContain("spring-boot-autoconfigure", "spring-webmvc");

        Path source = Files.writeString(application.resolve("Application.java"), APPLICATION);
        String output = run(application, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", jars, source.toString()));
        assertThat(output).contains("call refused: dev.fabric.core.registry.RegistryCallException", "closed")
                .doesNotContain("NoClassDefFoundError");
    }

    /** Puts an artifact of this build in {@code local} as {@code install} would. */
    private static void put(Path local, String artifactId, String version, Path pom, Path jar) throws IOException {
        Path directory = Files.createDirectories(local.resolve("dev/fabric").resolve(artifactId).resolve(version));
        Files.copy(pom, directory.resolve(artifactId + "-" + version + ".pom"), StandardCopyOption.REPLACE_EXISTING);
        if (jar != null) {
            assertThat(jar).as("packaged before the integration tests").exists();
            Files.copy(jar, directory.resolve(artifactId + "-" + version + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String run(Path directory, List<String> command) throws Exception {
        Path log = Files.createTempFile(directory, "run", ".log");
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(directory.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process process = builder.start();
        try {
            assertThat(process.waitFor(180, TimeUnit.SECONDS)).as(String.join(" ", command) + " returns").isTrue();
        } finally {
            process.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }
}
