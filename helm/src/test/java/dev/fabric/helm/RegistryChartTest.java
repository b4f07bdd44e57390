package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/** The registry's part of the chart: StatefulSet with H2 by default, Deployment with PostgreSQL, Service, PDB. */
class RegistryChartTest {

    private static final String REGISTRY = RenderedChart.RELEASE + "-registry";

    /** The values that switch the registry to PostgreSQL. */
    private static final Map<String, Object> POSTGRESQL = Map.of(
            "registry.postgresql.url", "jdbc:postgresql://postgres.db.svc:5432/fabric",
            "registry.postgresql.username", "registry",
            "registry.postgresql.existingSecret", "fabric-registry-db",
            "registry.postgresql.passwordKey", "db-password",
            "registry.replicas", 3);

    // --- the default: embedded H2 in a StatefulSet ---

    @Test
    void defaultIsAOneReplicaStatefulSetWithAVolumeForH2() {
        RenderedChart chart = RenderedChart.render();
        StatefulSet registry = chart.get(StatefulSet.class, REGISTRY);

        assertThat(registry.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
        assertThat(registry.getSpec().getReplicas()).isEqualTo(1);
        assertThat(registry.getSpec().getServiceName()).isEqualTo(REGISTRY + "-headless");
        assertThat(chart.all(Deployment.class)).as("the registry is no Deployment")
                .noneMatch(d -> d.getMetadata().getName().startsWith(REGISTRY));

        assertThat(registry.getSpec().getVolumeClaimTemplates()).singleElement().satisfies(claim -> {
            assertThat(claim.getMetadata().getName()).isEqualTo("data");
            assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
            assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("1Gi"));
            assertThat(claim.getSpec().getStorageClassName()).as("the cluster's default class").isNull();
            // Claim templates are immutable: a label that changes with the chart version would break upgrades.
            assertThat(claim.getMetadata().getLabels()).doesNotContainKeys("helm.sh/chart", "app.kubernetes.io/version");
        });
        Container container = registryContainer(registry.getSpec().getTemplate());
        assertThat(mount(container, "data").getMountPath()).isEqualTo("/var/lib/fabric");
        assertThat(mount(container, "data").getReadOnly()).isNotEqualTo(Boolean.TRUE);
        assertThat(env(container)).containsEntry("FABRIC_DATA_DIR", "/var/lib/fabric")
                .doesNotContainKeys("SPRING_DATASOURCE_URL", "SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD");
    }

