package dev.fabric.spawner.bootstrap;

import dev.fabric.core.otp.OneTimePassword;
import dev.fabric.spawner.contract.BootstrapWire;

import java.net.URI;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One incarnation's bootstrap handshake while it goes on: its password, the management URL once
 * the password is redeemed (or the failure that ends it), and the answer given to the redeem that
 * won, for the member's retry. Kept by the member's owner ({@code ManagedMember}) and guarded by
 * its lock.
 */
public final class Handshake {

    private final long incarnation;
    private final OneTimePassword otp;
    private final CompletableFuture<Reached> redeemed = new CompletableFuture<>();
    private Answered answered;
    /** Mode 4: the rendezvous the spawner opened for the member's splice; null in the other modes. */
    private volatile String rendezvous;

    /** Where the member's management port is, and the bootstrap key its answers in step 4a must be signed with. */
    record Reached(URI managementUrl, String bootstrapKey) {}

    /** The redeem that won: the key the fabric keys were sealed to, and the answer. */
    private record Answered(long incarnation, String publicKey, BootstrapWire.Released released) {}

    Handshake(long incarnation, OneTimePassword otp) {
        this.incarnation = incarnation;
        this.otp = otp;
    }

    public long incarnation() {
        return incarnation;
    }

    OneTimePassword otp() {
        return otp;
    }

    /** Mode 4: the rendezvous opened for this incarnation's splice, or null. */
    String rendezvous() {
        return rendezvous;
    }

    void rendezvous(String id) {
        this.rendezvous = id;
    }

    /** Completes with where the member is reached when step 3 succeeds, or fails with a {@link BootstrapFailure}. */
    CompletableFuture<Reached> redeemed() {
        return redeemed;
    }

    /** Ends the handshake with a failure; no effect once step 3 succeeded. */
    public void fail(String why) {
        redeemed.completeExceptionally(new BootstrapFailure(why));
    }

    void answered(long incarnation, String publicKey, BootstrapWire.Released released) {
        this.answered = new Answered(incarnation, publicKey, released);
    }

    /** The answer already given to this very request (same password, incarnation and key), if any. */
    Optional<BootstrapWire.Released> repeated(BootstrapWire.Redeem redeem) {
        Answered done = answered;
        return done != null && done.incarnation() == redeem.incarnation() && done.publicKey().equals(redeem.publicKey())
                && otp.equals(OneTimePassword.of(redeem.otp()))
                ? Optional.of(done.released()) : Optional.empty();
    }
}
