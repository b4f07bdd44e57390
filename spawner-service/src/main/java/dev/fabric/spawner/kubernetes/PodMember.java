package dev.fabric.spawner.kubernetes;

import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchOutcome;
import dev.fabric.spawner.launch.LaunchedMember;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.dsl.PodResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One incarnation running as a pod. An informer on the pod follows its status: the pod IP gives
 * the management URL, a terminated container or a kubelet that cannot start it gives the outcome,
 * and a deletion nobody asked this spawner for ends it as failed.
 */
final class PodMember implements LaunchedMember {

    private static final Logger log = LoggerFactory.getLogger(PodMember.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String podName;
    private final String serviceId;
    private final long incarnation;
    private final int managementPort;
    private final Duration stopTimeout;
    private final CompletableFuture<LaunchOutcome> outcome = new CompletableFuture<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean secretDropped = new AtomicBoolean();
    private volatile String podIp;
    private volatile SharedIndexInformer<Pod> informer;

    PodMember(KubernetesClient client, String namespace, String podName, String serviceId, long incarnation,
              int managementPort, Duration stopTimeout) {
        this.client = client;
        this.namespace = namespace;
        this.podName = podName;
        this.serviceId = serviceId;
        this.incarnation = incarnation;
        this.managementPort = managementPort;
        this.stopTimeout = stopTimeout;
    }

    /** Starts following the pod; its current state arrives first, so nothing that happened before is missed. */
    PodMember watch() {
        informer = pod().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                observe(pod);
            }

            @Override
            public void onUpdate(Pod before, Pod pod) {
                observe(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                deleted();
            }
        });
        outcome.whenComplete((ended, error) -> Thread.ofVirtual().name("pod-informer-close-" + podName).start(() -> {
            SharedIndexInformer<Pod> current = informer;
            if (current != null) {
                current.close();
            }
        }));
        return this;
    }

    @Override
    public String serviceId() {
        return serviceId;
    }

    @Override
    public long incarnation() {
        return incarnation;
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("launcher", "kubernetes");
        metadata.put("pod", podName);
        metadata.put("namespace", namespace);
        return metadata;
    }

    @Override
    public Optional<URI> managementUrl() {
        String ip = podIp;
        if (ip == null) {
            return Optional.empty();
        }
        return Optional.of(URI.create("http://" + (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + managementPort));
    }

    @Override
    public CompletableFuture<LaunchOutcome> outcome() {
        return outcome;
    }

    /**
     * Deletes the pod with {@code grace} for the member to stop, and its Secret; waits until the
     * pod is gone, forcing the deletion if it outlasts the grace period and {@code stopTimeout}.
     */
    @Override
    public void stop(Duration grace) {
        stopping.set(true);
        long seconds = Math.max(0, (grace.toMillis() + 999) / 1000);
        try {
            pod().withGracePeriod(seconds).delete();
            dropSecret();
            try {
                pod().waitUntilCondition(Objects::isNull, grace.plus(stopTimeout).toMillis(), TimeUnit.MILLISECONDS);
            } catch (KubernetesClientTimeoutException e) {
                log.warn("member {} incarnation {}: pod {} still there {} after its deletion; forcing it", serviceId, incarnation,
                        podName, grace.plus(stopTimeout));
                pod().withGracePeriod(0).delete();
                pod().waitUntilCondition(Objects::isNull, stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (KubernetesClientTimeoutException e) {
            throw new LaunchException("pod " + podName + " of member " + serviceId + " in namespace " + namespace
                    + " is still there after a forced deletion: check its finalizers and the node it ran on", e);
        } catch (KubernetesClientException e) {
            throw new LaunchException("cannot delete pod " + podName + " of member " + serviceId + " in namespace " + namespace
                    + ": " + KubernetesLauncher.reason(e), e);
        }
        if (outcome.complete(new LaunchOutcome.Stopped())) {
            log.info("member {} incarnation {}: pod {} stopped", serviceId, incarnation, podName);
        }
    }

    private void observe(Pod pod) {
        if (pod.getStatus() != null && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isBlank()) {
            podIp = pod.getStatus().getPodIP();
        }
        if (containerStarted(pod)) {
            // The kubelet read the password into the container's environment when it created it, and
            // never restarts it (restartPolicy Never): the Secret has nothing left to do.
            dropSecret();
        }
        if (stopping.get() || outcome.isDone()) {
            return;
        }
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            end(new LaunchOutcome.Failed("pod deleted"), false);
            return;
        }
        PodOutcome.of(pod).ifPresent(ended -> end(ended, !isTerminated(pod)));
    }

    private void deleted() {
        if (stopping.get()) {
            outcome.complete(new LaunchOutcome.Stopped());
            return;
        }
        end(new LaunchOutcome.Failed("pod deleted"), false);
    }

    /**
     * Records how the incarnation ended. A pod whose container never ran (image pull, crash loop,
     * bad spec) would keep the kubelet retrying: it is deleted. A terminated pod stays, so its
     * log can be read ({@code kubectl logs}), until the member's next launch or its spawner's end.
     */
    private void end(LaunchOutcome ended, boolean deletePod) {
        if (!outcome.complete(ended)) {
            return;
        }
        log.info("member {} incarnation {}: pod {} {}", serviceId, incarnation, podName, ended.describe());
        Thread.ofVirtual().name("pod-cleanup-" + podName).start(() -> {
            try {
                if (deletePod) {
                    pod().delete();
                }
                dropSecret();
            } catch (KubernetesClientException e) {
                log.warn("member {} incarnation {}: could not clean up pod {}: {}", serviceId, incarnation, podName,
                        KubernetesLauncher.reason(e));
            }
        });
    }

    private void dropSecret() {
        if (secretDropped.compareAndSet(false, true)) {
            try {
                client.secrets().inNamespace(namespace).withName(MemberPods.secretName(podName)).delete();
            } catch (KubernetesClientException e) {
                // Owned by the pod: the garbage collector removes it with the pod anyway.
                secretDropped.set(false);
                log.warn("member {} incarnation {}: could not delete the Secret {}: {}", serviceId, incarnation,
                        MemberPods.secretName(podName), KubernetesLauncher.reason(e));
            }
        }
    }

    private PodResource pod() {
        return client.pods().inNamespace(namespace).withName(podName);
    }

    private static boolean containerStarted(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return false;
        }
        for (ContainerStatus container : pod.getStatus().getContainerStatuses()) {
            if (MemberPods.CONTAINER.equals(container.getName()) && container.getState() != null
                    && (container.getState().getRunning() != null || container.getState().getTerminated() != null)) {
                return true;
            }
        }
        return false;
    }

    static boolean isTerminated(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }
}
