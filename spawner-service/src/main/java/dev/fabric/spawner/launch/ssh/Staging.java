package dev.fabric.spawner.launch.ssh;

import dev.fabric.spawner.launch.LaunchException;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.sftp.client.SftpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Supplier;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

/**
 * What a member needs on its host before it starts (the seed's "create virtualenv, fetch modules"):
 * a Java 25 runtime at the configured path, and the member distribution in {@code <directory>/dist/}
 * (a self-contained jar: {@link #selfContained}), copied by SFTP when absent or different. The copy is
 * named by its SHA-256, written to a {@code .part} file, checked on the host with {@code sha256sum}, and
 * only then renamed into place, so a member never starts from a damaged or half-written file. Every failure is a {@link LaunchException} saying what
 * failed on which host.
 */
final class Staging {

    private static final Logger log = LoggerFactory.getLogger(Staging.class);
    /** The Java feature release members need. */
    static final int JAVA_FEATURE = 25;
    static final String DISTRIBUTION_SETTING = "fabric.spawner.ssh.distribution";

    private final Path distribution;
    private final String checksum;
    private final Supplier<JavaRuntime> runtime;

    /**
     * @param runtime the Java runtime to stage on a host without one (packed on first use)
     */
    Staging(Path distribution, Supplier<JavaRuntime> runtime) {
        this.distribution = selfContained(distribution);
        this.checksum = sha256(distribution);
        this.runtime = runtime;
    }

    /** The distribution's file name on every host: named by its content, so versions never overwrite each other. */
    String jarName() {
        return "spawner-service-" + checksum.substring(0, 16) + ".jar";
    }

    String checksum() {
        return checksum;
    }

    /**
     * Checks the host's Java (staging a runtime when it has none and {@code stage-java} is on) and
     * stages the distribution; returns the {@code java} members start with, once the host can start them.
     */
    String stage(RemoteHost host, ClientSession session) {
        String java = java(host, session);
        String dist = host.settings.directory() + "/dist";
        String target = dist + "/" + jarName();
        RemoteHost.Result present = host.run(session, RemoteCommands.sha256(target));
        if (present.succeeded() && present.output().trim().equals(checksum)) {
            return java;
        }
        RemoteHost.Result made = host.run(session, RemoteCommands.makeDirectory(dist));
        if (!made.succeeded()) {
            throw new LaunchException("staging failed on host " + host.name + ": cannot create " + dist + " (disk write refused): "
                    + made.errors().trim());
        }
        String part = target + ".part";
        long started = System.nanoTime();
        try (SftpClient sftp = host.sftp(session);
             InputStream in = Files.newInputStream(distribution);
             OutputStream out = sftp.write(part)) {
            in.transferTo(out);
        } catch (IOException e) {
            host.run(session, RemoteCommands.remove(part));
            throw new LaunchException("staging failed on host " + host.name + ": copying " + distribution + " to " + part
                    + " was refused (disk write refused: " + e.getMessage() + "); check the space and permissions of " + dist, e);
        }
        RemoteHost.Result copied = host.run(session, RemoteCommands.sha256(part));
        String found = copied.output().trim();
        if (!copied.succeeded() || !found.equals(checksum)) {
            host.run(session, RemoteCommands.remove(part));
            throw new LaunchException("staging failed on host " + host.name + ": checksum mismatch after copying " + distribution
                    + " to " + part + ": expected SHA-256 " + checksum + ", the host has " + (found.isEmpty() ? "no file" : found)
                    + " (the copy was damaged; nothing was started, the next launch copies it again)");
        }
        RemoteHost.Result renamed = host.run(session, RemoteCommands.rename(part, target));
        if (!renamed.succeeded()) {
            throw new LaunchException("staging failed on host " + host.name + ": cannot move " + part + " to " + target + ": "
                    + renamed.errors().trim());
        }
        log.info("host {}: staged {} as {} in {} ms (SHA-256 {} checked)", host.name, distribution, target,
                (System.nanoTime() - started) / 1_000_000, checksum);
        return java;
    }

    /** The configured java when it is a Java 25; else, with stage-java, the staged runtime's; else the launch fails. */
    private String java(RemoteHost host, ClientSession session) {
        String java = host.settings.java();
        RemoteHost.Result version = host.run(session, RemoteCommands.javaVersion(java));
        String output = version.output().trim();
        int feature = version.succeeded() ? RemoteCommands.javaFeature(output) : -1;
        if (feature >= JAVA_FEATURE) {
            return java;
        }
        if (host.settings.stageJava()) {
            return stageRuntime(host, session, java + (version.succeeded() ? " is '" + firstLine(output) + "'" : " -version failed"));
        }
        if (!version.succeeded()) {
            throw new LaunchException("no Java on host " + host.name + ": '" + java + " -version' failed (exit status "
                    + version.exitStatus() + ": " + firstLine(output) + "); install a Java " + JAVA_FEATURE
                    + " runtime there and set fabric.spawner.ssh.hosts." + host.name + ".java to its bin/java, or set "
                    + "fabric.spawner.ssh.hosts." + host.name + ".stage-java=true to have one staged");
        }
        throw new LaunchException("no Java " + JAVA_FEATURE + " on host " + host.name + ": " + java + " is '" + firstLine(output)
                + "'; set fabric.spawner.ssh.hosts." + host.name + ".java to a Java " + JAVA_FEATURE + " (or later) bin/java, or set "
                + "fabric.spawner.ssh.hosts." + host.name + ".stage-java=true to have one staged");
    }

