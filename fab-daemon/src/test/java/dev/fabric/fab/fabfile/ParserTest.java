package dev.fabric.fab.fabfile;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;
import dev.fabric.fab.fabfile.Ast.Assign;
import dev.fabric.fab.fabfile.Ast.Invoke;
import dev.fabric.fab.fabfile.Ast.Mapping;
import dev.fabric.fab.fabfile.Ast.RuleDecl;
import dev.fabric.fab.fabfile.Ast.Statement;
import dev.fabric.fab.fabfile.Ast.Word;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParserTest {

    private static List<Statement> parse(String text) {
        return Parser.parse("fabfile", text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parsesEveryKindOfStatement() {
        List<Statement> s = parse("""
                # a comment
                $cc = [ gcc ]   # trailing comment
                $cflags += [ -O2 -DX=1 ]
                +[ lib ] ( $cc $cflags = [ -O0 ] ) @lib
                [ build/%.o ] : [ src/%.c ] { $cc -c $< -o $@ }
                [ @all ] : [ build/hello @test ]
                $objs = [ src/%.c -> build/%.o ]
                """);
        assertThat(s).hasSize(6);
        assertThat(s.get(0)).isEqualTo(new Assign("cc", false, List.of(new Word("gcc", 2, 9)), 2, 1));
        assertThat(((Assign) s.get(1)).append()).isTrue();
        assertThat(((Assign) s.get(1)).value()).extracting(i -> ((Word) i).text()).containsExactly("-O2", "-DX=1");
        Invoke inv = (Invoke) s.get(2);
        assertThat(inv.scope()).isEqualTo("lib");
        assertThat(inv.bindings()).hasSize(2);
        assertThat(inv.bindings().get(0).value()).isNull();
        assertThat(inv.bindings().get(1).value()).hasSize(1);
        RuleDecl rule = (RuleDecl) s.get(3);
        assertThat(rule.formula().text()).isEqualTo(" $cc -c $< -o $@ ");
        assertThat(((RuleDecl) s.get(4)).formula()).isNull();
        assertThat(((Assign) s.get(5)).value().getFirst()).isInstanceOf(Mapping.class);
    }

    @Test
    void ruleMayNameTheDepfileItsFormulaWrites() {
        RuleDecl rule = (RuleDecl) parse("[ a.o ] : [ a.c ] depfile [ a.d ] { cc -MMD -MF a.d -c a.c }").getFirst();
        assertThat(rule.depfile()).containsExactly(new Word("a.d", 1, 29));
        assertThatThrownBy(() -> parse("[ a.o ] : [ a.c ] depfile [ a.d ]"))
                .hasMessageContaining("fabfile:1:34: syntax error: expected a formula `{ ... }` after `depfile [ ... ]`");
        assertThatThrownBy(() -> parse("[ a.o ] : [ a.c ] depfile [ a.d b.d ] { cc }"))
                .hasMessageContaining("expected exactly one file in `depfile [ file ]`");
    }

    @Test
    void discoverNamesItsSourcesAndNeedsAFormula() {
        Ast.Discover d = (Ast.Discover) parse("discover [ src/%.c ] { cc -MM -MG -MP $< }").getFirst();
        assertThat(d.sources()).hasSize(1);
        assertThat(d.formula().text()).contains("cc -MM -MG -MP $<");
        assertThatThrownBy(() -> parse("discover [ a.c ]"))
                .hasMessage("fabfile:1:17: syntax error: expected a formula `{ ... }` after `discover [ ... ]` (it prints the dependencies of `$<`), found end of file");
    }

    @Test
    void formulasKeepNestedBracesAndShellText() {
        RuleDecl rule = (RuleDecl) parse("[ a ] : [ ] { if true; then echo ${HOME} # not a fab comment\nfi }").getFirst();
        assertThat(rule.formula().text()).contains("${HOME}").contains("# not a fab comment");
    }

    @Test
    void syntaxErrorNamesFileLineColumnExpectationAndOffendingText() {
        assertThatThrownBy(() -> parse("$cc = [ gcc ]\n[ a ] [ b ]\n"))
                .isInstanceOf(FabException.class)
                .hasMessage("fabfile:2:7: syntax error: expected `:` between the targets and the sources of a rule, found `[`")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.SYNTAX);
    }

    @Test
    void unterminatedFormulaIsASyntaxError() {
        assertThatThrownBy(() -> parse("[ a ] : [ b ] {\n echo"))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("fabfile:1:15: expected `}`")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.SYNTAX);
    }

    @Test
    void scopeNameIsLettersDigitsAndUnderscores() {
        assertThatThrownBy(() -> parse("+[ lib ] @my-lib"))
                .hasMessageContaining("fabfile:1:10: syntax error: expected a scope name (`@` then letters, digits or `_`), found `@my-lib`");
    }

    @Test
    void aStrayWordIsASyntaxError() {
        assertThatThrownBy(() -> parse("gcc -o x"))
                .hasMessageContaining("fabfile:1:1: syntax error: expected a statement")
                .hasMessageContaining("found `gcc`");
    }

    @Test
    void invalidUtf8IsAnIllegalByte() {
        byte[] bytes = "[ a ] : [ b ]\n$x = [ \u00e9".getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 1] = (byte) 0xff;
        assertThatThrownBy(() -> Parser.parse("fabfile", bytes))
                .isInstanceOf(FabException.class)
                .hasMessageContaining("fabfile:2:8: illegal byte 0xc3")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.ILLBYTE);
    }

    @Test
    void carriageReturnIsAllowed() {
        parse("$x = [ a ]\r\n[ b ] : [ ] { true }\r\n");
    }

    @Test
    void controlCharacterIsAnIllegalByte() {
        assertThatThrownBy(() -> parse("$x = [ a\u0000 ]"))
                .hasMessageContaining("fabfile:1:9: illegal byte 0x00")
                .hasMessageContaining("other than tab, line feed and carriage return")
                .extracting(e -> ((FabException) e).status()).isEqualTo(ExitStatus.ILLBYTE);
    }
}
