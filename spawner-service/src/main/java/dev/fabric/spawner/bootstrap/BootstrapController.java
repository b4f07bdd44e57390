package dev.fabric.spawner.bootstrap;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.spawner.contract.BootstrapWire;
import dev.fabric.spawner.spawn.Supervisor;
import io.swagger.v3.oas.annotations.Operation;
import org.springframework.context.annotation.Lazy;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The one unsigned endpoint of a spawner, and of every member that spawns: a new member trades its
 * one-time password for the fabric keys. The password is the authentication; the keys travel sealed.
 */
@RestController
public class BootstrapController {

    private final Bootstrapper bootstrapper;
    private final Supervisor supervisor;

    public BootstrapController(@Lazy Bootstrapper bootstrapper, Supervisor supervisor) {
        this.bootstrapper = bootstrapper;
        this.supervisor = supervisor;
    }

    @Operation(summary = "Redeem a one-time password for the fabric keys, sealed to the member's ephemeral key")
    @ProblemAnswer(status = 400, reasons = {"invalid-public-key", "invalid-management-url"})
    @ProblemAnswer(status = 403, reasons = "otp-refused")
    @ProblemAnswer(status = 409, reasons = "stale-incarnation")
    @ProblemAnswer(status = 502, reasons = {"registry-unreachable", "registry-refused"}, when = "the registry call under the request failed")
    @ProblemAnswer(status = 503, reasons = "not-ready", when = "a member not RUNNING yet, or a spawner that cannot reach the registry yet")
    @PostMapping("/bootstrap/v1/redeem")
    public BootstrapWire.Released redeem(@RequestBody BootstrapWire.Redeem redeem) {
        supervisor.requireSupervising();
        return bootstrapper.redeem(redeem);
    }
}
