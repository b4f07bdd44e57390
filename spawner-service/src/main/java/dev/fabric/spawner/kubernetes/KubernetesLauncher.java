package dev.fabric.spawner.kubernetes;

import dev.fabric.core.registry.ServiceInstance;
import dev.fabric.spawner.launch.LaunchException;
import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.launch.LaunchedMember;
import dev.fabric.spawner.launch.Launcher;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts members as pods through the Kubernetes API (fabric8). Each incarnation is a pod
 * {@code fabric-<id>-<incarnation>} running the spawner's image in the member profile, with its
 * one-time password in a Secret the pod references; pod and Secret are owned by the spawner's own
 * pod, so deleting the spawner deletes its members. The Secret is deleted as soon as the member's
 * container has started (it read the password then), when the member ends, and on stop.
 *
 * <p>A member's data directory is a PersistentVolumeClaim {@code fabric-<id>-data} (unless
 * {@code persistent-data} is off), created at its first launch, mounted by every incarnation, and
 * deleted by {@link #release} once the member is stopped on request or LOST. The claim is owned by
 * {@code data-owner} (the chart's spawner ConfigMap), not by the spawner pod: a replaced spawner pod
 * restarts its members under their ids, and they must find their data.
 *
 * <p>API verbs used, all in one namespace: pods create, get, list, watch, delete; secrets create,
 * delete; persistentvolumeclaims create, get, delete; configmaps get (the data owner). The chart's
 * spawner Role grants these. The kubelet never restarts a member ({@code restartPolicy: Never}):
 * its spawner does, under the same id and a new incarnation.
 */
public final class KubernetesLauncher implements Launcher {

    private static final Logger log = LoggerFactory.getLogger(KubernetesLauncher.class);

    private final KubernetesClient client;
    private final KubernetesLauncherProperties settings;
    private final String namespace;
    private final Optional<String> spawnerPodName;
    private final Optional<String> dataOwnerName;
    private volatile Pod spawnerPod;

    /** As below, with the data claims owned by {@code settings.dataOwner()} when set. */
    public KubernetesLauncher(KubernetesClient client, KubernetesLauncherProperties settings, String namespace,
                              Optional<String> spawnerPodName) {
        this(client, settings, namespace, spawnerPodName, Optional.ofNullable(settings.dataOwner()));
    }

    /**
     * @param namespace where member pods go
     * @param spawnerPodName the spawner's own pod in that namespace, owner of the members; empty
     *                       when the spawner runs elsewhere (members are then not garbage-collected with it)
     * @param dataOwnerName a ConfigMap in that namespace owning the members' data claims; empty: no owner
     */
    public KubernetesLauncher(KubernetesClient client, KubernetesLauncherProperties settings, String namespace,
                              Optional<String> spawnerPodName, Optional<String> dataOwnerName) {
        if (settings.image().isBlank()) {
            throw new IllegalArgumentException("fabric.spawner.kubernetes.image is required with fabric.spawner.launcher=kubernetes: "
                    + "set it to the spawner's own image (members run the same jar)");
        }
        this.client = client;
        this.settings = settings;
        this.namespace = namespace;
        this.spawnerPodName = spawnerPodName.filter(name -> !name.isBlank());
        this.dataOwnerName = dataOwnerName.filter(name -> !name.isBlank());
        if (this.spawnerPodName.isEmpty()) {
            log.warn("no spawner pod name (fabric.spawner.kubernetes.pod-name or FABRIC_POD_NAME): member pods in namespace {} "
                    + "get no owner reference and outlive this spawner", namespace);
        }
        if (settings.persistentData() && this.dataOwnerName.isEmpty()) {
            log.warn("no fabric.spawner.kubernetes.data-owner: the members' data claims in namespace {} have no owner; each "
                    + "goes when its member is stopped or lost, else delete them by hand "
                    + "(kubectl delete pvc -l app.kubernetes.io/name=fabric-member)", namespace);
        } else if (!settings.persistentData()) {
            log.warn("fabric.spawner.kubernetes.persistent-data=false: a member's data directory goes with its pod, and a member "
                    + "restarted under its id finds no state (a queue member ends LOST)");
        }
    }

    @Override
    public String name() {
        return "kubernetes";
    }

    /** The namespace members are created in. */
    public String namespace() {
        return namespace;
    }

    @Override
    public LaunchedMember launch(LaunchSpec spec) {
        String podName = MemberPods.podName(spec.serviceId(), spec.incarnation());
        Optional<Pod> owner = spawnerPod();
        removeLeftovers(spec.serviceId(), spec.incarnation());
        Optional<String> dataClaim = settings.persistentData() ? Optional.of(dataClaim(spec)) : Optional.empty();
        try {
            client.secrets().inNamespace(namespace)
                    .resource(MemberPods.otpSecret(spec, namespace, podName, owner.map(spawner -> MemberPods.ownedBy(spawner, false))))
                    .create();
        } catch (KubernetesClientException e) {
            throw new LaunchException("cannot create the Secret " + MemberPods.secretName(podName) + " for member " + spec.serviceId()
                    + " in namespace " + namespace + ": " + reason(e), e);
        }
        try {
            client.pods().inNamespace(namespace)
                    .resource(MemberPods.pod(spec, settings, namespace, podName, owner.map(spawner -> MemberPods.ownedBy(spawner, true)),
                            dataClaim))
                    .create();
        } catch (KubernetesClientException e) {
            deleteQuietly(podName);
            throw new LaunchException("cannot create pod " + podName + " for member " + spec.serviceId() + " in namespace "
                    + namespace + ": " + reason(e), e);
        }
        log.info("member {} incarnation {}: created pod {} in namespace {} (image {}, cpu {}, memory {})", spec.serviceId(),
                spec.incarnation(), podName, namespace, settings.image(), spec.resources().cpu(), spec.resources().memory());
        return new PodMember(client, namespace, podName, spec.serviceId(), spec.incarnation(), settings.managementPort(),
                settings.stopTimeout()).watch();
    }

    /**
     * Deletes the member's data claim: it was stopped on request or is LOST, and no incarnation
     * will need its data again. Best effort: a claim that cannot be deleted is logged (and goes
     * with its owner). Its volume is freed once no pod uses it any more.
     */
    @Override
    public void release(String serviceId) {
        if (!settings.persistentData()) {
            return;
        }
        String name = MemberPods.dataClaimName(serviceId);
        try {
            PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace(namespace).withName(name).get();
            if (claim == null) {
                return;
            }
            if (!MemberPods.isMembers(claim, serviceId)) {
                log.warn("member {}: the claim {} in namespace {} is not its own; left alone", serviceId, name, namespace);
                return;
            }
            client.persistentVolumeClaims().inNamespace(namespace).withName(name).delete();
            log.info("member {}: deleted its data claim {} in namespace {}", serviceId, name, namespace);
        } catch (KubernetesClientException e) {
            log.warn("member {}: cannot delete its data claim {} in namespace {}: {}", serviceId, name, namespace, reason(e));
        }
    }

    /**
     * The member's data claim, created when it is missing (its first launch, or a claim deleted by
     * hand: the member then starts without its state). An existing claim is reused as it is.
     */
    private String dataClaim(LaunchSpec spec) {
        String name = MemberPods.dataClaimName(spec.serviceId());
        PersistentVolumeClaim existing;
        try {
            existing = client.persistentVolumeClaims().inNamespace(namespace).withName(name).get();
            if (existing == null) {
                Optional<OwnerReference> owner = dataOwner().map(MemberPods::ownedBy);
                try {
                    client.persistentVolumeClaims().inNamespace(namespace)
                            .resource(MemberPods.dataClaim(spec, settings, namespace, owner))
                            .create();
                    if (spec.incarnation() > 1) {
                        log.warn("member {} incarnation {}: its data claim {} was missing; created an empty one (the member "
                                + "starts without its previous state)", spec.serviceId(), spec.incarnation(), name);
                    } else {
                        log.info("member {}: created its data claim {} in namespace {} ({}, storage class {})", spec.serviceId(), name,
                                namespace, settings.dataSize(), settings.dataStorageClass().isBlank() ? "the default"
                                        : settings.dataStorageClass());
                    }
                    return name;
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) {
                        throw e;
                    }
                    existing = client.persistentVolumeClaims().inNamespace(namespace).withName(name).get();
                }
            }
        } catch (KubernetesClientException e) {
            throw new LaunchException("cannot create or read the data claim " + name + " of member " + spec.serviceId()
                    + " in namespace " + namespace + ": " + reason(e), e);
        }
        if (existing == null || !MemberPods.isMembers(existing, spec.serviceId())) {
            throw new LaunchException("the claim " + name + " in namespace " + namespace + " is not the data claim of member "
                    + spec.serviceId() + " (its annotation " + MemberPods.SERVICE_ID_ANNOTATION + " differs): delete or rename it");
        }
        if (existing.getMetadata().getDeletionTimestamp() != null) {
            throw new LaunchException("the data claim " + name + " of member " + spec.serviceId() + " in namespace " + namespace
                    + " is being deleted (its data is gone): stop the member and spawn a fresh one");
        }
        return name;
    }

    /**
     * Finds the pod of the incarnation the registry knows: by the {@code pod} and {@code namespace}
     * recorded in its metadata, else by the service-id label. Only a pod that still runs (or is
     * still starting) and carries that incarnation is adopted. Its owner stays the spawner pod that
     * created it: a spawner whose container restarted is still that pod; a new spawner pod finds
     * its predecessor's members gone with it, and restarts them under their ids.
     */
    @Override
    public Optional<LaunchedMember> adopt(ServiceInstance instance) {
        Map<String, String> metadata = instance.metadata() == null ? Map.of() : instance.metadata();
        String podNamespace = metadata.getOrDefault("namespace", namespace);
        Optional<Pod> found;
        try {
            found = Optional.ofNullable(metadata.get("pod"))
                    .map(name -> client.pods().inNamespace(podNamespace).withName(name).get())
                    .or(() -> client.pods().inNamespace(podNamespace)
                            .withLabel(MemberPods.SERVICE_ID_LABEL, MemberPods.labelValue(instance.id()))
                            .withLabel(MemberPods.INCARNATION_LABEL, Long.toString(instance.incarnation()))
                            .list().getItems().stream()
                            .filter(pod -> MemberPods.isMember(pod, instance.id()))
                            .findFirst());
        } catch (KubernetesClientException e) {
            log.warn("member {}: cannot look for its pod in namespace {}: {}", instance.id(), podNamespace, reason(e));
            return Optional.empty();
        }
        Optional<Pod> running = found
                .filter(pod -> MemberPods.isMember(pod, instance.id()))
                .filter(pod -> MemberPods.incarnationOf(pod).orElse(-1L) == instance.incarnation())
                .filter(KubernetesLauncher::isActive);
        if (running.isEmpty()) {
            log.info("member {} incarnation {}: no running pod to adopt in namespace {}", instance.id(), instance.incarnation(),
                    podNamespace);
            return Optional.empty();
        }
        Pod pod = running.get();
        log.info("member {} incarnation {}: adopted pod {} in namespace {}", instance.id(), instance.incarnation(),
                pod.getMetadata().getName(), podNamespace);
        return Optional.of(new PodMember(client, podNamespace, pod.getMetadata().getName(), instance.id(), instance.incarnation(),
                settings.managementPort(), settings.stopTimeout()).watch());
    }

    /** A member pod that may still become or be a working member. */
    static boolean isActive(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return pod.getMetadata().getDeletionTimestamp() == null
                && (phase == null || "Pending".equals(phase) || "Running".equals(phase))
                && PodOutcome.of(pod).isEmpty();
    }

    /**
     * Removes what earlier incarnations of this member left: a pod that still runs (the member is
     * being restarted, the old incarnation must not go on), a stale pod of this same incarnation, and
     * terminated pods older than the previous incarnation. The previous incarnation's terminated pod
     * stays for {@code kubectl logs}.
     */
    private void removeLeftovers(String serviceId, long incarnation) {
        List<Pod> pods;
        try {
            pods = client.pods().inNamespace(namespace)
                    .withLabel(MemberPods.SERVICE_ID_LABEL, MemberPods.labelValue(serviceId))
                    .list().getItems();
        } catch (KubernetesClientException e) {
            throw new LaunchException("cannot list the pods of member " + serviceId + " in namespace " + namespace + ": " + reason(e), e);
        }
        for (Pod pod : pods) {
            if (!MemberPods.isMember(pod, serviceId)) {
                continue;
            }
            long old = MemberPods.incarnationOf(pod).orElse(-1L);
            boolean remove = old == incarnation || (old < incarnation && (isActive(pod) || old < incarnation - 1));
            if (remove) {
                log.info("member {}: removing pod {} of incarnation {} before starting incarnation {}", serviceId,
                        pod.getMetadata().getName(), old, incarnation);
                deleteQuietly(pod.getMetadata().getName());
            }
        }
    }

    private Optional<Pod> spawnerPod() {
        if (spawnerPodName.isEmpty()) {
            return Optional.empty();
        }
        Pod pod = spawnerPod;
        if (pod == null) {
            try {
                pod = client.pods().inNamespace(namespace).withName(spawnerPodName.get()).get();
            } catch (KubernetesClientException e) {
                throw new LaunchException("cannot read the spawner's own pod " + spawnerPodName.get() + " in namespace " + namespace
                        + " (the owner of every member pod): " + reason(e), e);
            }
            if (pod == null) {
                throw new LaunchException("the spawner's own pod " + spawnerPodName.get() + " is not in namespace " + namespace
                        + ": fabric.spawner.kubernetes.pod-name (or FABRIC_POD_NAME from the downward API) must name this "
                        + "spawner's pod, in the namespace its members go to");
            }
            spawnerPod = pod;
        }
        return Optional.of(pod);
    }

    /**
     * The owner of a new data claim, read each time a claim is created (rarely: once per member),
     * so a ConfigMap recreated meanwhile never lends a stale uid, which would make the garbage
     * collector delete the claim at once.
     */
    private Optional<ConfigMap> dataOwner() {
        if (dataOwnerName.isEmpty()) {
            return Optional.empty();
        }
        ConfigMap owner;
        try {
            owner = client.configMaps().inNamespace(namespace).withName(dataOwnerName.get()).get();
        } catch (KubernetesClientException e) {
            throw new LaunchException("cannot read the ConfigMap " + dataOwnerName.get() + " in namespace " + namespace
                    + " (fabric.spawner.kubernetes.data-owner, the owner of the members' data claims): " + reason(e), e);
        }
        if (owner == null) {
            throw new LaunchException("the ConfigMap " + dataOwnerName.get() + " (fabric.spawner.kubernetes.data-owner, the owner "
                    + "of the members' data claims) is not in namespace " + namespace + ": name an existing ConfigMap there "
                    + "that lives as long as the installation, or leave it empty for claims without an owner");
        }
        return Optional.of(owner);
    }

    private void deleteQuietly(String podName) {
        try {
            client.pods().inNamespace(namespace).withName(podName).delete();
            client.secrets().inNamespace(namespace).withName(MemberPods.secretName(podName)).delete();
        } catch (KubernetesClientException e) {
            log.warn("cannot delete pod {} or its Secret in namespace {}: {}", podName, namespace, reason(e));
        }
    }

    /** What the API server said, for a message: its status message when there is one (403: the Role is missing a verb). */
    static String reason(KubernetesClientException e) {
        String message = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
        if (e.getCode() == 403) {
            return message + " (the spawner's ServiceAccount lacks that permission: see the spawner Role in the chart)";
        }
        return message;
    }
}
