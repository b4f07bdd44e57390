package dev.fabric.cli.commands.spawner;

import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.CommandContext;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.cli.http.FabricEndpoint;
import dev.fabric.cli.registry.Registry;
import dev.fabric.cli.registry.RegistryWire;

import java.time.Duration;
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

    /**
     * How long a request that launches a member (a spawn, a restart) waits for its answer when nothing
     * else says: the spawner answers once the member is started, after a wait for a starting slot
     * (fabric.spawner.process.max-starting) or, on an SSH host, the staging of its distribution.
     */
    public static final Duration LAUNCH_TIMEOUT = Duration.ofMinutes(2);

    private Spawners() {}

    /** The spawner that spawns: the first RUNNING spawner the registry lists when nothing else says. */
    public static FabricHome.Setting<String> forSpawn(CommandContext context, String option) {
        Optional<FabricHome.Setting<String>> given = context.spawnerOverride(option);
        if (given.isPresent()) {
            return given.get();
        }
        Registry registry = context.registry();
        try {
            RegistryWire.Instances spawners = registry.decode(registry.instances(new RegistryWire.Filter("spawner", "RUNNING", null, null)),
                    RegistryWire.Instances.class);
            List<RegistryWire.Instance> reachable = spawners.instances().stream()
                    .filter(s -> s.endpoints().get(Registry.MANAGEMENT) != null).toList();
            if (reachable.isEmpty()) {
                return fallback("no RUNNING spawner in the registry at " + registry.baseUrl());
            }
            RegistryWire.Instance spawner = reachable.getFirst();
            return new FabricHome.Setting<>(spawner.endpoints().get(Registry.MANAGEMENT), "the spawner " + spawner.id()
                    + " as the registry at " + registry.baseUrl() + " lists it"
                    + (reachable.size() > 1 ? " (the first of " + reachable.size() + " RUNNING spawners; choose one with --spawner)" : ""));
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("the registry could not be asked: " + e.getMessage());
        }
    }

    /** The node that supervises a member: its adopter (metadata {@code supervisor}), else its parent in the registry, when nothing else says. */
    public static FabricHome.Setting<String> forMember(CommandContext context, String option, String memberId) {
        Optional<FabricHome.Setting<String>> given = context.spawnerOverride(option);
        if (given.isPresent()) {
            return given.get();
        }
        Registry registry = context.registry();
        RegistryWire.Instance member;
        try {
            member = registry.member(memberId);
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("the registry could not be asked for the spawner of " + memberId + ": " + e.getMessage());
        }
        // The node that supervises it: its adopter when its parent is gone (metadata "supervisor"), else its parent.
        String adopter = member.metadata() == null ? null : member.metadata().get("supervisor");
        String supervisor = adopter != null && !adopter.isBlank() ? adopter : member.parentId();
        if (supervisor == null || supervisor.isBlank()) {
            return fallback("the registry at " + registry.baseUrl() + " records no spawner (parent) for " + memberId);
        }
        try {
            RegistryWire.Instance parent = registry.member(supervisor);
            String url = parent.endpoints().get(Registry.MANAGEMENT);
            if (url == null) {
                return fallback("its spawner " + parent.id() + " publishes no management endpoint in the registry");
            }
            return new FabricHome.Setting<>(url, "the spawner of " + memberId + ", " + parent.id() + ", as the registry at "
                    + registry.baseUrl() + " lists it");
        } catch (CliException e) {
            if (e.exitCode() != ExitCodes.NOT_FOUND && e.exitCode() != ExitCodes.UNREACHABLE) {
                throw e;
            }
            return fallback("its spawner " + supervisor + " could not be found in the registry: " + e.getMessage());
        }
    }

    /** The spawner at that URL. */
    public static FabricEndpoint endpoint(CommandContext context, FabricHome.Setting<String> spawner) {
        return context.endpoint(new FabricEndpoint.Target(spawner.value(), "the spawner", spawner.source(), UNREACHABLE_HINTS),
                FabricEndpoint.Advice.GENERAL);
    }

    private static FabricHome.Setting<String> fallback(String why) {
        return new FabricHome.Setting<>(FabricHome.DEFAULT_SPAWNER, "the default (no --spawner, no $" + FabricHome.SPAWNER_ENV
                + ", and " + why + ")");
    }
}
