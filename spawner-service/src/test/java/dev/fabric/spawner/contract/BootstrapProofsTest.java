package dev.fabric.spawner.contract;

import dev.fabric.core.keys.Ed25519;
import dev.fabric.core.otp.OneTimePassword;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BootstrapProofsTest {

    final OneTimePassword otp = OneTimePassword.of("s3cret-s3cret-s3cret-s3cret-s3cret-s3cret-x");
    final KeyPair bootstrap = Ed25519.generate();
    final String bootstrapKey = BootstrapProofs.encode(bootstrap.getPublic());

    BootstrapWire.Hello hello(OneTimePassword knows, String challenge) {
        return new BootstrapWire.Hello("q-1", 3, "x25519-key", bootstrapKey,
                BootstrapProofs.helloProof(knows, "q-1", 3, challenge, "x25519-key", bootstrapKey));
    }

    @Test
    void helloProvesKnowledgeOfThePasswordForThisChallengeOnly() {
        String challenge = BootstrapProofs.challenge();
        assertThat(BootstrapProofs.helloProven(otp, hello(otp, challenge), challenge)).isTrue();
        assertThat(BootstrapProofs.helloProven(otp, hello(OneTimePassword.of("another"), challenge), challenge)).isFalse();
        assertThat(BootstrapProofs.helloProven(otp, hello(otp, challenge), BootstrapProofs.challenge())).isFalse();
        BootstrapWire.Hello proven = hello(otp, challenge);
        BootstrapWire.Hello swappedKey = new BootstrapWire.Hello("q-1", 3, "attackers-key", bootstrapKey, proven.proof());
        assertThat(BootstrapProofs.helloProven(otp, swappedKey, challenge)).isFalse();
        assertThat(proven.proof()).doesNotContain(otp.reveal());
    }

    @Test
    void statusIsProvenOnlyWithTheAnnouncedBootstrapKeyAndChallenge() {
        String challenge = BootstrapProofs.challenge();
        String proof = BootstrapProofs.statusProof(bootstrap.getPrivate(), "q-1", 3, "key-id", challenge);
        BootstrapWire.Status status = new BootstrapWire.Status("q-1", 3, "queue", "RUNNING", "key-id", Map.of(), proof);
        assertThat(BootstrapProofs.statusProven(bootstrapKey, status, challenge)).isTrue();
        assertThat(BootstrapProofs.statusProven(bootstrapKey, status, BootstrapProofs.challenge())).isFalse();
        assertThat(BootstrapProofs.statusProven(BootstrapProofs.encode(Ed25519.generate().getPublic()), status, challenge)).isFalse();
        BootstrapWire.Status otherIncarnation = new BootstrapWire.Status("q-1", 4, "queue", "RUNNING", "key-id", Map.of(), proof);
        assertThat(BootstrapProofs.statusProven(bootstrapKey, otherIncarnation, challenge)).isFalse();
        assertThat(BootstrapProofs.statusProven(null, status, challenge)).isFalse();
    }

    @Test
    void challengesAreFreshAndWellFormed() {
        String challenge = BootstrapProofs.challenge();
        assertThat(BootstrapProofs.wellFormed(challenge)).isTrue();
        assertThat(challenge).isNotEqualTo(BootstrapProofs.challenge());
        assertThat(BootstrapProofs.wellFormed("short")).isFalse();
        assertThat(BootstrapProofs.wellFormed("not base64url!".repeat(3))).isFalse();
        assertThat(BootstrapProofs.wellFormed(null)).isFalse();
    }
}
