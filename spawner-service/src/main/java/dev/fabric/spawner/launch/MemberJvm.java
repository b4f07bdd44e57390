package dev.fabric.spawner.launch;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options a member process starts with, the same for every launcher that starts a JVM
 * itself (the process and SSH launchers; a Kubernetes member's come from the image): a small
 * service's settings, measured in docs/benchmarks.md ("Start-up and memory"). A JDK AOT cache is
 * made with the options it is used with ({@code -XX:+UseCompactObjectHeaders} and the collector
 * must match, or the JVM ignores the cache): {@code ./fabric} and the spawner image train the
 * members' cache with {@link #TRAINING}, which holds {@link #SPRING_AOT} as members do.
 */
public final class MemberJvm {

    /**
     * Spring's AOT mode: the member profile's bean definitions as generated code (spawner-service's
     * build, {@code process-aot}) instead of scanning and evaluating conditions at start-up. A JDK AOT
     * cache for members is trained with it too (it loads other classes).
     */
    public static final String SPRING_AOT = "-Dspring.aot.enabled=true";

    /**
     * C1 compiles a method after a quarter of the calls it waits for by default (about 50 instead of
     * 200). A member batches its work (a lease, a publish, an enqueue carries dozens of tasks), so its
     * request paths run a few times a second and at the default stayed interpreted for minutes: a
     * quarter to two fifths of the work roles' Java samples were in the interpreter after 9,000 tasks.
     * The price is paid at start-up, where more of Spring's start is compiled: 190 to 270 ms more CPU
     * to ready, 30 to 100 ms later ready, 3 MiB more resident; a tenth of the default cost far more (about
     * 900 ms of CPU and 10 MiB), half of it gained too little (docs/benchmarks.md, issue 16's run 21).
     * The image's members start with it as well; the members' cache is trained without it ({@link #TRAINING}).
     */
    public static final String COMPILE_SOONER = "-XX:CompileThresholdScaling=0.25";

    /**
     * The options that do not depend on the member's resources: the heap starts small and its young
     * generation stays small (an idle member touches all of its eden), it gives memory back after a
     * collection, the Serial collector (no collector threads or remembered sets), compact object
     * headers (8 bytes instead of 12 per object), small thread stacks, C1 only (a member's code is
     * short-lived request handling; C2's compilations cost more than they save at start-up), compiled
     * sooner ({@link #COMPILE_SOONER}), the C library's free memory returned every 5 s, and Spring's AOT-generated bean definitions of the
     * member profile ({@code spring.aot.enabled}: the jar carries them, made at build time; only a
     * member uses them, the spawner starts without the flag; docs/operations.md, "Start-up and memory").
     */
    public static final List<String> FIXED = List.of("-Xms16m", "-Xmn8m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
            "-XX:+UseSerialGC", "-XX:+UseCompactObjectHeaders", "-Xss512k", "-XX:TieredStopAtLevel=1", COMPILE_SOONER,
            "-XX:TrimNativeHeapInterval=5000", SPRING_AOT);

    /**
     * The options of the training run that makes the members' AOT cache (./fabric up): a member of
     * one CPU and 256Mi, which is a member's default resources but for the CPU count, compiling at the
     * JVM's default thresholds, not {@link #COMPILE_SOONER}: a member compiles at its start what its
     * cache's training run compiled, whatever the thresholds, and a cache trained compiling sooner
     * holds some 2,000 compilations more (a member's start 180 to 320 ms later to ready, instead of up to 100).
     */
    public static final List<String> TRAINING = options(new Resources("1", "256Mi")).stream()
            .filter(option -> !option.equals(COMPILE_SOONER)).toList();

    private MemberJvm() {
    }

    /** Prints {@link #TRAINING}, one option per line: for the scripts that train the members' cache. */
    public static void main(String[] args) {
        TRAINING.forEach(System.out::println);
    }

    /**
     * The options for one member: the heap ceiling follows its memory quantity (three quarters; the
     * rest is class metadata, code and threads) and the JVM sizes itself for its CPU quantity.
     */
    public static List<String> options(Resources resources) {
        List<String> options = new ArrayList<>();
        options.add("-Xmx" + Math.max(32, resources.memoryMegabytes() * 3 / 4) + "m");
        options.addAll(FIXED);
        options.add("-XX:ActiveProcessorCount=" + Math.max(1, (int) Math.ceil(resources.cpuCores())));
        return List.copyOf(options);
    }
}
