package dev.fabric.cli.commands;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.common.Output;
import dev.fabric.cli.common.OutputFormat;
import dev.fabric.cli.context.CommandContext;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * A {@code fabric} command. It gets what it works with from the {@link CommandContext} given to its
 * constructor (picocli creates commands through the root's factory), never from its parent command;
 * it prints through {@link #output()} and ends with {@link ExitCodes#OK} unless it throws a
 * {@link dev.fabric.cli.common.CliException}.
 */
public abstract class FabricCommand implements Callable<Integer> {

    protected final CommandContext context;

    @Spec
    protected CommandSpec spec;

    protected FabricCommand(CommandContext context) {
        this.context = context;
    }

    @Override
    public final Integer call() throws Exception {
        try {
            execute();
        } finally {
            // What the command made to reach the fabric (its FabricClients) ends with it.
            context.close();
        }
        return ExitCodes.OK;
    }

    /** Does the command's work; a failure the user should see is a {@link dev.fabric.cli.common.CliException}. */
    protected abstract void execute() throws Exception;

    protected Output output() {
        return context.output(spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The usage error of a command that was given none of its subcommands: {@code missing command: add, remove or show}. */
    public static CommandLine.ParameterException missingCommand(CommandSpec spec) {
        List<String> names = List.copyOf(spec.subcommands().keySet());
        String list = names.size() == 1 ? names.getFirst()
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast();
        return new CommandLine.ParameterException(spec.commandLine(), "missing command: " + list);
    }

    /** A command that only groups subcommands ({@code fabric queue}, {@code fabric keys}...): alone, it is a usage error. */
    public abstract static class Group extends FabricCommand {

        protected Group(CommandContext context) {
            super(context);
        }

        @Override
        protected final void execute() {
            throw missingCommand(spec);
        }
    }

    /** A command that prints an answer: a table for people, or with {@code -o json} the JSON for scripts. */
    public abstract static class WithOutput extends FabricCommand {

        /** Public, as picocli's parsed values are: a command's tests read what a command line set. */
        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "table, or json: the server's answer as it came")
        public OutputFormat output;

        protected WithOutput(CommandContext context) {
            super(context);
        }

        /** The answer as JSON, or the table the supplier renders (see {@link Output#show}). */
        protected void show(JsonNode answer, Supplier<String> table) {
            output().show(output, answer, table);
        }
    }
}
