package dev.fabric.testsupport;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a test that needs the {@link NetworkLab} finds on this machine: root, the tools, whether
 * network namespaces can be made here, and whether the environment demands that the lab's tests run
 * ({@value #REQUIRE_ENV}).
 *
 * <p>{@link #verdict()} is the whole decision of {@link RequiresNetworkLab}, tested without a lab.
 */
record NetworkLabRig(boolean root, List<String> missingTools, String namespaceFailure, boolean required) {

    /** Environment variable that turns a skip into a failure when it is {@code 1} (CI sets it). */
    static final String REQUIRE_ENV = "FABRIC_REQUIRE_NETLAB";

    /** The programs the lab script runs. */
    static final List<String> TOOLS = List.of("ip", "iptables", "sshd", "ssh", "ssh-keygen");

    NetworkLabRig {
        missingTools = List.copyOf(missingTools);
        Objects.requireNonNull(namespaceFailure, "namespaceFailure (empty when namespaces work)");
    }

    /** Whether the environment says the lab's tests must run: {@value #REQUIRE_ENV} is {@code 1} or {@code true}. */
    static boolean requiredBy(Map<String, String> env) {
        String value = env.get(REQUIRE_ENV);
        return value != null && (value.strip().equals("1") || value.strip().equalsIgnoreCase("true"));
    }

    /** Run the test, skip it, or fail it, and why. */
    DockerRig.Verdict verdict() {
        String missing;
        if (!root) {
            missing = "it runs as a user other than root (network namespaces and iptables need root). Run the tests as root.";
        } else if (!missingTools.isEmpty()) {
            missing = String.join(", ", missingTools) + " " + (missingTools.size() == 1 ? "is" : "are")
                    + " missing. Run ./fabric rig (it installs Debian's iproute2, iptables and openssh-server).";
        } else if (!namespaceFailure.isEmpty()) {
            missing = "no network namespace can be made here (" + namespaceFailure + "); the lab needs a machine or a "
                    + "privileged container where ip netns add works.";
        } else {
            return new DockerRig.Verdict.Run();
        }
        return required
                ? new DockerRig.Verdict.Fail("This test needs the network lab, but " + missing
                        + " " + REQUIRE_ENV + "=1 makes this a failure instead of a skip.")
                : new DockerRig.Verdict.Skip("Skipped: this test needs the network lab, but " + missing
                        + " Set " + REQUIRE_ENV + "=1 to fail instead of skipping.");
    }
}
