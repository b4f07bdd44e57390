package dev.fabric.escrow.daemon;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * escrowd's JVM options have one source, {@code escrowd-jvm.options}: the launcher of {@code -d} and
 * CREAT reads it, {@code bin/escrow daemon} and {@code bin/escrow sidecar} pass the distribution's
 * copy of it as a java argument file, the sidecar image runs {@code bin/escrow sidecar} and adds no
 * options of its own, and the memory benchmark measures both through {@code bin/escrow}. Nothing else
 * may carry a list of its own that could drift.
 */
class EscrowdJvmOptionsTest {

    private static final Path MODULE = Path.of(System.getProperty("user.dir"));
    private static final Path REPOSITORY = MODULE.resolve("../..").normalize();

    @Test
    void theLauncherStartsTheDaemonWithTheOptionsFile() {
        List<String> options = EscrowdLauncher.jvmOptions();

        assertThat(options).contains("--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx96m").doesNotHaveDuplicates();
        // One option per line and no spaces inside one: java's argument-file parser and ours read the same list.
        assertThat(options).allSatisfy(option -> assertThat(option).startsWith("-").doesNotContainAnyWhitespaces());
        List<String> command = EscrowdLauncher.command(LaunchArguments.of(Path.of("/tmp/e.sock"), 4, false, false), "-Xmx200m");
        assertThat(command.subList(1, 1 + options.size())).isEqualTo(options);
        assertThat(command.get(1 + options.size())).as("ESCROW_JAVA_OPTS come after the file's, and win").isEqualTo("-Xmx200m");
    }

    @Test
    void binEscrowPassesTheDistributionsCopyOfTheFileToTheDaemonAndTheSidecar() throws Exception {
        String script = Files.readString(MODULE.resolve("src/main/dist/bin/escrow"));
        String assembly = Files.readString(MODULE.resolve("src/assembly/dist.xml"));

        assertThat(assembly).contains("<source>src/main/resources/dev/fabric/escrow/daemon/" + EscrowdLauncher.JVM_OPTIONS_RESOURCE
                + "</source>").contains("<outputDirectory>conf</outputDirectory>");
        Matcher daemon = Pattern.compile("(?m)^  daemon\\)\\n    JVM_OPTS=\\(\"@\\$ESCROW_HOME/conf/escrowd-jvm.options\"\\) ;;$").matcher(script);
        assertThat(daemon.find()).as(script).isTrue();
        Matcher sidecar = Pattern.compile("(?ms)^  sidecar\\)\\n.*?JVM_OPTS=\\(\"@\\$ESCROW_HOME/conf/escrowd-jvm.options\"\\)\\n"
                + "    MAIN=dev.fabric.escrow.sidecar.EscrowSidecar\\n").matcher(script);
        assertThat(sidecar.find()).as(script).isTrue();
        for (String option : EscrowdLauncher.jvmOptions()) {
            if (option.startsWith("-X")) {
                assertThat(script).as("bin/escrow keeps no list of the daemon's options of its own").doesNotContain(option + " ");
            }
        }
    }

    @Test
    void theSidecarImageRunsBinEscrowSidecarWithNoJvmOptionsOfItsOwn() throws Exception {
        String dockerfile = Files.readString(REPOSITORY.resolve("docker/escrow-sidecar.Dockerfile"), StandardCharsets.UTF_8);
        List<String> instructions = dockerfile.lines().filter(line -> !line.startsWith("#")).toList();

        assertThat(instructions).contains("ENTRYPOINT [\"/opt/escrow/bin/escrow\",\"sidecar\"]");
        assertThat(String.join("\n", instructions)).as("options only through bin/escrow's file")
                .doesNotContain("JAVA_TOOL_OPTIONS").doesNotContain("ESCROW_JAVA_OPTS").doesNotContain("-XX:").doesNotContain("-Xm");
    }

    @Test
    void theMemoryBenchmarkMeasuresTheDaemonAndTheSidecarThroughBinEscrow() throws Exception {
        String benchmark = Files.readString(MODULE.resolve("src/test/java/dev/fabric/escrow/bench/EscrowBenchmark.java"));

        assertThat(benchmark).contains("\"bin\", \"escrow\").toString(), \"daemon\"").contains("\"bin\", \"escrow\").toString(), \"sidecar\"")
                .doesNotContain("-XX:MaxRAMPercentage");
    }
}
