package dev.fabric.spawner.contract;

import java.util.Arrays;
import java.util.Optional;

/**
 * The exit statuses a member uses when it cannot become a working member (docs/spawner.md).
 * Its spawner reads them to record why the member FAILED; 80 to 89 stay clear of the shell's and
 * the JVM's own statuses.
 */
public enum BootstrapExit {
    /** The bootstrap environment is missing or malformed (a launcher bug or a hand-started member). */
    BAD_ENVIRONMENT(80, "bootstrap environment missing or malformed"),
    /** The spawner could not be reached to redeem the one-time password. */
    SPAWNER_UNREACHABLE(81, "spawner unreachable for the one-time password"),
    /** The spawner refused the one-time password (expired, used, wrong, or for another id). */
    OTP_REFUSED(82, "one-time password refused"),
    /** The sealed fabric keys could not be opened. */
    KEYS_UNSEALABLE(83, "fabric keys could not be unsealed"),
    /** The spawner never contacted or configured the member in time. */
    NOT_CONFIGURED(84, "not configured by its spawner in time"),
    /** The registry refused or could not be reached for the registration. */
    REGISTRY_UNREACHABLE(85, "registry unreachable or refused the registration"),
    /** A restart under the old id could not pick up the old state: the member is lost. */
    STATE_UNRECOVERABLE(86, "could not recover its state"),
    /** The role failed to start. */
    ROLE_FAILED(87, "role failed to start");

    private final int code;
    private final String meaning;

    BootstrapExit(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** The bootstrap exit a status stands for, if it is one. */
    public static Optional<BootstrapExit> of(int code) {
        return Arrays.stream(values()).filter(e -> e.code == code).findFirst();
    }
}