    @Test
    void persistenceValuesShapeTheClaim() {
        PersistentVolumeClaim named = claim(RenderedChart.render(Map.of(
                "registry.persistence.size", "5Gi", "registry.persistence.storageClass", "fast-ssd")));
        PersistentVolumeClaim unprovisioned = claim(RenderedChart.render(Map.of("registry.persistence.storageClass", "-")));

        assertThat(named.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("5Gi"));
        assertThat(named.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
        assertThat(unprovisioned.getSpec().getStorageClassName()).as("\"-\" means no dynamic provisioning").isEmpty();
    }

    @Test
    void severalReplicasWithoutPostgresqlFailTheRender() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("registry.replicas", 2)))
                .hasMessageContaining("registry.replicas is 2, but without registry.postgresql.url the registry keeps "
                        + "its data in an embedded H2 database that only one replica can own");
    }

    // --- PostgreSQL: a Deployment ---

    @Test
    void postgresqlMakesADeploymentOfTheRequestedReplicasWithoutAVolume() {
        RenderedChart chart = RenderedChart.render(POSTGRESQL);
        Deployment registry = chart.get(Deployment.class, REGISTRY);

        assertThat(registry.getSpec().getReplicas()).isEqualTo(3);
        assertThat(chart.all(StatefulSet.class)).isEmpty();
        assertThat(chart.all(PersistentVolumeClaim.class)).isEmpty();
        assertThat(chart.find(Service.class, REGISTRY + "-headless")).isEmpty();
        Container container = registryContainer(registry.getSpec().getTemplate());
        assertThat(container.getVolumeMounts()).extracting(VolumeMount::getMountPath).doesNotContain("/var/lib/fabric");
        assertThat(env(container))
                .containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://postgres.db.svc:5432/fabric")
                .containsEntry("SPRING_DATASOURCE_USERNAME", "registry")
                .doesNotContainKey("FABRIC_DATA_DIR");
    }

    @Test
    void databasePasswordComesFromTheSecretNeverAsAValue() {
        Container container = registryContainer(RenderedChart.render(POSTGRESQL).get(Deployment.class, REGISTRY)
                .getSpec().getTemplate());

        EnvVar password = container.getEnv().stream()
                .filter(variable -> variable.getName().equals("SPRING_DATASOURCE_PASSWORD")).findFirst().orElseThrow();
        assertThat(password.getValue()).isNull();
        assertThat(password.getValueFrom().getSecretKeyRef().getName()).isEqualTo("fabric-registry-db");
        assertThat(password.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("db-password");
    }

    @Test
    void noRenderingCarriesALiteralPassword() {
        for (RenderedChart chart : List.of(RenderedChart.render(), RenderedChart.render(POSTGRESQL))) {
            List<EnvVar> env = chart.objects().stream().flatMap(RegistryChartTest::containers)
                    .flatMap(container -> container.getEnv().stream()).toList();
            assertThat(env).isNotEmpty()
                    .filteredOn(variable -> variable.getName().toUpperCase().contains("PASSWORD"))
                    .allSatisfy(variable -> {
                        assertThat(variable.getValue()).as(variable.getName()).isNull();
                        assertThat(variable.getValueFrom().getSecretKeyRef()).as(variable.getName()).isNotNull();
                    });
        }
        // Nor can a user put one in: the chart has no such value and says where the password goes instead.
        assertThatThrownBy(() -> RenderedChart.render(Map.of("registry.postgresql.password", "hunter2")))
                .hasMessageContaining("a password never goes into a pod spec")
                .hasMessageContaining("registry.postgresql.existingSecret")
                .hasMessageNotContaining("hunter2");
    }

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                Arguments.of(Map.of("registry.postgresql.url", "jdbc:postgresql://db/fabric"),
                        "registry.postgresql.existingSecret is required with registry.postgresql.url"),
                Arguments.of(Map.of("registry.postgresql.url", "postgres://db/fabric", "registry.postgresql.existingSecret", "db"),
                        "registry.postgresql.url must be a JDBC URL such as jdbc:postgresql://"),
                Arguments.of(Map.of("registry.heartbeat.interval", "2"),
                        "at '/registry/heartbeat/interval': got number, want string"),
                Arguments.of(Map.of("registry.heartbeat.suspectAfter", 6),
                        "registry.heartbeat needs 1 <= suspectAfter <= deadAfter, was suspectAfter=6 deadAfter=5"),
                Arguments.of(Map.of("keys.secretName", ""),
                        "keys.secretName is required"));
    }

    @ParameterizedTest
    @MethodSource("refusedValues")
    void valuesThatCannotWorkFailTheRenderSayingWhy(Map<String, Object> values, String message) {
        assertThatThrownBy(() -> RenderedChart.render(values)).hasMessageContaining(message);
    }

    // --- what both shapes share: the pod ---

    static Stream<Arguments> bothShapes() {
        return Stream.of(
                Arguments.of("H2", RenderedChart.render().get(StatefulSet.class, REGISTRY).getSpec().getTemplate()),
                Arguments.of("PostgreSQL", RenderedChart.render(POSTGRESQL).get(Deployment.class, REGISTRY).getSpec().getTemplate()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void probesAskTheActuatorHealthGroupsOnPort8470(String shape, PodTemplateSpec pod) {
        Container container = registryContainer(pod);

        assertThat(container.getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("http");
            assertThat(port.getContainerPort()).isEqualTo(8470);
        });
        assertHttpProbe(container.getStartupProbe(), "/actuator/health/liveness");
        assertHttpProbe(container.getLivenessProbe(), "/actuator/health/liveness");
        assertHttpProbe(container.getReadinessProbe(), "/actuator/health/readiness");
        assertThat(container.getStartupProbe().getFailureThreshold() * container.getStartupProbe().getPeriodSeconds())
                .as("seconds the registry gets to start").isGreaterThanOrEqualTo(120);
        assertThat(env(container)).containsEntry("FABRIC_REGISTRY_PORT", "8470");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void fabricKeysSecretIsMountedReadOnlyForTheOwner(String shape, PodTemplateSpec pod) {
        Volume keys = volume(pod.getSpec(), "keys");

        assertThat(keys.getSecret().getSecretName()).isEqualTo("fabric-keys");
        assertThat(keys.getSecret().getDefaultMode()).isEqualTo(0400);
        assertThat(keys.getSecret().getItems()).extracting("key").containsExactlyInAnyOrder("fabric.key", "fabric.pub");
        VolumeMount mount = mount(registryContainer(pod), "keys");
        assertThat(mount.getMountPath()).isEqualTo("/etc/fabric/keys");
        assertThat(mount.getReadOnly()).isTrue();
        assertThat(env(registryContainer(pod))).containsEntry("FABRIC_KEYS_PATH", "/etc/fabric/keys");
    }

    @Test
    void keysSecretNameIsAValue() {
        PodSpec pod = RenderedChart.render(Map.of("keys.secretName", "prod-fabric-keys"))
                .get(StatefulSet.class, REGISTRY).getSpec().getTemplate().getSpec();

        assertThat(volume(pod, "keys").getSecret().getSecretName()).isEqualTo("prod-fabric-keys");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void fabricConfigMapIsMountedAndReadBySpring(String shape, PodTemplateSpec pod) {
        assertThat(volume(pod.getSpec(), "config").getConfigMap().getName()).isEqualTo(RenderedChart.RELEASE + "-config");
        VolumeMount mount = mount(registryContainer(pod), "config");
        assertThat(mount.getMountPath()).isEqualTo("/etc/fabric/config");
        assertThat(mount.getReadOnly()).isTrue();
        assertThat(env(registryContainer(pod))).containsEntry("SPRING_CONFIG_ADDITIONAL_LOCATION", "file:/etc/fabric/config/");
    }

    @Test
    void changedFabricSettingsRollThePods() {
        String before = podAnnotations(RenderedChart.render()).get("checksum/config");
        String after = podAnnotations(RenderedChart.render(Map.of("fabric.security.signature.skew", "45s"))).get("checksum/config");

        assertThat(before).isNotBlank().isNotEqualTo(after);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void podRunsWithLeastPrivilege(String shape, PodTemplateSpec pod) {
        PodSpec spec = pod.getSpec();
        PodSecurityContext podContext = spec.getSecurityContext();
        assertThat(podContext.getRunAsNonRoot()).isTrue();
        assertThat(podContext.getRunAsUser()).isEqualTo(10001L);
        assertThat(podContext.getRunAsGroup()).isEqualTo(10001L);
        assertThat(podContext.getFsGroup()).isEqualTo(10001L);
        assertThat(podContext.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");

        SecurityContext container = registryContainer(pod).getSecurityContext();
        assertThat(container.getRunAsNonRoot()).isTrue();
        assertThat(container.getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(container.getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(container.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");

        assertThat(mount(registryContainer(pod), "tmp").getMountPath()).isEqualTo("/tmp");
        assertThat(volume(spec, "tmp").getEmptyDir()).isNotNull();
        assertThat(spec.getAutomountServiceAccountToken()).isFalse();
        assertThat(spec.getServiceAccountName()).as("not the spawner's ServiceAccount").isNull();
        // Else Kubernetes sets FABRIC_REGISTRY_PORT=tcp://... for the Service fabric-registry, Spring's server port.
        assertThat(spec.getEnableServiceLinks()).isFalse();
    }

    @Test
    void registrySecurityContextReplacesKeysOfTheGlobalOneEvenWithFalse() {
        PodTemplateSpec pod = RenderedChart.render(Map.of(
                        "registry.securityContext.readOnlyRootFilesystem", false,
                        "registry.podSecurityContext.runAsUser", 20002))
                .get(StatefulSet.class, REGISTRY).getSpec().getTemplate();

        assertThat(registryContainer(pod).getSecurityContext().getReadOnlyRootFilesystem()).isFalse();
        assertThat(registryContainer(pod).getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(pod.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(20002L);
        assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void containerHasResourceRequestsAndLimits(String shape, PodTemplateSpec pod) {
        var resources = registryContainer(pod).getResources();

        assertThat(resources.getRequests()).containsEntry("cpu", new Quantity("500m")).containsEntry("memory", new Quantity("384Mi"));
        assertThat(resources.getLimits()).containsEntry("cpu", new Quantity("2")).containsEntry("memory", new Quantity("384Mi"));
    }

    @Test
    void registryAcceptsSignaturesForItsServiceNamesAndPortForwards() {
        Map<String, String> env = env(registryContainer(RenderedChart.render().get(StatefulSet.class, REGISTRY).getSpec().getTemplate()));
        String ns = RenderedChart.NAMESPACE;
        assertThat(env.get("FABRIC_SECURITY_SIGNATURE_AUTHORITIES")).isEqualTo(String.join(",",
                REGISTRY + ":8470", REGISTRY + "." + ns + ":8470", REGISTRY + "." + ns + ".svc:8470",
                REGISTRY + "." + ns + ".svc.cluster.local:8470", "localhost:*", "127.0.0.1:*"));

        Map<String, String> tuned = env(registryContainer(RenderedChart.render(Map.of(
                        "registry.service.port", 80, "clusterDomain", "corp.example",
                        "fabric.security.signature.authorities[0]", "registry.corp.example:443"))
                .get(StatefulSet.class, REGISTRY).getSpec().getTemplate()));
        assertThat(tuned.get("FABRIC_SECURITY_SIGNATURE_AUTHORITIES").split(","))
                .contains(REGISTRY + ":80", REGISTRY + "." + ns + ".svc.corp.example:80", "registry.corp.example:443")
                .doesNotContain("localhost:*");
    }

    @Test
    void heartbeatSettingsReachTheEnvironmentInSpringsRelaxedForm() {
        Map<String, String> defaults = env(registryContainer(RenderedChart.render().get(StatefulSet.class, REGISTRY).getSpec().getTemplate()));
        Map<String, String> tuned = env(registryContainer(RenderedChart.render(Map.of(
                        "registry.heartbeat.interval", "500ms",
                        "registry.heartbeat.suspectAfter", 4,
                        "registry.heartbeat.deadAfter", 8))
                .get(StatefulSet.class, REGISTRY).getSpec().getTemplate()));

        assertThat(defaults).containsEntry("FABRIC_REGISTRY_HEARTBEAT_INTERVAL", "2s")
                .containsEntry("FABRIC_REGISTRY_HEARTBEAT_SUSPECTAFTER", "3")
                .containsEntry("FABRIC_REGISTRY_HEARTBEAT_DEADAFTER", "5");
        assertThat(tuned).containsEntry("FABRIC_REGISTRY_HEARTBEAT_INTERVAL", "500ms")
                .containsEntry("FABRIC_REGISTRY_HEARTBEAT_SUSPECTAFTER", "4")
                .containsEntry("FABRIC_REGISTRY_HEARTBEAT_DEADAFTER", "8");
    }

    @Test
    void extraEnvIsAddedAfterTheChartsOwn() {
        Container container = registryContainer(RenderedChart.render(Map.of(
                        "registry.extraEnv[0].name", "JAVA_TOOL_OPTIONS",
                        "registry.extraEnv[0].value", "-Xss512k"))
                .get(StatefulSet.class, REGISTRY).getSpec().getTemplate());

        assertThat(container.getEnv().getLast().getName()).isEqualTo("JAVA_TOOL_OPTIONS");
        assertThat(env(container)).containsEntry("JAVA_TOOL_OPTIONS", "-Xss512k");
    }

    @Test
    void imageComesFromTheRegistryAndGlobalImageValues() {
        assertThat(registryContainer(RenderedChart.render().get(StatefulSet.class, REGISTRY).getSpec().getTemplate()).getImage())
                .isEqualTo("fabric/registry-service:0.1.0-SNAPSHOT");
        assertThat(registryContainer(RenderedChart.render(Map.of("global.image.registry", "ghcr.io/acme", "registry.image.tag", "1.2.3"))
                        .get(StatefulSet.class, REGISTRY).getSpec().getTemplate()).getImage())
                .isEqualTo("ghcr.io/acme/fabric/registry-service:1.2.3");
    }

    @Test
    void podsAreAnnotatedForPrometheus() {
        assertThat(podAnnotations(RenderedChart.render())).containsAllEntriesOf(Map.of(
                "prometheus.io/scrape", "true",
                "prometheus.io/port", "8470",
                "prometheus.io/path", "/actuator/prometheus"));
        assertThat(podAnnotations(RenderedChart.render(Map.of("registry.metrics.scrapeAnnotations", false))))
                .doesNotContainKey("prometheus.io/scrape");
    }

    // --- Service, PodDisruptionBudget, labels ---

    @Test
    void serviceExposesPort8470NamedHttpToTheRegistryPods() {
        RenderedChart chart = RenderedChart.render();
        Service service = chart.get(Service.class, REGISTRY);
        StatefulSet registry = chart.get(StatefulSet.class, REGISTRY);

        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("http");
            assertThat(port.getPort()).isEqualTo(8470);
            assertThat(port.getTargetPort()).isEqualTo(new IntOrString("http"));
        });
        assertThat(service.getSpec().getSelector()).isEqualTo(registry.getSpec().getSelector().getMatchLabels());
        Service headless = chart.get(Service.class, REGISTRY + "-headless");
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(8470);
    }

    @Test
    void podDisruptionBudgetKeepsARegistryPodAvailable() {
        RenderedChart chart = RenderedChart.render(POSTGRESQL);
        PodDisruptionBudget budget = chart.get(PodDisruptionBudget.class, REGISTRY);

        assertThat(budget.getSpec().getMinAvailable()).isEqualTo(new IntOrString(1));
        assertThat(budget.getSpec().getUnhealthyPodEvictionPolicy()).isEqualTo("AlwaysAllow");
        assertThat(budget.getSpec().getSelector().getMatchLabels())
                .isEqualTo(chart.get(Deployment.class, REGISTRY).getSpec().getSelector().getMatchLabels());
        assertThat(RenderedChart.render(Map.of("registry.podDisruptionBudget.enabled", false)).all(PodDisruptionBudget.class)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bothShapes")
    void selectorsMatchThePodTemplate(String shape, PodTemplateSpec pod) {
        assertThat(pod.getMetadata().getLabels()).containsAllEntriesOf(Map.of(
                "app.kubernetes.io/name", "fabric",
                "app.kubernetes.io/instance", RenderedChart.RELEASE,
                "app.kubernetes.io/component", "registry",
                "app.kubernetes.io/part-of", "fabric"));
    }

    @Test
    void everyRegistryObjectCarriesTheStandardLabelsAndTheRegistryComponent() {
        for (RenderedChart chart : List.of(RenderedChart.render(), RenderedChart.render(POSTGRESQL))) {
            List<HasMetadata> registry = registryObjects(chart);
            assertThat(registry).extracting(HasMetadata::getKind).contains("Service", "PodDisruptionBudget");
            assertThat(registry).allSatisfy(object -> assertThat(object.getMetadata().getLabels()).containsAllEntriesOf(Map.of(
                    "app.kubernetes.io/instance", RenderedChart.RELEASE,
                    "app.kubernetes.io/managed-by", "Helm",
                    "app.kubernetes.io/part-of", "fabric",
                    "helm.sh/chart", "fabric-0.1.0")));
        }
    }

    @Test
    void disabledRegistryRendersNoRegistryObjects() {
        RenderedChart chart = RenderedChart.render(Map.of("registry.enabled", false, "registry.replicas", 5));

        assertThat(registryObjects(chart)).isEmpty();
        assertThat(chart.all(StatefulSet.class)).isEmpty();
        assertThat(chart.all(Deployment.class)).noneMatch(d -> d.getMetadata().getName().startsWith(REGISTRY));
        assertThat(chart.find(ConfigMap.class, RenderedChart.RELEASE + "-config")).isPresent();
    }

    @Test
    void everyRenderedFieldIsKnownToTheKubernetesModel() {
        // Every optional block switched on, so a typo in any of them shows.
        Map<String, Object> optional = Map.of(
                "registry.extraEnv[0].name", "JAVA_TOOL_OPTIONS",
                "registry.extraEnv[0].value", "-Xss512k",
                "registry.nodeSelector.disktype", "ssd",
                "registry.tolerations[0].key", "dedicated",
                "registry.tolerations[0].operator", "Exists",
                "registry.podAnnotations.team", "platform",
                "registry.podLabels.tier", "control",
                "registry.service.annotations.owner", "fabric-ops",
                "registry.persistence.storageClass", "fast-ssd",
                "global.imagePullSecrets[0].name", "regcred");
        for (Map<String, Object> shape : List.of(Map.<String, Object>of(), POSTGRESQL)) {
            Map<String, Object> values = new HashMap<>(optional);
            values.putAll(shape);
            RenderedChart chart = RenderedChart.render(values);

            assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
        }
    }

    // --- NOTES.txt ---

    @Test
    void notesSayHowToMakeTheKeysSecretAndWhereTheRegistryIs() {
        String notes = RenderedChart.notes(Map.of());

        assertThat(notes)
                .contains("fabric keys init --dir k")
                .contains("kubectl --namespace fabric-system create secret generic fabric-keys \\\n"
                        + "    --from-file=fabric.key=k/fabric.key --from-file=fabric.pub=k/fabric.pub")
                .contains("The registry: fabric-registry.fabric-system.svc:8470")
                .contains("data-fabric-registry-0")
                .contains("rollout status statefulset/fabric-registry");
        assertThat(RenderedChart.notes(POSTGRESQL))
                .contains("a Deployment of 3 replica(s) on PostgreSQL")
                .contains("rollout status deployment/fabric-registry")
                .doesNotContain("data-fabric-registry-0");
        assertThat(RenderedChart.notes(Map.of("registry.enabled", false, "spawner.enabled", false)))
                .doesNotContain("registry").doesNotContain("fabric keys init");
    }

    // --- helpers ---

    private static List<HasMetadata> registryObjects(RenderedChart chart) {
        return chart.objects().stream()
                .filter(object -> "registry".equals(object.getMetadata().getLabels().get("app.kubernetes.io/component")))
                .toList();
    }

    private static Stream<Container> containers(HasMetadata object) {
        return switch (object) {
            case StatefulSet set -> set.getSpec().getTemplate().getSpec().getContainers().stream();
            case Deployment deployment -> deployment.getSpec().getTemplate().getSpec().getContainers().stream();
            default -> Stream.empty();
        };
    }

    private static Container registryContainer(PodTemplateSpec pod) {
        assertThat(pod.getSpec().getContainers()).extracting(Container::getName).containsExactly("registry");
        return pod.getSpec().getContainers().getFirst();
    }

    private static Map<String, String> podAnnotations(RenderedChart chart) {
        return chart.get(StatefulSet.class, REGISTRY).getSpec().getTemplate().getMetadata().getAnnotations();
    }

    private static PersistentVolumeClaim claim(RenderedChart chart) {
        return chart.get(StatefulSet.class, REGISTRY).getSpec().getVolumeClaimTemplates().getFirst();
    }

    /** The container's plain env values by name (valueFrom entries map to null). */
    private static Map<String, String> env(Container container) {
        Map<String, String> values = new LinkedHashMap<>();
        container.getEnv().forEach(variable -> values.put(variable.getName(), variable.getValue()));
        return values;
    }

    private static VolumeMount mount(Container container, String volume) {
        return container.getVolumeMounts().stream().filter(mount -> mount.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of volume " + volume + " in " + container.getVolumeMounts()));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(volume -> volume.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name + " in " + pod.getVolumes()));
    }

    private static void assertHttpProbe(Probe probe, String path) {
        assertThat(probe).as(path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort()).isEqualTo(new IntOrString("http"));
    }
}
