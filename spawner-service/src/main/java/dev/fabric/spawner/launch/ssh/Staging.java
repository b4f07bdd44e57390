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

/**
 * What a member needs on its host before it starts (the seed's "create virtualenv, fetch modules"):
 * a Java 25 runtime at the configured path, and the member distribution in {@code <directory>/dist/},
 * copied by SFTP when absent or different. The copy is named by its SHA-256, written to a {@code .part}
 * file, checked on the host with {@code sha256sum}, and only then renamed into place, so a member never
 * starts from a damaged or half-written file. Every failure is a {@link LaunchException} saying what
 * failed on which host.
 */
final class Staging {

    private static final Logger log = LoggerFactory.getLogger(Staging.class);
    /** The Java feature release members need. */
    static final int JAVA_FEATURE = 25;

    private final Path distribution;
    private final String checksum;

    Staging(Path distribution) {
        this.distribution = distribution;
        this.checksum = sha256(distribution);
    }

    /** The distribution's file name on every host: named by its content, so versions never overwrite each other. */
    String jarName() {
        return "spawner-service-" + checksum.substring(0, 16) + ".jar";
    }

    String checksum() {
        return checksum;
    }

    /** Checks the host's Java and stages the distribution; returns once the host can start members. */
    void stage(RemoteHost host, ClientSession session) {
        checkJava(host, session);
        String dist = host.settings.directory() + "/dist";
        String target = dist + "/" + jarName();
        RemoteHost.Result present = host.run(session, RemoteCommands.sha256(target));
        if (present.succeeded() && present.output().trim().equals(checksum)) {
            return;
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
    }

    private static void checkJava(RemoteHost host, ClientSession session) {
        String java = host.settings.java();
        RemoteHost.Result version = host.run(session, RemoteCommands.javaVersion(java));
        String output = version.output().trim();
        if (!version.succeeded()) {
            throw new LaunchException("no Java on host " + host.name + ": '" + java + " -version' failed (exit status "
                    + version.exitStatus() + ": " + firstLine(output) + "); install a Java " + JAVA_FEATURE
                    + " runtime there and set fabric.spawner.ssh.hosts." + host.name + ".java to its bin/java");
        }
        int feature = RemoteCommands.javaFeature(output);
        if (feature < JAVA_FEATURE) {
            throw new LaunchException("no Java " + JAVA_FEATURE + " on host " + host.name + ": " + java + " is '" + firstLine(output)
                    + "'; set fabric.spawner.ssh.hosts." + host.name + ".java to a Java " + JAVA_FEATURE + " (or later) bin/java");
        }
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
