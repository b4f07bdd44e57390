package dev.fabric.spawner.launch.ssh;

/**
 * What the SSH launcher does with a host key its known-hosts file does not list
 * ({@code fabric.spawner.ssh.hosts.<name>.host-key-policy}). A key that differs from the listed one
 * is refused under either policy: that is what a man in the middle looks like.
 */
public enum HostKeyPolicy {

    /** Refuse the host (the default): an operator lists its key first ({@code ssh-keyscan}, checked out of band). */
    STRICT,

    /** Trust the key seen on first contact and write it to the known-hosts file; later contacts must show the same key. */
    ACCEPT_NEW_AND_RECORD
}
