package dev.fabric.spawner.bootstrap;

import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.otp.OneTimePasswords;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.core.sealing.KeySealing;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.spawner.spawn.Members;
import dev.fabric.spawner.spawn.SpawnerProperties;
import dev.fabric.spawner.web.SpawnerException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The spawner's side of step 3 (modes 1 and 2), without processes: a redeem is checked before the
 * password is touched, strangers hear one refusal, the member's retry is safe, and a password is
 * redeemed once however many race for it. The registry is unreachable here: recording steps is
 * best effort and must not matter.
 */
class BootstrapperRedeemTest {

    static final String MANAGEMENT = "http://127.0.0.1:9999";
    static final String BOOTSTRAP_KEY = BootstrapProofs.encode(Ed25519.generate().getPublic());

    final FabricKeys keys = FabricKeys.generate();
    final Members members = new Members(properties());
    final Bootstrapper bootstrapper = new Bootstrapper(new OneTimePasswords(Clock.systemUTC()), keys,
            new RegistryClient(URI.create("http://127.0.0.1:1"), keys, Duration.ofSeconds(1)), FabricRestClients.signed(keys, Duration.ofSeconds(2), Duration.ofSeconds(5)).build(), members,
            properties());

    OneTimePassword open(String id) {
        return bootstrapper.open(members.of(id), 1);
    }

    static SpawnerProperties properties() {
        return new SpawnerProperties("", Path.of("unused"), "", "", "process", List.of("queue"), Duration.ofSeconds(60),
                Duration.ofSeconds(60), Duration.ofSeconds(10), 5, Duration.ofMinutes(5), Duration.ofSeconds(2), false,
                new SpawnerProperties.Process("", "", List.of(), 0));
    }

    static String newKey() {
        return Base64.getEncoder().encodeToString(KeySealing.newEphemeralKeyPair().getPublic().getEncoded());
    }

    static BootstrapWire.Redeem redeem(String id, OneTimePassword otp, String key) {
        return new BootstrapWire.Redeem(id, 1, otp.reveal(), key, MANAGEMENT, BOOTSTRAP_KEY);
    }

    static void refused(Runnable call, int status, String reason) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(SpawnerException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.reason()).isEqualTo(reason);
        });
    }

    @Test
    void aMalformedRedeemIsRefusedBeforeThePasswordIsUsedUp() {
        OneTimePassword otp = open("queue-1");

        refused(() -> bootstrapper.redeem(redeem("queue-1", otp, "not a key")), 400, "invalid-public-key");
        refused(() -> bootstrapper.redeem(new BootstrapWire.Redeem("queue-1", 1, otp.reveal(), newKey(), "ftp://somewhere", BOOTSTRAP_KEY)), 400,
                "invalid-management-url");
        refused(() -> bootstrapper.redeem(new BootstrapWire.Redeem("queue-1", 1, otp.reveal(), null, MANAGEMENT, BOOTSTRAP_KEY)), 400,
                "invalid-public-key");

        BootstrapWire.Released released = bootstrapper.redeem(redeem("queue-1", otp, newKey()));
        assertThat(released.keyId()).isEqualTo(keys.keyId());
    }

    @Test
    void aRedeemWithoutServiceIdIsABadRequestNotAServerError() {
        open("queue-1");
        refused(() -> bootstrapper.redeem(new BootstrapWire.Redeem(null, 1, null, null, null, null)), 400, "invalid-request");
        refused(() -> bootstrapper.redeem(new BootstrapWire.Redeem(null, 1, "x", newKey(), MANAGEMENT, BOOTSTRAP_KEY)), 400, "invalid-request");
    }

    @Test
    void aStrangerHearsOneRefusalWhetherTheIdHasAPasswordOrNot() {
        OneTimePassword issued = open("queue-1");
        OneTimePassword guess = OneTimePassword.of("not-the-password");
        List<SpawnerException> refusals = new ArrayList<>();
        for (Runnable call : List.<Runnable>of(
                () -> bootstrapper.redeem(redeem("queue-nobody", guess, newKey())),   // no password outstanding
                () -> bootstrapper.redeem(redeem("queue-1", guess, newKey())),        // a wrong one (and now used up)
                () -> bootstrapper.redeem(redeem("queue-1", issued, newKey())))) {    // the right one, used up by the guess
            try {
                call.run();
            } catch (SpawnerException e) {
                refusals.add(e);
            }
        }
        assertThat(refusals).hasSize(3).allSatisfy(e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.reason()).isEqualTo("otp-refused");
            assertThat(e.detail()).isEqualTo(refusals.getFirst().detail());
        });
    }

    @Test
    void theMembersRetryOfTheRedeemThatWonGetsTheSameAnswer() {
        OneTimePassword otp = open("queue-1");
        BootstrapWire.Redeem request = redeem("queue-1", otp, newKey());

        BootstrapWire.Released first = bootstrapper.redeem(request);
        BootstrapWire.Released retried = bootstrapper.redeem(request);

        assertThat(retried).isSameAs(first);
        // Another key with the same password is not a retry: the keys are never sealed to a second key.
        refused(() -> bootstrapper.redeem(redeem("queue-1", otp, newKey())), 403, "otp-refused");
    }

    @Test
    void twoRedeemsRacingForOnePasswordExactlyOneWins() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                String id = "queue-" + round;
                OneTimePassword otp = open(id);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Object>> racers = new ArrayList<>();
                for (int racer = 0; racer < 2; racer++) {
                    BootstrapWire.Redeem request = redeem(id, otp, newKey());
                    Callable<Object> redeem = () -> {
                        start.await();
                        try {
                            return bootstrapper.redeem(request);
                        } catch (SpawnerException e) {
                            return e;
                        }
                    };
                    racers.add(threads.submit(redeem));
                }
                start.countDown();
                List<Object> outcomes = List.of(racers.get(0).get(), racers.get(1).get());
                assertThat(outcomes).filteredOn(BootstrapWire.Released.class::isInstance).hasSize(1);
                assertThat(outcomes).filteredOn(SpawnerException.class::isInstance)
                        .singleElement().satisfies(e -> assertThat(((SpawnerException) e).reason()).isEqualTo("otp-refused"));
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
