package dev.fabric.core.client;

import org.springframework.web.client.RestClient;

import java.net.URI;
import java.util.Objects;

/**
 * One member's endpoint, for a client that calls it often ({@link FabricClient#bind}): the member
 * is looked up in the registry once, and its calls go straight to the endpoint (or through its
 * bridge, as its registration says) over kept-alive connections. A call that finds the member
 * unreachable is made once more through {@link FabricClient#call(String, String, MemberCall)}, with
 * its fail-over (a restart under the member's id, a new address), and the endpoint is looked up
 * anew for the calls after it. Thread-safe.
 */
public final class BoundMember {

    /**
     * A signed client aimed at the member's endpoint, and that endpoint; for a mode 4 member, the
     * splice gateway's upgrades when the client was made ({@code -1}: no gateway), so that an upgrade
     * from the bridge to a splice is taken by the next call.
     */
    record Target(RestClient client, URI baseUrl, java.util.function.LongSupplier upgrades, long upgradesSeen) {

        Target(RestClient client, URI baseUrl) {
            this(client, baseUrl, () -> -1, -1);
        }

        boolean upgraded() {
            return upgrades.getAsLong() != upgradesSeen;
        }
    }

    private final FabricClient fabric;
    private final String memberId;
    private final String endpoint;
    private volatile Target target;

    BoundMember(FabricClient fabric, String memberId, String endpoint) {
        this.fabric = fabric;
        this.memberId = Objects.requireNonNull(memberId, "memberId");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    }

    /** The member's id. */
    public String memberId() {
        return memberId;
    }

    /**
     * Makes a call, as {@link FabricClient#call(String, String, MemberCall)} does but without a
     * registry look-up while the member answers where it was found.
     *
     * @throws MemberLostException, MemberStoppedException, MemberUnavailableException as {@code FabricClient.call}
     */
    public <T> T call(MemberCall<T> call) {
        fabric.ensureOpen();
        Target current = target;
        if (current == null || current.upgraded()) {
            return callAfresh(call);
        }
        try {
            return call.call(current.client(), current.baseUrl());
        } catch (RuntimeException failure) {
            if (fabric.isClosed()) {
                throw fabric.closed(failure);
            }
            if (!FailOver.unreachable(failure)) {
                throw failure;
            }
            target = null;
            return callAfresh(call);
        }
    }

    private <T> T callAfresh(MemberCall<T> call) {
        T answer = fabric.call(memberId, endpoint, call);
        try {
            target = fabric.target(memberId, endpoint);
        } catch (RuntimeException e) {
            // The call went through; the next one looks the member up again.
            target = null;
        }
        return answer;
    }
}
