package dev.fabric.fab;

/**
 * fab's exit statuses: 0 to 15 exactly as the original tool defined them (docs/fab-reference.md);
 * 16 is ours, for a workspace shared by several developers (docs/fab.md).
 */
public enum ExitStatus {
    SUCCESS(0),
    BADARGS(1),
    BADTMP(2),
    BADIPC(3),
    SYNTAX(4),
    ILLBYTE(5),
    UNSATISFIED(6),
    CMDFAIL(7),
    DSCPARSE(8),
    NOINVOKE(9),
    BADPLAN(10),
    CYCLE(11),
    NOSELECT(12),
    NXPARAMS(13),
    FABDFAIL(14),
    FABPERMS(15),
    /** The project is in use by another developer, and only the owner of its fabfile may take it over. */
    NOTOWNER(16);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
