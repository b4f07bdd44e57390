package dev.fabric.fab.daemon;

import dev.fabric.fab.ExitStatus;
import dev.fabric.fab.FabException;

import java.time.Duration;
import java.util.Map;

/**
 * How long a project's daemons wait for a command before they exit: {@code FAB_IDLE_TIMEOUT} in the
 * environment of the fab that starts them (a count of seconds, or with a unit {@code s}, {@code m},
 * {@code h}; {@code 0} never), three hours by default. fab checks it before starting a daemon, so a bad
 * value exits 1 there instead of in a daemon nobody watches.
 */
public final class IdleTimeout {
    public static final String VARIABLE = "FAB_IDLE_TIMEOUT";
    static final Duration DEFAULT = Duration.ofHours(3);

    private IdleTimeout() {
    }

    /** The idle time {@code env} sets, or the default; BADARGS when the value is not a duration. */
    public static Duration of(Map<String, String> env) {
        String value = env.get(VARIABLE);
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        String v = value.trim();
        long unit = switch (v.charAt(v.length() - 1)) {
            case 's' -> 1;
            case 'm' -> 60;
            case 'h' -> 3600;
            default -> 0;
        };
        String digits = unit == 0 ? v : v.substring(0, v.length() - 1);
        try {
            long count = Long.parseLong(digits);
            if (count < 0 || !digits.matches("[0-9]+")) {
                throw new NumberFormatException();
            }
            return Duration.ofSeconds(Math.multiplyExact(count, unit == 0 ? 1 : unit));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new FabException(ExitStatus.BADARGS, VARIABLE + "=" + value + ": expected seconds, or a count with s, m or h "
                    + "(90s, 30m, 3h); 0 keeps the daemons until fab --shutdown");
        }
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
