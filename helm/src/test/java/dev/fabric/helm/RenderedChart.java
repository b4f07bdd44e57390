package dev.fabric.helm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The fabric chart rendered by the real Helm library ({@code helm template}), parsed into typed
 * fabric8 model objects for assertions.
 *
 * <pre>{@code
 * RenderedChart chart = RenderedChart.render(Map.of("fabric.security.signature.skew", "45s"));
 * ConfigMap config = chart.get(ConfigMap.class, "fabric-config");
 * assertThat(chart.fieldsNotInModel()).isEmpty();
 * }</pre>
 *
 * <p>Tests run with the module directory ({@code helm/}) as working directory, as Surefire does.
 */
public final class RenderedChart {

    /** The chart, relative to the {@code helm/} module. */
    public static final Path CHART = Path.of("fabric");

    /** The release name every rendering uses; object names start with it. */
    public static final String RELEASE = "fabric";

    /** The namespace every rendering uses. */
    public static final String NAMESPACE = "fabric-system";

    /** The Kubernetes version rendered for: the oldest the chart supports (Chart.yaml kubeVersion). */
    public static final String KUBE_VERSION = "1.29.0";

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private final String yaml;
    private final List<HasMetadata> objects;

    private RenderedChart(String yaml, List<HasMetadata> objects) {
        this.yaml = yaml;
        this.objects = List.copyOf(objects);
    }

    /** Renders the chart with its default values. */
    public static RenderedChart render() {
        return render(Map.of());
    }

    /**
     * Renders the chart with values set as {@code helm template --set key=value} does: dotted keys,
     * e.g. {@code "fabric.security.signature.skew" -> "45s"}.
     */
    public static RenderedChart render(Map<String, ?> values) {
        TemplateCommand template = new Helm(CHART).template()
                .withName(RELEASE)
                .withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        // Sorted, so a rendering is the same whatever Map the caller passed.
        new LinkedHashMap<String, Object>(values).entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(value -> template.set(value.getKey(), value.getValue()));
        return fromYaml(template.call());
    }

    /**
     * Renders the chart with a values file, as {@code helm template -f my-values.yaml} does: for values
     * written as YAML in the docs (lists of maps, keys with dots), and for values of a type {@code --set}
     * cannot give.
     */
    public static RenderedChart renderValuesFile(String valuesYaml) {
        try {
            Path file = Files.createTempFile("fabric-values-", ".yaml");
            try {
                Files.writeString(file, valuesYaml);
                return fromYaml(new Helm(CHART).template()
                        .withName(RELEASE)
                        .withNamespace(NAMESPACE)
                        .withKubeVersion(KUBE_VERSION)
                        .withValuesFile(file)
                        .call());
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** NOTES.txt as {@code helm install} prints it, from {@code NOTES:} on: a client-only dry run, no cluster. */
    public static String notes(Map<String, ?> values) {
        InstallCommand install = new Helm(CHART).install()
                .withName(RELEASE)
                .withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION)
                .clientOnly()
                .dryRun();
        values.forEach(install::set);
        String output = install.call().getOutput();
        int notes = output.indexOf("NOTES:");
        if (notes < 0) {
            throw new AssertionError("helm install printed no NOTES:\n" + output);
        }
        return output.substring(notes);
    }

    /** Wraps YAML as {@code helm template} writes it (several documents); for testing this class itself. */
    static RenderedChart fromYaml(String yaml) {
        return new RenderedChart(yaml, parse(yaml));
    }

    private static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> parsed = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (isBlank(document)) {
                continue;
            }
            parsed.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
        }
        return parsed;
    }

    /** The YAML as Helm rendered it, for failure messages and debugging. */
    public String yaml() {
        return yaml;
    }

    /** Every object the chart rendered, in Helm's order. */
    public List<HasMetadata> objects() {
        return objects;
    }

    /** Every rendered object of this type (ConfigMap.class, Deployment.class, ...). */
    public <T extends HasMetadata> List<T> all(Class<T> kind) {
        return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    /** The rendered object of this type and name, if there is one. */
    public <T extends HasMetadata> Optional<T> find(Class<T> kind, String name) {
        return all(kind).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
    }

    /** The rendered object of this type and name; fails naming what was rendered when it is absent. */
    public <T extends HasMetadata> T get(Class<T> kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError(
                "the chart rendered no " + kind.getSimpleName() + " named " + name + "; it rendered "
                        + describe(objects)));
    }

    /**
     * Fields the fabric8 model did not recognise, as {@code Kind/name: path.to.field}: a field that lands
     * in {@code additionalProperties} is a typo or a wrong indentation in a template. An object of a kind
     * the model does not know at all (parsed as {@link GenericKubernetesResource}) counts too.
     */
    public List<String> fieldsNotInModel() {
        List<String> found = new ArrayList<>();
        for (HasMetadata object : objects) {
            String where = object.getKind() + "/" + object.getMetadata().getName();
            if (object instanceof GenericKubernetesResource) {
                found.add(where + ": apiVersion " + object.getApiVersion() + " kind " + object.getKind()
                        + " is not a known model type");
                continue;
            }
            collectUnknownFields(object, "", where, found);
        }
        return found;
    }

    private static void collectUnknownFields(Object node, String path, String where, List<String> found) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                collectUnknownFields(item, path + "[" + i++ + "]", where, found);
            }
            return;
        }
        if (node instanceof Map<?, ?> entries) {
            entries.forEach((key, value) -> collectUnknownFields(value, path + "[" + key + "]", where, found));
            return;
        }
        if (!node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return; // strings, numbers, booleans: leaves
        }
        for (Method getter : node.getClass().getMethods()) {
            if (!isPropertyGetter(getter)) {
                continue;
            }
            Object value = invoke(getter, node);
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(key -> found.add(where + ": " + join(path, String.valueOf(key))));
                }
                continue;
            }
            collectUnknownFields(value, join(path, propertyName(getter)), where, found);
        }
    }

    private static boolean isPropertyGetter(Method method) {
        return method.getName().startsWith("get")
                && method.getName().length() > 3
                && method.getParameterCount() == 0
                && !Modifier.isStatic(method.getModifiers())
                && method.getDeclaringClass() != Object.class;
    }

    private static Object invoke(Method getter, Object target) {
        try {
            return getter.invoke(target);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + getter + " of " + target.getClass().getName(), e);
        }
    }

    private static String propertyName(Method getter) {
        String name = getter.getName().substring(3);
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    private static boolean isBlank(String document) {
        return document.lines().map(String::strip).allMatch(line -> line.isEmpty() || line.startsWith("#"));
    }

    private static String describe(List<HasMetadata> objects) {
        if (objects.isEmpty()) {
            return "nothing";
        }
        return objects.stream()
                .map(o -> o.getKind() + "/" + Objects.requireNonNullElse(o.getMetadata().getName(), "?"))
                .collect(Collectors.joining(", "));
    }
}
