package dev.fabric.spawner.kubernetes;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;
import java.util.List;

/**
 * Settings of the {@code kubernetes} launcher ({@code fabric.spawner.kubernetes.*}). They are bound
 * whatever the launcher, so nothing here is required up front: {@link KubernetesConfiguration}
 * checks what the kubernetes launcher needs when it is the one chosen.
 *
 * @param namespace where member pods and their Secrets go; empty: the spawner pod's own namespace
 *                  ({@code FABRIC_POD_NAMESPACE}, else the client's namespace: the service account's)
 * @param image the member image; the spawner's own image, since the same jar runs members
 *              (required with {@code fabric.spawner.launcher=kubernetes})
 * @param imagePullPolicy {@code Always}, {@code IfNotPresent} or {@code Never}
 * @param imagePullSecrets Secrets (in {@code namespace}) the member pods pull their image with
 * @param serviceAccount the ServiceAccount member pods run as; empty: the namespace's default.
 *                       Members get no API token either way: they never call the Kubernetes API
 * @param podName the spawner's own pod, owner of every member pod so deleting the spawner
 *                garbage-collects its members; empty: {@code FABRIC_POD_NAME} (the downward API),
 *                and without that no owner reference (a spawner running outside the cluster)
 * @param managementPort the port a member's management API listens on inside its pod
 * @param registryService the registry's Service name, found through discovery when
 *                        {@code fabric.spawner.registry-url} is not set
 * @param stopTimeout how long {@code stop} waits, beyond the grace period, for a deleted pod to be gone
 * @param persistentData whether each member keeps its data directory in a PersistentVolumeClaim
 *                       {@code fabric-<id>-data} that outlives its pods (default); false: an
 *                       {@code emptyDir} per pod, so a member restarted under its id finds no state
 *                       and ends LOST
 * @param dataSize the size a member's claim asks for ({@code Mi}, {@code Gi} or {@code Ti})
 * @param dataStorageClass the claims' StorageClass; empty: the cluster's default class
 * @param dataOwner a ConfigMap that owns the members' claims, so deleting it (uninstalling the
 *                  chart) garbage-collects them; it must outlive spawner pods, which are replaced
 *                  while their members' data must stay (the chart names its spawner ConfigMap).
 *                  Used, like the spawner pod as owner, only when members go to the spawner's own
 *                  namespace. Empty: the claims have no owner and stay until their member is
 *                  stopped or lost, or they are deleted by hand
 */
@ConfigurationProperties("fabric.spawner.kubernetes")
@Validated
public record KubernetesLauncherProperties(
        @NotNull @DefaultValue("") String namespace,
        @NotNull @DefaultValue("") String image,
        @NotNull @Pattern(regexp = "Always|IfNotPresent|Never", message = "must be Always, IfNotPresent or Never")
        @DefaultValue("IfNotPresent") String imagePullPolicy,
        @NotNull @DefaultValue List<String> imagePullSecrets,
        @NotNull @DefaultValue("") String serviceAccount,
        @NotNull @DefaultValue("") String podName,
        @Min(1) @Max(65535) @DefaultValue("8472") int managementPort,
        @NotNull @DefaultValue("fabric-registry") String registryService,
        @NotNull @DefaultValue("30s") Duration stopTimeout,
        @DefaultValue("true") boolean persistentData,
        @NotNull @Pattern(regexp = "[1-9][0-9]{0,5}(Mi|Gi|Ti)", message = "must be a storage size in Mi, Gi or Ti, like 1Gi")
        @DefaultValue("1Gi") String dataSize,
        @NotNull @Pattern(regexp = DNS_NAME, message = "must be empty (the cluster's default) or a StorageClass name")
        @DefaultValue("") String dataStorageClass,
        @NotNull @Pattern(regexp = DNS_NAME, message = "must be empty or the name of a ConfigMap")
        @DefaultValue("") String dataOwner) {

    /** Empty, or a Kubernetes object name (a DNS subdomain). */
    static final String DNS_NAME = "|(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
}
