package dev.fabric.spawner.launch.ssh;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of the {@code ssh} launcher ({@code fabric.spawner.ssh.*}): the hosts a spawn request
 * may place a member on ({@code "host": "<name>"}). Without hosts, every member is started by the
 * spawner's own launcher.
 *
 * @param hosts the hosts, by the name spawn requests use
 * @param distribution the member distribution staged on each host, a self-contained Spring Boot jar
 *                     ({@code spawner-service-exec.jar}); empty: {@code fabric.spawner.process.jar}, else the jar
 *                     this spawner runs from. Members this node starts itself inherit it
 * @param connectTimeout how long to wait for a host to answer, and for its key exchange and authentication
 * @param commandTimeout how long a remote command (a checksum, {@code java -version}, {@code kill}) may take
 * @param javaRuntime the Java runtime staged on a host with {@code stage-java} whose {@code java} is no Java 25:
 *                    a directory with {@code bin/java}; empty: the one this node runs on ({@code java.home})
 * @param livenessInterval how often a member whose SSH channel is gone (adopted after a spawner restart,
 *                         or its connection lost) is checked with {@code kill -0}
 */
@ConfigurationProperties("fabric.spawner.ssh")
@Validated
public record SshLauncherProperties(
        @NotNull @DefaultValue Map<@Pattern(regexp = "[a-z0-9][a-z0-9-]{0,62}", message = "host names are lower-case letters, digits and '-'")
                String, @Valid Host> hosts,
        @NotNull @DefaultValue("") String distribution,
        @NotNull @DefaultValue("10s") Duration connectTimeout,
        @NotNull @DefaultValue("2m") Duration commandTimeout,
        @NotNull @DefaultValue("2s") Duration livenessInterval,
        @NotNull @DefaultValue("") String javaRuntime) {

    /**
     * One host members can be placed on.
     *
     * @param address the host's name or address, as this spawner reaches its SSH server
     * @param port its SSH port
     * @param user the account members run as there
     * @param identity the private key file this spawner authenticates with (no passphrase; readable by
     *                 the spawner's user alone: a group- or world-readable key is refused). The only
     *                 authentication tried: no password, no agent, no other key
     * @param knownHosts the known-hosts file that lists the host's key (OpenSSH format; for a port
     *                   other than 22 the entry reads {@code [address]:port})
     * @param hostKeyPolicy {@code strict} (default): a host whose key the file does not list is refused;
     *                      {@code accept-new-and-record}: its first key is trusted and written to the file
     * @param java the Java 25 (or later) {@code java} on the host, checked with {@code java -version} before each launch
     * @param directory the host's fabric directory (relative: to the user's home): {@code dist/} holds the
     *                  staged distribution, {@code members/<id>/} each member's log and data
     * @param memberAddress the address members on this host listen on and are reached at (their
     *                      management port, their role's API); empty: {@code address}
     * @param listenAddress the address members on this host listen on, when it differs from the address
     *                      they are reached at: {@code 0.0.0.0} on a host that others reach at several
     *                      addresses (a head node seen from its site and from its cluster); empty: {@code memberAddress}
     * @param memberPorts the range members' management ports are drawn from, {@code first-last}
     * @param jvmOptions extra JVM options for members on this host
     * @param stageJava when {@code java} is missing or older than 25: stage this node's Java runtime
     *                  ({@code java-runtime}) in {@code <directory>/jdk/} and start members with it; off
     *                  (default): such a host fails the launch with "no Java"
     */
    public record Host(
            @NotBlank String address,
            @Min(1) @Max(65535) @DefaultValue("22") int port,
            @NotBlank String user,
            @NotNull Path identity,
            @NotNull Path knownHosts,
            @NotNull @DefaultValue("strict") HostKeyPolicy hostKeyPolicy,
            @NotBlank @DefaultValue("java") String java,
            @NotBlank @DefaultValue("fabric") String directory,
            @NotNull @DefaultValue("") String memberAddress,
            @NotNull @DefaultValue("") String listenAddress,
            @NotNull @Pattern(regexp = "[0-9]{1,5}-[0-9]{1,5}", message = "must be a port range like 47100-47999")
            @DefaultValue("47100-47999") String memberPorts,
            @NotNull @DefaultValue List<String> jvmOptions,
            @DefaultValue("false") boolean stageJava) {

        /** Where members listen and are reached. */
        public String reachableAddress() {
            return memberAddress.isBlank() ? address : memberAddress;
        }

        /** Where members bind their ports. */
        public String bindAddress() {
            return listenAddress.isBlank() ? reachableAddress() : listenAddress;
        }

        /** The first and last port of {@code memberPorts}. */
        int[] portRange() {
            String[] bounds = memberPorts.split("-");
            int first = Integer.parseInt(bounds[0]);
            int last = Integer.parseInt(bounds[1]);
            if (first < 1024 || last > 65535 || first > last) {
                throw new IllegalArgumentException("member-ports " + memberPorts + " must be a range within 1024-65535");
            }
            return new int[] {first, last};
        }
    }
}
