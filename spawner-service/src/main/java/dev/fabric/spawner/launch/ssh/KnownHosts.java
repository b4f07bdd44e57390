package dev.fabric.spawner.launch.ssh;

import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Checks a host's key against its known-hosts file, with the host's {@link HostKeyPolicy} for a key
 * the file does not list. A refusal's reason is kept here, per session ({@link #refusalOf}), so the launcher
 * can say why the connection failed instead of "Server key did not validate". Not on the session itself:
 * a session refused during key exchange closes at once, and closing clears its attributes, so whether the
 * launcher still found the reason there depended on which thread came first.
 */
final class KnownHosts extends KnownHostsServerKeyVerifier {

    private static final Logger log = LoggerFactory.getLogger(KnownHosts.class);
    private final String hostName;
    private final Path file;
    private final HostKeyPolicy policy;
    /** Why this verifier refused a session's host key, until the launcher asks (sessions are weakly held). */
    private final Map<ClientSession, String> refusals = Collections.synchronizedMap(new WeakHashMap<>());

    KnownHosts(String hostName, Path file, HostKeyPolicy policy) {
        super(policy == HostKeyPolicy.STRICT ? RejectAllServerKeyVerifier.INSTANCE : AcceptAllServerKeyVerifier.INSTANCE, file);
        this.hostName = hostName;
        this.file = file;
        this.policy = policy;
    }

    /** Why the host key of this session was refused, or null if it was not; asked once. */
    String refusalOf(ClientSession session) {
        return refusals.remove(session);
    }

    private void refuse(ClientSession session, String reason) {
        refusals.put(session, reason);
    }

    @Override
    protected boolean acceptUnknownHostKey(ClientSession session, SocketAddress remote, PublicKey key) {
        if (policy == HostKeyPolicy.STRICT) {
            refuse(session, "unknown host key: host " + hostName + " (" + remote + ") offered the key "
                    + KeyUtils.getFingerPrint(key) + ", which " + file + " does not list, and its host-key-policy is strict; "
                    + "check the fingerprint out of band and add the host's key to that file (ssh-keyscan), or set "
                    + "host-key-policy accept-new-and-record to trust the first key seen");
            return false;
        }
        boolean accepted = super.acceptUnknownHostKey(session, remote, key);
        log.warn("host {} ({}): first contact, its key {} trusted and recorded in {} (host-key-policy accept-new-and-record)",
                hostName, remote, KeyUtils.getFingerPrint(key), file);
        return accepted;
    }

    @Override
    public boolean acceptModifiedServerKey(ClientSession session, SocketAddress remote, KnownHostEntry entry, PublicKey expected,
                                           PublicKey actual) {
        refuse(session, "changed host key: host " + hostName + " (" + remote + ") offered the key "
                + KeyUtils.getFingerPrint(actual) + " but " + file + " lists " + KeyUtils.getFingerPrint(expected)
                + " for it; this is what a man in the middle looks like. If the host was reinstalled, check the new "
                + "fingerprint out of band and replace its line in that file");
        return false;
    }

    /** The known-hosts file could not be read: refused whatever the policy, with the reason. */
    @Override
    protected boolean acceptIncompleteHostKeys(ClientSession session, SocketAddress remote, PublicKey key, Throwable reason) {
        refuse(session, "known-hosts file unreadable: host " + hostName + " (" + remote + ") offered the key "
                + KeyUtils.getFingerPrint(key) + ", which could not be checked against " + file + ": " + reason);
        return false;
    }

    @Override
    protected void handleRevokedKey(ClientSession session, SocketAddress remote, PublicKey key) {
        refuse(session, "revoked host key: host " + hostName + " (" + remote + ") offered the key "
                + KeyUtils.getFingerPrint(key) + ", marked @revoked in " + file);
        super.handleRevokedKey(session, remote, key);
    }
}
