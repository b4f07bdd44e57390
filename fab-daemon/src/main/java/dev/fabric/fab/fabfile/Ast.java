package dev.fabric.fab.fabfile;

import java.util.List;

/** The syntax tree of one fabfile, as written (nothing expanded yet). */
public final class Ast {
    private Ast() {
    }

    /** A statement of a fabfile. */
    public sealed interface Statement permits Assign, RuleDecl, Invoke, Discover {
        int line();
    }

    /** {@code $name = [ ... ]} or {@code $name += [ ... ]}. */
    public record Assign(String name, boolean append, List<Item> value, int line, int col) implements Statement {
    }

    /**
     * {@code [ targets ] : [ sources ] depfile [ file ] { formula }}; the formula is absent for a rule that
     * only adds edges, the depfile (empty) when the formula does not discover dependencies.
     */
    public record RuleDecl(List<Item> targets, List<Item> sources, List<Item> depfile, Formula formula, int line, int col) implements Statement {
    }

    /** {@code discover [ sources ] { formula }}: the formula, run on each source, prints the files it depends on in make syntax. */
    public record Discover(List<Item> sources, Formula formula, int line, int col) implements Statement {
    }

    /** {@code +[ path ] ( $a $b = [ ... ] ) @scope}. */
    public record Invoke(List<Item> path, List<Binding> bindings, String scope, int line, int col) implements Statement {
    }

    /** A variable passed to an invoked fabfile: its current value, or a value given here. */
    public record Binding(String name, List<Item> value) {
    }

    /** The shell text of a formula, and where it starts. */
    public record Formula(String text, int line, int col) {
    }

    /** An element of a list. */
    public sealed interface Item permits Word, Mapping {
    }

    /** A word: a path, a {@code $variable}, a {@code @nofile} name, or any text. */
    public record Word(String text, int line, int col) implements Item {
    }

    /** {@code pattern -> template}: every file matching the {@code %} pattern, rewritten by the template. */
    public record Mapping(String pattern, String template, int line, int col) implements Item {
    }
}
