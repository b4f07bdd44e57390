package dev.fabric.cli.spawner;

import dev.fabric.cli.CliException;
import dev.fabric.cli.ExitCodes;
import dev.fabric.cli.FabricCli;
import dev.fabric.cli.FabricHome;
import dev.fabric.cli.management.ManagementClient;
import dev.fabric.cli.management.Members;
import dev.fabric.cli.registry.InstanceFilter;
import dev.fabric.cli.registry.InstanceList;
import dev.fabric.cli.registry.RegistryClient;
import dev.fabric.cli.registry.ServiceInstance;

import java.util.List;
import java.util.Optional;

/**
 * Which spawner a command talks to, and where that came from (for messages): {@code --spawner},
 * else {@code $FABRIC_SPAWNER}, else the spawner the registry lists (for a member: its own
 * spawner, its parent), else {@value FabricHome#DEFAULT_SPAWNER}.
 */
public final class Spawners {

    private static final List<String> UNREACHABLE_HINTS = List.of(
            "Is the spawner running? ./fabric up starts one next to the registry;",
            "or point --spawner or $FABRIC_SPAWNER at a running one.");

    private Spawners() {}

    /** The spawner that spawns: the first RUNNING spawner the registry lists when nothing else says. */
    static FabricHome.Setting<String> forSpawn(FabricCli cli, String option) {
        Optional<FabricHome.Setting<String>> given = cli.spawnerOverride(option);
        if (given.isPresent()) {
            return given.get();
        }
        RegistryClient registry = cli.registry();
        try {
            InstanceList spawners = registry.decode(registry.instances(new InstanceFilter("spawner", "RUNNING", null, null)),
                    InstanceList.class);
            List<ServiceInstance> reachable = spawners.instances().stream()
                    .filter(s -> s.endpoints().get(Members.MANAGEMENT) != null).toList();
            if (reachable.isEmpty()) {
                return fallback("no RUNNING spawner in the registry at " + registry.baseUrl());
            }
            ServiceInstance spawner = reachable.getFirst();
            return new FabricHome.Setting<>(spawner.endpoints().get(Members.MANAGEMENT), "the spawner " + spawner.id()
                    + " as the registry at " + registry.baseUrl() + " lists it"
                    + (reachable.size() > 1 ? " (the first of " + reachable.size() + " RUNNING spawners; choose one with --spawner)" : ""));
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("the registry could not be asked: " + e.getMessage());
        }
    }

    /** The spawner of a member: its parent in the registry when nothing else says. */
    static FabricHome.Setting<String> forMember(FabricCli cli, String option, String memberId) {
        Optional<FabricHome.Setting<String>> given = cli.spawnerOverride(option);
        if (given.isPresent()) {
            return given.get();
        }
        RegistryClient registry = cli.registry();
        ServiceInstance member;
        try {
            member = registry.decode(registry.instance(memberId), ServiceInstance.class);
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("the registry could not be asked for the spawner of " + memberId + ": " + e.getMessage());
        }
        if (member.parentId() == null || member.parentId().isBlank()) {
            return fallback("the registry at " + registry.baseUrl() + " records no spawner (parent) for " + memberId);
        }
        try {
            ServiceInstance parent = registry.decode(registry.instance(member.parentId()), ServiceInstance.class);
            String url = parent.endpoints().get(Members.MANAGEMENT);
            if (url == null) {
                return fallback("its spawner " + parent.id() + " publishes no management endpoint in the registry");
            }
            return new FabricHome.Setting<>(url, "the spawner of " + memberId + ", " + parent.id() + ", as the registry at "
                    + registry.baseUrl() + " lists it");
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.NOT_FOUND && e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("its spawner " + member.parentId() + " could not be found in the registry: " + e.getMessage());
        }
    }

    /** A client of the spawner at that URL. */
    static ManagementClient client(FabricCli cli, FabricHome.Setting<String> spawner) {
        return cli.management(spawner.value(), "the spawner", spawner.source(), UNREACHABLE_HINTS);
    }

    private static FabricHome.Setting<String> fallback(String why) {
        return new FabricHome.Setting<>(FabricHome.DEFAULT_SPAWNER, "the default (no --spawner, no $" + FabricHome.SPAWNER_ENV
                + ", and " + why + ")");
    }
}
