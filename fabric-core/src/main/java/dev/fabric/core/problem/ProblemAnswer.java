package dev.fabric.core.problem;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An error a request handler can answer: its status and the reasons it answers with it. Served in
 * the service's OpenAPI document (and so in {@code docs/api/}) as that operation's response, an
 * {@code application/problem+json} of the {@code Problem} schema whose description names the reasons
 * (docs/problems.md says what each means). On a class, every handler of the class can answer it.
 *
 * <p>The answers operations share are added without it ({@link ProblemAnswersDocumentation}):
 * {@code 400} ({@code invalid-request}, and {@code malformed-json} and {@code unknown-field} with a
 * body) where the operation takes parameters or a body, and the signature filter's ({@code 401},
 * {@code 503 replay-cache-full}, {@code 413 body-too-large}) where it must be signed. A handler
 * whose success is not the one Spring infers ({@code 200}, or its {@code @ResponseStatus}), as one
 * that answers a {@code ResponseEntity} of another status, declares its successes with springdoc's
 * {@code @ApiResponse}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
@Repeatable(ProblemAnswer.List.class)
public @interface ProblemAnswer {

    /** The HTTP status, 400 to 599. */
    int status();

    /** The reasons answered with that status. */
    String[] reasons();

    /** When, in a few words, if the reasons do not say it. */
    String when() default "";

    /** The container of repeated {@link ProblemAnswer}s. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.METHOD, ElementType.TYPE})
    @interface List {
        ProblemAnswer[] value();
    }
}
