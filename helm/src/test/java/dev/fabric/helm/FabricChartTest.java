package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

class FabricChartTest {

    private static final String CONFIG_MAP = RenderedChart.RELEASE + "-config";

    @Test
    void chartPassesStrictLint() {
        LintResult lint = new Helm(RenderedChart.CHART).lint().strict().call();

        assertThat(lint.isFailed()).as("lint failed: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages())
                .noneMatch(message -> message.contains("[ERROR]") || message.contains("[WARNING]"));
    }

    @Test
    void configMapCarriesTheStandardLabels() {
        ConfigMap config = RenderedChart.render().get(ConfigMap.class, CONFIG_MAP);

        assertThat(config.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
        assertThat(config.getMetadata().getLabels()).containsAllEntriesOf(Map.of(
                "app.kubernetes.io/name", "fabric",
                "app.kubernetes.io/instance", RenderedChart.RELEASE,
                "app.kubernetes.io/version", "0.1.0-SNAPSHOT",
                "app.kubernetes.io/managed-by", "Helm",
                "app.kubernetes.io/part-of", "fabric",
                "app.kubernetes.io/component", "config",
                "helm.sh/chart", "fabric-0.1.0"));
    }

    @Test
    void configMapHoldsTheSignaturePolicyDefaults() {
        ConfigMap config = RenderedChart.render().get(ConfigMap.class, CONFIG_MAP);

        assertThat(signaturePolicy(config)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "skew", "30s",
                "replay-cache-capacity", 500_000,
                "max-header-bytes", 4096));
    }

    @Test
    void valuesOverrideTheSignaturePolicy() {
        RenderedChart chart = RenderedChart.render(Map.of(
                "fabric.security.signature.skew", "45s",
                "fabric.security.signature.replayCacheCapacity", 1_000_000,
                "fabric.security.signature.maxHeaderBytes", 2048));

        assertThat(signaturePolicy(chart.get(ConfigMap.class, CONFIG_MAP))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "skew", "45s",
                "replay-cache-capacity", 1_000_000,
                "max-header-bytes", 2048));
    }

    @Test
    void skewWithoutAUnitIsRefused() {
        // Spring reads a bare number as milliseconds: 30 would be a 30 ms window.
        assertThatThrownBy(() -> RenderedChart.render(Map.of("fabric.security.signature.skew", "30")))
                .hasMessageContaining("at '/fabric/security/signature/skew': got number, want string");
        assertThatThrownBy(() -> RenderedChart.renderValuesFile("fabric: {security: {signature: {skew: \"30\"}}}"))
                .hasMessageContaining("at '/fabric/security/signature/skew': '30' does not match pattern");
    }

    @Test
    void commonLabelsAndAnnotationsReachEveryObject() {
        RenderedChart chart = RenderedChart.render(Map.of(
                "commonLabels.team", "platform",
                "commonAnnotations.owner", "fabric-ops"));

        assertThat(chart.objects()).isNotEmpty().allSatisfy(object -> {
            assertThat(object.getMetadata().getLabels()).containsEntry("team", "platform");
            assertThat(object.getMetadata().getAnnotations()).containsEntry("owner", "fabric-ops");
        });
    }

    @Test
    void fullnameOverrideRenamesObjects() {
        RenderedChart chart = RenderedChart.render(Map.of("fullnameOverride", "mesh"));

        assertThat(chart.find(ConfigMap.class, "mesh-config")).isPresent();
    }

    @Test
    void everyRenderedFieldIsKnownToTheKubernetesModel() {
        RenderedChart chart = RenderedChart.render(Map.of(
                "commonLabels.team", "platform",
                "commonAnnotations.owner", "fabric-ops"));

        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
    }

    @Test
    void misspelledFieldIsCaught() {
        // The check above must be able to fail: a typo in metadata and one deep in a pod spec.
        RenderedChart broken = RenderedChart.fromYaml("""
                ---
                # Source: fabric/templates/broken.yaml
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: broken
                  lables:
                    app: x
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: pod
                spec:
                  containers:
                    - name: app
                      image: app
                      securityContext:
                        readOnlyRootFileSystem: true
                """);

        assertThat(broken.fieldsNotInModel()).containsExactlyInAnyOrder(
                "ConfigMap/broken: metadata.lables",
                "Pod/pod: spec.containers[0].securityContext.readOnlyRootFileSystem");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> signaturePolicy(ConfigMap config) {
        assertThat(config.getData()).containsOnlyKeys("application.yaml");
        Map<String, Object> application = new KubernetesSerialization()
                .unmarshal(config.getData().get("application.yaml"), Map.class);
        Map<String, Object> fabric = (Map<String, Object>) application.get("fabric");
        Map<String, Object> security = (Map<String, Object>) fabric.get("security");
        return (Map<String, Object>) security.get("signature");
    }
}
