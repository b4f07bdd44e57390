package dev.fabric.fab.fabfile;

import java.nio.file.Path;

/**
 * One source's discovery after evaluation: the source's node name, the formula (every variable and
 * {@code $<} expanded) that prints the files it depends on in make syntax, the directory it runs in
 * (its fabfile's; the printed paths are relative to it), and where it was written.
 */
public record Discovery(String source, String command, Path dir, String origin) {
}
