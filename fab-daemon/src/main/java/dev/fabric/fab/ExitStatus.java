package dev.fabric.fab;

/** fab's exit statuses, exactly as the original tool defined them (docs/fab-reference.md). */
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
    FABPERMS(15);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
