package dev.fabric.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The extension behind {@link RequiresNetworkLab}: checks the machine once per test run, then runs,
 * skips or fails each annotated class as {@link NetworkLabRig#verdict()} decides; and gives the
 * class's tests one {@link NetworkLab}, kept in the class's store so that JUnit closes it (removes
 * the lab) when the class ends, whatever its tests did.
 */
public final class RequiresNetworkLabExtension implements ExecutionCondition, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(RequiresNetworkLabExtension.class);

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        NetworkLabRig rig = context.getRoot().getStore(NAMESPACE)
                .computeIfAbsent(NetworkLabRig.class, key -> probe(), NetworkLabRig.class);
        return switch (rig.verdict()) {
            case DockerRig.Verdict.Run() -> ConditionEvaluationResult.enabled("the network lab can be built here");
            case DockerRig.Verdict.Skip(String message) -> ConditionEvaluationResult.disabled(message);
            case DockerRig.Verdict.Fail(String message) -> throw new NetworkLabMissingException(message);
        };
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == NetworkLab.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        Class<?> testClass = classContext.getRequiredTestClass();
        // An AutoCloseable in a store is closed when its context ends: the lab goes with the class.
        return classContext.getStore(NAMESPACE).computeIfAbsent(NetworkLab.class,
                key -> NetworkLab.start(NetworkLab.prefixFor(testClass)), NetworkLab.class);
    }

    private static NetworkLabRig probe() {
        boolean required = NetworkLabRig.requiredBy(System.getenv());
        boolean root = "0".equals(output("id", "-u"));
        List<String> missing = new ArrayList<>();
        for (String tool : NetworkLabRig.TOOLS) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        if (!Files.isRegularFile(NetworkLab.script())) {
            missing.add(NetworkLab.script().toString());
        }
        String namespaceFailure = root && missing.isEmpty() ? tryNamespace() : "";
        return new NetworkLabRig(root, missing, namespaceFailure, required);
    }

    private static boolean onPath(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream().anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, tool)));
    }

    /** Makes and removes a namespace of its own: the one sure test that the lab can be built. */
    private static String tryNamespace() {
        String name = "flprobe" + ProcessHandle.current().pid();
        String failure = run("ip", "netns", "add", name);
        if (failure.isEmpty()) {
            run("ip", "netns", "del", name);
        }
        return failure;
    }

    /** Runs a command; empty when it succeeded, else what it said. */
    private static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String said = new String(process.getInputStream().readAllBytes()).strip();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return String.join(" ", command) + " did not end";
            }
            return process.exitValue() == 0 ? "" : said.isEmpty() ? String.join(" ", command) + " failed" : said;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static String output(String... command) {
        try {
            Process process = new ProcessBuilder(command).start();
            String said = new String(process.getInputStream().readAllBytes()).strip();
            process.waitFor(30, TimeUnit.SECONDS);
            return said;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** Thrown where the lab's tests are required but the machine cannot build the lab. */
    static final class NetworkLabMissingException extends RuntimeException {
        NetworkLabMissingException(String message) {
            super(message);
        }
    }
}
