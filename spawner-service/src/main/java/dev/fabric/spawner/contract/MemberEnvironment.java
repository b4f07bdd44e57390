package dev.fabric.spawner.contract;

/**
 * The environment a spawner hands a new member (docs/spawner.md, "Bootstrap"). Every launcher
 * passes these; only {@link #OTP} travels differently on Kubernetes (from a Secret).
 */
public final class MemberEnvironment {

    /** The member's id (kept across restarts). */
    public static final String SERVICE_ID = "FABRIC_SERVICE_ID";
    /** The incarnation being started: 1, or higher for a restart under the old id. */
    public static final String INCARNATION = "FABRIC_INCARNATION";
    /** The role to run. */
    public static final String ROLE = "FABRIC_ROLE";
    /** The spawner's bootstrap and management URL. */
    public static final String SPAWNER_URL = "FABRIC_SPAWNER_URL";
    /** The spawner's own id: the member's parent in the registry. */
    public static final String SPAWNER_ID = "FABRIC_SPAWNER_ID";
    /** The registry's URL. */
    public static final String REGISTRY_URL = "FABRIC_REGISTRY_URL";
    /** {@code DIRECT}, {@code FIREWALL_TO_SERVICE}, {@code FIREWALL_FROM_SERVICE} or {@code SPLICED}. */
    public static final String CONNECTIVITY = "FABRIC_CONNECTIVITY";
    /**
     * The relay URL of the bridge the member is reached through ({@code via} in its spawn
     * configuration), when it has one: the member opens its channel there as soon as it holds its
     * keys, before its spawner's setup check, which comes in over that channel (a member in mode 2
     * cannot be dialed).
     */
    public static final String VIA = "FABRIC_VIA";
    /** The key of the spawn configuration that names the bridge: {@link #VIA} carries its value. */
    public static final String VIA_CONFIG = "via";
    /**
     * Mode 4: the id of the rendezvous at the registry where the member meets its spawner to splice a
     * connection (docs/connectivity.md); the member joins it signed with its bootstrap identity.
     */
    public static final String RENDEZVOUS = "FABRIC_RENDEZVOUS";
    /** The one-time password: redeemed once for the fabric keys. */
    public static final String OTP = "FABRIC_OTP";
    /** The port the member's management API listens on. */
    public static final String MANAGEMENT_PORT = "FABRIC_MANAGEMENT_PORT";
    /** The member's data directory, kept across restarts (its role's state lives there). */
    public static final String DATA_DIR = "FABRIC_DATA_DIR";
    /** The Spring profile that makes the jar a member instead of a spawner. */
    public static final String MEMBER_PROFILE = "member";

    private MemberEnvironment() {}
}
