package dev.fabric.cli.keys;

import dev.fabric.cli.CliException;
import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.keys.FabricKeysException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code fabric keys init|show}: the local fabric keys that sign the CLI's requests. */
@Command(name = "keys", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
        description = "Create or show the local fabric keys (an Ed25519 pair: fabric.key 0600, fabric.pub).",
        subcommands = {KeysCommand.Init.class, KeysCommand.Show.class})
public final class KeysCommand implements Runnable {

    @ParentCommand
    FabricCli cli;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: init or show");
    }

    @Command(name = "init", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
            description = {"Generate the fabric keys in the key directory unless they are there; print the key id (last line)."})
    static final class Init implements Callable<Integer> {

        @ParentCommand
        KeysCommand keys;

        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", description = "where to keep them (default: the key directory, see --keys)")
        Path dir;

        @Override
        public Integer call() {
            Path directory = dir != null ? dir : keys.cli.keysDirectory().value();
            boolean existed = Files.exists(directory.resolve(FabricKeys.PRIVATE_KEY_FILE));
            FabricKeys loaded;
            try {
                loaded = FabricKeys.loadOrGenerate(directory);
            } catch (FabricKeysException e) {
                throw new CliException(ExitCodes.KEYS, e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println((existed ? "fabric keys already in " : "created fabric keys in ") + directory.toAbsolutePath());
            out.println(loaded.keyId());
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, versionProvider = FabricCli.Version.class,
            description = "Print the key directory, the key id and the public key (PEM). Never the private key.")
    static final class Show implements Callable<Integer> {

        @ParentCommand
        KeysCommand keys;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            FabricHome.Setting<Path> directory = keys.cli.keysDirectory();
            FabricKeys loaded = FabricCli.loadKeys(directory);
            PrintWriter out = spec.commandLine().getOut();
            out.println("directory  " + directory.value().toAbsolutePath());
            out.println("key id     " + loaded.keyId());
            out.print(loaded.publicKeyPem());
            out.flush();
            return ExitCodes.OK;
        }
    }
}
