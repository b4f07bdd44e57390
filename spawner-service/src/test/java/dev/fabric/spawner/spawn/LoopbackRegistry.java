package dev.fabric.spawner.spawn;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.registry.InstanceList;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.StateChangeRequest;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * The registry's instance API in memory, on a real HTTP port, for tests of the spawner's own
 * machinery without a registry service: registrations (a higher incarnation replaces the one
 * before, metadata is merged), reads, lists, state changes by the registry's rules
 * ({@link InstanceState#canMoveTo}, bootstrap steps of the same state) and reports. Signatures are
 * not checked; every change is kept as a {@link Step}. The real registry is tested in registry-service.
 */
final class LoopbackRegistry implements AutoCloseable {

    /** A change of an instance: a registration ({@code reason} "registered") or a state change. */
    record Step(String id, long incarnation, InstanceState state, String reason) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Map<String, ServiceInstance> instances = new LinkedHashMap<>();
    private final List<Step> steps = new ArrayList<>();
    private final HttpServer server;

    LoopbackRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/api/v1/instances", this::handle);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
    }

    synchronized ServiceInstance register(RegistrationRequest request) {
        ServiceInstance old = instances.get(request.id());
        long incarnation = request.incarnation() == null ? 1 : request.incarnation();
        if (old != null && incarnation < old.incarnation()) {
            throw new Refused(409, "stale-incarnation", "incarnation " + incarnation + " is older than " + old.incarnation());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        if (old != null && old.incarnation() == incarnation && old.metadata() != null) {
            metadata.putAll(old.metadata());
        } else if (old != null && old.metadata() != null) {
            metadata.putAll(old.metadata());
        }
        if (request.metadata() != null) {
            metadata.putAll(request.metadata());
        }
        Instant now = Instant.now();
        ServiceInstance registered = new ServiceInstance(request.id(), request.type(), request.name(),
                request.state() == null ? InstanceState.RUNNING : request.state(), "registered", incarnation,
                request.parentId() != null ? request.parentId() : old == null ? null : old.parentId(), request.connectivity(),
                request.endpoints() == null ? Map.of() : request.endpoints(), metadata,
                old == null ? now : old.registeredAt(), now, now);
        instances.put(request.id(), registered);
        steps.add(new Step(request.id(), incarnation, registered.state(), "registered"));
        return registered;
    }

    synchronized Optional<ServiceInstance> find(String id) {
        return Optional.ofNullable(instances.get(id));
    }

    synchronized ServiceInstance changeState(String id, StateChangeRequest request) {
        ServiceInstance old = instances.get(id);
        if (old == null) {
            throw new Refused(404, "not-found", "no instance " + id);
        }
        if (old.incarnation() != request.incarnation()) {
            throw new Refused(409, "stale-incarnation", id + " is at incarnation " + old.incarnation());
        }
        boolean step = old.state() == request.state() && request.state().recordsSteps();
        if (!step && !old.state().canMoveTo(request.state())) {
            throw new Refused(409, "invalid-transition", id + " cannot move from " + old.state() + " to " + request.state());
        }
        ServiceInstance changed = new ServiceInstance(id, old.type(), old.name(), request.state(), request.reason(), old.incarnation(),
                old.parentId(), old.connectivity(), request.endpoints() == null ? old.endpoints() : request.endpoints(),
                old.metadata(), old.registeredAt(), Instant.now(), old.lastHeartbeatAt());
        instances.put(id, changed);
        steps.add(new Step(id, old.incarnation(), request.state(), request.reason()));
        return changed;
    }

    /** Every change of {@code id} so far, oldest first. */
    synchronized List<Step> steps(String id) {
        return steps.stream().filter(s -> s.id().equals(id)).toList();
    }

    private static final class Refused extends RuntimeException {
        final int status;
        final String reason;

        Refused(int status, String reason, String detail) {
            super(detail);
            this.status = status;
            this.reason = reason;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String method = exchange.getRequestMethod();
            String[] path = exchange.getRequestURI().getPath().substring("/api/v1/instances".length()).split("/");
            // "" -> the collection; "", id -> one instance; "", id, what -> its state, reports, history
            Object answer;
            int status = 200;
            try {
                if (path.length <= 1 && method.equals("POST")) {
                    answer = register(JSON.readValue(body, RegistrationRequest.class));
                    status = 201;
                } else if (path.length <= 1 && method.equals("GET")) {
                    synchronized (this) {
                        answer = new InstanceList(steps.size(), List.copyOf(instances.values()));
                    }
                } else if (path.length == 2 && method.equals("GET")) {
                    answer = find(path[1]).orElseThrow(() -> new Refused(404, "not-found", "no instance " + path[1]));
                } else if (path.length == 3 && path[2].equals("state") && method.equals("PUT")) {
                    answer = changeState(path[1], JSON.readValue(body, StateChangeRequest.class));
                } else if (path.length == 3 && path[2].equals("reports") && method.equals("POST")) {
                    answer = find(path[1]).orElseThrow(() -> new Refused(404, "not-found", "no instance " + path[1]));
                } else {
                    throw new Refused(404, "not-found", "the loopback registry has no " + method + " " + exchange.getRequestURI());
                }
            } catch (Refused e) {
                answer = Map.of("type", "urn:fabric:problem:" + e.reason, "status", e.status, "reason", e.reason,
                        "detail", e.getMessage());
                status = e.status;
            }
            byte[] json = JSON.writeValueAsString(answer).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", status < 300 ? "application/json" : "application/problem+json");
            exchange.sendResponseHeaders(status, json.length);
            exchange.getResponseBody().write(json);
        }
    }
}
