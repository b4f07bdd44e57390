package dev.fabric.core.client;

/**
 * The member could not be reached and did not come back: its spawner could not restart it, its
 * restart failed, or the call failed again after it. The message names the member, its last state
 * in the registry and the step that failed.
 */
public sealed class MemberUnavailableException extends FabricClientException permits RestartTimeoutException {

    MemberUnavailableException(String memberId, String message, Throwable cause) {
        super(memberId, message, cause);
    }
}
