package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/** The spawner's part of the chart: Deployment, Service, ServiceAccount, Role, RoleBinding and its ConfigMap. */
class SpawnerChartTest {

    private static final String SPAWNER = RenderedChart.RELEASE + "-spawner";
    private static final Map<String, Object> ENABLED = Map.of("spawner.enabled", true);

    // --- on and off ---

    @Test
    void disabledSpawnerRendersNothing() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.enabled", false));

        assertThat(spawnerObjects(chart)).isEmpty();
        assertThat(chart.all(Role.class)).isEmpty();
        assertThat(chart.all(RoleBinding.class)).isEmpty();
        assertThat(chart.all(ServiceAccount.class)).isEmpty();
        assertThat(chart.find(Deployment.class, SPAWNER)).isEmpty();
    }

    @Test
    void enabledSpawnerRendersItsObjectsInTheReleaseNamespace() {
        RenderedChart chart = RenderedChart.render(ENABLED);

        assertThat(chart.get(Deployment.class, SPAWNER).getSpec().getReplicas()).isEqualTo(1);
        assertThat(chart.get(Deployment.class, SPAWNER).getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(List.<HasMetadata>of(chart.get(Deployment.class, SPAWNER), chart.get(Service.class, SPAWNER),
                chart.get(Role.class, SPAWNER), chart.get(RoleBinding.class, SPAWNER),
                chart.get(ConfigMap.class, SPAWNER + "-config"), chart.get(ServiceAccount.class, RenderedChart.RELEASE)))
                .allSatisfy(object -> assertThat(object.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE));
    }

    // --- RBAC ---

    @Test
    void roleGrantsOnlyTheResourcesAndVerbsTheSpawnerUsesInItsNamespace() {
        RenderedChart chart = RenderedChart.render(ENABLED);
        Role role = chart.get(Role.class, SPAWNER);

        assertThat(chart.all(ClusterRole.class)).as("nothing beyond the release namespace").isEmpty();
        assertThat(chart.all(ClusterRoleBinding.class)).isEmpty();
        assertThat(grants(role.getRules())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "pods", List.of("create", "delete", "get", "list", "watch"),
                "pods/log", List.of("get"),
                "secrets", List.of("create", "delete"),
                "persistentvolumeclaims", List.of("create", "delete", "get"),
                "services", List.of("get", "list", "watch"),
                "endpoints", List.of("get", "list", "watch"),
                "configmaps", List.of("get", "list", "watch")));
        assertThat(role.getRules()).allSatisfy(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("");
            assertThat(rule.getResourceNames()).isNullOrEmpty();
            assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
            assertThat(rule.getVerbs()).doesNotContain("*", "update", "patch", "escalate", "bind", "impersonate");
            assertThat(rule.getResources()).doesNotContain("*");
        });
    }

    @Test
    void withoutPersistentMemberDataTheRoleGrantsNothingOnClaims() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.enabled", true, "spawner.members.persistentData", false));

        assertThat(grants(chart.get(Role.class, SPAWNER).getRules())).doesNotContainKey("persistentvolumeclaims")
                .containsKeys("pods", "secrets");
        assertThat(kubernetesSettings(chart)).containsEntry("persistent-data", false);
    }

    @Test
    void roleIsBoundToTheServiceAccountThePodRunsAs() {
        RenderedChart chart = RenderedChart.render(ENABLED);
        RoleBinding binding = chart.get(RoleBinding.class, SPAWNER);
        PodSpec pod = pod(chart);

        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo(SPAWNER);
        assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
            assertThat(subject.getKind()).isEqualTo("ServiceAccount");
            assertThat(subject.getName()).isEqualTo(pod.getServiceAccountName());
            assertThat(subject.getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
        });
        assertThat(pod.getServiceAccountName()).isEqualTo(RenderedChart.RELEASE);
        assertThat(pod.getAutomountServiceAccountToken()).isTrue();
        assertThat(chart.get(ServiceAccount.class, RenderedChart.RELEASE).getAutomountServiceAccountToken())
                .as("no token for pods that do not ask").isFalse();
    }

    @Test
    void serviceAccountIsLabelledAsThePartOfTheSpawnerItIs() {
        RenderedChart chart = RenderedChart.render(ENABLED);

        // The same labels as its Role and RoleBinding: `-l app.kubernetes.io/component=spawner` lists all three.
        assertThat(chart.get(ServiceAccount.class, RenderedChart.RELEASE).getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/component", "spawner")
                .isEqualTo(chart.get(Role.class, SPAWNER).getMetadata().getLabels())
                .isEqualTo(chart.get(RoleBinding.class, SPAWNER).getMetadata().getLabels());
    }

    @Test
    void existingServiceAccountIsUsedWhenTheChartCreatesNone() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.enabled", true,
                "serviceAccount.create", false, "serviceAccount.name", "platform-spawner"));

        assertThat(chart.all(ServiceAccount.class)).isEmpty();
        assertThat(pod(chart).getServiceAccountName()).isEqualTo("platform-spawner");
        assertThat(chart.get(RoleBinding.class, SPAWNER).getSubjects().getFirst().getName()).isEqualTo("platform-spawner");
    }

    // --- the pod ---

    @Test
    void fabricKeysAreMountedReadOnlyFromTheSecret() {
        PodSpec pod = pod(RenderedChart.render(Map.of("spawner.enabled", true, "keys.secretName", "prod-fabric-keys")));
        Volume keys = volume(pod, "keys");

        assertThat(keys.getSecret().getSecretName()).isEqualTo("prod-fabric-keys");
        assertThat(keys.getSecret().getDefaultMode()).isEqualTo(0400);
        assertThat(keys.getSecret().getItems()).extracting("key").containsExactlyInAnyOrder("fabric.key", "fabric.pub");
        VolumeMount mount = mount(spawner(pod), "keys");
        assertThat(mount.getMountPath()).isEqualTo("/etc/fabric/keys");
        assertThat(mount.getReadOnly()).isTrue();
        assertThat(env(spawner(pod))).containsEntry("FABRIC_KEYS_PATH", "/etc/fabric/keys");
    }

    @Test
    void podKnowsItsNameNamespaceAndIpFromTheDownwardApi() {
        Container container = spawner(pod(RenderedChart.render(ENABLED)));

        assertThat(fieldRef(container, "FABRIC_POD_NAME")).isEqualTo("metadata.name");
        assertThat(fieldRef(container, "FABRIC_POD_NAMESPACE")).isEqualTo("metadata.namespace");
        assertThat(fieldRef(container, "FABRIC_POD_IP")).isEqualTo("status.podIP");
        assertThat(env(container)).as("an id that outlives the pod").containsEntry("FABRIC_SPAWNER_ID", SPAWNER);
        assertThat(env(container))
                .containsEntry("FABRIC_SPAWNER_ADVERTISED_URL", "http://$(FABRIC_POD_IP):8472")
                .containsEntry("FABRIC_SPAWNER_LAUNCHER", "kubernetes")
                .containsEntry("FABRIC_SPAWNER_PORT", "8472");
        // $(FABRIC_POD_IP) expands only from variables defined before it.
        List<String> names = container.getEnv().stream().map(EnvVar::getName).toList();
        assertThat(names.indexOf("FABRIC_POD_IP")).isLessThan(names.indexOf("FABRIC_SPAWNER_ADVERTISED_URL"));
    }

    @Test
    void podRunsNonRootWithLeastPrivilege() {
        PodSpec pod = pod(RenderedChart.render(ENABLED));

        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        var container = spawner(pod).getSecurityContext();
        assertThat(container.getRunAsNonRoot()).isTrue();
        assertThat(container.getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(mount(spawner(pod), "tmp").getMountPath()).isEqualTo("/tmp");
        assertThat(mount(spawner(pod), "data").getMountPath()).isEqualTo("/var/lib/fabric");
        // Else Kubernetes sets FABRIC_SPAWNER_PORT=tcp://... for the Service fabric-spawner, Spring's server port.
        assertThat(pod.getEnableServiceLinks()).isFalse();
    }

    @Test
    void probesAskTheActuatorHealthGroupsOnPort8472() {
        Container container = spawner(pod(RenderedChart.render(ENABLED)));

        assertThat(container.getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("http");
            assertThat(port.getContainerPort()).isEqualTo(8472);
        });
        assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
        assertThat(container.getReadinessProbe().getHttpGet().getPort()).isEqualTo(new IntOrString("http"));
    }

    @Test
    void registryIsTheChartsOwnServiceOrTheGivenUrlOrDiscovery() {
        assertThat(env(spawner(pod(RenderedChart.render(ENABLED)))))
                .containsEntry("FABRIC_REGISTRY_URL", "http://fabric-registry:8470");
        assertThat(env(spawner(pod(RenderedChart.render(Map.of("spawner.enabled", true,
                "spawner.registryUrl", "http://registry.shared.svc:8470"))))))
                .containsEntry("FABRIC_REGISTRY_URL", "http://registry.shared.svc:8470");
        RenderedChart discovery = RenderedChart.render(Map.of("spawner.enabled", true, "registry.enabled", false,
                "spawner.registryService", "shared-registry"));
        assertThat(env(spawner(pod(discovery)))).doesNotContainKey("FABRIC_REGISTRY_URL");
        assertThat(kubernetesSettings(discovery)).containsEntry("registry-service", "shared-registry");
    }

    // --- settings: the ConfigMap read through Spring Cloud Kubernetes ---

    @Test
    void settingsComeFromTheSpawnerConfigMapThroughSpringCloudKubernetes() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.enabled", true,
                "spawner.settings.bootstrapTimeout", "5m",
                "spawner.members.serviceAccount", "fabric-member",
                "global.imagePullSecrets[0].name", "regcred"));
        Map<String, String> env = env(spawner(pod(chart)));

        assertThat(env).containsEntry("SPRING_CONFIG_IMPORT", "kubernetes:")
                .containsEntry("SPRING_CLOUD_KUBERNETES_CONFIG_SOURCES_0_NAME", SPAWNER + "-config")
                .containsEntry("SPRING_CLOUD_KUBERNETES_CONFIG_NAMESPACE", RenderedChart.NAMESPACE)
                .containsEntry("SPRING_CLOUD_KUBERNETES_CONFIG_FAIL_FAST", "true");
        Map<String, Object> settings = spawnerSettings(chart);
        assertThat(settings).containsEntry("bootstrap-timeout", "5m").containsEntry("otp-ttl", "180s")
                .containsEntry("roles", List.of("queue", "bridge", "pubsub", "agent", "pilot-manager"));
        assertThat(kubernetesSettings(chart))
                .containsEntry("image", "fabric/spawner-service:0.1.0-SNAPSHOT")
                .containsEntry("image-pull-policy", "IfNotPresent")
                .containsEntry("image-pull-secrets", List.of("regcred"))
                .containsEntry("service-account", "fabric-member")
                .containsEntry("management-port", 8472);
    }

    @Test
    void membersKeepTheirDataInClaimsOwnedByTheSpawnerConfigMap() {
        RenderedChart defaults = RenderedChart.render(ENABLED);
        RenderedChart sized = RenderedChart.render(Map.of("spawner.enabled", true,
                "spawner.members.dataSize", "20Gi", "spawner.members.dataStorageClass", "fast-ssd"));

        assertThat(kubernetesSettings(defaults))
                .containsEntry("persistent-data", true)
                .containsEntry("data-size", "1Gi")
                .containsEntry("data-storage-class", "")
                // Outlives spawner pods (a replaced spawner restarts its members, which need their data), goes with the release.
                .containsEntry("data-owner", SPAWNER + "-config");
        assertThat(defaults.find(ConfigMap.class, SPAWNER + "-config")).as("the owner is rendered by the chart").isPresent();
        assertThat(kubernetesSettings(sized)).containsEntry("data-size", "20Gi").containsEntry("data-storage-class", "fast-ssd");
    }

    @Test
    void badDataSizeOrStorageClassIsRefused() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("spawner.enabled", true, "spawner.members.dataSize", "1GB")))
                .hasMessageContaining("spawner.members.dataSize must be a storage size in Mi, Gi or Ti");
        assertThatThrownBy(() -> RenderedChart.render(Map.of("spawner.enabled", true, "spawner.members.dataStorageClass", "Fast SSD")))
                .hasMessageContaining("spawner.members.dataStorageClass must be empty or a StorageClass name");
    }

    @Test
    void membersRunTheSpawnersImageUnlessToldOtherwise() {
        RenderedChart tagged = RenderedChart.render(Map.of("spawner.enabled", true,
                "global.image.registry", "ghcr.io/acme", "spawner.image.tag", "1.2.3"));
        RenderedChart other = RenderedChart.render(Map.of("spawner.enabled", true, "spawner.members.image", "ghcr.io/acme/member:2"));

        assertThat(spawner(pod(tagged)).getImage()).isEqualTo("ghcr.io/acme/fabric/spawner-service:1.2.3");
        assertThat(kubernetesSettings(tagged).get("image")).isEqualTo("ghcr.io/acme/fabric/spawner-service:1.2.3");
        assertThat(kubernetesSettings(other).get("image")).isEqualTo("ghcr.io/acme/member:2");
    }

    @Test
    void changedSettingsRollThePod() {
        String before = podAnnotations(RenderedChart.render(ENABLED)).get("checksum/spawner-config");
        String after = podAnnotations(RenderedChart.render(Map.of("spawner.enabled", true, "spawner.settings.maxRestarts", 9)))
                .get("checksum/spawner-config");

        assertThat(before).isNotBlank().isNotEqualTo(after);
    }

    @Test
    void theNamespacesDefaultServiceAccountNeverGetsTheSpawnersRole() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("spawner.enabled", true, "serviceAccount.create", false)))
                .hasMessageContaining("serviceAccount.create=false needs serviceAccount.name with the spawner");
    }

    @Test
    void durationWithoutAUnitIsRefused() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("spawner.enabled", true, "spawner.settings.otpTtl", "60")))
                .hasMessageContaining("at '/spawner/settings/otpTtl': got number, want string");
    }

    // --- NOTES.txt ---

    @Test
    void notesSayWhereTheSpawnerIsWhatItCreatesAndHowToSpawnThroughIt() {
        String notes = RenderedChart.notes(ENABLED);

        assertThat(notes)
                .contains("The spawner: fabric-spawner.fabric-system.svc:8472")
                .contains("creates the members' pods, their data claims (PVCs) and their one-time password Secrets")
                .contains("as the ServiceAccount \"fabric\" bound to the Role fabric-spawner")
                .contains("kubectl --namespace fabric-system rollout status deployment/fabric-spawner")
                .contains("kubectl --namespace fabric-system port-forward service/fabric-spawner 8472:8472")
                .contains("fabric --keys k spawn queue --spawner http://localhost:8472 --wait")
                .contains("--wait follows the registry, forwarded above");
        assertThat(RenderedChart.notes(Map.of("spawner.members.persistentData", false, "spawner.service.port", 9472,
                "registry.enabled", false)))
                .contains("The spawner: fabric-spawner.fabric-system.svc:9472")
                .contains("creates the members' pods and their one-time password Secrets")
                .contains("port-forward service/fabric-spawner 8472:9472")
                .contains("--wait follows the registry: add --registry URL")
                .as("without the chart's registry, the keys Secret is the spawner's to need")
                .contains("It mounts the fabric keys from the Secret \"fabric-keys\"",
                        "create secret generic fabric-keys \\\n    --from-file=fabric.key=k/fabric.key --from-file=fabric.pub=k/fabric.pub");
        assertThat(notes).as("the registry's section says it once").containsOnlyOnce("create secret generic fabric-keys");
        assertThat(RenderedChart.notes(Map.of("spawner.enabled", false))).doesNotContain("The spawner").doesNotContain("fabric spawn");
    }

    // --- Service, labels, model ---

    @Test
    void serviceExposesPort8472ToTheSpawnerPod() {
        RenderedChart chart = RenderedChart.render(ENABLED);
        Service service = chart.get(Service.class, SPAWNER);

        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getPort()).isEqualTo(8472);
            assertThat(port.getTargetPort()).isEqualTo(new IntOrString("http"));
        });
        assertThat(service.getSpec().getSelector())
                .isEqualTo(chart.get(Deployment.class, SPAWNER).getSpec().getSelector().getMatchLabels())
                .containsEntry("app.kubernetes.io/component", "spawner");
    }

    @Test
    void commonLabelsAndAnnotationsReachEverySpawnerObject() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.enabled", true,
                "commonLabels.team", "platform", "commonAnnotations.owner", "fabric-ops"));

        assertThat(chart.objects()).isNotEmpty().allSatisfy(object -> {
            assertThat(object.getMetadata().getLabels()).containsEntry("team", "platform");
            assertThat(object.getMetadata().getAnnotations()).containsEntry("owner", "fabric-ops");
        });
    }

    @Test
    void everyRenderedFieldIsKnownToTheKubernetesModel() {
        Map<String, Object> values = new HashMap<>(Map.of(
                "spawner.enabled", true,
                "spawner.extraEnv[0].name", "JAVA_TOOL_OPTIONS",
                "spawner.extraEnv[0].value", "-Xss512k",
                "spawner.nodeSelector.disktype", "ssd",
                "spawner.tolerations[0].key", "dedicated",
                "spawner.tolerations[0].operator", "Exists",
                "spawner.podAnnotations.team", "platform",
                "spawner.podLabels.tier", "control",
                "spawner.service.annotations.owner", "fabric-ops",
                "global.imagePullSecrets[0].name", "regcred"));
        values.put("serviceAccount.annotations.role", "spawner");
        RenderedChart chart = RenderedChart.render(values);

        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
    }

    // --- helpers ---

    private static List<HasMetadata> spawnerObjects(RenderedChart chart) {
        return chart.objects().stream()
                .filter(object -> "spawner".equals(object.getMetadata().getLabels().get("app.kubernetes.io/component")))
                .toList();
    }

    /** Resource to sorted verbs, over every rule (a resource named in two rules would show its verbs merged). */
    private static Map<String, List<String>> grants(List<PolicyRule> rules) {
        Map<String, List<String>> grants = new LinkedHashMap<>();
        for (PolicyRule rule : rules) {
            for (String resource : rule.getResources()) {
                grants.merge(resource, rule.getVerbs().stream().sorted().toList(),
                        (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).sorted().toList());
            }
        }
        return grants;
    }

    private static PodSpec pod(RenderedChart chart) {
        return chart.get(Deployment.class, SPAWNER).getSpec().getTemplate().getSpec();
    }

    private static Map<String, String> podAnnotations(RenderedChart chart) {
        return chart.get(Deployment.class, SPAWNER).getSpec().getTemplate().getMetadata().getAnnotations();
    }

    private static Container spawner(PodSpec pod) {
        assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("spawner");
        return pod.getContainers().getFirst();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spawnerSettings(RenderedChart chart) {
        ConfigMap config = chart.get(ConfigMap.class, SPAWNER + "-config");
        assertThat(config.getData()).containsOnlyKeys("application.yaml");
        Map<String, Object> application = new KubernetesSerialization().unmarshal(config.getData().get("application.yaml"), Map.class);
        return (Map<String, Object>) ((Map<String, Object>) application.get("fabric")).get("spawner");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> kubernetesSettings(RenderedChart chart) {
        return (Map<String, Object>) spawnerSettings(chart).get("kubernetes");
    }

    /** The container's plain env values by name (valueFrom entries map to null). */
    @Test
    void spawnerAcceptsSignaturesForItsServiceNames() {
        Container container = spawner(pod(RenderedChart.render(ENABLED)));
        assertThat(env(container).get("FABRIC_SECURITY_SIGNATURE_AUTHORITIES").split(","))
                .contains(SPAWNER + ":8472", SPAWNER + "." + RenderedChart.NAMESPACE + ".svc.cluster.local:8472", "localhost:*");
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> values = new LinkedHashMap<>();
        container.getEnv().forEach(variable -> values.put(variable.getName(), variable.getValue()));
        return values;
    }

    private static String fieldRef(Container container, String name) {
        EnvVar variable = container.getEnv().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + container.getEnv()));
        assertThat(variable.getValue()).isNull();
        return variable.getValueFrom().getFieldRef().getFieldPath();
    }

    private static VolumeMount mount(Container container, String volume) {
        return container.getVolumeMounts().stream().filter(mount -> mount.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of volume " + volume + " in " + container.getVolumeMounts()));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(volume -> volume.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name + " in " + pod.getVolumes()));
    }
}
