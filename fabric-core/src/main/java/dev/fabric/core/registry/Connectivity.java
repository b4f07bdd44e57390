package dev.fabric.core.registry;

/** Who dials whom when a member bootstraps, by what firewalls allow (docs/spawner.md, "Connectivity modes"). */
public enum Connectivity {
    /** Mode 1: no firewall; the spawnee dials the spawner. */
    DIRECT,
    /** Mode 2: firewall towards the service; the spawnee still dials the spawner. */
    FIREWALL_TO_SERVICE,
    /** Mode 3: firewall from the service; the spawner dials the spawnee once it is RUNNING. */
    FIREWALL_FROM_SERVICE,
    /** Mode 4: firewalls both ways; TCP splicing through the registry as broker. */
    SPLICED
}
