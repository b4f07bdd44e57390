package dev.fabric.cli.common;

/** {@code -o table|json}: for people, or the registry's JSON for scripts. */
public enum OutputFormat {
    table, json
}
