package dev.fabric.spawner.role;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.spring.FabricSecurityProperties;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The request body limit a role's client counts with when it calls other members (the pilot
 * manager its queues, an agent its pubsub): this member's own {@code max-body-size}. A spawner
 * hands its own to every member it spawns ({@code SpawnService}), so the members of a fabric take
 * the same, and a fabric whose operator changed it needs nothing more set for its roles.
 */
public final class MemberBodyLimit {

    private MemberBodyLimit() {
    }

    /** {@code client} counting with this member's max-body-size (the client's default when there is none to read). */
    public static FabricClient.Builder applyTo(FabricClient.Builder client, ObjectProvider<FabricSecurityProperties> security) {
        FabricSecurityProperties properties = security.getIfAvailable();
        if (properties == null || properties.signature() == null || properties.signature().maxBodySize() == null) {
            return client;
        }
        return client.maxBodySize(properties.signature().maxBodySize().toBytes());
    }
}
