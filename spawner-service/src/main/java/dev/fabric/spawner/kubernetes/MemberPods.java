package dev.fabric.spawner.kubernetes;

import dev.fabric.spawner.launch.LaunchSpec;
import dev.fabric.spawner.contract.MemberEnvironment;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a member pod, its one-time password Secret and its data claim look like: names, labels,
 * and the objects themselves, built with fabric8's fluent builders. No API calls here.
 */
final class MemberPods {

    static final String NAME_LABEL = "app.kubernetes.io/name";
    static final String NAME = "fabric-member";
    static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    static final String MANAGED_BY = "fabric-spawner";
    static final String SERVICE_ID_LABEL = "fabric.dev/service-id";
    static final String INCARNATION_LABEL = "fabric.dev/incarnation";
    static final String ROLE_LABEL = "fabric.dev/role";
    static final String SPAWNER_LABEL = "fabric.dev/spawner";
    /** The exact id: a label value cannot hold every id (':' is not allowed, 63 characters at most). */
    static final String SERVICE_ID_ANNOTATION = "fabric.dev/service-id";

    static final String CONTAINER = "member";
    static final String OTP_KEY = "otp";
    /** The image's user (docker/spawner-service.Dockerfile). */
    static final long UID = 10001;
    static final String DATA_DIR = "/var/lib/fabric";

    private MemberPods() {}

    /** The pod of one incarnation: {@code fabric-<id>-<incarnation>}, a DNS label as pod names should be. */
    static String podName(String serviceId, long incarnation) {
        String suffix = "-" + incarnation;
        return dnsLabel("fabric-" + serviceId, 63 - suffix.length(), serviceId) + suffix;
    }

    /**
     * The member's data claim, one for all its incarnations: {@code fabric-<id>-data}, shortened
     * as pod names are.
     */
    static String dataClaimName(String serviceId) {
        String suffix = "-data";
        return dnsLabel("fabric-" + serviceId, 63 - suffix.length(), serviceId) + suffix;
    }

    /** The Secret holding the one-time password of that incarnation. */
    static String secretName(String podName) {
        return podName + "-otp";
    }

    /**
     * A label value for an id: the id itself when it is one, else a readable form with a short hash
     * of the exact id, so two ids never share a value. Selection by such a value is confirmed
     * against the {@link #SERVICE_ID_ANNOTATION}.
     */
    static String labelValue(String id) {
        if (id.matches("[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?")) {
            return id;
        }
        String readable = id.replaceAll("[^A-Za-z0-9._-]", "_");
        readable = readable.substring(0, Math.min(readable.length(), 54)).replaceAll("[^A-Za-z0-9]+$", "");
        return (readable.isEmpty() ? "x" : readable) + "-" + shortHash(id);
    }

