package dev.fabric.spawner.role.bridge;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.spawner.reach.Circuit;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import dev.fabric.core.client.FabricClient;
import dev.fabric.core.client.PubSub;
import dev.fabric.core.client.Subscription;
import dev.fabric.core.pubsub.PubSubWire;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.spawner.FabricUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The bridge role on loopback (docs/connectivity.md): a queue configured to be reached through a
 * bridge is managed through it by {@link FabricClient}, heartbeats through it, refuses what a
 * tampering relay altered; a bridge at its limit refuses a channel with its reason; a bridge
 * killed with -9 comes back under its id and its members' channels with it; a subscription to a
 * pubsub behind the bridge follows it through the bridge and, after the bridge was killed, carries
 * on from where it stopped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BridgeIT {

    @TempDir
    static Path dir;

    static FabricUnderTest fabric;
    static FabricClient client;
    static String bridgeId;
    static String relayUrl;
    static String queueId;
    static String pubsubId;
    static final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void start() throws Exception {
        // A bridge and a queue restarting at once on a shared machine: more than a minute to bootstrap is allowed, and
        // the registry expects the members' own 2 s heartbeats (dead after 10 s): nothing here is detected by heartbeats
        // (a kill is seen by the spawner), and a bridge declared DEAD while its member starts would fail the member.
        fabric = new FabricUnderTest(dir, Duration.ofSeconds(2));
        fabric.startSpawner();
        client = FabricClient.builder(URI.create(fabric.registryUrl), fabric.keys).name("bridge-it").build();
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        bridgeId = spawn("bridge", Map.of("port", Integer.toString(port), "max-channels", "1"));
        ServiceInstance bridge = fabric.awaitState(bridgeId, InstanceState.RUNNING, 1);
        relayUrl = bridge.endpoints().get("relay");
        assertThat(relayUrl).isEqualTo("http://127.0.0.1:" + port);
        queueId = spawn("queue", Map.of("via", relayUrl));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (fabric != null) {
            fabric.close();
        }
    }

    static String spawn(String type, Map<String, String> config) {
        return fabric.spawn(Map.of("type", type, "config", config));
    }

    /** The bridge's Prometheus counter, summed over the given label filter. */
    static double bridgeMetric(String name, String label) throws Exception {
        return metricOf(bridgeId, name, label);
    }

    /** A bridge's Prometheus metric, summed over the given label filter. */
    static double metricOf(String id, String name, String label) throws Exception {
        ServiceInstance bridge = fabric.registry.get(id);
        String text = fabric.signedClient(bridge.endpoints().get("management")).get().uri("/actuator/prometheus")
                .retrieve().body(String.class);
        double sum = 0;
        for (String line : text.split("\n")) {
            // The metric itself, not one whose name it begins (fabric_bridge_circuits, fabric_bridge_circuits_paired_total).
            if ((line.startsWith(name + " ") || line.startsWith(name + "{")) && line.contains(label)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    @Test
    @Order(1)
    void aMemberReachedThroughTheBridgeIsManagedThroughIt() throws Exception {
        ServiceInstance queue = fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        assertThat(queue.metadata()).containsEntry("via", bridgeId);
        double inwardBefore = bridgeMetric("fabric_bridge_relayed_bytes_total", "direction=\"inward\"");

        JsonNode status = client.call(queueId, (http, url) -> http.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
        assertThat(status.path("id").asString()).isEqualTo(queueId);
        assertThat(status.path("phase").asString()).isEqualTo("RUNNING");

        client.call(queueId, "queue", (http, url) -> http.post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("body", "through the bridge")).retrieve().toBodilessEntity());
        JsonNode leased = client.call(queueId, "queue", (http, url) -> http.post().uri("/leases?max=1").retrieve().body(JsonNode.class));
        JsonNode message = leased.path("messages").get(0);
        assertThat(message.path("body").asString()).isEqualTo("through the bridge");
        client.call(queueId, "queue", (http, url) -> http.delete().uri("/leases/{lease}", message.path("leaseId").asString())
                .retrieve().toBodilessEntity());

        client.call(queueId, (http, url) -> http.put().uri("/management/v1/sessions/{s}", "bridged-session").retrieve().toBodilessEntity());
        assertThat(fabric.registry.sessionMembers("bridged-session").instances()).extracting(ServiceInstance::id).contains(queueId);

        assertThat(bridgeMetric("fabric_bridge_relayed_bytes_total", "direction=\"inward\"")).isGreaterThan(inwardBefore);
    }

    @Test
    @Order(2)
    void itRedeemedItsOneTimePasswordThroughTheBridge() throws Exception {
        fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        // Like its registry calls, a member's redemption (FABRIC_VIA) goes through its bridge: one that sees only the
        // bridge redeems all the same. The bridge relays it unsigned and learns nothing: the keys come back sealed.
        assertThat(FabricUnderTest.log(fabric.memberLog(bridgeId)))
                .contains("relayed member " + queueId + "'s redemption of its one-time password");
        assertThat(FabricUnderTest.log(fabric.memberLog(queueId))).contains("one-time password redeemed at")
                .contains("through the bridge at " + relayUrl);
    }

    @Test
    @Order(2)
    void itsHeartbeatsReachTheRegistryThroughTheBridge() throws Exception {
        fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        double outward = bridgeMetric("fabric_bridge_exchanges_total", "direction=\"outward\"");
        await().atMost(60, TimeUnit.SECONDS).untilAsserted(() ->
                assertThat(bridgeMetric("fabric_bridge_exchanges_total", "direction=\"outward\"")).isGreaterThan(outward));
        assertThat(FabricUnderTest.log(fabric.memberLog(queueId))).doesNotContain("heartbeat failed")
                .doesNotContain("heartbeat through the bridge failed");
        assertThat(fabric.registry.get(queueId).state()).isEqualTo(InstanceState.RUNNING);
    }

    @Test
    @Order(3)
    void aRequestAlteredOnTheWayIsRejectedByTheMember() throws Exception {
        ServiceInstance queue = fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        URI target = URI.create(queue.endpoints().get("queue") + "/messages");
        byte[] signedBody = "{\"body\":\"pay 10\"}".getBytes(StandardCharsets.UTF_8);
        byte[] alteredBody = "{\"body\":\"pay 99\"}".getBytes(StandardCharsets.UTF_8);
        Map<String, String> signature = new RequestSigner(fabric.keys, Clock.systemUTC()).sign("POST", target,
                Map.of("Content-Type", List.of("application/json")), signedBody);
        HttpRequest.Builder request = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(alteredBody));
        signature.forEach(request::header);
        HttpClient throughBridge = HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1",
                URI.create(relayUrl).getPort()))).build();

        HttpResponse<String> answer = throughBridge.send(request.build(), HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).isEqualTo(401);
        assertThat(json.readTree(answer.body()).path("reason").asString()).isEqualTo("digest-mismatch");
        assertThat(FabricUnderTest.log(fabric.memberLog(queueId))).contains("digest-mismatch");
        JsonNode stats = client.call(queueId, "queue", (http, url) -> http.get().uri("/stats").retrieve().body(JsonNode.class));
        assertThat(stats.path("ready").asInt()).isZero();

        // And a request nobody signed does not cross the bridge at all.
        HttpResponse<String> unsigned = throughBridge.send(HttpRequest.newBuilder(URI.create(queue.endpoints().get("management")
                + "/management/v1/status")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(json.readTree(unsigned.body()).path("reason").asString()).isEqualTo("bridge-unsigned");
    }

    @Test
    @Order(0)
    void aCircuitPairsTheTwoSidesOfARendezvousAndCarriesTheirBytesUpToItsLimit() throws Exception {
        URI bridge = URI.create(relayUrl);
        CompletableFuture<Socket> peerSide = CompletableFuture.supplyAsync(() -> {
            try {
                return Circuit.open(bridge, "rv-circuit-one", null, Duration.ofSeconds(60));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (Socket initiator = Circuit.open(bridge, "rv-circuit-one", fabric.keys, Duration.ofSeconds(60));
             Socket peer = peerSide.get(60, TimeUnit.SECONDS)) {
            initiator.getOutputStream().write("hello, peer\n".getBytes(StandardCharsets.UTF_8));
            BufferedReader fromInitiator = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
            assertThat(fromInitiator.readLine()).isEqualTo("hello, peer");
            peer.getOutputStream().write("hello, initiator\n".getBytes(StandardCharsets.UTF_8));
            BufferedReader fromPeer = new BufferedReader(new InputStreamReader(initiator.getInputStream(), StandardCharsets.UTF_8));
            assertThat(fromPeer.readLine()).isEqualTo("hello, initiator");
            // The queue of this class starts meanwhile: a member's port may not answer at once on a loaded machine.
            await().ignoreExceptions().atMost(60, TimeUnit.SECONDS).untilAsserted(() ->
                    assertThat(bridgeMetric("fabric_bridge_circuits_paired_total", "")).isGreaterThanOrEqualTo(1));

            // Beyond max-circuit-bytes (8 MB by default) the bridge ends the circuit, both halves.
            byte[] megabyte = new byte[1024 * 1024];
            Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 12; i++) {
                        initiator.getOutputStream().write(megabyte);
                    }
                } catch (IOException ended) {
                    // the circuit closed under the writer: expected
                }
            });
            long received = 0;
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = peer.getInputStream().read(buffer)) >= 0) {
                received += n;
            }
            assertThat(received).isLessThanOrEqualTo(8L * 1024 * 1024);
            await().ignoreExceptions().atMost(60, TimeUnit.SECONDS).untilAsserted(() ->
                    assertThat(bridgeMetric("fabric_bridge_refusals_total", "reason=\"bytes\"")).isGreaterThanOrEqualTo(1));
        }
        // An initiator must sign with the fabric key; one signing with another key is refused at the opening.
        assertThatThrownBy(() -> Circuit.open(bridge, "rv-circuit-two", FabricKeys.generate(), Duration.ofSeconds(5)))
                .isInstanceOf(Circuit.FailedException.class).hasMessageContaining("HTTP 401");
        // Nobody arrives for a lone half: it waits at most the bridge's idle timeout, and nothing is paired.
        assertThatThrownBy(() -> Circuit.open(bridge, "rv-circuit-three", null, Duration.ofSeconds(2)))
                .isInstanceOf(Circuit.FailedException.class).hasMessageContaining("did not arrive within");
    }

    @Test
    @Order(4)
    void aRequestOverTheCircuitLimitOfBytesIsRefusedWithTheReason() throws Exception {
        ServiceInstance queue = fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        URI target = URI.create(queue.endpoints().get("queue") + "/messages");
        // One byte over the bridge's default max-circuit-bytes (8 MB), signed: only the bridge's limit stands in its way.
        byte[] body = new byte[8 * 1024 * 1024 + 1];
        java.util.Arrays.fill(body, (byte) 'x');
        Map<String, String> signature = new RequestSigner(fabric.keys, Clock.systemUTC()).sign("POST", target,
                Map.of("Content-Type", List.of("application/json")), body);
        // Chunked, with no Content-Length to refuse it by: the bridge counts the bytes as it reads them. (Refused on its
        // Content-Length, a body this size would be cut off unread, and the client might see the connection closed first.)
        HttpRequest.Builder request = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)));
        signature.forEach(request::header);
        HttpClient throughBridge = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", URI.create(relayUrl).getPort()))).build();
        double refusedBefore = bridgeMetric("fabric_bridge_refusals_total", "reason=\"bytes\"");

        HttpResponse<String> answer = throughBridge.send(request.build(), HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).isEqualTo(413);
        JsonNode problem = json.readTree(answer.body());
        assertThat(problem.path("reason").asString()).isEqualTo("bridge-circuit-too-large");
        assertThat(problem.path("detail").asString()).contains("max-circuit-bytes").contains(bridgeId);
        assertThat(bridgeMetric("fabric_bridge_refusals_total", "reason=\"bytes\"")).isEqualTo(refusedBefore + 1);
        // Nothing reached the member.
        JsonNode stats = client.call(queueId, "queue", (http, url) -> http.get().uri("/stats").retrieve().body(JsonNode.class));
        assertThat(stats.path("ready").asInt()).isZero();
    }

    @Test
    @Order(5)
    void aBridgeRefusesAnExchangeOverItsLimitInFlightAndGivesUpOnALateAnswer() throws Exception {
        ServiceInstance queue = fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        // A bridge of its own, at one exchange in flight and a 5 s wait for an answer. The queue is reached through the
        // first bridge, so this one passes its requests on to the first bridge's relay port (a chain of two).
        String limitedId = spawn("bridge", Map.of("max-circuits", "1", "idle-timeout", "5s"));
        ServiceInstance limited = fabric.awaitState(limitedId, InstanceState.RUNNING, 1);
        InetSocketAddress limitedRelay = new InetSocketAddress("127.0.0.1", URI.create(limited.endpoints().get("relay")).getPort());
        HttpClient throughLimited = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(ProxySelector.of(limitedRelay)).build();
        double timeoutsBefore = metricOf(limitedId, "fabric_bridge_refusals_total", "reason=\"timeout\"");

        // A lease that waits up to 20 s for a message (the queue is empty): the bridge gives up after its idle-timeout.
        HttpResponse<String> late = throughLimited.send(signed("POST",
                URI.create(queue.endpoints().get("queue") + "/leases?max=1&wait=20s"), new byte[0]), HttpResponse.BodyHandlers.ofString());

        assertThat(late.statusCode()).as(late.body()).isEqualTo(504);
        JsonNode timedOut = json.readTree(late.body());
        assertThat(timedOut.path("reason").asString()).isEqualTo("bridge-timeout");
        assertThat(timedOut.path("detail").asString()).contains(limitedId).contains("idle-timeout");
        assertThat(metricOf(limitedId, "fabric_bridge_refusals_total", "reason=\"timeout\"")).isEqualTo(timeoutsBefore + 1);

        // A registry watch streams for as long as its caller reads: it holds the bridge's one exchange.
        HttpClient watcher = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(ProxySelector.of(limitedRelay)).build();
        try {
            watcher.sendAsync(signed("GET", URI.create(fabric.registryUrl + "/api/v1/watch"), new byte[0]),
                    HttpResponse.BodyHandlers.ofInputStream());
            await().atMost(60, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() ->
                    assertThat(metricOf(limitedId, "fabric_bridge_circuits", "")).isEqualTo(1));
            double fullBefore = metricOf(limitedId, "fabric_bridge_refusals_total", "reason=\"circuits\"");
            byte[] body = "{\"body\":\"one exchange too many\"}".getBytes(StandardCharsets.UTF_8);

            HttpResponse<String> full = throughLimited.send(signed("POST", URI.create(queue.endpoints().get("queue") + "/messages"), body),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(full.statusCode()).as(full.body()).isEqualTo(503);
            assertThat(full.headers().firstValue("Retry-After")).contains("1");
            JsonNode problem = json.readTree(full.body());
            assertThat(problem.path("reason").asString()).isEqualTo("bridge-full");
            assertThat(problem.path("detail").asString()).contains("max-circuits").contains(limitedId);
            assertThat(metricOf(limitedId, "fabric_bridge_refusals_total", "reason=\"circuits\"")).isEqualTo(fullBefore + 1);
        } finally {
            watcher.shutdownNow();
            fabric.spawnerClient().delete().uri("/api/v1/members/{id}", limitedId).retrieve().toBodilessEntity();
        }

        // Once the abandoned lease has ended at the member (the first bridge holds no exchange any more), the queue holds
        // nothing: the refused message never reached it, and the lease the bridge gave up on took nothing and left nothing.
        await().atMost(90, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() ->
                assertThat(bridgeMetric("fabric_bridge_circuits", "")).isZero());
        JsonNode stats = client.call(queueId, "queue", (http, url) -> http.get().uri("/stats").retrieve().body(JsonNode.class));
        assertThat(stats.path("ready").asInt()).isZero();
        assertThat(stats.path("leased").asInt()).isZero();
        assertThat(fabric.registry.get(queueId).state()).isEqualTo(InstanceState.RUNNING);
    }

    /** A request signed with the fabric key for its target, with a JSON body when it has one. */
    static HttpRequest signed(String method, URI target, byte[] body) {
        Map<String, List<String>> headers = body.length == 0 ? Map.of() : Map.of("Content-Type", List.of("application/json"));
        Map<String, String> signature = new RequestSigner(fabric.keys, Clock.systemUTC()).sign(method, target, headers, body);
        HttpRequest.Builder request = HttpRequest.newBuilder(target).method(method, body.length == 0
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach((name, values) -> request.header(name, values.getFirst()));
        signature.forEach(request::header);
        return request.build();
    }

    @Test
    @Order(6)
    void aBridgeAtItsLimitOfChannelsRefusesWithTheReason() throws Exception {
        String second = spawn("queue", Map.of("via", relayUrl));
        await().atMost(90, TimeUnit.SECONDS).untilAsserted(() -> assertThat(fabric.registry.history(second))
                .as("member log:\n%s", FabricUnderTest.log(fabric.memberLog(second)))
                .anyMatch(t -> t.reason() != null && t.reason().contains("bridge-full")));
        assertThat(FabricUnderTest.log(fabric.memberLog(second))).contains("bridge-full").contains("max-channels");
        assertThat(bridgeMetric("fabric_bridge_refusals_total", "reason=\"channels\"")).isGreaterThanOrEqualTo(1);
        // The first member is not disturbed.
        JsonNode status = client.call(queueId, (http, url) -> http.get().uri("/management/v1/status").retrieve().body(JsonNode.class));
        assertThat(status.path("phase").asString()).isEqualTo("RUNNING");
        fabric.spawnerClient().delete().uri("/api/v1/members/{id}", second).retrieve().toBodilessEntity();
    }

    @Test
    @Order(7)
    void aBridgeKilledWithSignal9ComesBackUnderItsIdAndItsMembersReconnect() throws Exception {
        fabric.awaitState(queueId, InstanceState.RUNNING, 1);
        for (String body : List.of("kept 1", "kept 2")) {
            client.call(queueId, "queue", (http, url) -> http.post().uri("/messages").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("body", body)).retrieve().toBodilessEntity());
        }
        ServiceInstance bridge = fabric.registry.get(bridgeId);
        long pid = Long.parseLong(bridge.metadata().get("pid"));

        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        ServiceInstance restarted = fabric.awaitState(bridgeId, InstanceState.RUNNING, bridge.incarnation() + 1);
        assertThat(restarted.endpoints().get("relay")).isEqualTo(relayUrl);
        // The member opens its channel again to the bridge's new incarnation, at the same relay URL.
        await().atMost(60, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() ->
                assertThat(bridgeMetric("fabric_bridge_channels", "")).isEqualTo(1));
        await().atMost(60, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() -> {
            JsonNode stats = client.call(queueId, "queue", (http, url) -> http.get().uri("/stats").retrieve().body(JsonNode.class));
            assertThat(stats.path("ready").asInt()).isEqualTo(2);
        });
        assertThat(FabricUnderTest.log(fabric.memberLog(queueId))).contains("channel to bridge " + bridgeId);
        assertThat(fabric.registry.get(queueId).incarnation()).isEqualTo(1);
        JsonNode leased = client.call(queueId, "queue", (http, url) -> http.post().uri("/leases?max=10").retrieve().body(JsonNode.class));
        List<String> bodies = new java.util.ArrayList<>();
        leased.path("messages").forEach(m -> bodies.add(m.path("body").asString()));
        assertThat(bodies).containsExactlyInAnyOrder("kept 1", "kept 2");
    }

    @Test
    @Order(8)
    void aPubsubSubscriptionThroughTheBridgeHasEveryMessageOnceAfterTheBridgeWasKilled() throws Exception {
        // The bridge takes one channel: the queue makes room for a pubsub reached through it.
        fabric.spawnerClient().delete().uri("/api/v1/members/{id}", queueId).retrieve().toBodilessEntity();
        fabric.awaitState(queueId, InstanceState.STOPPED, 1);
        pubsubId = spawn("pubsub", Map.of("via", relayUrl));
        ServiceInstance pubsub = fabric.awaitState(pubsubId, InstanceState.RUNNING, 1);
        assertThat(pubsub.metadata()).containsEntry("via", bridgeId);
        PubSub topics = client.pubsub(pubsubId);
        List<PubSubWire.Message> received = new CopyOnWriteArrayList<>();

        try (Subscription subscription = topics.subscribe("frames", 0L, received::add)) {
            assertThat(subscription.polling()).as("a member behind a bridge is followed by long polls of the fetch").isTrue();
            assertThat(topics.publishAll("frames", List.of("frame 1", "frame 2"))).containsExactly(0L, 1L);
            await().atMost(60, TimeUnit.SECONDS).until(() -> received.size() == 2);

            // The disconnect: the bridge is killed with the subscriber's poll under way through it.
            ServiceInstance bridge = fabric.registry.get(bridgeId);
            ProcessHandle.of(Long.parseLong(bridge.metadata().get("pid"))).ifPresent(ProcessHandle::destroyForcibly);
            // Meanwhile a message reaches the member straight on loopback (the test can; the subscriber goes through the bridge).
            var straight = fabric.signedClient(pubsub.endpoints().get("pubsub")).post().uri("/topics/frames/messages")
                    .contentType(MediaType.APPLICATION_JSON).body(Map.of("body", "frame 3")).retrieve().toEntity(String.class);
            assertThat(straight.getStatusCode().value()).as(straight.getBody()).isEqualTo(200);
            fabric.awaitState(bridgeId, InstanceState.RUNNING, bridge.incarnation() + 1);
            await().atMost(90, TimeUnit.SECONDS).ignoreExceptions().untilAsserted(() -> assertThat(topics.publish("frames", "frame 4"))
                    .isEqualTo(3L));

            await().atMost(120, TimeUnit.SECONDS).until(() -> received.size() >= 4);
            Thread.sleep(500);
            assertThat(received).extracting(PubSubWire.Message::offset).containsExactly(0L, 1L, 2L, 3L);
            assertThat(received).extracting(PubSubWire.Message::body).containsExactly("frame 1", "frame 2", "frame 3", "frame 4");
            assertThat(subscription.isOpen()).isTrue();
            assertThat(subscription.next()).isEqualTo(4);
        }
    }

    @Test
    @Order(9)
    void aStaleIncarnationExitsOnItsFirstRefusedHeartbeat() throws Exception {
        // The pubsub reached through the bridge (the previous test's): its heartbeats go through the bridge.
        ServiceInstance member = fabric.awaitState(pubsubId, InstanceState.RUNNING, 1);
        ProcessHandle stale = ProcessHandle.of(Long.parseLong(member.metadata().get("pid"))).orElseThrow();
        // A newer incarnation registers under its id (as one restarted elsewhere while a link was cut would): the
        // registry refuses the old one's next heartbeat with 409 (its incarnation check), and the old one leaves.
        fabric.registry.register(new RegistrationRequest(pubsubId, member.type(), member.name(), InstanceState.RUNNING,
                member.incarnation() + 1, member.parentId(), member.connectivity(), member.endpoints(), member.metadata()));

        stale.onExit().get(90, TimeUnit.SECONDS);

        assertThat(stale.isAlive()).isFalse();
        assertThat(FabricUnderTest.log(fabric.memberLog(pubsubId)))
                .contains("member " + pubsubId + " incarnation " + member.incarnation() + ": superseded")
                .contains("exiting");
    }
}
