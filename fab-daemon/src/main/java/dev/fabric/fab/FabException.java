package dev.fabric.fab;

/** Every error the engine reports to a user: what happened, and the exit status that names it. */
public class FabException extends RuntimeException {
    private final ExitStatus status;

    public FabException(ExitStatus status, String message) {
        super(message);
        this.status = status;
    }

    public ExitStatus status() {
        return status;
    }
}
