package dev.fabric.spawner.launch;

import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;

import java.util.Map;
import java.util.Objects;

/**
 * One incarnation to start.
 *
 * @param serviceId the member's id, kept across restarts
 * @param incarnation 1 for a new member, higher for each restart under the same id
 * @param role the role the member will run (e.g. {@code queue})
 * @param connectivity how the bootstrap handshake connects (who dials whom)
 * @param resources CPU and memory the member may use
 * @param environment the bootstrap environment ({@link MemberEnvironment}), without the password
 * @param otp the one-time password; the launcher alone decides how it reaches the member
 * @param host the configured SSH host to start the member on ({@code fabric.spawner.ssh.hosts.<name>});
 *             null: where this spawner's own launcher starts members (a local process, a pod)
 */
public record LaunchSpec(String serviceId, long incarnation, String role, Connectivity connectivity,
                         Resources resources, Map<String, String> environment, OneTimePassword otp, String host) {

    /** An incarnation started by the spawner's own launcher (no placement on an SSH host). */
    public LaunchSpec(String serviceId, long incarnation, String role, Connectivity connectivity,
                      Resources resources, Map<String, String> environment, OneTimePassword otp) {
        this(serviceId, incarnation, role, connectivity, resources, environment, otp, null);
    }

    public LaunchSpec {
        Objects.requireNonNull(serviceId, "serviceId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(connectivity, "connectivity");
        Objects.requireNonNull(resources, "resources");
        Objects.requireNonNull(otp, "otp");
        environment = Map.copyOf(environment);
    }
}
