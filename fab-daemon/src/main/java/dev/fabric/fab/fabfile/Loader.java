package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Ast.Assign;
import dev.fabric.fab.fabfile.Ast.Binding;
import dev.fabric.fab.fabfile.Ast.Discover;
import dev.fabric.fab.fabfile.Ast.Invoke;
import dev.fabric.fab.fabfile.Ast.Item;
import dev.fabric.fab.fabfile.Ast.Mapping;
import dev.fabric.fab.fabfile.Ast.RuleDecl;
import dev.fabric.fab.fabfile.Ast.Statement;
import dev.fabric.fab.fabfile.Ast.Word;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Evaluates fabfiles into a {@link Model}: variables, command-line overrides, invocations of other
 * fabfiles (each with its own scope), {@code %} patterns against the files on disk, and formulas
 * expanded to the exact shell text that will run.
 */
public final class Loader {
    private static final Pattern REFERENCE = Pattern.compile("\\$([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)");
    private static final Set<String> SKIPPED_DIRS = Set.of(".fab", ".git");

    private final Map<String, VariableOverride> overrides = new LinkedHashMap<>();
    private final List<Path> includeDirs;
    private final Set<String> kept;
    private final List<Rule> rules = new ArrayList<>();
    private final List<Discovery> discoveries = new ArrayList<>();
    private BiConsumer<Note, String> notes = (n, m) -> { };

    /** What the loader can report as it evaluates (fab's log categories of the same names). */
    public enum Note {
        /** The variables passed to each invoked fabfile. */
        PARAMS,
        /** Every variable assignment, with the value it leaves. */
        VAR,
        /** Every {@code %} pattern expanded, with the files it matched. */
        LISTS,
        /** A pattern that would have matched products, which patterns never match. */
        WARN
    }

    /** Receives a line per assignment, invocation and pattern expanded, and the warnings; only the last reading's. */
    public Loader onNote(BiConsumer<Note, String> notes) {
        this.notes = notes;
        return this;
    }
    private final List<Path> fabfiles = new ArrayList<>();
    private final Deque<Path> invoking = new ArrayDeque<>();
    private final Map<Path, List<String>> walks = new HashMap<>();
    /** Every {@code %} pattern expanded in this reading of the fabfiles, in order. */
    private final List<Glob> globs = new ArrayList<>();
    /** Files patterns never match: the targets of the rules of every earlier reading (node names). */
    private final Set<String> products = new HashSet<>();
    /** What made each target of this reading. */
    private final Map<String, Producer> producers = new HashMap<>();
    /** The notes of this reading, passed on once it is the one kept. */
    private final List<Map.Entry<Note, String>> pending = new ArrayList<>();
    private Path root;

    /**
     * A pattern as expanded: where it is written, its directory, the files it matched (node names), and how it
     * is used: {@code template} is a mapping's right-hand side, {@code ruleTarget} a pattern rule's target (else null).
     */
    private record Glob(String where, Path dir, String pattern, String template, String ruleTarget, List<String> matched) {
        /** What to write instead of this pattern, enumerating {@code sources} (the pattern the products are made from). */
        String instead(String sources, String productPattern) {
            if (template != null) {
                return "`[ " + sources + " -> " + template + " ]`";
            }
            if (ruleTarget != null) {
                return "`[ " + ruleTarget + " ] : [ " + sources + " " + pattern + " ]`, naming `"
                        + productPattern.replace("%", "$*") + "` in the formula where `$<` named it";
            }
            return "`[ " + sources + " -> " + productPattern + " ]`";
        }
    }

    /** What made a target: the rule's origin and, for a pattern rule, its first {@code %} source and its target pattern. */
    private record Producer(String origin, Path dir, String enumerator, String targetPattern) {
    }

    /**
     * @param overrides   variables set with {@code -v}, applied to the outermost fabfile's scope
     * @param includeDirs where {@code +[ path ]} is looked up when not found beside the invoking fabfile ({@code -I})
     * @param kept        variables left settable in a buildscript ({@code -K}): formulas reference them as {@code ${NAME}}
     */
    public Loader(List<VariableOverride> overrides, List<Path> includeDirs, Set<String> kept) {
        overrides.forEach(o -> this.overrides.put(o.name(), o));
        this.includeDirs = List.copyOf(includeDirs);
        this.kept = Set.copyOf(kept);
    }

    public Loader() {
        this(List.of(), List.of(), Set.of());
    }

