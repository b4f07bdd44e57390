package dev.fabric.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether this machine can run the console's browser tests: Debian's {@code chromium} and
 * {@code chromium-driver}, and whether the environment demands that they run
 * ({@value #REQUIRE_ENV}, set by {@code .ci/run}). The decision is kept apart from any browser so it
 * is tested without one, as {@code RequiresDocker}'s is.
 */
record BrowserRig(boolean chromiumPresent, boolean driverPresent, boolean required) {

    static final String REQUIRE_ENV = "FABRIC_REQUIRE_BROWSER";
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    /** This machine as it is. */
    static BrowserRig probe() {
        return new BrowserRig(Files.isExecutable(CHROMIUM), Files.isExecutable(CHROMEDRIVER), requiredBy(System.getenv()));
    }

    /** {@value #REQUIRE_ENV} is {@code 1} or {@code true}. */
    static boolean requiredBy(Map<String, String> env) {
        String value = env.get(REQUIRE_ENV);
        return value != null && (value.strip().equals("1") || value.strip().equalsIgnoreCase("true"));
    }

    /** Run, skip, or fail, and why. */
    Verdict verdict() {
        if (chromiumPresent && driverPresent) {
            return new Verdict.Run();
        }
        String missing = (chromiumPresent ? "" : CHROMIUM + " ") + (driverPresent ? "" : CHROMEDRIVER + " ")
                + "missing: install Debian's chromium and chromium-driver (docker/base/rig.sh does, as root).";
        return required
                ? new Verdict.Fail("This test needs a browser, but " + missing + " " + REQUIRE_ENV + "=1 makes this a failure instead of a skip.")
                : new Verdict.Skip("Skipped: this test needs a browser, but " + missing + " Set " + REQUIRE_ENV + "=1 to fail instead.");
    }

    sealed interface Verdict {
        record Run() implements Verdict {}

        record Skip(String message) implements Verdict {}

        record Fail(String message) implements Verdict {}
    }
}