    private static String dnsLabel(String text, int max, String exact) {
        String lower = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
        if (lower.equals(text) && lower.length() <= max && !lower.endsWith("-")) {
            return lower;
        }
        String hash = shortHash(exact);
        String cut = lower.substring(0, Math.min(lower.length(), max - hash.length() - 1)).replaceAll("-+$", "");
        return cut + "-" + hash;
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The labels of a member's pods, for creation and selection. The chart's NetworkPolicy
     * {@code <release>-spawner-members} selects member pods by {@value #NAME_LABEL} and
     * {@value #SPAWNER_LABEL}: keep them.
     */
    static Map<String, String> labels(LaunchSpec spec) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NAME_LABEL, NAME);
        labels.put(MANAGED_BY_LABEL, MANAGED_BY);
        labels.put(SERVICE_ID_LABEL, labelValue(spec.serviceId()));
        labels.put(INCARNATION_LABEL, Long.toString(spec.incarnation()));
        labels.put(ROLE_LABEL, labelValue(spec.role()));
        String spawner = spec.environment().get(MemberEnvironment.SPAWNER_ID);
        if (spawner != null && !spawner.isBlank()) {
            labels.put(SPAWNER_LABEL, labelValue(spawner));
        }
        return labels;
    }

    /**
     * The labels of a member's data claim: those of its pods that hold for every incarnation
     * (no {@code fabric.dev/incarnation}).
     */
    static Map<String, String> claimLabels(LaunchSpec spec) {
        Map<String, String> labels = labels(spec);
        labels.remove(INCARNATION_LABEL);
        return labels;
    }

    /** The incarnation a pod carries in its label, if it is a member pod. */
    static Optional<Long> incarnationOf(Pod pod) {
        String value = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(INCARNATION_LABEL);
        if (value == null || !value.matches("[0-9]{1,18}")) {
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(value));
    }

    /** Whether a pod runs the member with exactly this id (labels may be shortened; the annotation is exact). */
    static boolean isMember(Pod pod, String serviceId) {
        return isMembers(pod.getMetadata().getAnnotations(), serviceId);
    }

    /** Whether a claim holds the data of the member with exactly this id. */
    static boolean isMembers(PersistentVolumeClaim claim, String serviceId) {
        return isMembers(claim.getMetadata().getAnnotations(), serviceId);
    }

    private static boolean isMembers(Map<String, String> annotations, String serviceId) {
        return annotations != null && serviceId.equals(annotations.get(SERVICE_ID_ANNOTATION));
    }

    /** The spawner pod as owner: when it is deleted, Kubernetes deletes what it owns. */
    static OwnerReference ownedBy(Pod owner, boolean controller) {
        return new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Pod")
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(controller)
                .withBlockOwnerDeletion(false)
                .build();
    }

    /**
     * The owner of the members' data claims: an object of the installation that outlives spawner
     * pods (the chart's spawner ConfigMap). Not a controller; deleting it deletes the claims.
     */
    static OwnerReference ownedBy(ConfigMap owner) {
        return new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("ConfigMap")
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(false)
                .withBlockOwnerDeletion(false)
                .build();
    }

    /**
     * The member's data claim: one volume, read-write by one node at a time, that every
     * incarnation's pod mounts at {@link #DATA_DIR}. It is not owned by the spawner pod: a
     * replaced spawner pod takes its members' pods with it and restarts them, and they need their data.
     */
    static PersistentVolumeClaim dataClaim(LaunchSpec spec, KubernetesLauncherProperties settings, String namespace,
                                           Optional<OwnerReference> owner) {
        return new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                    .withName(dataClaimName(spec.serviceId()))
                    .withNamespace(namespace)
                    .withLabels(claimLabels(spec))
                    .withAnnotations(Map.of(SERVICE_ID_ANNOTATION, spec.serviceId()))
                    .withOwnerReferences(owner.stream().toList())
                .endMetadata()
                .withNewSpec()
                    .withAccessModes("ReadWriteOnce")
                    .withVolumeMode("Filesystem")
                    // Empty means the cluster's default class; "" would mean no class at all.
                    .withStorageClassName(settings.dataStorageClass().isBlank() ? null : settings.dataStorageClass())
                    .withNewResources()
                        .withRequests(Map.of("storage", new Quantity(settings.dataSize())))
                    .endResources()
                .endSpec()
                .build();
    }

    /**
     * The Secret with the one-time password, owned by the spawner pod like the member pod: it
     * cannot outlive a spawner that dies before it deleted it. (Handing it to the member pod would
     * take a patch the spawner's Role does not grant; the launcher deletes it early anyway.)
     */
    static Secret otpSecret(LaunchSpec spec, String namespace, String podName, Optional<OwnerReference> spawner) {
        return new SecretBuilder()
                .withNewMetadata()
                    .withName(secretName(podName))
                    .withNamespace(namespace)
                    .withLabels(labels(spec))
                    .withAnnotations(Map.of(SERVICE_ID_ANNOTATION, spec.serviceId()))
                    .withOwnerReferences(spawner.stream().toList())
                .endMetadata()
                .withType("Opaque")
                .withImmutable(true)
                .withStringData(Map.of(OTP_KEY, spec.otp().reveal()))
                .build();
    }

    /**
     * The member pod: the spawner's image in the member profile, least privilege, never restarted by
     * the kubelet. Its data directory is the member's claim, or without one an {@code emptyDir}
     * that goes with the pod.
     */
    static Pod pod(LaunchSpec spec, KubernetesLauncherProperties settings, String namespace, String podName,
                   Optional<OwnerReference> spawner, Optional<String> dataClaim) {
        Map<String, Quantity> resources = Map.of(
                "cpu", new Quantity(spec.resources().cpu()),
                "memory", new Quantity(spec.resources().memory()));
        return new PodBuilder()
                .withNewMetadata()
                    .withName(podName)
                    .withNamespace(namespace)
                    .withLabels(labels(spec))
                    .withAnnotations(Map.of(SERVICE_ID_ANNOTATION, spec.serviceId()))
                    .withOwnerReferences(spawner.stream().toList())
                .endMetadata()
                .withNewSpec()
                    // The spawner restarts a member itself, under its id and a new incarnation: a
                    // kubelet restart would reuse a one-time password that is already spent.
                    .withRestartPolicy("Never")
                    .withServiceAccountName(settings.serviceAccount().isBlank() ? null : settings.serviceAccount())
                    // Members talk to their spawner and the registry, never to the Kubernetes API.
                    .withAutomountServiceAccountToken(false)
                    // Service links would put e.g. FABRIC_SPAWNER_PORT=tcp://... into the member's environment.
                    .withEnableServiceLinks(false)
                    .withImagePullSecrets(settings.imagePullSecrets().stream().map(LocalObjectReference::new).toList())
                    .withNewSecurityContext()
                        .withRunAsNonRoot(true)
                        .withRunAsUser(UID)
                        .withRunAsGroup(UID)
                        // The data volume's files belong to the member's group; checked at its root
                        // only, so a large claim is not walked again by every incarnation.
                        .withFsGroup(UID)
                        .withFsGroupChangePolicy("OnRootMismatch")
                        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                    .endSecurityContext()
                    .withContainers(new ContainerBuilder()
                            .withName(CONTAINER)
                            .withImage(settings.image())
                            .withImagePullPolicy(settings.imagePullPolicy())
                            .withEnv(environment(spec, settings.managementPort(), podName))
                            .addNewPort()
                                .withName("management")
                                .withContainerPort(settings.managementPort())
                                .withProtocol("TCP")
                            .endPort()
                            .withNewResources()
                                .withRequests(resources)
                                .withLimits(resources)
                            .endResources()
                            // Ready once the member serves: kubectl shows which members are up.
                            .withNewReadinessProbe()
                                .withNewHttpGet().withPath("/actuator/health/readiness")
                                    .withNewPort("management").endHttpGet()
                                .withPeriodSeconds(5)
                                .withFailureThreshold(3)
                            .endReadinessProbe()
                            .withNewSecurityContext()
                                .withRunAsNonRoot(true)
                                .withReadOnlyRootFilesystem(true)
                                .withAllowPrivilegeEscalation(false)
                                .withNewCapabilities().withDrop("ALL").endCapabilities()
                                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                            .endSecurityContext()
                            .addNewVolumeMount().withName("data").withMountPath(DATA_DIR).endVolumeMount()
                            // The root file system is read-only: Tomcat's and the JVM's scratch files go here.
                            .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                            .build())
                    .addToVolumes(dataVolume(dataClaim))
                    .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec()
                .build();
    }

    private static Volume dataVolume(Optional<String> claim) {
        VolumeBuilder volume = new VolumeBuilder().withName("data");
        return claim.map(name -> volume.withNewPersistentVolumeClaim().withClaimName(name).withReadOnly(false).endPersistentVolumeClaim())
                .orElseGet(() -> volume.withNewEmptyDir().endEmptyDir())
                .build();
    }

    /**
     * The bootstrap environment, in a stable order, plus what the pod decides. The one-time
     * password comes from the Secret through a secretKeyRef: never a value in the pod spec, which
     * anyone who may read pods can see.
     */
    static List<EnvVar> environment(LaunchSpec spec, int managementPort, String podName) {
        Map<String, String> values = new TreeMap<>(spec.environment());
        values.remove(MemberEnvironment.OTP);
        values.put(MemberEnvironment.MANAGEMENT_PORT, Integer.toString(managementPort));
        values.put(MemberEnvironment.DATA_DIR, DATA_DIR);
        values.put("SPRING_PROFILES_ACTIVE", MemberEnvironment.MEMBER_PROFILE);
        // A member needs neither discovery nor ConfigMaps, and has no API token to use them with.
        values.put("SPRING_MAIN_CLOUD_PLATFORM", "none");
        List<EnvVar> env = new ArrayList<>();
        values.forEach((name, value) -> env.add(new EnvVar(name, value, null)));
        env.add(new EnvVarBuilder()
                .withName(MemberEnvironment.OTP)
                .withNewValueFrom()
                    .withNewSecretKeyRef().withName(secretName(podName)).withKey(OTP_KEY).withOptional(false).endSecretKeyRef()
                .endValueFrom()
                .build());
        return env;
    }
}
