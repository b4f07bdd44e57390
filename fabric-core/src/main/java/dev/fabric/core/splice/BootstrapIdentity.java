package dev.fabric.core.splice;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.otp.OneTimePassword;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

import javax.crypto.KDF;
import javax.crypto.spec.HKDFParameterSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The identity a member has during its bootstrap, before it holds the fabric keys: an Ed25519 key pair
 * derived from its one-time password and its id (HKDF-SHA256, info {@value #CONTEXT} and the service id,
 * 32 bytes as the Ed25519 seed). The member and its spawner, who both know the password, derive the
 * same pair; the spawner hands the registry only the public half when it opens a rendezvous, so the
 * registry can verify the member's signed join without ever seeing the password, and nobody who saw
 * that public key can sign as the member. Signing a join spends nothing: the password is still
 * redeemed once, over the spliced connection.
 */
public final class BootstrapIdentity {

    /** The HKDF info's prefix: a key derived for a rendezvous is good for nothing else. */
    public static final String CONTEXT = "fabric-rendezvous/v1 ";

    private BootstrapIdentity() {
    }

    /** The key pair {@code otp} derives for {@code serviceId}: sign with it as with fabric keys ({@code RequestSigner}). */
    public static FabricKeys of(OneTimePassword otp, String serviceId) {
        byte[] seed = null;
        try {
            KDF hkdf = KDF.getInstance("HKDF-SHA256");
            seed = hkdf.deriveData(HKDFParameterSpec.ofExtract()
                    .addIKM(otp.reveal().getBytes(StandardCharsets.US_ASCII))
                    .thenExpand((CONTEXT + serviceId).getBytes(StandardCharsets.UTF_8), 32));
            Ed25519PrivateKeyParameters privateKey = new Ed25519PrivateKeyParameters(seed, 0);
            return FabricKeys.fromDer(PrivateKeyInfoFactory.createPrivateKeyInfo(privateKey).getEncoded(),
                    SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(privateKey.generatePublicKey()).getEncoded());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot derive the bootstrap identity: " + e.getMessage(), e);
        } finally {
            if (seed != null) {
                Arrays.fill(seed, (byte) 0);
            }
        }
    }
}
