package dev.fabric.spawner.role.journal;

import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.StateUnrecoverableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/**
 * What a role's failure to open its journal means, the same for every role that keeps one: on a
 * restart the state is unrecoverable (the member exits and is marked LOST); on a first start the
 * role cannot start.
 */
public final class JournalRecovery {

    /** Opens a role's state from its journal. */
    @FunctionalInterface
    public interface Opening<T> {
        T open() throws IOException, JournalCorruptException;
    }

    private JournalRecovery() {
    }

    /**
     * Opens the state on a restart.
     *
     * @param owner whose journal: {@code queue}, {@code pubsub}
     * @param fileName the journal's file name in the data directory
     * @throws StateUnrecoverableException when the journal is missing, corrupt or unreadable, saying which and where
     */
    public static <T> T recover(RoleContext context, String owner, String fileName, Opening<T> opening) throws StateUnrecoverableException {
        String journal = context.dataDirectory().resolve(fileName).toString();
        try {
            return opening.open();
        } catch (NoSuchFileException e) {
            throw new StateUnrecoverableException("the " + owner + " journal " + journal + " is missing, so the messages of "
                    + context.serviceId() + " are gone (was its data directory " + context.dataDirectory() + " lost or replaced?)", e);
        } catch (JournalCorruptException e) {
            throw new StateUnrecoverableException("the " + owner + " journal " + journal + " is corrupt " + e.getMessage()
                    + "; replaying past it would lose or invent messages. Keep the file for inspection", e);
        } catch (IOException e) {
            throw new StateUnrecoverableException("the " + owner + " journal " + journal + " cannot be read: " + e, e);
        }
    }

    /**
     * Opens the state on a first start: an empty journal is created; one already there (a directory
     * reused for the same id) is replayed rather than overwritten, since losing messages is never the safe choice.
     *
     * @throws IllegalStateException when that journal is corrupt
     * @throws UncheckedIOException when it cannot be opened
     */
    public static <T> T start(RoleContext context, String owner, Opening<T> opening) {
        try {
            return opening.open();
        } catch (JournalCorruptException e) {
            throw new IllegalStateException("the " + owner + " journal in " + context.dataDirectory() + " is corrupt " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("the " + owner + " journal in " + context.dataDirectory() + " cannot be opened: " + e, e);
        }
    }
}
