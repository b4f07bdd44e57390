package dev.fabric.spawner.role.pilot;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.core.task.TaskState;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.role.MemberBodyLimit;
import dev.fabric.spawner.role.Role;
import dev.fabric.spawner.role.RoleContext;
import dev.fabric.spawner.role.RolePolicy;
import dev.fabric.spawner.role.StateUnrecoverableException;
import dev.fabric.spawner.web.SpawnerException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@code pilot-manager} role, RADICAL-Pilot's pilot manager (docs/roles.md "pilot-manager"):
 * it places pilots (a queue, a pubsub and agents holding cores, spawned through members' management
 * ports), takes an application's tasks for them and records each task's final state once. Its
 * pilots and tasks live in a journal in its data directory, so a restart under its id recovers
 * them; one that lost its journal is not replaced (its tasks' results are gone, and the
 * application must hear it).
 */
@Component
@Profile("member")
public class PilotManagerRole implements Role {

    public static final String NAME = "pilot-manager";

    static final String BASE_PATH = "/pilots/v1";

    /** Every setting a pilot manager takes in its spawn config (docs/roles.md). */
    public static final Set<String> SETTINGS = PilotSettings.KEYS;

    private static final Logger log = LoggerFactory.getLogger(PilotManagerRole.class);

    private final ObjectProvider<SpawningNode> node;
    private final MeterRegistry meters;
    /** Its max-body-size, which its spawner gave it and every member it spawns alike: what its queues take in a request. */
    private final ObjectProvider<FabricSecurityProperties> security;
    private final JsonMapper json = JsonMapper.builder().build();
    private PilotManager recovered;
    private volatile PilotManager manager;

    public PilotManagerRole(ObjectProvider<SpawningNode> node, ObjectProvider<FabricSecurityProperties> security, MeterRegistry meters) {
        this.node = node;
        this.security = security;
        this.meters = meters;
    }

    /**
     * Reads a pilot manager's settings as it would at its start, to refuse a spawn request whose settings it would refuse.
     *
     * @throws IllegalArgumentException naming the setting that is not valid and what it must be
     */
    public static void checkSettings(Map<String, String> config) {
        PilotSettings.of(config);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RolePolicy policy() {
        return new RolePolicy(false);
    }

    @Override
    public synchronized void recover(RoleContext context) throws StateUnrecoverableException {
        try {
            recovered = open(context, true);
        } catch (NoSuchFileException e) {
            throw new StateUnrecoverableException("the pilot journal " + context.dataDirectory().resolve(PilotJournal.FILE_NAME)
                    + " is missing, so the pilots and tasks of " + context.serviceId() + " are gone", e);
        } catch (PilotJournal.CorruptException e) {
            throw new StateUnrecoverableException("the pilot journal in " + context.dataDirectory() + " is damaged "
                    + e.getMessage() + "; keep the file for inspection", e);
        } catch (IOException e) {
            throw new StateUnrecoverableException("the pilot journal in " + context.dataDirectory() + " cannot be read: " + e, e);
        }
    }

    @Override
    public synchronized void start(RoleContext context) {
        PilotManager opened = recovered;
        recovered = null;
        if (opened == null) {
            try {
                opened = open(context, false);
            } catch (IOException | PilotJournal.CorruptException e) {
                throw new IllegalStateException("the pilot journal in " + context.dataDirectory() + " cannot be opened: " + e.getMessage(), e);
            }
        }
        opened.start();
        manager = opened;
        PilotManager metered = opened;
        for (TaskState state : TaskState.values()) {
            Gauge.builder("fabric.pilot.tasks", metered, m -> m.tasks().counts().getOrDefault(state, 0L))
                    .tag("state", state.name()).description("tasks of this pilot manager by state").register(meters);
        }
        Gauge.builder("fabric.pilot.pilots", metered, m -> m.list().stream().filter(p -> !p.state().isFinal()).count())
                .description("pilots not ended").register(meters);
        log.info("pilot manager {} incarnation {}: serving {} with journal {}", context.serviceId(), context.incarnation(), BASE_PATH,
                opened.journalFile());
    }

    private PilotManager open(RoleContext context, boolean mustExist) throws IOException, PilotJournal.CorruptException {
        SpawningNode member = node.getObject();
        FabricKeys keys = member.keys().orElseThrow(() -> new IllegalStateException("member " + member.id() + " has no fabric keys yet"));
        URI registry = member.registryUrl().orElseThrow(() -> new IllegalStateException("member " + member.id() + " has no registry yet"));
        // The manager closes its fabric, and so this client, when it closes.
        MemberPilotFabric fabric = new MemberPilotFabric(MemberBodyLimit.applyTo(FabricClient.builder(registry, keys).name(context.serviceId()), security).build(),
                context.serviceId());
        try {
            return PilotManager.open(context.serviceId(), context.dataDirectory(), mustExist, fabric, PilotSettings.of(context.config()),
                    Clock.systemUTC(), json);
        } catch (IOException | PilotJournal.CorruptException | RuntimeException e) {
            fabric.close();
            throw e;
        }
    }

    /**
     * Its pilots stay as they are: the agents, queues and pubsubs its member now stops are neither
     * replaced, nor asked to restart, nor failing their pilots.
     */
    @Override
    public synchronized void membersStopping() {
        if (manager != null) {
            manager.stopWorking();
        }
    }

    @Override
    public synchronized void stop() {
        close(manager);
        manager = null;
        close(recovered);
        recovered = null;
    }

    private static void close(PilotManager manager) {
        if (manager == null) {
            return;
        }
        try {
            manager.close();
        } catch (IOException e) {
            log.warn("pilot journal: close failed: {}", e.toString());
        }
    }

    @Override
    public Map<String, Object> status() {
        PilotManager current = manager;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("started", current != null);
        if (current != null) {
            status.put("pilots", current.list().stream().filter(p -> !p.state().isFinal()).count());
            status.put("tasks", current.tasks().counts());
        }
        return status;
    }

    @Override
    public Map<String, String> endpoints() {
        return Map.of("pilots", BASE_PATH);
    }

    /** The running manager, or 503 until the member runs this role. */
    PilotManager manager() {
        PilotManager current = manager;
        if (current == null) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "pilot-manager-not-started", "the pilot manager role is not "
                    + "started: this member does not run it, or is not configured yet, or is stopping; retry once it is RUNNING");
        }
        return current;
    }
}
