package dev.fabric.registry.instance;

import dev.fabric.core.problem.ProblemAnswer;
import dev.fabric.core.registry.ReportRequest;
import dev.fabric.core.registry.StateChangeRequest;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.InstanceList;
import dev.fabric.core.registry.StateTransition;
import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.FabricId;
import dev.fabric.core.registry.Ids;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import java.util.List;
import java.util.function.Supplier;

/** Service instances: register, read, list, change state, report, deregister. */
@RestController
@Validated
@RequestMapping("/api/v1/instances")
public class InstanceController {

    private final InstanceService service;

    public InstanceController(InstanceService service) {
        this.service = service;
    }

    @Operation(summary = "Register an instance, or a restart of one under its id with a higher incarnation")
    @ApiResponse(responseCode = "201", description = "a new id registered; Location names it")
    @ApiResponse(responseCode = "200", description = "a known id: its same incarnation again (a state change, endpoints and "
            + "metadata merged, or a retry), or a higher one (a restart: the instance replaced)")
    @ProblemAnswer(status = 400, reasons = {"invalid-state", "too-large"})
    @ProblemAnswer(status = 409, reasons = {"stale-incarnation", "instance-lost", "incarnation-required", "type-mismatch", "concurrent-registration"})
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @PostMapping
    public ResponseEntity<ServiceInstance> register(@Valid @RequestBody RegistrationRequest request) {
        InstanceService.Registered registered = service.register(request);
        if (registered.created()) {
            return ResponseEntity.created(ServletUriComponentsBuilder.fromCurrentRequest().path("/{id}")
                    .buildAndExpand(registered.instance().id()).toUri()).body(registered.instance());
        }
        return ResponseEntity.ok(registered.instance());
    }

    @Operation(summary = "List instances, filtered by type, state, parent spawner or session, in pages by id "
            + "(limit, default 500, at most 1000; the next page is the Link rel=\"next\" header)")
    @ProblemAnswer(status = 400, reasons = "invalid-limit")
    @ProblemAnswer(status = 503, reasons = "database-unavailable", when = "the database does not answer")
    @GetMapping
    public ResponseEntity<InstanceList> list(@RequestParam(required = false) @Pattern(regexp = Ids.PATTERN) String type,
                                             @RequestParam(required = false) InstanceState state,
                                             @RequestParam(required = false) @Pattern(regexp = Ids.PATTERN) String parent,
                                             @RequestParam(required = false) @Pattern(regexp = Ids.PATTERN) String session,
                                             @RequestParam(required = false) @Pattern(regexp = Ids.PATTERN) String after,
                                             @RequestParam(defaultValue = "" + Page.DEFAULT_LIMIT) int limit) {
        InstanceService.ListPage page = service.list(new InstanceFilter(type, state, parent, session), after, Page.requireLimit(limit));
        List<ServiceInstance> instances = page.list().instances();
        return withNext(page.more(), () -> instances.getLast().id(), limit).body(page.list());
    }

    @Operation(summary = "Read one instance")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 503, reasons = "database-unavailable", when = "the database does not answer")
    @GetMapping("/{id}")
    public ServiceInstance get(@PathVariable @FabricId String id) {
        return service.get(id);
    }

    @Operation(summary = "The state history of an instance, across incarnations and after deregistration, in pages by step "
            + "(limit, default 500, at most 1000; the next page is the Link rel=\"next\" header)")
    @ProblemAnswer(status = 400, reasons = "invalid-limit")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 503, reasons = "database-unavailable", when = "the database does not answer")
    @GetMapping("/{id}/history")
    public ResponseEntity<List<StateTransition>> history(@PathVariable @FabricId String id,
                                                         @RequestParam(defaultValue = "0") @PositiveOrZero long after,
                                                         @RequestParam(defaultValue = "" + Page.DEFAULT_LIMIT) int limit) {
        Page<StateTransition> page = service.history(id, after, Page.requireLimit(limit));
        return withNext(page.more(), () -> Long.toString(page.items().getLast().seq()), limit).body(page.items());
    }

    /** An OK answer, with a {@code Link} to the next page when there is one: this request's URL with {@code after} moved on. */
    private static ResponseEntity.BodyBuilder withNext(boolean more, Supplier<String> last, int limit) {
        ResponseEntity.BodyBuilder ok = ResponseEntity.ok();
        if (more) {
            String next = ServletUriComponentsBuilder.fromCurrentRequest().replaceQueryParam("after", last.get())
                    .replaceQueryParam("limit", limit).build().encode().toUriString();
            ok.header(HttpHeaders.LINK, "<" + next + ">; rel=\"next\"");
        }
        return ok;
    }

    @Operation(summary = "Change the state of the current incarnation")
    @ApiResponse(responseCode = "200", description = "the instance in its new state")
    @ProblemAnswer(status = 400, reasons = "too-large")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 409, reasons = {"stale-incarnation", "unknown-incarnation", "illegal-transition", "not-running"})
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @PutMapping("/{id}/state")
    public ServiceInstance changeState(@PathVariable @FabricId String id, @Valid @RequestBody StateChangeRequest request) {
        return service.changeState(id, request);
    }

    @Operation(summary = "Report an instance unreachable, or report one's own failure")
    @ProblemAnswer(status = 400, reasons = "incarnation-required")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 409, reasons = {"stale-incarnation", "unknown-incarnation", "illegal-transition"})
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @PostMapping("/{id}/reports")
    public ServiceInstance report(@PathVariable @FabricId String id, @Valid @RequestBody ReportRequest request) {
        return service.report(id, request);
    }

    @Operation(summary = "Deregister an instance (its history stays readable)")
    @ProblemAnswer(status = 404, reasons = "unknown-instance")
    @ProblemAnswer(status = 503, reasons = {"database-unavailable", "registry-busy", "shutting-down"})
    @DeleteMapping("/{id}")
    @org.springframework.web.bind.annotation.ResponseStatus(HttpStatus.NO_CONTENT)
    public void deregister(@PathVariable @FabricId String id) {
        service.deregister(id);
    }
}
