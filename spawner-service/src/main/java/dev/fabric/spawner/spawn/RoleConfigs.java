package dev.fabric.spawner.spawn;

import dev.fabric.spawner.contract.MemberEnvironment;
import dev.fabric.spawner.role.agent.AgentRole;
import dev.fabric.spawner.role.agent.AgentSettings;
import dev.fabric.spawner.role.bridge.BridgeRole;
import dev.fabric.spawner.role.bridge.BridgeSettings;
import dev.fabric.spawner.role.pilot.PilotManagerRole;
import dev.fabric.spawner.role.pubsub.PubSubRole;
import dev.fabric.spawner.role.pubsub.PubSubSettings;
import dev.fabric.spawner.role.queue.QueueRole;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The settings each of the fabric's roles takes in a spawn request's {@code config}, checked before anything is spawned:
 * a key the role does not take (a typo) or a value it would refuse at its start is a {@code 400 invalid-config} at once,
 * not a member that ignores the key or ends FAILED seconds later (docs/roles.md lists every role's settings).
 */
final class RoleConfigs {

    /** Keys every member takes, whatever its role: the bridge it is reached through. */
    static final Set<String> NODE_KEYS = Set.of(MemberEnvironment.VIA_CONFIG);

    /** A role's settings: their keys, and the role's own reading of their values. */
    private record Settings(Set<String> keys, Consumer<Map<String, String>> read) {}

    private RoleConfigs() {
    }

    /**
     * Why {@code config} is not one {@code role} takes, naming the key, or empty when it is (or when the role is not one
     * of the fabric's, whose settings are its own to check).
     */
    static Optional<String> invalidity(String role, Map<String, String> config) {
        Optional<Settings> settings = settingsOf(role);
        if (settings.isEmpty()) {
            return Optional.empty();
        }
        for (String key : new TreeSet<>(config.keySet())) {
            if (!settings.get().keys().contains(key) && !NODE_KEYS.contains(key)) {
                Set<String> known = new TreeSet<>(settings.get().keys());
                known.addAll(NODE_KEYS);
                return Optional.of("'" + key + "' is not a setting of role " + role + "; its settings are " + known
                        + " (docs/roles.md)");
            }
        }
        try {
            settings.get().read().accept(config);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static Optional<Settings> settingsOf(String role) {
        return Optional.ofNullable(switch (role) {
            case QueueRole.NAME -> new Settings(Set.of(), config -> { });
            case BridgeRole.NAME -> new Settings(BridgeSettings.KEYS, BridgeSettings::of);
            case PubSubRole.NAME -> new Settings(PubSubSettings.KEYS, PubSubSettings::of);
            // The data directory only places the default sandbox: any will do for the check.
            case AgentRole.NAME -> new Settings(AgentSettings.KEYS, config -> AgentSettings.of(config, Path.of("/")));
            case PilotManagerRole.NAME -> new Settings(PilotManagerRole.SETTINGS, PilotManagerRole::checkSettings);
            default -> null;
        });
    }
}
