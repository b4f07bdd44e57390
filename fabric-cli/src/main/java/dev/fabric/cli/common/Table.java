package dev.fabric.cli.common;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain-text table: columns as wide as their widest cell, two spaces apart, no trailing blanks. */
public final class Table {

    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    /** A table whose first line names its columns. */
    public Table(String... headers) {
        this.columns = headers.length;
        rows.add(headers.clone());
    }

    private Table(int columns) {
        this.columns = columns;
    }

    /** A table of rows only, e.g. field names and values. */
    public static Table withoutHeader(int columns) {
        return new Table(columns);
    }

    /** Adds a row; null cells print as {@code -}. */
    public Table row(String... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("a row of " + cells.length + " cells in a table of " + columns + " columns");
        }
        rows.add(Arrays.stream(cells).map(cell -> cell == null || cell.isEmpty() ? "-" : cell).toArray(String[]::new));
        return this;
    }

    public String render() {
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(row[c]);
                if (c < columns - 1) {
                    line.append(" ".repeat(widths[c] - row[c].length() + 2));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