    /** Reads the initial fabfile and everything it invokes. */
    public Model load(Path fabfile) {
        Path file = fabfile.toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new FabException(ExitStatus.NOINVOKE, "no fabfile at " + file + ": create one, or name it with -f PATH");
        }
        root = file.getParent();
        products.clear();
        // Patterns match sources, never products, so that the model does not depend on which products a
        // build left on disk: read again, leaving out the targets, until no pattern matched one. A target
        // a pattern matched is not yet left out, so each reading leaves out more: this ends.
        while (true) {
            try {
                Model model = read(file);
                Set<String> targets = targets();
                if (globs.stream().noneMatch(g -> g.matched().stream().anyMatch(targets::contains))) {
                    warnProducts(targets);
                    return model;
                }
                products.addAll(targets);
                pending.clear();
            } finally {
                pending.forEach(n -> notes.accept(n.getKey(), n.getValue()));
                pending.clear();
            }
        }
    }

    private Set<String> targets() {
        Set<String> targets = new HashSet<>();
        for (Rule r : rules) {
            r.targets().stream().filter(t -> !t.startsWith("@")).forEach(targets::add);
        }
        return targets;
    }

    /** Warns of each pattern that would have matched products, naming them and what to match instead. */
    private void warnProducts(Set<String> targets) {
        for (Glob g : globs) {
            List<String> made = targets.stream().filter(t -> matches(g.dir(), g.pattern(), t)).sorted().toList();
            if (made.isEmpty()) {
                continue;
            }
            List<String> origins = made.stream().map(t -> producers.get(t).origin()).distinct().toList();
            List<Producer> patternRules = made.stream().map(producers::get).filter(p -> p.enumerator() != null).distinct().toList();
            // A suggestion is exact only for products of one pattern rule written in the same directory.
            String instead = patternRules.size() == 1 && made.stream().allMatch(t -> producers.get(t).equals(patternRules.getFirst()))
                    && patternRules.getFirst().dir().equals(g.dir())
                    ? "match the sources they are made from instead: " + g.instead(patternRules.getFirst().enumerator(), patternRules.getFirst().targetPattern())
                    : "match the sources they are made from instead, or name the products themselves";
            pending.add(Map.entry(Note.WARN, "fab: warning: %s: pattern `%s` matches sources, never products: not %s (made by %s); %s"
                    .formatted(g.where(), g.pattern(), String.join(" ", made), String.join(" ", origins), instead)));
        }
    }

    private Model read(Path file) {
        rules.clear();
        discoveries.clear();
        fabfiles.clear();
        invoking.clear();
        globs.clear();
        producers.clear();
        Scope scope = new Scope(true);
        for (VariableOverride o : overrides.values()) {
            if (o.append()) {
                scope.base.put(o.name(), List.of());
                scope.vars.put(o.name(), o.value());
            } else {
                scope.vars.put(o.name(), o.value());
            }
        }
        evaluate(file, scope);
        Map<String, List<String>> keptValues = new TreeMap<>();
        for (String k : kept) {
            keptValues.put(k, scope.vars.getOrDefault(k, List.of()));
        }
        return new Model(root, file, rules, fabfiles, keptValues, discoveries);
    }

    private void evaluate(Path file, Scope scope) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FabException(ExitStatus.NOINVOKE, "cannot read fabfile " + file + ": " + e.getMessage());
        }
        fabfiles.add(file);
        invoking.push(file);
        String name = display(file);
        Path dir = file.getParent();
        for (Statement statement : Parser.parse(name, bytes)) {
            switch (statement) {
                case Assign a -> {
                    assign(a, scope, new Context(name, dir));
                    pending.add(Map.entry(Note.VAR, "$" + a.name() + " = [ " + String.join(" ", scope.vars.getOrDefault(a.name(), List.of()))
                            + " ] (" + name + ":" + a.line() + ")"));
                }
                case RuleDecl r -> rule(r, scope, new Context(name, dir));
                case Invoke i -> invoke(i, scope, new Context(name, dir));
                case Discover d -> discover(d, scope, new Context(name, dir));
            }
        }
        invoking.pop();
    }

    private record Context(String file, Path dir) {
        String where(int line, int col) {
            return file + ":" + line + ":" + col;
        }
    }

    private void assign(Assign a, Scope scope, Context cx) {
        List<String> value = items(a.value(), scope, cx);
        VariableOverride o = scope.outermost ? overrides.get(a.name()) : null;
        if (o != null && !o.append()) {
            return;
        }
        if (o != null) {
            List<String> base = a.append() ? concat(scope.base.getOrDefault(a.name(), List.of()), value) : value;
            scope.base.put(a.name(), base);
            scope.vars.put(a.name(), concat(base, o.value()));
            return;
        }
        if (a.append()) {
            scope.vars.put(a.name(), concat(scope.vars.getOrDefault(a.name(), List.of()), value));
        } else {
            scope.vars.put(a.name(), value);
        }
    }

    private void rule(RuleDecl r, Scope scope, Context cx) {
        String origin = cx.file() + ":" + r.line();
        List<String> targets = expandWords(r.targets(), scope, cx);
        List<String> sources = expandWords(r.sources(), scope, cx);
        boolean pattern = targets.stream().anyMatch(t -> t.contains("%"));
        if (!pattern) {
            addRule(targets, items(r.sources(), scope, cx), expandWords(r.depfile(), scope, cx), r, scope, cx, origin, "");
            return;
        }
        String enumerator = sources.stream().filter(s -> s.contains("%")).findFirst()
                .orElseThrow(() -> new FabException(ExitStatus.SYNTAX, "%s:%d:%d: syntax error: expected a source with `%%` in a pattern rule (its files give the stems), found none"
                        .formatted(cx.file(), r.line(), r.col())));
        List<String> depfile = expandWords(r.depfile(), scope, cx);
        String targetPattern = targets.stream().filter(t -> t.contains("%")).findFirst().orElseThrow();
        for (String stem : glob(cx.where(r.line(), r.col()), cx.dir(), enumerator, null, targetPattern).keySet()) {
            addRule(substitute(targets, stem), substitute(sources, stem), substitute(depfile, stem), r, scope, cx, origin, stem);
            Producer made = new Producer(origin, cx.dir(), enumerator, targetPattern);
            rules.getLast().targets().forEach(t -> producers.put(t, made));
        }
    }

    /** One discovery per source file: {@code $<} and {@code $^} are the source, {@code $*} its pattern stem. */
    private void discover(Discover d, Scope scope, Context cx) {
        String origin = cx.file() + ":" + d.line();
        for (String source : items(d.sources(), scope, cx)) {
            if (source.startsWith("@")) {
                continue;
            }
            // fab runs a discovery itself, also for -k: a kept variable's value, not the buildscript's ${name}.
            String command = formula(d.formula(), List.of(), List.of(source), "", scope, cx, false);
            discoveries.add(new Discovery(node(source, cx.dir()), command, cx.dir(), origin));
        }
    }

    private static List<String> substitute(List<String> words, String stem) {
        return words.stream().map(w -> w.replace("%", stem)).toList();
    }

    private void addRule(List<String> targets, List<String> sources, List<String> depfile, RuleDecl r, Scope scope, Context cx,
                         String origin, String stem) {
        String formula = r.formula() == null ? null : formula(r.formula(), targets, sources, stem, scope, cx, true);
        String dep = depfile.isEmpty() ? null : node(depfile.getFirst(), cx.dir());
        Rule rule = new Rule(nodes(targets, cx.dir()), nodes(sources, cx.dir()), formula, cx.dir(), origin, dep);
        rules.add(rule);
        Producer made = new Producer(origin, cx.dir(), null, null);
        rule.targets().forEach(t -> producers.putIfAbsent(t, made));
    }

    private List<String> nodes(List<String> words, Path dir) {
        return words.stream().map(w -> node(w, dir)).toList();
    }

    /** The node name of a word written in a fabfile of {@code dir}. */
    public String node(String word, Path dir) {
        if (word.startsWith("@")) {
            return word;
        }
        Path p = dir.resolve(word).normalize();
        if (p.startsWith(root)) {
            String rel = root.relativize(p).toString();
            return rel.isEmpty() ? "." : rel;
        }
        return p.toString();
    }

    /** The formula's text; {@code keep}: kept variables ({@code -K}) become the buildscript's {@code ${name}}. */
    private String formula(Ast.Formula f, List<String> targets, List<String> sources, String stem, Scope scope, Context cx, boolean keep) {
        List<String> files = sources.stream().filter(s -> !s.startsWith("@")).toList();
        String text = f.text();
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 >= text.length()) {
                out.append(c);
                i++;
                continue;
            }
            char n = text.charAt(i + 1);
            switch (n) {
                case '$' -> out.append('$');
                case '@' -> out.append(String.join(" ", targets.stream().filter(t -> !t.startsWith("@")).toList()));
                case '<' -> out.append(files.isEmpty() ? "" : files.getFirst());
                case '^' -> out.append(String.join(" ", files));
                case '*' -> out.append(stem);
                default -> {
                    Matcher m = REFERENCE.matcher(text).region(i, text.length());
                    if (m.lookingAt()) {
                        String name = m.group(1);
                        if (keep && kept.contains(name) && scope.outermost) {
                            out.append("${").append(name).append('}');
                        } else {
                            out.append(String.join(" ", lookup(name, scope, cx, lineOf(f, i), colOf(f, i))));
                        }
                        i = m.end();
                        continue;
                    }
                    out.append('$');
                    i++;
                    continue;
                }
            }
            i += 2;
        }
        return out.toString().strip();
    }

    private static int lineOf(Ast.Formula f, int offset) {
        int line = f.line();
        for (int k = 0; k < offset; k++) {
            if (f.text().charAt(k) == '\n') {
                line++;
            }
        }
        return line;
    }

    private static int colOf(Ast.Formula f, int offset) {
        int lastNl = f.text().lastIndexOf('\n', offset - 1);
        return lastNl < 0 ? f.col() + 1 + offset : offset - lastNl;
    }

    private void invoke(Invoke inv, Scope scope, Context cx) {
        Word pathWord = (Word) inv.path().getFirst();
        List<String> expanded = expandWord(pathWord, scope, cx);
        if (expanded.size() != 1) {
            throw new FabException(ExitStatus.NOINVOKE, "%s:%d:%d: cannot invoke `%s`: it expands to %d paths, expected one"
                    .formatted(cx.file(), inv.line(), inv.col(), pathWord.text(), expanded.size()));
        }
        String path = expanded.getFirst();
        List<Path> candidates = new ArrayList<>();
        candidates.add(cx.dir().resolve(path));
        includeDirs.forEach(d -> candidates.add(d.resolve(path)));
        Path found = null;
        for (Path c : candidates) {
            Path f = Files.isDirectory(c) ? c.resolve("fabfile") : c;
            if (Files.isRegularFile(f)) {
                found = f.toAbsolutePath().normalize();
                break;
            }
        }
        if (found == null) {
            throw new FabException(ExitStatus.NOINVOKE, "%s:%d:%d: cannot invoke `%s`: no fabfile at %s; searched %s (add a directory with -I)"
                    .formatted(cx.file(), inv.line(), inv.col(), path, candidates.getFirst().normalize(),
                            candidates.stream().map(p -> p.normalize().toString()).toList()));
        }
        if (invoking.contains(found)) {
            throw new FabException(ExitStatus.NOINVOKE, "%s:%d:%d: cannot invoke `%s`: %s is already being invoked (an invocation cycle)"
                    .formatted(cx.file(), inv.line(), inv.col(), path, display(found)));
        }
        Scope child = new Scope(false);
        for (Binding b : inv.bindings()) {
            List<String> value = b.value() == null
                    ? lookup(b.name(), scope, cx, inv.line(), inv.col())
                    : items(b.value(), scope, cx);
            child.vars.put(b.name(), value);
            pending.add(Map.entry(Note.PARAMS, display(found) + " <- $" + b.name() + " = [ " + String.join(" ", value) + " ] (" + cx.file() + ":" + inv.line() + ")"));
        }
        evaluate(found, child);
        if (inv.scope() != null) {
            scope.children.put(inv.scope(), child);
        }
    }

    /** Expands variables in words without globbing (for patterns and pattern rules). */
    private List<String> expandWords(List<Item> items, Scope scope, Context cx) {
        List<String> out = new ArrayList<>();
        for (Item item : items) {
            switch (item) {
                case Word w -> out.addAll(expandWord(w, scope, cx));
                case Mapping m -> out.addAll(mapping(m, scope, cx));
            }
        }
        return out;
    }

    /** Expands a list fully: variables, then {@code %} words to the files they match, then mappings. */
    private List<String> items(List<Item> items, Scope scope, Context cx) {
        List<String> out = new ArrayList<>();
        for (Item item : items) {
            switch (item) {
                case Word w -> {
                    for (String s : expandWord(w, scope, cx)) {
                        if (s.contains("%") && !s.startsWith("@") && !s.startsWith("-")) {
                            glob(cx.where(w.line(), w.col()), cx.dir(), s, null, null).values().forEach(out::add);
                        } else {
                            out.add(s);
                        }
                    }
                }
                case Mapping m -> out.addAll(mapping(m, scope, cx));
            }
        }
        return out;
    }

    private List<String> mapping(Mapping m, Scope scope, Context cx) {
        Word pw = new Word(m.pattern(), m.line(), m.col());
        Word tw = new Word(m.template(), m.line(), m.col());
        List<String> patterns = expandWord(pw, scope, cx);
        List<String> templates = expandWord(tw, scope, cx);
        List<String> out = new ArrayList<>();
        for (String p : patterns) {
            for (String stem : glob(cx.where(m.line(), m.col()), cx.dir(), p, String.join(" ", templates), null).keySet()) {
                for (String t : templates) {
                    out.add(t.replace("%", stem));
                }
            }
        }
        return out;
    }

    private List<String> expandWord(Word w, Scope scope, Context cx) {
        String text = w.text();
        Matcher m = REFERENCE.matcher(text);
        if (!m.find()) {
            return List.of(text);
        }
        List<String> values = lookup(m.group(1), scope, cx, w.line(), w.col() + m.start());
        String prefix = text.substring(0, m.start());
        List<String> rest = expandWord(new Word(text.substring(m.end()), w.line(), w.col() + m.end()), scope, cx);
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String r : rest) {
                out.add(prefix + v + r);
            }
        }
        return out;
    }

    private List<String> lookup(String name, Scope scope, Context cx, int line, int col) {
        int dot = name.indexOf('.');
        List<String> value;
        if (dot < 0) {
            value = scope.vars.get(name);
        } else {
            Scope child = scope.children.get(name.substring(0, dot));
            value = child == null ? null : child.vars.get(name.substring(dot + 1));
        }
        if (value == null) {
            throw new FabException(ExitStatus.SYNTAX, "%s:%d:%d: syntax error: expected a defined variable, found `$%s` (assign it first, pass it to this invocation, or set it with -v %s=...)"
                    .formatted(cx.file(), line, col, name, name));
        }
        return value;
    }

    /**
     * Files under {@code dir} matching {@code pattern} (one {@code %} matching any run of characters, `/` included),
     * products left out: stem to path, sorted.
     */
    private Map<String, String> glob(String where, Path dir, String pattern, String template, String ruleTarget) {
        Map<String, String> matched = globFiles(dir, pattern);
        matched.values().removeIf(rel -> products.contains(node(rel, dir)));
        globs.add(new Glob(where, dir, pattern, template, ruleTarget, matched.values().stream().map(rel -> node(rel, dir)).toList()));
        pending.add(Map.entry(Note.LISTS, pattern + " in " + dir + ": " + String.join(" ", matched.values())));
        return matched;
    }

    /** Whether {@code pattern}, written in a fabfile of {@code dir}, matches a node's name, on disk or not. */
    private boolean matches(Path dir, String pattern, String node) {
        Path p = root.resolve(node);
        if (!p.startsWith(dir)) {
            return false;
        }
        String rel = dir.relativize(p).toString();
        int pct = pattern.indexOf('%');
        String prefix = pattern.substring(0, pct);
        String suffix = pattern.substring(pct + 1);
        return rel.length() > prefix.length() + suffix.length() && rel.startsWith(prefix) && rel.endsWith(suffix);
    }

    private Map<String, String> globFiles(Path dir, String pattern) {
        int pct = pattern.indexOf('%');
        String prefix = pattern.substring(0, pct);
        String suffix = pattern.substring(pct + 1);
        int slash = prefix.lastIndexOf('/');
        String base = slash < 0 ? "" : prefix.substring(0, slash);
        Map<String, String> out = new TreeMap<>();
        for (String rel : walk(dir, base)) {
            if (rel.length() > prefix.length() + suffix.length() && rel.startsWith(prefix) && rel.endsWith(suffix)) {
                out.put(rel.substring(prefix.length(), rel.length() - suffix.length()), rel);
            }
        }
        return out;
    }

    /** Regular files under {@code dir/base}, as paths relative to {@code dir}. */
    private List<String> walk(Path dir, String base) {
        Path start = dir.resolve(base).normalize();
        return walks.computeIfAbsent(start, s -> {
            if (!Files.isDirectory(s)) {
                return List.of();
            }
            List<String> files = new ArrayList<>();
            try (Stream<Path> stream = Files.walk(s)) {
                stream.filter(p -> {
                    for (Path part : s.relativize(p)) {
                        if (SKIPPED_DIRS.contains(part.toString())) {
                            return false;
                        }
                    }
                    return Files.isRegularFile(p);
                }).forEach(p -> files.add(dir.relativize(p).toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return files;
        });
    }

    /** A fabfile's name in messages: relative to the project root, where every fabfile of a project usually is. */
    private String display(Path file) {
        return file.startsWith(root) ? root.relativize(file).toString() : file.toString();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    /** The variables of one fabfile evaluation; named child scopes are the invocations made with {@code @scope}. */
    private static final class Scope {
        final boolean outermost;
        final Map<String, List<String>> vars = new HashMap<>();
        final Map<String, List<String>> base = new HashMap<>();
        final Map<String, Scope> children = new HashMap<>();

        Scope(boolean outermost) {
            this.outermost = outermost;
        }
    }
}
