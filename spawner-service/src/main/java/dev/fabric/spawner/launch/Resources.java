package dev.fabric.spawner.launch;

import java.util.regex.Pattern;

/**
 * CPU and memory for one member, in Kubernetes quantity notation ({@code 500m}, {@code 1};
 * {@code 256Mi}, {@code 1Gi}). The process launcher maps memory to the member JVM's heap ceiling;
 * the Kubernetes launcher sets them as the container's requests and limits.
 */
public record Resources(String cpu, String memory) {

    private static final Pattern CPU = Pattern.compile("([1-9][0-9]{0,3}m|[1-9][0-9]?(\\.[0-9]{1,3})?|0\\.[0-9]{1,3})");
    private static final Pattern MEMORY = Pattern.compile("[1-9][0-9]{0,5}(Mi|Gi)");

    public static final Resources DEFAULT = new Resources("500m", "256Mi");

    public Resources {
        if (cpu == null || !CPU.matcher(cpu).matches()) {
            throw new IllegalArgumentException("cpu '" + cpu + "' is not a CPU quantity: use millicores like 500m or cores like 1 or 1.5");
        }
        if (memory == null || !MEMORY.matcher(memory).matches()) {
            throw new IllegalArgumentException("memory '" + memory + "' is not a memory quantity: use Mi or Gi, like 256Mi or 1Gi");
        }
        if (megabytes(memory) < 64) {
            throw new IllegalArgumentException("memory '" + memory + "' is too small: a member needs at least 64Mi");
        }
    }

    /** CPU in cores: {@code 500m} is 0.5. */
    public double cpuCores() {
        return cpu.endsWith("m") ? Integer.parseInt(cpu.substring(0, cpu.length() - 1)) / 1000.0 : Double.parseDouble(cpu);
    }

    /** Memory in MiB. */
    public long memoryMegabytes() {
        return megabytes(memory);
    }

    private static long megabytes(String memory) {
        long amount = Long.parseLong(memory.substring(0, memory.length() - 2));
        return memory.endsWith("Gi") ? amount * 1024 : amount;
    }
}
