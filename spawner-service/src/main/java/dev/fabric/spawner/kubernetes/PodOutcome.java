package dev.fabric.spawner.kubernetes;

import dev.fabric.spawner.launch.LaunchOutcome;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;

import java.util.Optional;
import java.util.Set;

/**
 * Reads how a member pod ended from its status: the container's exit code when it terminated,
 * the kubelet's reason when it cannot start the container at all. Empty while the member may
 * still come up or is running.
 */
final class PodOutcome {

    /** Waiting reasons that mean the image will not arrive without someone changing something. */
    private static final Set<String> IMAGE_PULL = Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull");
    /** Waiting reasons that mean the container cannot be created from this pod spec. */
    private static final Set<String> CANNOT_CREATE = Set.of("CreateContainerConfigError", "CreateContainerError", "RunContainerError");

    private PodOutcome() {}

    static Optional<LaunchOutcome> of(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null) {
            return Optional.empty();
        }
        Optional<ContainerStatus> container = status.getContainerStatuses() == null ? Optional.empty()
                : status.getContainerStatuses().stream().filter(c -> MemberPods.CONTAINER.equals(c.getName())).findFirst();
        String phase = status.getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            Optional<ContainerStateTerminated> terminated = container.flatMap(PodOutcome::terminated);
            if (terminated.isPresent()) {
                return Optional.of(exited(terminated.get()));
            }
            // No container ever ran: evicted, or rejected by the node before start.
            String reason = status.getReason() == null ? "pod " + phase.toLowerCase() : "pod " + status.getReason().toLowerCase();
            return Optional.of(new LaunchOutcome.Failed(reason + detail(status.getMessage())));
        }
        Optional<ContainerStateWaiting> waiting = container
                .map(ContainerStatus::getState)
                .map(state -> state.getWaiting());
        if (waiting.isPresent() && waiting.get().getReason() != null) {
            String reason = waiting.get().getReason();
            String message = detail(waiting.get().getMessage());
            if (IMAGE_PULL.contains(reason)) {
                return Optional.of(new LaunchOutcome.Failed("image pull failed: " + reason + message));
            }
            if ("CrashLoopBackOff".equals(reason)) {
                return Optional.of(new LaunchOutcome.Failed("crash loop: " + reason + message));
            }
            if (CANNOT_CREATE.contains(reason)) {
                return Optional.of(new LaunchOutcome.Failed("container could not be created: " + reason + message));
            }
        }
        return Optional.empty();
    }

    /** An exit code as a process exit: 128 + N is signal N (137: SIGKILL, which is how an OOM kill shows). */
    static LaunchOutcome exited(ContainerStateTerminated terminated) {
        int code = terminated.getExitCode() == null ? -1 : terminated.getExitCode();
        if ("OOMKilled".equals(terminated.getReason())) {
            return new LaunchOutcome.Killed(9, "OOMKilled");
        }
        if (code > 128 && code <= 128 + 64) {
            return new LaunchOutcome.Killed(code - 128, null);
        }
        return new LaunchOutcome.Exited(code);
    }

    private static Optional<ContainerStateTerminated> terminated(ContainerStatus container) {
        if (container.getState() != null && container.getState().getTerminated() != null) {
            return Optional.of(container.getState().getTerminated());
        }
        return Optional.ofNullable(container.getLastState()).map(state -> state.getTerminated());
    }

    private static String detail(String message) {
        return message == null || message.isBlank() ? "" : " (" + message.strip() + ")";
    }
}
