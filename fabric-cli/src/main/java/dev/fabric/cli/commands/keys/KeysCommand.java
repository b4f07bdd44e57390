package dev.fabric.cli.commands.keys;

import dev.fabric.cli.commands.FabricCommand;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.keys.FabricKeysException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code fabric keys init|show}: the local fabric keys that sign the CLI's requests. */
@Command(name = "keys",
        description = "Create or show the local fabric keys (an Ed25519 pair: fabric.key 0600, fabric.pub).",
        subcommands = {KeysCommand.Init.class, KeysCommand.Show.class})
public final class KeysCommand extends FabricCommand.Group {

    public KeysCommand(CommandContext context) {
        super(context);
    }

    @Command(name = "init",
            description = {"Generate the fabric keys in the key directory unless they are there; print the key id (last line)."})
    static final class Init extends FabricCommand {

        @Option(names = "--dir", paramLabel = "DIR", description = "where to keep them (default: the key directory, see --keys)")
        Path dir;

        Init(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            Path directory = dir != null ? dir : context.keysDirectory().value();
            boolean existed = Files.exists(directory.resolve(FabricKeys.PRIVATE_KEY_FILE));
            FabricKeys loaded;
            try {
                loaded = FabricKeys.loadOrGenerate(directory);
            } catch (FabricKeysException e) {
                throw new CliException(ExitCodes.KEYS, e.getMessage());
            }
            Output out = output();
            out.line((existed ? "fabric keys already in " : "created fabric keys in ") + directory.toAbsolutePath());
            out.line(loaded.keyId());
        }
    }

    @Command(name = "show", description = "Print the key directory, the key id and the public key (PEM). Never the private key.")
    static final class Show extends FabricCommand {

        Show(CommandContext context) {
            super(context);
        }

        @Override
        protected void execute() {
            FabricHome.Setting<Path> directory = context.keysDirectory();
            FabricKeys loaded = context.keys(directory);
            Output out = output();
            out.line("directory  " + directory.value().toAbsolutePath());
            out.line("key id     " + loaded.keyId());
            out.text(loaded.publicKeyPem());
        }
    }
}
