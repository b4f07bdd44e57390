package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Ast.Assign;
import dev.fabric.fab.fabfile.Ast.Discover;
import dev.fabric.fab.fabfile.Ast.Binding;
import dev.fabric.fab.fabfile.Ast.Formula;
import dev.fabric.fab.fabfile.Ast.Invoke;
import dev.fabric.fab.fabfile.Ast.Item;
import dev.fabric.fab.fabfile.Ast.Mapping;
import dev.fabric.fab.fabfile.Ast.RuleDecl;
import dev.fabric.fab.fabfile.Ast.Statement;
import dev.fabric.fab.fabfile.Ast.Word;
import dev.fabric.fab.fabfile.Token.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Recursive-descent parser for the fabfile grammar of docs/fabfile.md. The only exceptions it throws
 * are {@link FabException}s with status SYNTAX or ILLBYTE, each naming file:line:col, what was
 * expected and what was found.
 */
public final class Parser {
    static final Pattern VARIABLE = Pattern.compile("\\$[A-Za-z_][A-Za-z0-9_]*");
    static final Pattern SCOPE = Pattern.compile("@[A-Za-z_][A-Za-z0-9_]*");

    private final String file;
    private final List<Token> tokens;
    private int next;

    private Parser(String file, List<Token> tokens) {
        this.file = file;
        this.tokens = tokens;
    }

    /** Parses the bytes of a fabfile; {@code file} names it in error messages. */
    public static List<Statement> parse(String file, byte[] bytes) {
        return new Parser(file, Lexer.tokenize(file, bytes)).statements();
    }

    private List<Statement> statements() {
        List<Statement> statements = new ArrayList<>();
        while (peek().kind() != Kind.EOF) {
            statements.add(statement());
        }
        return List.copyOf(statements);
    }

    private Statement statement() {
        Token t = peek();
        return switch (t.kind()) {
            case LBRACKET -> rule();
            case INVOKE -> invoke();
            case WORD -> {
                if (t.text().startsWith("$")) {
                    yield assign();
                }
                if (t.text().equals("discover")) {
                    yield discover();
                }
                throw error(t, "a statement (`$name = [...]`, `[targets] : [sources]`, `discover [sources] { ... }` or `+[path]`)");
            }
            default -> throw error(t, "a statement (`$name = [...]`, `[targets] : [sources]`, `discover [sources] { ... }` or `+[path]`)");
        };
    }

    private Assign assign() {
        Token name = take();
        if (!VARIABLE.matcher(name.text()).matches()) {
            throw error(name, "a variable name (`$` then letters, digits or `_`)");
        }
        Token op = peek();
        if (op.kind() != Kind.ASSIGN && op.kind() != Kind.APPEND) {
            throw error(op, "`=` or `+=` after " + name.text());
        }
        take();
        List<Item> value = list();
        return new Assign(name.text().substring(1), op.kind() == Kind.APPEND, value, name.line(), name.col());
    }

    private RuleDecl rule() {
        Token start = peek();
        List<Item> targets = list();
        expect(Kind.COLON, "`:` between the targets and the sources of a rule");
        List<Item> sources = list();
        List<Item> depfile = List.of();
        if (peek().kind() == Kind.WORD && peek().text().equals("depfile")) {
            Token d = take();
            depfile = list();
            if (depfile.size() != 1) {
                throw error(d, "exactly one file in `depfile [ file ]`", "`depfile` with " + depfile.size() + " items");
            }
        }
        Formula formula = null;
        if (peek().kind() == Kind.FORMULA) {
            Token f = take();
            formula = new Formula(f.text(), f.line(), f.col());
        }
        if (targets.isEmpty()) {
            throw error(start, "at least one target in a rule", "`[ ]`");
        }
        if (!depfile.isEmpty() && formula == null) {
            throw error(peek(), "a formula `{ ... }` after `depfile [ ... ]` (the formula writes the depfile)");
        }
        return new RuleDecl(targets, sources, depfile, formula, start.line(), start.col());
    }

    private Discover discover() {
        Token start = take();
        List<Item> sources = list();
        if (peek().kind() != Kind.FORMULA) {
            throw error(peek(), "a formula `{ ... }` after `discover [ ... ]` (it prints the dependencies of `$<`)");
        }
        Token f = take();
        return new Discover(sources, new Formula(f.text(), f.line(), f.col()), start.line(), start.col());
    }

    private Invoke invoke() {
        Token start = take();
        List<Item> path = items();
        expect(Kind.RBRACKET, "`]` to close the invocation path");
        if (path.size() != 1 || !(path.getFirst() instanceof Word)) {
            throw error(start, "exactly one path in `+[ path ]`", "`+[` with " + path.size() + " items");
        }
        List<Binding> bindings = new ArrayList<>();
        if (peek().kind() == Kind.LPAREN) {
            take();
            while (peek().kind() != Kind.RPAREN) {
                Token name = peek();
                if (name.kind() != Kind.WORD || !VARIABLE.matcher(name.text()).matches()) {
                    throw error(name, "a variable to pass (`$name` or `$name = [...]`) or `)`");
                }
                take();
                List<Item> value = null;
                if (peek().kind() == Kind.ASSIGN) {
                    take();
                    value = list();
                }
                bindings.add(new Binding(name.text().substring(1), value));
            }
            take();
        }
        String scope = null;
        Token s = peek();
        if (s.kind() == Kind.WORD && s.text().startsWith("@")) {
            if (!SCOPE.matcher(s.text()).matches()) {
                throw error(s, "a scope name (`@` then letters, digits or `_`)");
            }
            take();
            scope = s.text().substring(1);
        }
        return new Invoke(path, List.copyOf(bindings), scope, start.line(), start.col());
    }

    private List<Item> list() {
        expect(Kind.LBRACKET, "`[` to open a list");
        List<Item> items = items();
        expect(Kind.RBRACKET, "`]` to close the list");
        return items;
    }

    private List<Item> items() {
        List<Item> items = new ArrayList<>();
        while (peek().kind() == Kind.WORD) {
            Token w = take();
            if (peek().kind() == Kind.ARROW) {
                take();
                Token template = peek();
                if (template.kind() != Kind.WORD) {
                    throw error(template, "a template word after `->`");
                }
                take();
                if (!w.text().contains("%") || !template.text().contains("%")) {
                    throw error(w, "a `%` in both sides of `pattern -> template`", "`" + w.text() + " -> " + template.text() + "`");
                }
                items.add(new Mapping(w.text(), template.text(), w.line(), w.col()));
            } else {
                items.add(new Word(w.text(), w.line(), w.col()));
            }
        }
        return List.copyOf(items);
    }

    private Token expect(Kind kind, String what) {
        Token t = peek();
        if (t.kind() != kind) {
            throw error(t, what);
        }
        return take();
    }

    private Token peek() {
        return tokens.get(next);
    }

    private Token take() {
        Token t = tokens.get(next);
        if (t.kind() != Kind.EOF) {
            next++;
        }
        return t;
    }

    private FabException error(Token at, String expected) {
        return error(at, expected, at.shown());
    }

    private FabException error(Token at, String expected, String found) {
        return new FabException(ExitStatus.SYNTAX, "%s:%d:%d: syntax error: expected %s, found %s"
                .formatted(file, at.line(), at.col(), expected, found));
    }
}
