package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FabricCliTest {

    @TempDir
    Path home;

    @Test
    void globalOptionsAreAcceptedBeforeAndAfterTheCommand() {
        FabricCli cli = new FabricCli(Map.of(), home, Clock.systemUTC());
        FabricCli.commandLine(cli).parseArgs("--registry", "http://a:1", "services", "--keys", "/k", "--type", "web", "-o", "json");
        assertThat(cli.registryOption).isEqualTo("http://a:1");
        assertThat(cli.keysOption).isEqualTo(Path.of("/k"));
    }

    @Test
    void servicesParsesItsFilters() {
        ParseResult parsed = FabricCli.commandLine(new FabricCli(Map.of(), home, Clock.systemUTC()))
                .parseArgs("services", "--type", "web", "--state", "running", "--parent", "spawner-1", "--session", "s-1");
        ParseResult services = parsed.subcommand();
        assertThat(services.commandSpec().name()).isEqualTo("services");
        assertThat((String) services.matchedOptionValue("--type", null)).isEqualTo("web");
        assertThat((String) services.matchedOptionValue("--state", null)).isEqualTo("running");
        assertThat((String) services.matchedOptionValue("--parent", null)).isEqualTo("spawner-1");
        assertThat((String) services.matchedOptionValue("--session", null)).isEqualTo("s-1");
        assertThat(services.matchedOptionValue("-o", OutputFormat.table)).isEqualTo(OutputFormat.table);
    }

    @Test
    void watchParsesItsOptions() {
        ParseResult watch = FabricCli.commandLine(new FabricCli(Map.of(), home, Clock.systemUTC()))
                .parseArgs("watch", "--since", "42", "--type", "web", "--retries", "3").subcommand();
        assertThat((Long) watch.matchedOptionValue("--since", null)).isEqualTo(42L);
        assertThat((Integer) watch.matchedOptionValue("--retries", null)).isEqualTo(3);
    }

    @Test
    void aBadCommandLineExitsWithTheUsageCode() {
        Cli.Result unknownOption = Cli.withHome(home).run("services", "--colour");
        assertThat(unknownOption.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknownOption.err()).contains("fabric: Unknown option: '--colour'");

        Cli.Result badFormat = Cli.withHome(home).run("services", "-o", "yaml");
        assertThat(badFormat.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badFormat.err()).contains("yaml");

        Cli.Result noCommand = Cli.withHome(home).run();
        assertThat(noCommand.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noCommand.err()).contains("missing command").contains("fabric --help");

        Cli.Result typo = Cli.withHome(home).run("servics");
        assertThat(typo.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(typo.err()).contains("services");

        Cli.Result badSince = Cli.withHome(home).run("watch", "--since", "soon");
        assertThat(badSince.exitCode()).isEqualTo(ExitCodes.USAGE);

        // Checked before the keys are read: a usage error is one with or without keys (this home has none).
        Cli.Result badState = Cli.withHome(home).run("service", "db-1", "--wait-for", "asleep");
        assertThat(badState.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badState.err()).contains("--wait-for: unknown state 'asleep'");
        Cli.Result timeoutAlone = Cli.withHome(home).run("service", "db-1", "--timeout", "5s");
        assertThat(timeoutAlone.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(timeoutAlone.err()).contains("--timeout is for --wait-for STATE");
    }

    @Test
    void helpListsTheCommandsTheEnvironmentAndTheExitCodes() {
        Cli.Result help = Cli.withHome(home).run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("services", "service", "watch", "keys", "--registry=URL", "--keys=DIR",
                "FABRIC_REGISTRY", "FABRIC_KEYS", "FABRIC_HOME_DIR", "FABRIC_SPAWNER", "FABRIC_PILOT_MANAGER", "FABRIC_SESSION",
                "Exit codes:");
        for (String entry : ExitCodes.HELP) {
            assertThat(help.out()).contains(entry.substring(entry.indexOf(':') + 1));
        }
        assertThat(Cli.withHome(home).run("watch", "--help").out()).contains("--since=REV", "--retries=N", "Ctrl-C");
    }

    @Test
    void versionNamesTheBuild() {
        Cli.Result version = Cli.withHome(home).run("--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.out()).startsWith("fabric ").contains("Java");
    }

    @Test
    void missingKeysSayWhereTheCliLookedAndWhatToDo() {
        Cli.Result result = Cli.withHome(home).run("services");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.KEYS);
        assertThat(result.err())
                .contains("fabric: no fabric keys in " + home.resolve("keys"))
                .contains("fabric keys init");
    }

    @Test
    void keysInitCreatesOwnerOnlyKeysOnceAndPrintsTheKeyIdLast() throws Exception {
        Path dir = home.resolve("new").resolve("keys");
        Cli.Result first = Cli.withHome(home).run("keys", "init", "--dir", dir.toString());
        assertThat(first.exitCode()).isZero();
        FabricKeys keys = FabricKeys.load(dir);
        assertThat(first.out().lines().toList()).last().isEqualTo(keys.keyId());
        assertThat(first.out()).contains("created fabric keys in " + dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(FabricKeys.PRIVATE_KEY_FILE))))
                .isEqualTo("rw-------");

        Cli.Result again = Cli.withHome(home).run("--keys", dir.toString(), "keys", "init");
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("already in").endsWith(keys.keyId() + "\n");
    }

    @Test
    void keysInitDefaultsToTheKeyDirectory() {
        Cli.Result result = Cli.withHome(home).run("keys", "init");
        assertThat(result.exitCode()).isZero();
        assertThat(home.resolve("keys").resolve(FabricKeys.PRIVATE_KEY_FILE)).exists();
    }

    @Test
    void keysShowPrintsThePublicKeyNeverThePrivateOne() {
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(home.resolve("keys"));
        Cli.Result result = Cli.withHome(home).run("keys", "show");
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains(keys.keyId()).contains(keys.publicKeyPem())
                .doesNotContain("PRIVATE KEY").doesNotContain(keys.privateKeyPem().lines().skip(1).findFirst().orElseThrow());
    }

    @Test
    void aPrivateKeyReadableByOthersIsRefusedWithTheFix() throws Exception {
        FabricKeys.generate().writeTo(home.resolve("keys"));
        Path privateKey = home.resolve("keys").resolve(FabricKeys.PRIVATE_KEY_FILE);
        Files.setPosixFilePermissions(privateKey, PosixFilePermissions.fromString("rw-r--r--"));
        Cli.Result result = Cli.withHome(home).run("keys", "show");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.KEYS);
        assertThat(result.err()).contains("chmod 600 " + privateKey);
    }
}
