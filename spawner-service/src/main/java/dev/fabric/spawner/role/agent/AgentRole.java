package dev.fabric.spawner.role.agent;

import dev.fabric.core.client.FabricClient;
import dev.fabric.core.spring.FabricSecurityProperties;
import dev.fabric.spawner.contract.SpawningNode;
import dev.fabric.spawner.member.MemberNode;
import dev.fabric.spawner.reach.ReverseChannel;
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
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code agent} role (docs/roles.md, "agent"): holds {@code cores} slots on its host and runs
 * a pilot's tasks in them, taken from the pilot's queue, their every state change published on the
 * pilot's events topic. It finds its queue and pubsub through the registry (through their bridges,
 * as their registrations say) and signs every call with the fabric keys it was sealed. A restart
 * under its id reads its journal of the tasks it was running and re-runs or fails them per its
 * {@code rerun-policy}. A lost agent is replaced by a fresh one: its tasks come back from the queue.
 */
@Component
@Profile("member")
public class AgentRole implements Role {

    public static final String NAME = "agent";

    static final String BASE_PATH = "/agent/v1";

    /** Metrics (Micrometer; {@code /actuator/prometheus}). */
    static final String TASKS_METRIC = "fabric.agent.tasks";
    static final String DURATION_METRIC = "fabric.agent.task.duration";
    static final String LEASED_METRIC = "fabric.agent.leased";
    static final String SLOTS_METRIC = "fabric.agent.slots";
    static final String BUSY_METRIC = "fabric.agent.slots.busy";

    private static final Logger log = LoggerFactory.getLogger(AgentRole.class);

    /** The member itself, which holds the roles: looked up at start, as it is made after them. */
    private final ObjectProvider<SpawningNode> node;
    private final ObjectProvider<FabricSecurityProperties> security;
    private final JsonMapper json;
    private final MeterRegistry meters;
    /** Between {@link #recover} and {@link #start}: the journal the previous incarnation left. */
    private RunningJournal recovered;
    private volatile Agent agent;
    /** The agent's client of its queue and pubsub: closed after the agent, on {@link #stop}. */
    private FabricClient client;

    public AgentRole(ObjectProvider<SpawningNode> node, ObjectProvider<FabricSecurityProperties> security, JsonMapper json,
                     MeterRegistry meters) {
        this.node = node;
        this.security = security;
        this.json = json;
        this.meters = meters;
        Gauge.builder(SLOTS_METRIC, this, role -> role.agent == null ? 0 : role.agent.settings().cores())
                .description("the agent's slots (cores)").register(meters);
        Gauge.builder(BUSY_METRIC, this, role -> role.agent == null ? 0 : role.agent.running().size())
                .description("slots running a task now").register(meters);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RolePolicy policy() {
        // Its tasks live in the queue until acknowledged: a fresh agent in its place runs them again.
        return new RolePolicy(true);
    }

    @Override
    public synchronized void recover(RoleContext context) throws StateUnrecoverableException {
        try {
            closeQuietly(recovered);
            recovered = RunningJournal.open(context.dataDirectory(), json);
            log.info("agent {}: its journal {} holds {} tasks of the previous incarnation", context.serviceId(), recovered.file(),
                    recovered.open().size());
        } catch (IOException | RuntimeException e) {
            throw new StateUnrecoverableException("the agent journal in " + context.dataDirectory() + " cannot be read: " + e, e);
        }
    }

    @Override
    public synchronized void start(RoleContext context) {
        AgentSettings settings = AgentSettings.of(context.config(), context.dataDirectory());
        RunningJournal journal = recovered;
        recovered = null;
        try {
            Files.createDirectories(settings.sandbox());
            if (journal == null) {
                journal = RunningJournal.open(context.dataDirectory(), json);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("agent " + context.serviceId() + " cannot open its journal or sandbox " + settings.sandbox()
                    + ": " + e, e);
        }
        SpawningNode node = this.node.getObject();
        FabricClient.Builder fabric = FabricClient.builder(node.registryUrl().orElseThrow(() -> new IllegalStateException(
                "agent " + context.serviceId() + " has no registry")), node.keys().orElseThrow(() -> new IllegalStateException(
                "agent " + context.serviceId() + " has no fabric keys"))).name(context.serviceId());
        // Its events go to the pubsub in requests of at most its own max-body-size, which its spawner gave the pubsub too.
        MemberBodyLimit.applyTo(fabric, security);
        String via = context.config().get(MemberNode.VIA);
        if (via != null) {
            fabric.relay(ReverseChannel.relayAddress(URI.create(via)));
        }
        FabricClient built = fabric.build();
        try {
            agent = new Agent(settings, context.serviceId(), built.bind(settings.queue(), "queue"), built.pubsub(settings.pubsub()),
                    journal, json, meters);
        } catch (RuntimeException e) {
            built.close();
            throw e;
        }
        client = built;
        log.info("agent {} incarnation {}: {} slots, tasks from queue {}, events on {} of pubsub {}, sandboxes in {}, rerun-policy {}",
                context.serviceId(), context.incarnation(), settings.cores(), settings.queue(), settings.topic(), settings.pubsub(),
                settings.sandbox(), settings.rerunPolicy().name().toLowerCase());
    }

    @Override
    public synchronized void stop() {
        Agent current = agent;
        agent = null;
        try {
            if (current != null) {
                current.close();
            }
        } finally {
            // Its connections and threads, once the agent has given back and acknowledged what it holds.
            if (client != null) {
                client.close();
                client = null;
            }
        }
        closeQuietly(recovered);
        recovered = null;
    }

    @Override
    public Map<String, Object> status() {
        Agent current = agent;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("started", current != null);
        if (current != null) {
            AgentSettings settings = current.settings();
            status.put("slots", settings.cores());
            status.put("running", current.running().size());
            status.put("done", current.done());
            status.put("failed", current.failed());
            status.put("canceled", current.canceled());
            status.put("pilot", settings.pilot());
            status.put("queue", settings.queue());
            status.put("pubsub", settings.pubsub());
            status.put("topic", settings.topic());
            status.put("control", settings.control());
            status.put("controlNext", current.controlNext());
            status.put("held", current.held());
            status.put("holdLimit", current.room().limit());
            status.put("averageTaskMillis", current.room().averageTask().toNanos() / 1e6);
            status.put(AgentSettings.RERUN_POLICY, settings.rerunPolicy().name().toLowerCase());
        }
        return status;
    }

    @Override
    public Map<String, String> endpoints() {
        return Map.of(NAME, BASE_PATH);
    }

    /** The running agent. */
    Agent agent() {
        Agent current = agent;
        if (current == null) {
            throw new SpawnerException(HttpStatus.SERVICE_UNAVAILABLE, "agent-not-started", "agent role not started: this member does "
                    + "not run the agent role, or has not been configured for it yet, or is stopping; retry once it is RUNNING");
        }
        return current;
    }

    private static void closeQuietly(RunningJournal journal) {
        if (journal == null) {
            return;
        }
        try {
            journal.close();
        } catch (IOException e) {
            log.warn("agent journal {}: close failed: {}", journal.file(), e.toString());
        }
    }
}
