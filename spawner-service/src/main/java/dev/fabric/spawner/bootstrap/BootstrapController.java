package dev.fabric.spawner.bootstrap;

import dev.fabric.spawner.contract.BootstrapWire;
import io.swagger.v3.oas.annotations.Operation;
import org.springframework.context.annotation.Profile;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The one unsigned endpoint of a spawner: a new member trades its one-time password for the
 * fabric keys. The password is the authentication; the keys travel sealed.
 */
@RestController
@Profile("!member")
public class BootstrapController {

    private final Bootstrapper bootstrapper;

    public BootstrapController(Bootstrapper bootstrapper) {
        this.bootstrapper = bootstrapper;
    }

    @Operation(summary = "Redeem a one-time password for the fabric keys, sealed to the member's ephemeral key")
    @PostMapping("/bootstrap/v1/redeem")
    public BootstrapWire.Released redeem(@RequestBody BootstrapWire.Redeem redeem) {
        return bootstrapper.redeem(redeem);
    }
}
