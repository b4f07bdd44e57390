package dev.fabric.core.problem;

import java.util.Optional;

/**
 * Lets a service answer an exception it does not own (a database outage, a refused one-time
 * password) as one of its own problems. {@link FabricProblemAdvice} asks every translator bean
 * before it answers {@code internal-error}.
 */
@FunctionalInterface
public interface ProblemTranslator {

    /** The problem this failure is, or empty when the translator does not know it. */
    Optional<ProblemException> translate(Throwable failure);
}
