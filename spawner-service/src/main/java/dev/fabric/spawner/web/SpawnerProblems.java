package dev.fabric.spawner.web;

import dev.fabric.core.problem.ProblemException;
import dev.fabric.core.problem.ProblemTranslator;
import dev.fabric.core.registry.RegistryCallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.Optional;

/**
 * A registry call that failed underneath a request of the spawner or a member: {@code 502
 * registry-unreachable} or {@code registry-refused}, with {@code Retry-After: 2}.
 */
@Component
public class SpawnerProblems implements ProblemTranslator {

    private static final Logger log = LoggerFactory.getLogger(SpawnerProblems.class);

    @Override
    public Optional<ProblemException> translate(Throwable failure) {
        if (!(failure instanceof RegistryCallException e)) {
            return Optional.empty();
        }
        log.warn("registry call failed: {}", e.getMessage());
        return Optional.of(new ProblemException(502, e.unreachable() ? "registry-unreachable" : "registry-refused", e.getMessage(),
                Duration.ofSeconds(2)));
    }
}
