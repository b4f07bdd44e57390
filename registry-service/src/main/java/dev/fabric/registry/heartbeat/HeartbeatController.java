package dev.fabric.registry.heartbeat;

import dev.fabric.registry.instance.InstanceService;
import io.swagger.v3.oas.annotations.Operation;
import jakarta.validation.constraints.Positive;
import org.springframework.http.HttpStatus;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** The cheap, signed call every RUNNING member makes each interval. */
@RestController
@Validated
public class HeartbeatController {

    private final InstanceService service;

    public HeartbeatController(InstanceService service) {
        this.service = service;
    }

    @Operation(summary = "Heartbeat of one incarnation of an instance")
    @PostMapping("/api/v1/instances/{id}/heartbeat")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void heartbeat(@PathVariable String id, @RequestParam @Positive long incarnation) {
        service.heartbeat(id, incarnation);
    }
}