    /**
     * Stages this node's Java runtime in {@code <directory>/jdk/runtime-<sha>/} when it is not there yet:
     * the tar copied by SFTP to a {@code .part} file, its SHA-256 checked on the host, unpacked into a
     * temporary directory and renamed into place, so a member never starts from a damaged runtime.
     */
    private String stageRuntime(RemoteHost host, ClientSession session, String why) {
        JavaRuntime packed;
        try {
            packed = runtime.get();
        } catch (IllegalStateException e) {
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: " + e.getMessage(), e);
        }
        String jdk = host.settings.directory() + "/jdk";
        String home = jdk + "/" + packed.directoryName();
        String java = home + "/bin/java";
        RemoteHost.Result present = host.run(session, RemoteCommands.javaVersion(java));
        if (present.succeeded() && RemoteCommands.javaFeature(present.output()) >= JAVA_FEATURE) {
            return java;
        }
        log.info("host {}: {}; staging the Java runtime {} there as {}", host.name, why, packed.home(), home);
        long started = System.nanoTime();
        RemoteHost.Result made = host.run(session, RemoteCommands.makeDirectory(jdk));
        if (!made.succeeded()) {
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: cannot create " + jdk + ": "
                    + made.errors().trim());
        }
        String part = home + ".tar.part";
        try (SftpClient sftp = host.sftp(session); InputStream in = Files.newInputStream(packed.tar()); OutputStream out = sftp.write(part)) {
            in.transferTo(out);
        } catch (IOException e) {
            host.run(session, RemoteCommands.remove(part));
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: copying it to " + part
                    + " was refused (disk write refused: " + e.getMessage() + ")", e);
        }
        RemoteHost.Result copied = host.run(session, RemoteCommands.sha256(part));
        String found = copied.output().trim();
        if (!copied.succeeded() || !found.equals(packed.checksum())) {
            host.run(session, RemoteCommands.remove(part));
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: checksum mismatch after copying "
                    + packed.home() + " to " + part + ": expected SHA-256 " + packed.checksum() + ", the host has "
                    + (found.isEmpty() ? "no file" : found) + " (the copy was damaged; nothing was started)");
        }
        RemoteHost.Result unpacked = host.run(session, RemoteCommands.unpack(part, home));
        if (!unpacked.succeeded()) {
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: unpacking " + part + " into " + home
                    + ": " + (unpacked.errors() + unpacked.output()).trim());
        }
        RemoteHost.Result version = host.run(session, RemoteCommands.javaVersion(java));
        if (!version.succeeded() || RemoteCommands.javaFeature(version.output()) < JAVA_FEATURE) {
            throw new LaunchException("staging a Java runtime on host " + host.name + " failed: the staged " + java
                    + " does not run there: " + firstLine(version.output().trim()));
        }
        log.info("host {}: staged the Java runtime {} as {} in {} ms (SHA-256 {} checked)", host.name, packed.home(), home,
                (System.nanoTime() - started) / 1_000_000, packed.checksum());
        return java;
    }

    /**
     * The distribution, when a member can start from it alone: staging copies one file, so it must be
     * a Spring Boot executable jar (its manifest names {@code Spring-Boot-Lib}, the libraries inside it)
     * that names no {@code Class-Path} (libraries beside it). The jar Spring Boot's
     * {@code -Djarmode=tools extract} makes, which {@code ./fabric up} and the image start the spawner
     * from for their AOT caches, is neither: its {@code Class-Path} names {@code lib/*.jar} beside it.
     *
     * @throws IllegalStateException naming the jar and the setting to use, when it is not self-contained
     */
    static Path selfContained(Path distribution) {
        Attributes manifest;
        try (JarFile jar = new JarFile(distribution.toFile())) {
            manifest = jar.getManifest() == null ? new Attributes() : jar.getManifest().getMainAttributes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the member distribution " + distribution + " as a jar (" + e.getMessage()
                    + "); set " + DISTRIBUTION_SETTING + " to spawner-service-exec.jar", e);
        }
        String classPath = manifest.getValue(Attributes.Name.CLASS_PATH);
        if (classPath != null || manifest.getValue("Spring-Boot-Lib") == null) {
            throw new IllegalStateException("the member distribution " + distribution + " is not self-contained: "
                    + (classPath != null ? "its manifest's Class-Path names libraries beside it (" + firstWord(classPath)
                    + " ...), which staging does not copy (a jar extracted for the AOT cache)"
                    : "it is no Spring Boot executable jar (its manifest names no Spring-Boot-Lib)")
                    + "; set " + DISTRIBUTION_SETTING + " to the runnable spawner-service-exec.jar (the jar the spawner was "
                    + "extracted from, e.g. spawner-service/target/spawner-service-exec.jar)");
        }
        return distribution;
    }

    private static String firstWord(String text) {
        String trimmed = text.trim();
        int end = trimmed.indexOf(' ');
        return end < 0 ? trimmed : trimmed.substring(0, end);
    }

    private static String firstLine(String text) {
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the member distribution " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
