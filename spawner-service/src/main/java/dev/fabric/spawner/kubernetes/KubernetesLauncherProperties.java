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
        @NotNull @DefaultValue("30s") Duration stopTimeout) {}
