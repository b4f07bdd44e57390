package dev.fabric.core.registry;

/** The shape of ids, types and session ids: letters, digits and {@code . _ : -}, starting with a letter or digit. */
public final class Ids {
    public static final String PATTERN = "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}";
    public static final String MESSAGE = "must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

    private Ids() {}
}
