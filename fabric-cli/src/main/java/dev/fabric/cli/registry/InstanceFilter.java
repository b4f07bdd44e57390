package dev.fabric.cli.registry;

/** The query of {@code GET /api/v1/instances}; a null field means "any". */
public record InstanceFilter(String type, String state, String parent, String session) {

    public static final InstanceFilter ALL = new InstanceFilter(null, null, null, null);
}
