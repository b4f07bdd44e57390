package dev.fabric.cli.common;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TableTest {

    @Test
    void columnsAreAsWideAsTheirWidestCellAndLinesHaveNoTrailingBlanks() {
        String table = new Table("ID", "STATE", "REASON")
                .row("web-1", "RUNNING", "ok")
                .row("a-much-longer-id", null, "")
                .render();
        assertThat(table).isEqualTo("""
                ID                STATE    REASON
                web-1             RUNNING  ok
                a-much-longer-id  -        -
                """);
    }

    @Test
    void aTableWithoutHeaderHasOnlyItsRows() {
        assertThat(Table.withoutHeader(2).row("ID", "web-1").row("INCARNATION", "3").render()).isEqualTo("""
                ID           web-1
                INCARNATION  3
                """);
    }

    @Test
    void aRowMustFillTheColumns() {
        assertThatThrownBy(() -> new Table("A", "B").row("only one")).isInstanceOf(IllegalArgumentException.class);
    }
}
