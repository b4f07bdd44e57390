package dev.fabric.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;

/**
 * The NetworkPolicies (issue 12 item 12): on by default, each fabric part admits on its port only
 * the fabric parts that call it, the configured clients and the metrics scraper. Admission is
 * decided here as Kubernetes decides it, from the rendered policies and a pod's labels and
 * namespace: a pod nobody named reaches nothing, the open paths (/bootstrap/v1/**,
 * /actuator/prometheus, /v3/api-docs) included.
 */
class NetworkPolicyChartTest {

    private static final String REGISTRY = RenderedChart.RELEASE + "-registry";
    private static final String SPAWNER = RenderedChart.RELEASE + "-spawner";
    private static final String MEMBERS = SPAWNER + "-members";

    /** A member pod of this release's spawner, labelled as MemberPods.labels (spawner-service) labels it. */
    private static final Map<String, String> MEMBER = Map.of("app.kubernetes.io/name", "fabric-member",
            "app.kubernetes.io/managed-by", "fabric-spawner", "fabric.dev/spawner", SPAWNER,
            "fabric.dev/service-id", "queue-1a2b3c4d", "fabric.dev/role", "queue", "fabric.dev/incarnation", "1");
    private static final Map<String, String> CLIENT = Map.of("app", "shop", "fabric.dev/client", "true");
    private static final Map<String, String> ANY_POD = Map.of("app", "shop");
    private static final Map<String, String> MONITORING = Map.of("kubernetes.io/metadata.name", "monitoring");

    @Test
    void onByDefaultEachPartHasAnIngressPolicyOnItsOwnPort() {
        RenderedChart chart = RenderedChart.render();

        assertThat(chart.all(NetworkPolicy.class)).extracting(p -> p.getMetadata().getName())
                .containsExactlyInAnyOrder(REGISTRY, SPAWNER, MEMBERS);
        assertThat(chart.all(NetworkPolicy.class)).allSatisfy(policy -> {
            assertThat(policy.getMetadata().getNamespace()).isEqualTo(RenderedChart.NAMESPACE);
            assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
            assertThat(policy.getSpec().getIngress()).hasSize(1);
            assertThat(policy.getSpec().getIngress().getFirst().getFrom()).isNotEmpty();
        });
        assertThat(port(chart.get(NetworkPolicy.class, REGISTRY))).isEqualTo(8470);
        assertThat(port(chart.get(NetworkPolicy.class, SPAWNER))).isEqualTo(8472);
        assertThat(port(chart.get(NetworkPolicy.class, MEMBERS))).isEqualTo(8472);
        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
    }

    @Test
    void thePoliciesSelectThePodsTheChartAndTheSpawnerRun() {
        RenderedChart chart = RenderedChart.render();

        PodTemplateSpec registry = chart.get(StatefulSet.class, REGISTRY).getSpec().getTemplate();
        PodTemplateSpec spawner = chart.get(Deployment.class, SPAWNER).getSpec().getTemplate();
        assertThat(selects(chart.get(NetworkPolicy.class, REGISTRY).getSpec().getPodSelector(), registry.getMetadata().getLabels())).isTrue();
        assertThat(selects(chart.get(NetworkPolicy.class, SPAWNER).getSpec().getPodSelector(), spawner.getMetadata().getLabels())).isTrue();
        assertThat(selects(chart.get(NetworkPolicy.class, MEMBERS).getSpec().getPodSelector(), MEMBER)).isTrue();
        assertThat(selects(chart.get(NetworkPolicy.class, MEMBERS).getSpec().getPodSelector(), spawner.getMetadata().getLabels())).isFalse();
    }

    @Test
    void theFabricsOwnPartsReachWhatTheyCall() {
        RenderedChart chart = RenderedChart.render();
        Map<String, String> spawner = chart.get(Deployment.class, SPAWNER).getSpec().getTemplate().getMetadata().getLabels();

        // The spawner and members register and heartbeat; members redeem their password at the spawner;
        // the spawner configures its members (and dials them in mode 3); members call each other's roles.
        assertThat(admits(chart.get(NetworkPolicy.class, REGISTRY), spawner, RenderedChart.NAMESPACE)).isTrue();
        assertThat(admits(chart.get(NetworkPolicy.class, REGISTRY), MEMBER, RenderedChart.NAMESPACE)).isTrue();
        assertThat(admits(chart.get(NetworkPolicy.class, SPAWNER), MEMBER, RenderedChart.NAMESPACE)).isTrue();
        assertThat(admits(chart.get(NetworkPolicy.class, MEMBERS), spawner, RenderedChart.NAMESPACE)).isTrue();
        assertThat(admits(chart.get(NetworkPolicy.class, MEMBERS), MEMBER, RenderedChart.NAMESPACE)).isTrue();
    }

