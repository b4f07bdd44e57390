package dev.fabric.testsupport;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

import com.github.dockerjava.api.exception.NotFoundException;

/**
 * The extension behind {@link RequiresDocker}: asks Docker once per test run, then runs, skips or
 * fails each annotated test as {@link DockerRig#verdict()} decides.
 *
 * <p>It is an {@link ExecutionCondition} so that a skipped or failed class never gets as far as its
 * {@code @BeforeAll} methods or other extensions that would start containers.
 */
public final class RequiresDockerExtension implements ExecutionCondition {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(RequiresDockerExtension.class);

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        // The root store lives for the whole run: Docker is asked once, not once per test.
        DockerRig rig = context.getRoot().getStore(NAMESPACE)
                .computeIfAbsent(DockerRig.class, key -> probe(), DockerRig.class);
        return switch (rig.verdict()) {
            case DockerRig.Verdict.Run() -> ConditionEvaluationResult.enabled("Docker and " + rig.baseImage() + " are present");
            case DockerRig.Verdict.Skip(String message) -> ConditionEvaluationResult.disabled(message);
            case DockerRig.Verdict.Fail(String message) -> throw new DockerMissingException(message);
        };
    }

    private static DockerRig probe() {
        String image = BaseImage.name();
        boolean required = DockerRig.requiredBy(System.getenv());
        boolean engineAnswers = DockerClientFactory.instance().isDockerAvailable();
        return new DockerRig(engineAnswers, engineAnswers && imageExists(image), image, required);
    }

    private static boolean imageExists(String image) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException absent) {
            return false;
        }
    }

    /** Thrown where Docker tests are required but Docker or the base image is missing. */
    static final class DockerMissingException extends RuntimeException {
        DockerMissingException(String message) {
            super(message);
        }
    }
}
