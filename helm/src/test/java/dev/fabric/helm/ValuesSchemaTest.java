package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;

/**
 * {@code values.schema.json}: Helm checks the values against it before it renders anything (install,
 * upgrade, template, lint), so a misspelt key or a wrong value fails naming the key instead of
 * rendering a release that silently ignores it.
 */
class ValuesSchemaTest {

    // --- what must still render ---

    @Test
    void defaultValuesPassTheSchema() {
        assertThat(RenderedChart.render().objects()).isNotEmpty();
    }

    /** The values helm/README.md shows, as it shows them. */
    static Stream<Arguments> readmeExamples() {
        return Stream.of(
                Arguments.of("Install: embedded H2", Map.of(
                        "global.image.registry", "ghcr.io/my-org",
                        "registry.persistence.size", "5Gi",
                        "registry.persistence.storageClass", "fast-ssd")),
                Arguments.of("Install: PostgreSQL", Map.of(
                        "global.image.registry", "ghcr.io/my-org",
                        "registry.postgresql.url", "jdbc:postgresql://postgres.db.svc:5432/fabric",
                        "registry.postgresql.username", "fabric",
                        "registry.postgresql.existingSecret", "fabric-registry-db",
                        "registry.replicas", 3)),
                Arguments.of("Install: the registry alone", Map.of("spawner.enabled", false)),
                Arguments.of("upgrade: the skew", Map.of("fabric.security.signature.skew", "45s")),
                Arguments.of("the escrow example", Map.of("escrow.example.enabled", true)),
                Arguments.of("one fab workspace", Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "shop")),
                Arguments.of("storageClass \"-\"", Map.of("registry.persistence.storageClass", "-")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readmeExamples")
    void everyExampleOfTheReadmeRenders(String example, Map<String, Object> values) {
        assertThat(RenderedChart.render(values).objects()).isNotEmpty();
    }

    @Test
    void theReadmesYamlExamplesRender() {
        RenderedChart chart = RenderedChart.renderValuesFile("""
                networkPolicy:
                  metrics: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                fabWorkspace:
                  enabled: true
                  projects: [{name: shop}, {name: billing, fabfileDir: services/billing, persistence: {size: 50Gi}}]
                """);

        assertThat(chart.all(NetworkPolicy.class)).isNotEmpty();
        assertThat(chart.find(Deployment.class, "fabric-workspace-billing")).isPresent();
    }

    @Test
    void kubernetesObjectsAndUserMapsPassThroughUnchecked() {
        // The schema does not restate Kubernetes' own: any key of an affinity, a toleration, a label map.
        RenderedChart chart = RenderedChart.render(Map.of(
                "registry.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", 100,
                "registry.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey",
                "kubernetes.io/hostname",
                "spawner.tolerations[0].key", "dedicated",
                "spawner.tolerations[0].operator", "Exists",
                "commonLabels.team", "platform",
                "registry.podAnnotations.owner", "fabric-ops",
                "registry.securityContext.runAsUser", 20000,
                "registry.resources.limits.memory", "1Gi"));

        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
    }

    // --- what is refused, naming the key ---

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                Arguments.of("a misspelt key", Map.of("registry.replica", 2), "at '/registry'", "'replica'"),
                Arguments.of("a misspelt key under spawner", Map.of("spawner.setings.otpTtl", "5m"), "at '/spawner'", "'setings'"),
                Arguments.of("a misspelt key in escrow.sidecar", Map.of("escrow.sidecar.shutdownGrase", "5s"),
                        "at '/escrow/sidecar'", "'shutdownGrase'"),
                Arguments.of("a misspelt key in a probe", Map.of("escrow.sidecar.probes.startup.periodSecond", 2),
                        "at '/escrow/sidecar/probes/startup'", "'periodSecond'"),
                Arguments.of("a string for a number", Map.of("registry.replicas", "two"), "at '/registry/replicas'", "got string, want integer"),
                Arguments.of("a number for a boolean", Map.of("spawner.enabled", 1), "at '/spawner/enabled'", "got number, want boolean"),
                Arguments.of("a port above 65535", Map.of("registry.service.port", 70000), "at '/registry/service/port'", "maximum: got 70,000, want 65,535"),
                Arguments.of("port 0", Map.of("escrow.sidecar.httpPort", 0), "at '/escrow/sidecar/httpPort'", "minimum: got 0, want 1"),
                Arguments.of("a pull policy Kubernetes lacks", Map.of("global.image.pullPolicy", "Sometimes"),
                        "at '/global/image/pullPolicy'", "IfNotPresent"),
                Arguments.of("a pull policy in the wrong case", Map.of("spawner.image.pullPolicy", "always"),
                        "at '/spawner/image/pullPolicy'", "IfNotPresent"),
                Arguments.of("a Service type Kubernetes lacks", Map.of("spawner.service.type", "Internal"),
                        "at '/spawner/service/type'", "ClusterIP"),
                Arguments.of("an access mode Kubernetes lacks", Map.of("registry.persistence.accessModes[0]", "ReadWriteAll"),
                        "at '/registry/persistence/accessModes/0'", "ReadWriteOnce"),
                Arguments.of("a duration that is not one", Map.of("spawner.settings.otpTtl", "soon"),
                        "at '/spawner/settings/otpTtl'", "soon"),
                Arguments.of("a duration without a unit", Map.of("escrow.sidecar.shutdownGrace", "5000"),
                        "at '/escrow/sidecar/shutdownGrace'", "got number, want string"),
                Arguments.of("too many restarts", Map.of("spawner.settings.maxRestarts", 101),
                        "at '/spawner/settings/maxRestarts'", "maximum: got 101, want 100"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedValues")
    void wrongValuesAreRefusedNamingTheKey(String what, Map<String, Object> values, String where, String detail) {
        assertThatThrownBy(() -> RenderedChart.render(values))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(where)
                .hasMessageContaining(detail);
    }

    @Test
    void everyWrongValueIsNamedInOneMessageAsTheReadmeShows() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("registry.replica", 2, "spawner.settings.otpTtl", "soon")))
                .hasMessageContaining("fabric:\n- at '")
                .hasMessageContaining("\n- at '/registry': additional properties 'replica' not allowed\n")
                .hasMessageContaining("\n- at '/spawner/settings/otpTtl': 'soon' does not match pattern '^[0-9]+(ns|us|ms|s|m|h|d)$'\n");
    }

    @Test
    void aStringForANumberInAValuesFileIsRefused() {
        assertThatThrownBy(() -> RenderedChart.renderValuesFile("""
                registry:
                  replicas: "two"
                """)).hasMessageContaining("at '/registry/replicas'");
    }
}
