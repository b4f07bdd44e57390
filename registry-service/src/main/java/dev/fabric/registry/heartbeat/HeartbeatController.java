package dev.fabric.registry.heartbeat;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.FabricId;
import dev.fabric.registry.instance.InstanceService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.swagger.v3.oas.annotations.Operation;
import jakarta.validation.constraints.Positive;
import org.springframework.http.HttpStatus;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * The signed heartbeat, one request each: kept for clients without a heartbeat stream
 * ({@link HeartbeatStreamHandler}), which fabric members use.
 */
@RestController
@Validated
public class HeartbeatController {

    private final InstanceService service;
    private final Counter heartbeats;

    public HeartbeatController(InstanceService service, MeterRegistry meters) {
        this.service = service;
        this.heartbeats = meters.counter("fabric.registry.heartbeats", "path", "signed");
    }

    @Operation(summary = "Heartbeat of one incarnation of an instance")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 409, reasons = {"stale-incarnation", "unknown-incarnation", "not-running"})
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @PostMapping("/api/v1/instances/{id}/heartbeat")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void heartbeat(@PathVariable @FabricId String id, @RequestParam @Positive long incarnation) {
        service.heartbeat(id, incarnation);
        heartbeats.increment();
    }
}
