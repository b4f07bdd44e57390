package dev.fabric.registry.rendezvous;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.splice.BootstrapIdentity;
import dev.fabric.core.splice.RendezvousWire;
import dev.fabric.core.splice.Side;
import dev.fabric.core.splice.SpliceException;
import dev.fabric.core.splice.SpliceSchedule;
import dev.fabric.core.splice.Splicer;
import dev.fabric.registry.RegistryApplication;
import dev.fabric.registry.RegistryClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The registry as the broker of a splice, on loopback (the splice itself, which needs NATs that drop
 * unsolicited SYNs, is {@code SpliceAcrossNatsIT} in the network lab): who may open and join a
 * rendezvous, what each side learns, and every refusal with its reason.
 */
@SpringBootTest(classes = RegistryApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RendezvousIT {

    private static final FabricKeys KEYS = FabricKeys.generate();
    private static final FabricKeys STRANGER = FabricKeys.generate();
    private static final String MEMBER = "queue-5ee1ce00";
    private static final OneTimePassword OTP = OneTimePassword.of("b".repeat(43));

    @TempDir
    static Path data;

    private static Path keyDir;

    @LocalServerPort
    int port;

    @BeforeAll
    static void keys() throws IOException {
        keyDir = Files.createTempDirectory("fabric-rendezvous-keys");
        Files.delete(keyDir);
        KEYS.writeTo(keyDir);
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        keys();
        registry.add("fabric.registry.data-dir", data::toString);
        registry.add("fabric.security.keys-path", keyDir::toString);
    }

    private String url() {
        return "http://127.0.0.1:" + port;
    }

    private RegistryClient.Answer openFor(String peer, FabricKeys peerKey, Integer ttlSeconds) {
        Map<String, Object> body = new HashMap<>();
        body.put("peer", peer);
        if (peerKey != null) {
            body.put("peerKey", Base64.getEncoder().encodeToString(peerKey.publicKey().getEncoded()));
        }
        if (ttlSeconds != null) {
            body.put("ttlSeconds", ttlSeconds);
        }
        return new RegistryClient(url(), KEYS).post("/api/v1/rendezvous", body);
    }

    private String open() {
        RegistryClient.Answer opened = openFor(MEMBER, BootstrapIdentity.of(OTP, MEMBER), null);
        assertThat(opened.status()).as(opened.body().toString()).isEqualTo(201);
        return opened.body().path("id").asString();
    }

    private Splicer splicer(FabricKeys keys, Duration patience) {
        return new Splicer(URI.create(url()), new RequestSigner(keys, Clock.systemUTC()),
                SpliceSchedule.DEFAULT.withPatience(patience).withWindow(Duration.ofSeconds(1)), Clock.systemUTC());
    }

    @Test
    void bothSidesLearnEachOthersAddressAsObservedAndWhenToStart() {
        String id = open();
        RegistryClient initiator = new RegistryClient(url(), KEYS);
        RegistryClient member = new RegistryClient(url(), BootstrapIdentity.of(OTP, MEMBER));

        RegistryClient.Answer first = initiator.post("/rendezvous/v1/" + id + "/initiator", null);
        assertThat(first.status()).as(first.body().toString()).isEqualTo(200);
        assertThat(first.body().path("state").asString()).isEqualTo("WAITING");
        assertThat(first.body().path("observed").asString()).startsWith("127.0.0.1:");

        RegistryClient.Answer second = member.post("/rendezvous/v1/" + id + "/peer", null);
        assertThat(second.status()).as(second.body().toString()).isEqualTo(200);
        assertThat(second.body().path("state").asString()).isEqualTo("READY");
        assertThat(second.body().path("peerAddress").asString()).isEqualTo(first.body().path("observed").asString());
        assertThat(second.body().path("startInMillis").asLong()).isBetween(0L, 300L);

        assertThat(initiator.get("/api/v1/rendezvous/" + id).body().path("peer").asString())
                .isEqualTo(second.body().path("observed").asString());
    }

    @Test
    void thePeerMustSignWithTheKeyItsOpenerNamedNotTheFabricKeyNorAnother() {
        String id = open();

        RegistryClient.Answer withFabricKey = new RegistryClient(url(), KEYS).post("/rendezvous/v1/" + id + "/peer", null);
        RegistryClient.Answer withAnotherPassword = new RegistryClient(url(),
                BootstrapIdentity.of(OneTimePassword.of("c".repeat(43)), MEMBER)).post("/rendezvous/v1/" + id + "/peer", null);
        RegistryClient.Answer asAnotherMember = new RegistryClient(url(), BootstrapIdentity.of(OTP, "queue-0the0000"))
                .post("/rendezvous/v1/" + id + "/peer", null);

        for (RegistryClient.Answer refused : List.of(withFabricKey, withAnotherPassword, asAnotherMember)) {
            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.reason()).isEqualTo("unknown-key");
        }
        assertThat(new RegistryClient(url(), KEYS).get("/api/v1/rendezvous/" + id).body().size())
                .as("nobody has joined").isZero();
    }

    @Test
    void theInitiatorMustSignWithTheFabricKey() {
        String id = open();

        RegistryClient.Answer stranger = new RegistryClient(url(), STRANGER).post("/rendezvous/v1/" + id + "/initiator", null);
        assertThat(stranger.status()).isEqualTo(401);
        assertThat(stranger.reason()).isEqualTo("unknown-key");

        HttpResponse<String> unsigned = send(HttpRequest.newBuilder(URI.create(url() + "/rendezvous/v1/" + id + "/initiator"))
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(unsigned.statusCode()).isEqualTo(401);
        assertThat(unsigned.body()).contains("\"reason\":\"unsigned\"");
    }

    @Test
    void aThirdPartyCannotTakeASideThatHasJoined() {
        String id = open();
        RegistryClient.Answer joined = new RegistryClient(url(), KEYS).post("/rendezvous/v1/" + id + "/initiator", null);
        assertThat(joined.status()).isEqualTo(200);

        // Another holder of the fabric key, over another connection (another source port).
        RegistryClient.Answer third = new RegistryClient(url(), KEYS).post("/rendezvous/v1/" + id + "/initiator", null);

        assertThat(third.status()).isEqualTo(409);
        assertThat(third.reason()).isEqualTo("rendezvous-side-taken");
        assertThat(third.body().path("detail").asString()).contains(joined.body().path("observed").asString());
    }

    @Test
    void aReplayedJoinIsRefused() {
        String id = open();
        URI target = URI.create(url() + "/rendezvous/v1/" + id + "/peer");
        Map<String, String> signature = new RequestSigner(BootstrapIdentity.of(OTP, MEMBER), Clock.systemUTC())
                .sign("POST", target, Map.of(), new byte[0]);
        HttpRequest.Builder request = HttpRequest.newBuilder(target).POST(HttpRequest.BodyPublishers.noBody());
        signature.forEach(request::header);

        assertThat(send(request.build()).statusCode()).isEqualTo(200);
        HttpResponse<String> replayed = send(request.build());

        assertThat(replayed.statusCode()).isEqualTo(401);
        assertThat(replayed.body()).contains("\"reason\":\"replayed\"");
    }

    @Test
    void anExpiredRendezvousIsRefused() throws InterruptedException {
        RegistryClient.Answer opened = openFor(MEMBER, null, 1);
        String id = opened.body().path("id").asString();
        Thread.sleep(1_500);

        RegistryClient.Answer late = new RegistryClient(url(), KEYS).post("/rendezvous/v1/" + id + "/initiator", null);

        assertThat(late.status()).isEqualTo(410);
        assertThat(late.reason()).isEqualTo("rendezvous-expired");
    }

    @Test
    void aSpentRendezvousIsRefused() {
        String id = open();
        RegistryClient initiator = new RegistryClient(url(), KEYS);
        RegistryClient member = new RegistryClient(url(), BootstrapIdentity.of(OTP, MEMBER));
        initiator.post("/rendezvous/v1/" + id + "/initiator", null);
        assertThat(member.post("/rendezvous/v1/" + id + "/peer", null).body().path("state").asString()).isEqualTo("READY");
        assertThat(initiator.post("/rendezvous/v1/" + id + "/initiator", null).status())
                .as("told READY from the same address: the initiator's last poll").isIn(200, 409);

        RegistryClient.Answer again = member.post("/rendezvous/v1/" + id + "/peer", null);

        assertThat(again.status()).isEqualTo(410);
        assertThat(again.reason()).isEqualTo("rendezvous-used");
    }

    @Test
    void badRequestsAreRefusedWithTheirReason() {
        assertThat(openFor("no spaces allowed", null, null).reason()).isEqualTo("bad-peer");
        RegistryClient.Answer badKey = new RegistryClient(url(), KEYS).post("/api/v1/rendezvous", Map.of("peer", MEMBER, "peerKey", "AAAA"));
        assertThat(badKey.status()).isEqualTo(400);
        assertThat(badKey.reason()).isEqualTo("bad-peer-key");
        RegistryClient.Answer badTtl = openFor(MEMBER, null, 3600);
        assertThat(badTtl.status()).isEqualTo(400);
        assertThat(badTtl.reason()).isEqualTo("bad-ttl");
        RegistryClient.Answer unknown = new RegistryClient(url(), KEYS).post("/rendezvous/v1/rv-unknown/initiator", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.reason()).isEqualTo("rendezvous-unknown");
        RegistryClient.Answer badSide = new RegistryClient(url(), KEYS).post("/rendezvous/v1/" + open() + "/bystander", null);
        assertThat(badSide.status()).isEqualTo(400);
        assertThat(badSide.reason()).isEqualTo("bad-side");
        RegistryClient.Answer unsignedOpen = answerOf(send(HttpRequest.newBuilder(URI.create(url() + "/api/v1/rendezvous"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"peer\":\"" + MEMBER + "\"}")).build()));
        assertThat(unsignedOpen.status()).isEqualTo(401);
    }

    @Test
    void aSplicerWhosePeerNeverArrivesFailsWithThatReason() {
        String id = open();

        assertThatThrownBy(() -> splicer(KEYS, Duration.ofSeconds(1)).splice(id, Side.INITIATOR))
                .isInstanceOfSatisfying(SpliceException.class, e -> assertThat(e.reason()).isEqualTo(SpliceException.Reason.PEER_NEVER_ARRIVED))
                .hasMessageContaining("the peer did not join rendezvous " + id);
    }

    @Test
    void aSplicerTheRegistryRefusesSaysWhy() {
        String id = open();

        assertThatThrownBy(() -> splicer(STRANGER, Duration.ofSeconds(1)).splice(id, Side.PEER))
                .isInstanceOfSatisfying(SpliceException.class, e -> assertThat(e.reason()).isEqualTo(SpliceException.Reason.REFUSED))
                .hasMessageContaining("unknown-key");
    }

    @Test
    void aSplicerSendsEveryPollOverOneConnectionFromTheBoundPort() throws Exception {
        String id = open();
        java.util.concurrent.CompletableFuture<SpliceException.Reason> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                splicer(KEYS, Duration.ofSeconds(20)).splice(id, Side.INITIATOR).close();
                outcome.complete(null);
            } catch (SpliceException e) {
                outcome.complete(e.reason());
            } catch (IOException e) {
                outcome.completeExceptionally(e);
            }
        });
        RegistryClient admin = new RegistryClient(url(), KEYS);
        String observed = null;
        for (int i = 0; i < 400 && observed == null; i++) {
            observed = admin.get("/api/v1/rendezvous/" + id).body().path("initiator").asString(null);
            Thread.sleep(50);
        }
        assertThat(observed).as("the initiator joined").isNotNull();
        Thread.sleep(500); // several polls

        RegistryClient.Answer member = new RegistryClient(url(), BootstrapIdentity.of(OTP, MEMBER)).post("/rendezvous/v1/" + id + "/peer", null);

        assertThat(member.body().path("peerAddress").asString()).isEqualTo(observed);
        // Had a poll come over another connection, the registry would have refused it as a second joiner
        // (REFUSED). On loopback nothing drops the early SYN, so the dial itself is reset: NO_CONNECTION.
        assertThat(outcome.get(60, java.util.concurrent.TimeUnit.SECONDS)).isIn(SpliceException.Reason.NO_CONNECTION, null);
    }

    @Test
    void aSideKeepsItsOneConnectionForMoreThanAHundredPolls() throws Exception {
        // A member's JVM may take a minute to start: its spawner polls all that time over its one connection, which a
        // web server's default limit of 100 requests per connection would close under it (seen in a mode 4 bootstrap).
        String id = open();
        java.util.concurrent.CompletableFuture<SpliceException.Reason> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                splicer(KEYS, Duration.ofSeconds(60)).splice(id, Side.INITIATOR).close();
                outcome.complete(null);
            } catch (SpliceException e) {
                outcome.complete(e.reason());
            } catch (IOException e) {
                outcome.completeExceptionally(e);
            }
        });
        Thread.sleep(13_000); // 130 polls at 100 ms

        RegistryClient.Answer member = new RegistryClient(url(), BootstrapIdentity.of(OTP, MEMBER)).post("/rendezvous/v1/" + id + "/peer", null);

        assertThat(member.body().path("state").asString()).isEqualTo("READY");
        // The initiator heard READY over its connection and dialed; on loopback the dial is reset: NO_CONNECTION.
        assertThat(outcome.get(60, java.util.concurrent.TimeUnit.SECONDS)).isIn(SpliceException.Reason.NO_CONNECTION, null);
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static RegistryClient.Answer answerOf(HttpResponse<String> response) {
        return new RegistryClient.Answer(response.statusCode(), tools.jackson.databind.json.JsonMapper.builder().build().readTree(response.body()));
    }
}
