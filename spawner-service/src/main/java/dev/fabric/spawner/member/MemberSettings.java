package dev.fabric.spawner.member;

import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.registry.Connectivity;
import dev.fabric.core.registry.Ids;
import dev.fabric.spawner.contract.MemberEnvironment;
import org.springframework.core.env.Environment;

import java.net.URI;
import java.nio.file.Path;

/**
 * What a member learns from its spawner's environment ({@link MemberEnvironment}). Reading it
 * fails with {@link BootstrapExit#BAD_ENVIRONMENT} and the name of what is missing.
 *
 * @param via the relay URL of the bridge it is reached through ({@link MemberEnvironment#VIA}), or null
 * @param rendezvous mode 4: the rendezvous where it meets its spawner to splice ({@link MemberEnvironment#RENDEZVOUS}), or null
 */
public record MemberSettings(String serviceId, long incarnation, String role, URI spawnerUrl, String spawnerId, URI registryUrl,
                             Connectivity connectivity, OneTimePassword otp, Path dataDir, String advertisedHost, URI via,
                             String rendezvous) {

    @Override
    public String toString() {
        return "MemberSettings[" + serviceId + " incarnation " + incarnation + ", role " + role + ", spawner " + spawnerUrl
                + ", registry " + registryUrl + ", " + connectivity + "]";
    }

    /** Thrown when the environment is unusable; the member exits with BAD_ENVIRONMENT. */
    public static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message);
        }
    }

    static MemberSettings from(Environment env) {
        String id = required(env, MemberEnvironment.SERVICE_ID);
        if (!id.matches(Ids.PATTERN)) {
            throw new Invalid(MemberEnvironment.SERVICE_ID + " '" + id + "' is not an id: " + Ids.MESSAGE);
        }
        long incarnation;
        try {
            incarnation = Long.parseLong(required(env, MemberEnvironment.INCARNATION));
        } catch (NumberFormatException e) {
            throw new Invalid(MemberEnvironment.INCARNATION + " is not a number");
        }
        if (incarnation < 1) {
            throw new Invalid(MemberEnvironment.INCARNATION + " must be 1 or more");
        }
        Connectivity connectivity;
        try {
            connectivity = Connectivity.valueOf(env.getProperty(MemberEnvironment.CONNECTIVITY, "DIRECT"));
        } catch (IllegalArgumentException e) {
            throw new Invalid(MemberEnvironment.CONNECTIVITY + " must be DIRECT, FIREWALL_TO_SERVICE, FIREWALL_FROM_SERVICE or SPLICED");
        }
        String rendezvous = env.getProperty(MemberEnvironment.RENDEZVOUS, "");
        if (connectivity == Connectivity.SPLICED && !rendezvous.matches("[A-Za-z0-9_-]{8,64}")) {
            throw new Invalid(MemberEnvironment.RENDEZVOUS + " is not set to a rendezvous id: a member in mode 4 (SPLICED) meets its "
                    + "spawner at the rendezvous its spawner opened");
        }
        String otp = required(env, MemberEnvironment.OTP);
        return new MemberSettings(id, incarnation, required(env, MemberEnvironment.ROLE), url(env, MemberEnvironment.SPAWNER_URL),
                required(env, MemberEnvironment.SPAWNER_ID), url(env, MemberEnvironment.REGISTRY_URL), connectivity,
                OneTimePassword.of(otp), Path.of(required(env, MemberEnvironment.DATA_DIR)),
                env.getProperty("FABRIC_ADVERTISED_HOST", "127.0.0.1"),
                env.getProperty(MemberEnvironment.VIA, "").isBlank() ? null : url(env, MemberEnvironment.VIA),
                rendezvous.isBlank() ? null : rendezvous);
    }

    private static String required(Environment env, String name) {
        String value = env.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new Invalid(name + " is not set: a member is started by its spawner, which sets it");
        }
        return value;
    }

    private static URI url(Environment env, String name) {
        String value = required(env, name);
        try {
            URI uri = URI.create(value);
            if (uri.getScheme() != null && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw new Invalid(name + " '" + value + "' is not a URL");
    }
}
