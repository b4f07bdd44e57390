package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * The fab workspaces in the chart: per project, a claim for the project's files and one privileged
 * pod (image {@code fabric/fab-workspace}, entrypoint {@code fabw --system} as root) that mounts it and
 * starts in the project's fabfile directory; one project by name or several in a list.
 */
class FabWorkspaceChartTest {

    private static final String SHOP = RenderedChart.RELEASE + "-workspace-shop";
    private static final Map<String, Object> SHOP_ONLY = Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "shop");

    @Test
    void workspacesAreOffByDefault() {
        RenderedChart chart = RenderedChart.render();

        assertThat(chart.objects()).noneMatch(object -> object.getMetadata().getName().contains("workspace"));
        assertThat(chart.all(PersistentVolumeClaim.class)).isEmpty();
    }

    @Test
    void oneProjectGetsOneRecreatedPodMountingItsOwnClaim() {
        RenderedChart chart = RenderedChart.render(SHOP_ONLY);
        Deployment workspace = chart.get(Deployment.class, SHOP);
        PersistentVolumeClaim claim = chart.get(PersistentVolumeClaim.class, SHOP);

        assertThat(workspace.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
        assertThat(workspace.getSpec().getReplicas()).as("one fabd per project").isEqualTo(1);
        assertThat(workspace.getSpec().getStrategy().getType()).as("a ReadWriteOnce claim moves with the pod").isEqualTo("Recreate");
        assertThat(workspace.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "fab-workspace")
                .containsEntry("fabric.dev/project", "shop");

        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("10Gi"));
        assertThat(claim.getSpec().getStorageClassName()).as("the cluster's default class").isNull();
        assertThat(claim.getMetadata().getAnnotations()).as("a developer's work outlives helm uninstall")
                .containsEntry("helm.sh/resource-policy", "keep");

        PodSpec pod = pod(workspace);
        assertThat(volume(pod, "workspace").getPersistentVolumeClaim().getClaimName()).isEqualTo(SHOP);
        Container container = container(pod);
        assertThat(container.getImage()).isEqualTo("fabric/fab-workspace:0.1.0-SNAPSHOT");
        assertThat(container.getCommand()).as("the image's entrypoint: tini, then fabw --system").isNullOrEmpty();
        assertThat(container.getArgs()).isNullOrEmpty();
        assertThat(container.getVolumeMounts()).singleElement().satisfies(mount -> {
            assertThat(mount.getName()).isEqualTo("workspace");
            assertThat(mount.getMountPath()).isEqualTo("/workspace");
            assertThat(mount.getReadOnly()).as("builds write beside their sources").isNotEqualTo(Boolean.TRUE);
        });
        assertThat(container.getWorkingDir()).as("the project's fabfile directory: the volume's root by default").isEqualTo("/workspace");
        assertThat(container.getResources().getRequests()).containsEntry("cpu", new Quantity("1")).containsEntry("memory", new Quantity("2Gi"));
        assertThat(container.getResources().getLimits()).containsEntry("memory", new Quantity("4Gi"));
    }

    @Test
    void workspaceRunsPrivilegedAsRootAndTheChartsLeastPrivilegeDoesNotApply() {
        PodSpec pod = pod(RenderedChart.render(SHOP_ONLY).get(Deployment.class, SHOP));
        SecurityContext context = container(pod).getSecurityContext();

        // fabw --system starts as root to run fabd as fabsys and faba with the developer's credentials.
        assertThat(context.getPrivileged()).isTrue();
        assertThat(context.getRunAsUser()).isZero();
        assertThat(context.getRunAsNonRoot()).isFalse();
        assertThat(context.getAllowPrivilegeEscalation()).isTrue();
        assertThat(context.getReadOnlyRootFilesystem()).as("developers are added to the pod's /etc/passwd").isFalse();
        assertThat(context.getCapabilities()).as("the top-level securityContext drops them all").isNull();
        assertThat(pod.getSecurityContext() == null || !Boolean.TRUE.equals(pod.getSecurityContext().getRunAsNonRoot()))
                .as("the top-level podSecurityContext (runAsNonRoot) would stop the root entrypoint").isTrue();
        assertThat(pod.getSecurityContext() == null || pod.getSecurityContext().getFsGroup() == null)
                .as("an fsGroup would re-group every developer's file at each start").isTrue();
        // Privileged in its own namespaces, not the node's.
        assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getHostPID()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getHostIPC()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getAutomountServiceAccountToken()).as("builds need no Kubernetes API").isFalse();
    }

    @Test
    void securityContextValuesReplaceTheWorkspaceDefaultsKeyByKey() {
        Map<String, Object> values = new LinkedHashMap<>(SHOP_ONLY);
        values.put("fabWorkspace.securityContext.privileged", false);
        SecurityContext context = container(pod(RenderedChart.render(values).get(Deployment.class, SHOP))).getSecurityContext();

        assertThat(context.getPrivileged()).isFalse();
        assertThat(context.getRunAsUser()).as("still root: the credential switch needs it").isZero();
    }

    @Test
    void severalProjectsEachGetTheirOwnPodClaimAndSelector() {
        Map<String, Object> values = new LinkedHashMap<>(SHOP_ONLY);
        values.put("fabWorkspace.projects[0].name", "billing");
        values.put("fabWorkspace.projects[0].fabfileDir", "services/billing");
        values.put("fabWorkspace.projects[0].persistence.size", "50Gi");
        values.put("fabWorkspace.projects[0].persistence.storageClass", "fast-ssd");
        values.put("fabWorkspace.projects[0].resources.limits.memory", "8Gi");
        values.put("fabWorkspace.projects[1].name", "docs");
        values.put("fabWorkspace.projects[1].persistence.existingClaim", "docs-checkout");
        values.put("fabWorkspace.mountPath", "/src");
        RenderedChart chart = RenderedChart.render(values);

        java.util.List<Deployment> workspaces = chart.all(Deployment.class).stream()
                .filter(d -> d.getMetadata().getName().contains("-workspace-")).toList();
        assertThat(workspaces).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder(SHOP, "fabric-workspace-billing", "fabric-workspace-docs");
        assertThat(chart.all(PersistentVolumeClaim.class)).extracting(c -> c.getMetadata().getName())
                .as("docs mounts a claim that exists").containsExactlyInAnyOrder(SHOP, "fabric-workspace-billing");

        // Each selector picks its own project's pod only, among every Deployment of the chart.
        for (Deployment workspace : workspaces) {
            Map<String, String> selector = workspace.getSpec().getSelector().getMatchLabels();
            assertThat(workspace.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(selector);
            for (Deployment other : chart.all(Deployment.class)) {
                boolean selected = other.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
                assertThat(selected).as(other.getMetadata().getName() + "'s pods selected by " + workspace.getMetadata().getName())
                        .isEqualTo(other == workspace);
            }
        }

        PersistentVolumeClaim billingClaim = chart.get(PersistentVolumeClaim.class, "fabric-workspace-billing");
        assertThat(billingClaim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("50Gi"));
        assertThat(billingClaim.getSpec().getStorageClassName()).isEqualTo("fast-ssd");
        assertThat(billingClaim.getSpec().getAccessModes()).as("the keys not overridden stay").containsExactly("ReadWriteOnce");
        Container billing = container(pod(chart.get(Deployment.class, "fabric-workspace-billing")));
        assertThat(billing.getWorkingDir()).isEqualTo("/src/services/billing");
        assertThat(billing.getVolumeMounts()).singleElement().satisfies(mount -> assertThat(mount.getMountPath()).isEqualTo("/src"));
        assertThat(billing.getResources().getLimits()).containsOnlyKeys("memory").containsEntry("memory", new Quantity("8Gi"));
        assertThat(chart.get(PersistentVolumeClaim.class, SHOP).getSpec().getResources().getRequests())
                .as("other projects keep the defaults").containsEntry("storage", new Quantity("10Gi"));

        assertThat(volume(pod(chart.get(Deployment.class, "fabric-workspace-docs")), "workspace")
                .getPersistentVolumeClaim().getClaimName()).isEqualTo("docs-checkout");
    }

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                Arguments.of(Map.of("fabWorkspace.enabled", true), "fabWorkspace.enabled is true but no project is named"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "Shop"),
                        "fabWorkspace.project must be a DNS label"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0].fabfileDir", "src"),
                        "fabWorkspace.projects[0].name must be a DNS label"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "shop", "fabWorkspace.projects[0].name", "shop"),
                        "fabWorkspace.projects[0].name \"shop\" is also the name of fabWorkspace.project"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0].name", "x".repeat(50)),
                        "longer than 63 characters"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0].name", "shop",
                        "fabWorkspace.projects[0].fabfileDir", "/etc"), "fabWorkspace.projects[0].fabfileDir is the directory"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0].name", "shop",
                        "fabWorkspace.projects[0].fabfileDir", "a/../../etc"), "without a leading / or .."),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0].name", "shop",
                        "fabWorkspace.projects[0].fabfiledir", "src"), "at '/fabWorkspace/projects/0': additional properties 'fabfiledir' not allowed"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.projects[0]", "shop"),
                        "at '/fabWorkspace/projects/0': got string, want object"),
                Arguments.of(Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "shop", "fabWorkspace.mountPath", "workspace"),
                        "fabWorkspace.mountPath must be an absolute path"));
    }

    @ParameterizedTest
    @MethodSource("refusedValues")
    void valuesThatCannotWorkFailTheRenderSayingWhy(Map<String, Object> values, String message) {
        assertThatThrownBy(() -> RenderedChart.render(values)).hasMessageContaining(message);
    }

    @Test
    void noRenderedFieldIsUnknownToTheModelWithEveryOptionalBlockOn() {
        Map<String, Object> values = new LinkedHashMap<>(SHOP_ONLY);
        values.put("fabWorkspace.projects[0].name", "billing");
        values.put("fabWorkspace.projects[0].persistence.storageClass", "-");
        values.put("fabWorkspace.image.digest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        values.put("fabWorkspace.podSecurityContext.seccompProfile.type", "Unconfined");
        values.put("fabWorkspace.podAnnotations.team", "platform");
        values.put("fabWorkspace.podLabels.tier", "dev");
        values.put("fabWorkspace.nodeSelector.disk", "ssd");
        values.put("fabWorkspace.tolerations[0].key", "dedicated");
        values.put("fabWorkspace.tolerations[0].operator", "Exists");
        values.put("fabWorkspace.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                + ".matchExpressions[0].key", "kubernetes.io/arch");
        values.put("fabWorkspace.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                + ".matchExpressions[0].operator", "Exists");
        values.put("global.imagePullSecrets[0].name", "regcred");
        values.put("commonAnnotations.owner", "fabric-ops");
        RenderedChart chart = RenderedChart.render(values);

        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
        assertThat(chart.get(PersistentVolumeClaim.class, "fabric-workspace-billing").getSpec().getStorageClassName())
                .as("\"-\" means no dynamic provisioning").isEmpty();
        PodSpec pod = pod(chart.get(Deployment.class, SHOP));
        assertThat(container(pod).getImage())
                .isEqualTo("fabric/fab-workspace@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("regcred");
        assertThat(pod.getNodeSelector()).containsEntry("disk", "ssd");
        assertThat(chart.get(PersistentVolumeClaim.class, SHOP).getMetadata().getAnnotations())
                .containsEntry("owner", "fabric-ops").containsEntry("helm.sh/resource-policy", "keep");
    }

    // --- helpers ---

    private static PodSpec pod(Deployment workspace) {
        return workspace.getSpec().getTemplate().getSpec();
    }

    private static Container container(PodSpec pod) {
        assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("workspace");
        return pod.getContainers().getFirst();
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name + " in " + pod.getVolumes()));
    }
}