    @Test
    void anyOtherPodReachesNothingOfTheFabricNotEvenItsOpenPaths() {
        RenderedChart chart = RenderedChart.render(Map.of("fabWorkspace.enabled", true, "fabWorkspace.project", "shop"));
        Map<String, String> workspace = chart.all(Deployment.class).stream()
                .filter(d -> "fab-workspace".equals(d.getMetadata().getLabels().get("app.kubernetes.io/component")))
                .findFirst().orElseThrow().getSpec().getTemplate().getMetadata().getLabels();

        for (NetworkPolicy policy : chart.all(NetworkPolicy.class)) {
            assertThat(admits(policy, ANY_POD, RenderedChart.NAMESPACE)).as(policy.getMetadata().getName()).isFalse();
            assertThat(admits(policy, ANY_POD, "other")).as(policy.getMetadata().getName()).isFalse();
            assertThat(admits(policy, MEMBER, "other")).as("a look-alike member in another namespace").isFalse();
            assertThat(admits(policy, workspace, RenderedChart.NAMESPACE)).as("a fab workspace").isFalse();
            // Nor may a policy admit everyone by a rule without peers or an empty selector.
            assertThat(policy.getSpec().getIngress()).allSatisfy(rule -> assertThat(rule.getFrom()).isNotEmpty()
                    .allSatisfy(peer -> assertThat(peer.getNamespaceSelector()).isNull()));
        }
    }

    @Test
    void labelledClientsReachEveryPartAndTheClientSelectorIsConfigurable() {
        RenderedChart chart = RenderedChart.render();
        assertThat(chart.all(NetworkPolicy.class)).allSatisfy(policy ->
                assertThat(admits(policy, CLIENT, RenderedChart.NAMESPACE)).as(policy.getMetadata().getName()).isTrue());

        Map<String, Object> values = new HashMap<>();
        values.put("networkPolicy.clients[0].podSelector.matchLabels.app", "shop");
        RenderedChart shop = RenderedChart.render(values);
        assertThat(shop.all(NetworkPolicy.class)).allSatisfy(policy -> {
            assertThat(admits(policy, ANY_POD, RenderedChart.NAMESPACE)).isTrue();
            assertThat(admits(policy, Map.of("fabric.dev/client", "true"), RenderedChart.NAMESPACE)).isFalse();
        });
    }

    @Test
    void metricsAreScrapedOnlyByTheConfiguredPeers() {
        RenderedChart none = RenderedChart.render();
        assertThat(none.all(NetworkPolicy.class)).allSatisfy(policy ->
                assertThat(admits(policy, Map.of("app.kubernetes.io/name", "prometheus"), "monitoring", MONITORING)).isFalse());

        RenderedChart chart = RenderedChart.render(Map.of(
                "networkPolicy.metrics[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name", "monitoring"));

        assertThat(chart.all(NetworkPolicy.class)).hasSize(3).allSatisfy(policy ->
                assertThat(admits(policy, Map.of("app.kubernetes.io/name", "prometheus"), "monitoring", MONITORING)).isTrue());
        assertThat(chart.fieldsNotInModel()).as(chart.yaml()).isEmpty();
    }

    @Test
    void withNoPeersAtAllAPolicyAdmitsNobodyRatherThanEverybody() {
        RenderedChart chart = RenderedChart.renderValuesFile("""
                spawner: {enabled: false}
                networkPolicy: {clients: []}
                """);

        NetworkPolicy registry = chart.get(NetworkPolicy.class, REGISTRY);

        assertThat(registry.getSpec().getIngress()).isEmpty();
        assertThat(admits(registry, CLIENT, RenderedChart.NAMESPACE)).isFalse();
        assertThat(chart.all(NetworkPolicy.class)).hasSize(1);
    }

    @Test
    void theMembersPolicyFollowsTheirManagementPort() {
        RenderedChart chart = RenderedChart.render(Map.of("spawner.members.managementPort", 9000));

        assertThat(port(chart.get(NetworkPolicy.class, MEMBERS))).isEqualTo(9000);
    }

    @Test
    void disabledRendersNoPolicy() {
        assertThat(RenderedChart.render(Map.of("networkPolicy.enabled", false)).all(NetworkPolicy.class)).isEmpty();
    }

    private static int port(NetworkPolicy policy) {
        return policy.getSpec().getIngress().getFirst().getPorts().getFirst().getPort().getIntVal();
    }

    private static boolean admits(NetworkPolicy policy, Map<String, String> podLabels, String namespace) {
        return admits(policy, podLabels, namespace, Map.of("kubernetes.io/metadata.name", namespace));
    }

    /** Whether a pod with these labels, in a namespace with these labels, may open a connection, as Kubernetes decides. */
    private static boolean admits(NetworkPolicy policy, Map<String, String> podLabels, String namespace, Map<String, String> namespaceLabels) {
        List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();
        for (NetworkPolicyIngressRule rule : rules) {
            if (rule.getFrom() == null || rule.getFrom().isEmpty()) {
                return true;
            }
            for (NetworkPolicyPeer peer : rule.getFrom()) {
                boolean namespaceMatches = peer.getNamespaceSelector() == null
                        ? namespace.equals(policy.getMetadata().getNamespace())
                        : selects(peer.getNamespaceSelector(), namespaceLabels);
                boolean podMatches = peer.getPodSelector() == null || selects(peer.getPodSelector(), podLabels);
                if (peer.getIpBlock() == null && namespaceMatches && podMatches) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean selects(LabelSelector selector, Map<String, String> labels) {
        assertThat(selector.getMatchExpressions()).as("this test reads matchLabels only").isNullOrEmpty();
        Map<String, String> wanted = selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
        return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
}
