package dev.fabric.spawner.member;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.spawner.contract.BootstrapProofs;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.web.SpawnerException;
import io.swagger.v3.oas.annotations.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;

/**
 * Mode 3 (firewall from the service): the spawner dials the member; mode 4: the spawner sends them
 * over the connection the two spliced. These two endpoints are unsigned (the member has no keys yet). The member proves it knows the one-time password without
 * revealing it (hello); then the password proves the caller is the spawner (keys). Only a member
 * started in mode 3 or 4 answers them.
 */
@RestController
@Profile("member")
public class BootstrapOfferController {

    private static final Logger log = LoggerFactory.getLogger("fabric.member.bootstrap");

    private final MemberNode node;

    public BootstrapOfferController(MemberNode node) {
        this.node = node;
    }

    @Operation(summary = "Mode 3: who this member is, the ephemeral key its fabric keys are to be sealed to, and proof "
            + "(an HMAC keyed by its one-time password over the spawner's challenge) that it is the member the spawner started")
    @ProblemAnswer(status = 400, reasons = "invalid-challenge")
    @ProblemAnswer(status = 404, reasons = "not-mode-3")
    @GetMapping("/bootstrap/v1/hello")
    public BootstrapWire.Hello hello(@RequestParam(required = false) String challenge) {
        requireMode3();
        if (!BootstrapProofs.wellFormed(challenge)) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-challenge",
                    "a hello needs ?challenge= with 22 to 128 base64url characters from the spawner");
        }
        return node.hello(challenge);
    }

    @Operation(summary = "Mode 3: the spawner proves itself with the one-time password and delivers the sealed keys")
    @ProblemAnswer(status = 400, reasons = "keys-unsealable")
    @ProblemAnswer(status = 403, reasons = "otp-refused")
    @ProblemAnswer(status = 404, reasons = "not-mode-3")
    @ProblemAnswer(status = 409, reasons = "keys-already-delivered")
    @PostMapping("/bootstrap/v1/keys")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void keys(@RequestBody BootstrapWire.Offer offer) {
        requireMode3();
        MemberSettings settings = node.settings();
        if (offer.otp() == null || !settings.otp().equals(OneTimePassword.of(offer.otp()))) {
            log.warn("member {}: a key offer came with a wrong one-time password; refused", settings.serviceId());
            throw SpawnerException.otpRefused();
        }
        if (offer.keys() == null || offer.keyId() == null || offer.registryUrl() == null) {
            throw new SpawnerException(HttpStatus.BAD_REQUEST, "invalid-request", "an offer carries keys, keyId and registryUrl");
        }
        if (!node.deliver(offer.keys(), offer.keyId(), URI.create(offer.registryUrl()))) {
            throw new SpawnerException(HttpStatus.CONFLICT, "keys-already-delivered", "this member already holds its keys");
        }
        log.info("member {}: fabric keys received from the spawner (mode 3)", settings.serviceId());
    }

    private void requireMode3() {
        var mode = node.settings().connectivity();
        if (mode != dev.fabric.core.registry.Connectivity.FIREWALL_FROM_SERVICE && mode != dev.fabric.core.registry.Connectivity.SPLICED) {
            throw new SpawnerException(HttpStatus.NOT_FOUND, "not-mode-3", "this member dials its spawner; it takes no key offers");
        }
    }
}
